"""What a catalogue metric is built from: the Spec of its facts and aggregates, the Context a
definition reads ([catalogue] settings come typed from the config), and the SQL helpers the
definitions share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...ledger import account_mrr_sql

if TYPE_CHECKING:
    from ...config import CatalogueSettings
    from ..book import Book
    from ..periods import Calendar

__all__ = [
    "Context",
    "Metric",
    "Spec",
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
    #: fact columns in minor units of the reporting currency: the account-level facts show them as money
    money: Sequence[str] = ()


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
