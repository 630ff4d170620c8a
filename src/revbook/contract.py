"""The data contract: every canonical table, its columns, types and checks.

Every source (files, later Stripe, HubSpot, Salesforce, a warehouse) is mapped into these
tables. Only ``accounts`` and one of ``subscriptions`` / ``invoices`` are required; every
other table switches on more of the product. Dates are calendar dates; money is a decimal
amount with an ISO 4217 currency code. ``end_date`` columns are exclusive (empty = ongoing)
except ``invoices.service_end``, which is inclusive, as invoices print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

__all__ = [
    "CRM_ARR_ATTRIBUTE",
    "CURRENCY_MINOR_UNITS",
    "LOADABLE_TABLES",
    "RENEWAL_ATTRIBUTE",
    "SEVERITIES",
    "TABLES",
    "Column",
    "Finding",
    "Table",
    "table",
]

ColumnType = Literal["string", "date", "decimal", "integer", "boolean"]

# DuckDB types of the canonical columns. Money and rates are DECIMAL, never DOUBLE.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "date": "DATE",
    "decimal": "DECIMAL(18,4)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    description: str = ""
    #: allowed values (lower-cased on load), or None for any
    choices: tuple[str, ...] | None = None
    #: a decimal that must be >= 0 (quantities, months, percents)
    non_negative: bool = False
    #: a decimal that must be > 0 (a rate that multiplies)
    positive: bool = False

    @property
    def sql_type(self) -> str:
        if self.name == "rate_to_reporting":
            return "DECIMAL(18,8)"
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: loadable now; the rest are declared so later capabilities plug in
    loadable: bool = False
    #: at least one of these column groups must be present (all columns of the group)
    one_of: tuple[tuple[str, ...], ...] = ()
    #: pairs (start, end) where end must not be before start
    ordered: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


#: the account_history attribute that records an account's renewal date (its value YYYY-MM-DD), read
#: as it stood on each scoring date (revbook.health.renewals)
RENEWAL_ATTRIBUTE = "renewal_date"
#: the account_history attribute that records the ARR a CRM's field held (a decimal in the reporting
#: currency, empty: the field was empty) from the day a CRM connector read it (its valid_from): the
#: figure the reconciliation compares with (revbook.metrics.reconcile_crm)
CRM_ARR_ATTRIBUTE = "crm_arr"


def _c(name: str, type_: ColumnType = "string", required: bool = False, description: str = "", **kw: object) -> Column:
    return Column(name, type_, required, description, **kw)  # type: ignore[arg-type]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            "one row is a customer",
            (
                _c("account_id", required=True, description="the customer's id, the key every other table uses"),
                _c("name", description="display name"),
                _c("segment", description="e.g. smb, mid_market, enterprise"),
                _c("region"),
                _c("industry"),
                _c("created_at", "date", description="when the account was created (not its cohort)"),
                _c("parent_account_id", description="the parent account, for roll-ups"),
            ),
            key=("account_id",),
            loadable=True,
        ),
        Table(
            "subscriptions",
            "one row is a priced line of a contract for a period; all amounts before tax",
            (
                _c("account_id", required=True),
                _c("subscription_id", required=True),
                _c("line_id", description="a line within the subscription; defaults to the row number"),
                _c("product"),
                _c("plan"),
                _c("start_date", "date", required=True),
                _c("end_date", "date", description="exclusive; empty = ongoing"),
                _c(
                    "mrr",
                    "decimal",
                    non_negative=True,
                    description="monthly recurring revenue of the line, before discounts",
                ),
                _c("amount", "decimal", non_negative=True, description="price per billing period"),
                _c("unit_price", "decimal", non_negative=True, description="price of one unit per billing period"),
                _c("quantity", "decimal", non_negative=True),
                _c("billing_period_months", "decimal", non_negative=True, description="1 monthly, 3, 12, 24, 36"),
                _c("discount_percent", "decimal", non_negative=True),
                _c("discount_amount", "decimal", description="off each billing period (off each month with mrr)"),
                _c("is_trial", "boolean"),
                _c("currency", description="ISO 4217; default the reporting currency"),
                _c("pricing_model", choices=("flat", "per_seat", "usage")),
                _c("contract_end_date", "date"),
                _c("cancel_requested_at", "date"),
            ),
            key=("subscription_id", "line_id"),
            loadable=True,
            one_of=(("mrr",), ("amount", "billing_period_months"), ("unit_price", "quantity", "billing_period_months")),
            ordered=(("start_date", "end_date"),),
        ),
        Table(
            "invoices",
            "one row is a billed line with its service period",
            (
                _c("account_id", required=True),
                _c("invoice_id"),
                _c("line_id"),
                _c("invoice_date", "date", required=True),
                _c("service_start", "date"),
                _c("service_end", "date", description="inclusive, as printed on the invoice"),
                _c("amount", "decimal", required=True, description="before tax; credits are negative"),
                _c("currency"),
                _c("product"),
                _c("plan"),
                _c("due_date", "date", description="when payment was due (past_due_churn_after_days reads it)"),
                _c("paid_date", "date", description="when it was paid in full; empty with a due_date: unpaid"),
            ),
            key=("invoice_id", "line_id"),
            loadable=True,
            ordered=(("service_start", "service_end"),),
        ),
        Table(
            "owners",
            "who owned an account when",
            (
                _c("account_id", required=True),
                _c("owner_id", required=True),
                _c("role", required=True, choices=("csm", "ae")),
                _c("start_date", "date", required=True),
                _c("end_date", "date", description="exclusive; empty = still the owner"),
            ),
            key=("account_id", "role", "start_date"),
            loadable=True,
            ordered=(("start_date", "end_date"),),
        ),
        Table(
            "people",
            "one row is an owner (CSM or AE)",
            (
                _c("owner_id", required=True),
                _c("name"),
                _c("team"),
                _c("manager"),
            ),
            key=("owner_id",),
            loadable=True,
        ),
        Table(
            "fx_rates",
            "a currency's rate to the reporting currency from a date",
            (
                _c("date", "date", required=True),
                _c("currency", required=True),
                _c("rate_to_reporting", "decimal", required=True, positive=True, description="multiplies; above 0"),
            ),
            key=("date", "currency"),
            loadable=True,
        ),
        Table(
            "account_history",
            "an attribute's value from a date",
            (
                _c("account_id", required=True),
                _c(
                    "attribute",
                    required=True,
                    choices=("segment", "region", "industry", "plan", "name", RENEWAL_ATTRIBUTE, CRM_ARR_ATTRIBUTE),
                    description=f"{RENEWAL_ATTRIBUTE}: the renewal date the CRM held from valid_from; "
                    f"{CRM_ARR_ATTRIBUTE}: the ARR the CRM's field held when a connector read it",
                ),
                _c("value", description=f"YYYY-MM-DD for {RENEWAL_ATTRIBUTE}, a decimal for {CRM_ARR_ATTRIBUTE}"),
                _c("valid_from", "date", required=True),
            ),
            key=("account_id", "attribute", "valid_from"),
            loadable=True,
        ),
        Table(
            "usage",
            "a measured use on a day",
            (
                _c("account_id", required=True),
                _c("date", "date", required=True),
                _c("metric", required=True),
                _c("value", "decimal", required=True, non_negative=True, description="e.g. active users, actions"),
            ),
            key=("account_id", "date", "metric"),
            loadable=True,
        ),
        Table(
            "tickets",
            "a support case",
            (
                _c("account_id", required=True),
                _c("ticket_id", required=True),
                _c("opened_at", "date", required=True),
                _c("closed_at", "date"),
                _c("priority"),
                _c("escalated", "boolean"),
                _c("csat", "decimal", non_negative=True, description="the requester's rating of the case"),
            ),
            key=("ticket_id",),
            loadable=True,
            ordered=(("opened_at", "closed_at"),),
        ),
        Table(
            "activities",
            "a touchpoint",
            (
                _c("account_id", required=True),
                _c("date", "date", required=True),
                _c("type", required=True, description="qbr, ebr, onboarding_call, exec_sponsor_meeting, ..."),
                _c("outcome", description="e.g. completed, no_show, expansion_discussed, renewal_committed"),
            ),
            key=("account_id", "date", "type"),
            loadable=True,
        ),
        Table(
            "milestones",
            "a lifecycle milestone reached",
            (
                _c("account_id", required=True),
                _c("milestone", required=True, description="a name from the config's [lifecycle] milestones"),
                _c("achieved_at", "date", required=True),
            ),
            key=("account_id", "milestone"),
            loadable=True,
        ),
        Table(
            "surveys",
            "an NPS or CSAT answer",
            (
                _c("account_id", required=True),
                _c("date", "date", required=True),
                _c("kind", required=True, choices=("nps", "csat")),
                _c("score", "decimal", required=True, non_negative=True, description="NPS 0-10, CSAT 1-5"),
                _c("comment"),
            ),
            key=("account_id", "date", "kind"),
            loadable=True,
        ),
        Table(
            "churn_reasons",
            "why an account left or shrank",
            (
                _c("account_id", required=True),
                _c("date", "date", required=True),
                _c("primary_reason"),
                _c("secondary_reasons"),
                _c("comment"),
            ),
            key=("account_id", "date"),
            loadable=True,
        ),
        Table(
            "opportunities",
            "an expansion or renewal deal",
            (
                _c("account_id", required=True),
                _c("opportunity_id", required=True),
                _c("kind", required=True, choices=("expansion", "renewal")),
                _c("arr_delta", "decimal", description="ARR change the deal brings, in the reporting currency"),
                _c("stage", description="the CRM stage, e.g. open, commit, closed_won, closed_lost"),
                _c("created_at", "date"),
                _c("closed_at", "date", description="empty while open"),
                _c("won", "boolean"),
                _c("owner_role", choices=("csm", "ae")),
                _c("source", choices=("csm", "ae", "product", "self_serve")),
            ),
            key=("opportunity_id",),
            loadable=True,
            ordered=(("created_at", "closed_at"),),
        ),
        Table(
            "notes",
            "free text about an account",
            (
                _c("account_id", required=True),
                _c("date", "date", required=True),
                _c("author"),
                _c("source", choices=("call", "email", "note")),
                _c("text", required=True),
            ),
            key=("account_id", "date", "author"),
            loadable=True,
        ),
    )
}

#: the severities of a finding, most serious first: an ``error`` rejects a load (and makes
#: ``revbook check`` exit 1), a ``warning`` is printed and kept, an ``info`` is worth knowing
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem found in the data: at load (kept in the workspace) or by ``revbook check``.

    ``file``, ``row`` (the data row, header not counted), ``line`` (the line of the file, when it
    has lines), ``column`` and ``value`` locate its first example; ``rows`` counts the rows concerned.
    """

    severity: str
    check: str
    table: str
    message: str
    hint: str = ""
    rows: int = 1
    file: str | None = None
    row: int | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def where(self) -> str:
        """The example's place: ``subs.csv, data row 3 (line 4), column 'mrr'``."""
        parts = [PurePath(self.file).name] if self.file else []
        if self.row is not None:
            parts.append(f"data row {self.row} (line {self.line})" if self.line is not None else f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def example(self) -> str:
        """The first example, as ``revbook check`` shows it: its value, then where it is."""
        where = self.where()
        value = "" if self.value is None else (self.value if len(self.value) <= 80 else self.value[:77] + "...")
        if value and where:
            return f"{value} ({where})"
        return value or where


LOADABLE_TABLES: tuple[str, ...] = tuple(name for name, t in TABLES.items() if t.loadable)

#: ISO 4217 currencies and their minor units (digits after the decimal point).
CURRENCY_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "ARS",
            "AUD",
            "BDT",
            "BGN",
            "BRL",
            "CAD",
            "CHF",
            "CNY",
            "COP",
            "CZK",
            "DKK",
            "EGP",
            "EUR",
            "GBP",
            "HKD",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "MAD",
            "MXN",
            "MYR",
            "NGN",
            "NOK",
            "NZD",
            "PEN",
            "PHP",
            "PKR",
            "PLN",
            "RON",
            "RUB",
            "SAR",
            "SEK",
            "SGD",
            "THB",
            "TRY",
            "TWD",
            "UAH",
            "USD",
            "ZAR",
        ],
        2,
    ),
    **dict.fromkeys(["CLP", "ISK", "JPY", "KRW", "PYG", "UGX", "VND", "XAF", "XOF"], 0),
    **dict.fromkeys(["BHD", "JOD", "KWD", "OMR", "TND"], 3),
}


