"""The HubSpot connector (read-only, ``hubspot-api-client``): companies -> accounts, owners and the
history of each company's owner property -> owners and people, deals of kind expansion or renewal ->
opportunities, notes -> notes, meetings and calls -> activities; mapped by [hubspot] of revbook.toml
(revbook.config.crm) and :mod:`revbook.sources.crm_map`, loaded through the store's atomic load.

The access token (a private app's) comes only from the environment, ``HUBSPOT_ACCESS_TOKEN``; it is
handed to the client and never logged, stored or put into an error message. Lists are read page by
page, following HubSpot's ``paging.next.after`` cursor; a request answered 429 (the rate limit) or
5xx is retried with backoff, obeying Retry-After. Every sync reads everything: a CRM's tables
are replaced whole by each load.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, SourceError
from .connectors import Loads, Seen, Synced
from .crm_map import (
    Activity,
    Company,
    Crm,
    Deal,
    Note,
    Person,
    load_crm,
    plain_text,
    slug,
    to_date,
    to_decimal,
)

if TYPE_CHECKING:
    from ..config import Config
    from ..config.crm import HubspotSettings


__all__ = ["TOKEN_ENV", "HubspotConnector", "hubspot_connector"]

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
#: where the API is; a test points it at a local server
HOST_ENV = "HUBSPOT_API_HOST"
PAGE = 100
#: retries of a request HubSpot answers 429 (rate limit) or 5xx
RETRIES = 5
#: HubSpot caps a page read with property history lower
HISTORY_PAGE = 50


@dataclass(frozen=True)
class _Kind:
    """One kind of HubSpot object: how it is listed, the table it maps into, the scope it needs."""

    objects: str
    table: str
    scope: str
    required: bool = False


KINDS = (
    _Kind("companies", "accounts", "crm.objects.companies.read", required=True),
    _Kind("owners", "owners, people", "crm.objects.owners.read"),
    _Kind("deals", "opportunities", "crm.objects.deals.read"),
    # HubSpot names the scopes of engagements in its answer
    _Kind("notes", "notes", ""),
    _Kind("meetings", "activities", ""),
    _Kind("calls", "activities", ""),
)


class _Refused(Exception):
    """HubSpot answered a list with an error status (the token's scopes, a bad token, ...)."""

    def __init__(self, status: int, scopes: tuple[str, ...]) -> None:
        super().__init__(status)
        self.status = status
        self.scopes = scopes


def _refusal(exc: Any) -> _Refused:
    """What an ApiException says, without its text (which echoes the response)."""
    status = int(getattr(exc, "status", 0) or 0)
    scopes: list[str] = []
    try:
        body = json.loads(getattr(exc, "body", None) or "{}")
        for error in body.get("errors") or []:
            context = error.get("context") or {}
            scopes += context.get("requiredGranularScopes") or context.get("requiredScopes") or []
    except (ValueError, TypeError, AttributeError):
        pass
    return _Refused(status, tuple(dict.fromkeys(str(s) for s in scopes)))


def _why(refused: _Refused, kind: _Kind) -> str:
    if refused.status == 401:
        return f"the token in {TOKEN_ENV} was refused (HTTP 401): it is wrong, expired or revoked"
    if refused.status == 403:
        scopes = ", ".join(refused.scopes) or kind.scope
        if not scopes:
            return f"the token may not read {kind.objects} (HTTP 403): add the read scope HubSpot lists for them"
        return f"the token lacks the scope {scopes} (HTTP 403)"
    if refused.status == 429:
        return "HubSpot's rate limit was reached (HTTP 429); try again in a minute"
    return f"HubSpot answered HTTP {refused.status}" if refused.status else "HubSpot could not be reached"


class HubspotConnector:
    """Reads a HubSpot account through its CRM API (see the module docstring)."""

    name = "hubspot"

    def __init__(self, settings: HubspotSettings, *, host: str | None = None) -> None:
        self.settings = settings
        self.host = host or os.environ.get(HOST_ENV) or None

    # -- the client ------------------------------------------------------------------------
    def _client(self) -> Any:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise ConfigError(
                f"no HubSpot access token: {TOKEN_ENV} is not set",
                hint=f"create a private app with read scopes and export {TOKEN_ENV}=<its token> "
                "(never in revbook.toml)",
            )
        import hubspot
        from urllib3.util.retry import Retry

        # HubSpot's rate limit (429) and passing server errors: retried with backoff, Retry-After obeyed
        retry = Retry(total=RETRIES, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504))
        options: dict[str, Any] = {"access_token": token, "retry": retry}
        if self.host:
            options["host"] = self.host
        return hubspot.Client.create(**options)

    def _pages(self, fetch: Callable[[str | None], Any]) -> Iterator[Any]:
        """Every result of a list, following ``paging.next.after``."""
        after: str | None = None
        while True:
            try:
                page = fetch(after)
            except Exception as exc:  # the client's ApiException, or urllib3's connection errors
                if hasattr(exc, "status"):
                    raise _refusal(exc) from None
                raise _Refused(0, ()) from None
            yield from page.results or []
            nxt = getattr(getattr(page, "paging", None), "next", None)
            after = getattr(nxt, "after", None)
            if not after:
                return

    def _lister(self, client: Any, kind: str, **params: Any) -> Callable[[str | None], Any]:
        if kind == "owners":
            api = client.crm.owners.owners_api
            return lambda after: api.get_page(limit=PAGE, after=after, **params)
        if kind in ("companies", "deals"):
            basic = getattr(client.crm, kind).basic_api
        else:
            basic = getattr(client.crm.objects, kind).basic_api
        limit = HISTORY_PAGE if params.get("properties_with_history") else PAGE
        return lambda after: basic.get_page(limit=limit, after=after, **params)

    def _properties(self, *keys: str) -> list[str]:
        return [p for p in (self.settings.field_for(k) for k in keys) if p]

    # -- check -----------------------------------------------------------------------------
    def check(self) -> list[Seen]:
        """Per kind of object: readable (the first page's count) or the scope the token lacks."""
        client = self._client()
        seen = []
        for kind in KINDS:
            try:
                page = self._lister(client, kind.objects)(None)
            except Exception as exc:
                refused = _refusal(exc) if hasattr(exc, "status") else _Refused(0, ())
                seen.append(Seen(kind.objects, kind.table, False, _why(refused, kind)))
                continue
            n = len(page.results or [])
            more = " (more pages)" if getattr(getattr(page, "paging", None), "next", None) else ""
            seen.append(Seen(kind.objects, kind.table, True, f"{n} on the first page{more}"))
        return seen

    # -- sync ------------------------------------------------------------------------------
    def read(self) -> tuple[Crm, list[str]]:
        """Everything the token can read, as source-neutral records, and what could not be read."""
        client = self._client()
        warnings: list[str] = []
        s = self.settings
        owner_property = s.field_for("owner")

        def listed(kind: _Kind, **params: Any) -> list[Any]:
            try:
                return list(self._pages(self._lister(client, kind.objects, **params)))
            except _Refused as refused:
                if kind.required:
                    raise SourceError(
                        f"HubSpot would not list {kind.objects}: {_why(refused, kind)}",
                        table=kind.table.split(",")[0],
                        hint="run `revbook connect hubspot --check` to see what the token can read; nothing was loaded",
                    ) from None
                warnings.append(f"{kind.objects} not read, {kind.table} left as it was: {_why(refused, kind)}")
                return []

        by_name = {k.objects: k for k in KINDS}
        company_props = self._properties(
            "account_id", "name", "segment", "region", "industry", "parent", "created_at", "arr"
        )
        companies_raw = listed(
            by_name["companies"],
            properties=company_props,
            properties_with_history=[owner_property] if owner_property else None,
        )
        companies, changes = [], []
        for c in companies_raw:
            props = c.properties or {}
            mapped = s.field_for("account_id")
            companies.append(
                Company(
                    crm_id=str(c.id),
                    account_id=(props.get(mapped) or None) if mapped else str(c.id),
                    name=props.get(s.field_for("name")) or None,
                    segment=props.get(s.field_for("segment")) or None,
                    region=props.get(s.field_for("region")) or None,
                    industry=props.get(s.field_for("industry")) or None,
                    parent_crm_id=props.get(s.field_for("parent")) or None,
                    created_at=to_date(props.get(s.field_for("created_at"))),
                    arr=props.get(s.field_for("arr")) if s.field_for("arr") else None,
                )
            )
            history = (getattr(c, "properties_with_history", None) or {}).get(owner_property) or []
            for entry in reversed(history):  # HubSpot lists the newest first
                day = to_date(entry.timestamp)
                if day is not None:
                    changes.append((str(c.id), day, str(entry.value) if entry.value else None))

        people: dict[str, Person] = {}
        for archived in (False, True):  # a past owner may since have been deactivated
            for o in listed(by_name["owners"], archived=archived):
                teams = o.teams or []
                team = next((t for t in teams if getattr(t, "primary", False)), teams[0] if teams else None)
                name = " ".join(p for p in (o.first_name, o.last_name) if p) or o.email
                people.setdefault(str(o.id), Person(str(o.id), name, getattr(team, "name", None)))

        deal_props = ["dealstage", "createdate", "closedate", "hs_is_closed", "hs_is_closed_won", "hubspot_owner_id"]
        deals = []
        for d in listed(
            by_name["deals"],
            properties=deal_props + self._properties("deal_kind", "deal_amount", "deal_source"),
            associations=["companies"],
        ):
            p = d.properties or {}
            deals.append(
                Deal(
                    crm_id=str(d.id),
                    company_crm_id=_company_of(d),
                    kind_value=p.get(s.field_for("deal_kind")) or None,
                    amount=to_decimal(p.get(s.field_for("deal_amount"))),
                    stage=p.get("dealstage"),
                    created_at=to_date(p.get("createdate")),
                    closed_at=to_date(p.get("closedate")),
                    closed=str(p.get("hs_is_closed")).lower() == "true",
                    won=str(p.get("hs_is_closed_won")).lower() == "true",
                    owner_id=p.get("hubspot_owner_id") or None,
                    source_value=(p.get(s.field_for("deal_source")) or None) if s.field_for("deal_source") else None,
                )
            )

        notes = [
            Note(
                _company_of(n),
                to_date((n.properties or {}).get("hs_timestamp")),
                (n.properties or {}).get("hubspot_owner_id") or None,
                "note",
                plain_text((n.properties or {}).get("hs_note_body")),
            )
            for n in listed(
                by_name["notes"],
                properties=["hs_note_body", "hs_timestamp", "hubspot_owner_id"],
                associations=["companies"],
            )
        ]
        activity_type = s.field_for("activity_type")
        activities = []
        for kind, outcome in (("meetings", "hs_meeting_outcome"), ("calls", "hs_call_status")):
            for a in listed(
                by_name[kind],
                properties=["hs_timestamp", outcome, *([activity_type] if activity_type else [])],
                associations=["companies"],
            ):
                p = a.properties or {}
                activities.append(
                    Activity(
                        _company_of(a),
                        to_date(p.get("hs_timestamp")),
                        (slug(p.get(activity_type)) if activity_type else None) or kind.removesuffix("s"),
                        slug(p.get(outcome)),
                    )
                )
        crm = Crm(companies, people, changes, deals, notes, activities, read_on=dt.datetime.now(dt.UTC).date())
        return crm, warnings

    def sync(self, store: Loads, *, full: bool = False, replace: bool = False) -> Synced:
        """Read HubSpot and load its tables into ``store`` (every sync reads everything; ``full`` changes nothing)."""
        started = time.perf_counter()
        crm, warnings = self.read()
        done = load_crm(store, crm, self.settings, started=started, replace=replace)
        return Synced(done.rows, done.seconds, (*warnings, *done.warnings))


def _company_of(obj: Any) -> str | None:
    """The first company an object is associated with."""
    companies = (getattr(obj, "associations", None) or {}).get("companies")
    results = getattr(companies, "results", None) or []
    return str(results[0].id) if results else None


def hubspot_connector(config: Config) -> HubspotConnector:
    """The registry's factory: the HubSpot connector of a workspace's Config."""
    return HubspotConnector(config.hubspot)
