"""[hubspot] and [salesforce]: how a CRM's objects map into the contract (revbook.sources.hubspot,
revbook.sources.salesforce), checked. Both sections have the same shape::

    [hubspot]
    owner_roles = { "Customer Success" = "csm", "Sales" = "ae" }  # owner team (HubSpot) or user
                                       # role (Salesforce) -> csm or ae
    default_role = "csm"               # an owner whose team is not in owner_roles; "" leaves them out
    deal_kinds = { existingbusiness = "expansion", renewal = "renewal" }  # deal type -> kind;
                                       # deals of any other type (new business) are not read
    deal_sources = { "Partner" = "ae" }  # deal source value -> csm, ae, product or self_serve

    [hubspot.fields]                   # contract field = "the CRM property (SOQL field) read for it"
    segment = "customer_tier__c"       # "" = not read; the defaults are in HUBSPOT_FIELDS and
    account_id = "billing_id"          # SALESFORCE_FIELDS (account_id: the id billing uses)
    arr = "arr"                        # the company's ARR field (Salesforce e.g. "ARR__c"), read into
                                       # account_history crm_arr from the sync day (revbook reconcile --against crm)

Credentials are never settings: they come from the environment only (docs/connectors.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self

from ..errors import ConfigError
from .keys import as_table, check_keys

__all__ = [
    "DEAL_KINDS",
    "DEAL_SOURCES",
    "FIELD_KEYS",
    "HUBSPOT_FIELDS",
    "OWNER_ROLES",
    "SALESFORCE_FIELDS",
    "CrmSettings",
    "HubspotSettings",
    "SalesforceSettings",
]

OWNER_ROLES = ("csm", "ae")
DEAL_KINDS = ("expansion", "renewal")
DEAL_SOURCES = ("csm", "ae", "product", "self_serve")

#: the contract fields a [<crm>.fields] table may map, and what each is read into
FIELD_KEYS: dict[str, str] = {
    "account_id": "accounts.account_id (and every table's account_id): the id the billing tables use",
    "name": "accounts.name",
    "segment": "accounts.segment",
    "region": "accounts.region",
    "industry": "accounts.industry",
    "parent": "accounts.parent_account_id (a CRM id of the parent, translated like account_id)",
    "created_at": "accounts.created_at",
    "owner": "the account's owner, whose history gives owners",
    "deal_kind": "the deal's type, mapped by deal_kinds to opportunities.kind",
    "deal_amount": "opportunities.arr_delta: the ARR change the deal brings",
    "deal_source": "the deal's source, mapped by deal_sources to opportunities.source",
    "activity_type": "activities.type (meetings and calls; Tasks and Events)",
    "arr": "account_history crm_arr from the sync day: the ARR field (revbook reconcile --against crm)",
}

HUBSPOT_FIELDS: dict[str, str] = {
    "account_id": "",  # "": the HubSpot company id
    "name": "name",
    "segment": "",
    "region": "",
    "industry": "industry",
    "parent": "hs_parent_company_id",
    "created_at": "createdate",
    "owner": "hubspot_owner_id",
    "deal_kind": "dealtype",
    "deal_amount": "amount",
    "deal_source": "",
    "activity_type": "hs_activity_type",
    "arr": "",  # "": not read; e.g. a custom property "arr"
}

SALESFORCE_FIELDS: dict[str, str] = {
    "account_id": "",  # "": the Salesforce Account Id
    "name": "Name",
    "segment": "",
    "region": "",
    "industry": "Industry",
    "parent": "ParentId",
    "created_at": "CreatedDate",
    "owner": "OwnerId",
    "deal_kind": "Type",
    "deal_amount": "Amount",
    "deal_source": "LeadSource",
    "activity_type": "Type",
    "arr": "",  # "": not read; e.g. a custom field "ARR__c" (AnnualRevenue is the company's own revenue)
}


def _text_map(section: str, name: str, value: object, allowed: tuple[str, ...] | None) -> dict[str, str]:
    table = as_table(f"{section}.{name}", value)
    out: dict[str, str] = {}
    for key, target in table.items():
        if not isinstance(target, str):
            raise ConfigError(f"[{section}] {name}: '{key}' must map to a text", value=target)
        if allowed is not None and target not in allowed:
            raise ConfigError(
                f"[{section}] {name}: '{key}' maps to '{target}', which is not one of {', '.join(allowed)}",
                value=target,
                hint=f"use one of: {', '.join(allowed)}",
            )
        out[str(key)] = target
    return out


@dataclass(frozen=True)
class CrmSettings:
    """One CRM's section of revbook.toml, checked (the shape [hubspot] and [salesforce] share)."""

    SECTION: ClassVar[str] = "crm"
    DEFAULT_FIELDS: ClassVar[Mapping[str, str]] = {}
    DEFAULT_KINDS: ClassVar[Mapping[str, str]] = {}

    #: [<crm>.fields]: contract field -> the CRM property read for it ("" = not read); merged over the defaults
    fields: Mapping[str, str] = field(default_factory=dict)
    #: owner team (HubSpot) / user role (Salesforce) name -> "csm" or "ae"
    owner_roles: Mapping[str, str] = field(default_factory=dict)
    #: the role of an owner whose team or role is not in owner_roles; "" leaves such owners out (a warning)
    default_role: str = "csm"
    #: deal type value -> "expansion" or "renewal"; empty: the defaults; other types are not read
    deal_kinds: Mapping[str, str] = field(default_factory=dict)
    #: deal source value -> "csm", "ae", "product" or "self_serve" (a value already one of them needs no entry)
    deal_sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_keys(f"{self.SECTION}.fields", self.fields, FIELD_KEYS)
        _text_map(self.SECTION, "fields", self.fields, None)
        _text_map(self.SECTION, "owner_roles", self.owner_roles, OWNER_ROLES)
        _text_map(self.SECTION, "deal_kinds", self.deal_kinds, DEAL_KINDS)
        _text_map(self.SECTION, "deal_sources", self.deal_sources, DEAL_SOURCES)
        if self.default_role not in (*OWNER_ROLES, ""):
            raise ConfigError(
                f"[{self.SECTION}] default_role must be 'csm', 'ae' or '', got {self.default_role!r}",
                value=self.default_role,
                hint="'' leaves out the owners whose team owner_roles does not name",
            )

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Self:
        """The section's table of revbook.toml, checked."""
        check_keys(cls.SECTION, raw, [f.name for f in fields(cls)])
        values = dict(raw)
        for name in ("fields", "owner_roles", "deal_kinds", "deal_sources"):
            if name in values:
                values[name] = _text_map(cls.SECTION, name, values[name], None)
        return cls(**values)

    def field_for(self, key: str) -> str:
        """The CRM property read for the contract field ``key`` ("" = not read)."""
        return self.fields.get(key, self.DEFAULT_FIELDS.get(key, ""))

    def kinds(self) -> Mapping[str, str]:
        """Deal type -> kind: the configured table, else the defaults."""
        return self.deal_kinds or self.DEFAULT_KINDS


@dataclass(frozen=True)
class HubspotSettings(CrmSettings):
    """[hubspot]: the HubSpot connector's mapping (revbook.sources.hubspot)."""

    SECTION: ClassVar[str] = "hubspot"
    DEFAULT_FIELDS: ClassVar[Mapping[str, str]] = HUBSPOT_FIELDS
    DEFAULT_KINDS: ClassVar[Mapping[str, str]] = {"existingbusiness": "expansion", "renewal": "renewal"}


@dataclass(frozen=True)
class SalesforceSettings(CrmSettings):
    """[salesforce]: the Salesforce connector's mapping (revbook.sources.salesforce)."""

    SECTION: ClassVar[str] = "salesforce"
    DEFAULT_FIELDS: ClassVar[Mapping[str, str]] = SALESFORCE_FIELDS
    DEFAULT_KINDS: ClassVar[Mapping[str, str]] = {"Existing Customer - Upgrade": "expansion", "Renewal": "renewal"}