def table(name: str) -> Table:
    """The contract of one canonical table, by name."""
    try:
        return TABLES[name]
    except KeyError:
        from .errors import ConfigError

        raise ConfigError(f"unknown table '{name}'", hint=f"the contract's tables are: {', '.join(TABLES)}") from None


def markdown() -> str:
    """The data contract as the Markdown page docs/data-contract.md (a test keeps them equal)."""
    out = [
        "# The data contract",
        "",
        "Generated from `revbook/contract.py`. Every source is mapped into these tables; only `accounts`",
        "and one of `subscriptions` / `invoices` are required. Dates are calendar dates; money is a decimal",
        "amount with an ISO 4217 currency code. Tables marked *later* are declared for capabilities to come.",
        "",
    ]
    for t in TABLES.values():
        out += [
            f"## {t.name}{'' if t.loadable else ' (later)'}",
            "",
            f"One row is {t.description.removeprefix('one row is ')}.",
            "",
        ]
        if t.one_of:
            groups = " or ".join("(" + ", ".join(g) + ")" for g in t.one_of)
            out += [f"Price columns: at least one of {groups}.", ""]
        out += ["| column | type | required | notes |", "|---|---|---|---|"]
        for c in t.columns:
            notes = c.description
            if c.choices:
                notes = (notes + "; " if notes else "") + "one of " + ", ".join(c.choices)
            out.append(f"| {c.name} | {c.type} | {'yes' if c.required else ''} | {notes} |")
        out.append("")
    return "\n".join(out)
