"""What a catalogue metric is built from: the [catalogue] settings, the Spec of its facts and
aggregates, the Context a definition reads, and the SQL helpers the definitions share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError
from ...ledger import account_mrr_sql

if TYPE_CHECKING:
    from ..book import Book, Calendar

__all__ = [
    "CatalogueSettings",
    "Context",
    "Metric",
    "Spec",
    "catalogue_settings",
    "count_of",
    "days",
    "median_days",
    "names",
    "plus",
    "rate",
    "ratio",
    "sum_of",
]


@dataclass(frozen=True)
class CatalogueSettings:
    """The [catalogue] section of revbook.toml, every key with its default (docs/definitions.md)."""

    #: the milestone that marks first value (time to value)
    value_milestone: str = "first_value"
    #: the milestones onboarding needs; onboarding is done on the last of them
    onboarding_milestones: tuple[str, ...] = ("kickoff", "go_live")
    #: onboarding slower than this many days from the first paid day is "slow"
    onboarding_target_days: int = 60
    #: usage metrics that are key features; empty: every usage metric named feature_*
    key_features: tuple[str, ...] = ()
    #: product adoption: usage of the feature in the trailing N days before the period end
    adoption_window_days: int = 30
    #: feature activation: usage within N days of the first paid day
    activation_days: int = 30
    #: the activity types that count as a QBR
    qbr_types: tuple[str, ...] = ("qbr",)
    #: QBR conversion: an expansion or renewal commitment within N days of the QBR
    qbr_window_days: int = 90
    #: activity outcomes of a meeting that did not happen (not counted as held)
    missed_outcomes: tuple[str, ...] = ("no_show", "cancelled", "canceled", "rescheduled")
    #: activity outcomes that record a renewal commitment
    renewal_commitment_outcomes: tuple[str, ...] = ("renewal_committed",)
    #: a contract is renewed when the account pays on its end date or starts paying again within N days
    renewal_grace_days: int = 30
    #: a contract of at least N months (by its contract_end_date or billing period) is multi-year
    multi_year_months: int = 24
    #: a trial converts when a paid line starts within N days after the trial ends
    trial_conversion_days: int = 30
    #: opportunity sources that count as self-serve (no CSM or AE)
    self_serve_sources: tuple[str, ...] = ("product", "self_serve")
    #: the activity types that count as an executive sponsor meeting
    exec_sponsor_types: tuple[str, ...] = ("exec_sponsor_meeting",)
    #: exec sponsor engagement: a meeting in the trailing N days
    exec_sponsor_days: int = 180
    #: the segments exec sponsor engagement is measured on; empty: every segment
    exec_sponsor_segments: tuple[str, ...] = ("enterprise",)
    #: NPS of leavers: a response whose account pays nothing N days later
    nps_churn_days: int = 180


def catalogue_settings(raw: Mapping[str, Any]) -> CatalogueSettings:
    """Parse and check the [catalogue] section; unknown keys and wrong types are ConfigErrors."""
    known = {f.name: f for f in fields(CatalogueSettings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) in [catalogue]: {', '.join(unknown)}",
            hint=f"the [catalogue] settings are: {', '.join(known)}",
        )
    defaults = CatalogueSettings()
    values: dict[str, Any] = {}
    for name, value in raw.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple):
            if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[catalogue] {name} must be a list of names", value=value)
            values[name] = tuple(value)
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"[catalogue] {name} must be a whole number of 0 or more", value=value)
            values[name] = value
        else:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"[catalogue] {name} must be a name", value=value)
            values[name] = value
    settings = CatalogueSettings(**values)
    if not settings.onboarding_milestones:
        raise ConfigError("[catalogue] onboarding_milestones must name at least one milestone")
    if settings.activation_days < 1 or settings.adoption_window_days < 1 or settings.exec_sponsor_days < 1:
        raise ConfigError("[catalogue] windows of days must be 1 or more")
    return settings


@dataclass(frozen=True)
class Spec:
    """One metric's facts and aggregates, as SQL."""

    #: SELECT account_id, period, at, <keys>, <measures>: one row per thing counted
    facts: str
    #: aggregate columns: (name, SQL over the facts and the slice columns)
    aggregates: Sequence[tuple[str, str]]
    #: key columns beside the slices (e.g. feature, source)
    keys: Sequence[str] = ()
    #: slices the aggregates read whatever the user slices by (e.g. owner for CSM counts)
    needs: Sequence[str] = ()
    #: put 12-month NRR, GRR and logo retention of the same slice beside it
    beside_retention: bool = False
    #: add a row over all keys (key value "(all)") to each period and slice
    totals: bool = False


@dataclass(frozen=True)
class Metric:
    """A catalogue entry: what it measures and the SQL that computes it."""

    name: str
    title: str
    unit: str  # rate, days, money, accounts
    definition: str
    tables: tuple[str, ...]
    #: (value, numerator, denominator) columns for the overview; numerator may be None
    headline: tuple[str, str | None, str]
    build: Callable[[Context], Spec] = field(repr=False)


@dataclass
class Context:
    """What a metric definition reads: the book, its calendar and the settings."""

    book: Book
    cal: Calendar
    settings: CatalogueSettings
    periods: str  # the spine: period, label, period_start, period_end
    first: int
    last: int

    @property
    def as_of(self) -> str:
        return f"DATE '{self.book.as_of.isoformat()}'"

    @property
    def lines(self) -> str:
        return self.book.ledger()

    def period(self, date_sql: str) -> str:
        return self.cal.period_sql(date_sql)

    def mrr_on(self, rows: str, day: str, name: str = "mrr") -> str:
        """(account_id, <day>, <name>): each account's MRR (minor units) on the dates of ``rows``."""
        return account_mrr_sql(self.lines, rows, day, name)

    def first_paid(self) -> str:
        return f"(SELECT account_id, min(start_date) AS first_paid FROM {self.lines} WHERE mrr > 0 GROUP BY account_id)"

    def money(self, expr: str) -> str:
        from ..movements import money

        return money(expr, self.book.config.minor_units)


def days(n: int) -> str:
    return f"INTERVAL {int(n)} DAY"


def plus(date_sql: str, interval: str) -> str:
    return f"CAST({date_sql} + {interval} AS DATE)"


def ratio(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / CAST(nullif({den}, 0) AS DOUBLE)"


def names(values: Sequence[str]) -> str:
    """A SQL list of string literals (values come from the config: quoted, never pasted raw)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def count_of(cond: str = "true") -> str:
    return f"count(*) FILTER (WHERE {cond})"


def sum_of(expr: str, cond: str = "true") -> str:
    return f"coalesce(sum({expr}) FILTER (WHERE {cond}), 0)"


def rate(name: str, num: str, den: str) -> tuple[str, str]:
    return name, ratio(num, den)


def median_days(cond: str) -> list[tuple[str, str]]:
    return [
        ("median_days", f"median(days) FILTER (WHERE {cond})"),
        ("mean_days", f"avg(days) FILTER (WHERE {cond})"),
    ]
