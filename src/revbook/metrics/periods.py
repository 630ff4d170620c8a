"""Periods: the calendar of a grain (months, quarters, years, a fiscal year's start) and labels.

A period is a whole number: months since year 0 at month grain, quarters or years counted from
the fiscal year's first month otherwise. :class:`Calendar` turns dates into periods and periods
into labels, bounds (the last cut at the as-of date) and the period table every metric joins.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from ..definitions import TO_DATE
from ..ledger import month_index

__all__ = ["GRAINS", "Calendar", "is_partial", "period_label"]

GRAINS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Calendar:
    grain: str
    fiscal_start: int  # 1..12

    @property
    def months(self) -> int:
        return GRAINS[self.grain]

    @property
    def offset(self) -> int:
        return 0 if self.grain == "month" else self.fiscal_start - 1

    def period_sql(self, date_sql: str) -> str:
        mi = month_index(date_sql)
        if self.months == 1:
            return mi
        return f"(({mi} - {self.offset}) // {self.months})"

    def first_month(self, p: int) -> int:
        return p * self.months + self.offset

    def period_of(self, d: dt.date) -> int:
        return (d.year * 12 + d.month - 1 - self.offset) // self.months

    def label(self, p: int) -> str:
        first = self.first_month(p)
        y, m = divmod(first, 12)
        if self.grain == "month":
            return f"{y}-{m + 1:02d}"
        if self.offset == 0:
            return f"{y}" if self.grain == "year" else f"{y}-Q{m // 3 + 1}"
        # A fiscal year that does not start in January is named by the calendar year it ends in.
        fiscal_year = (first - self.offset) // 12 + 1
        if self.grain == "year":
            return f"FY{fiscal_year}"
        return f"FY{fiscal_year}-Q{((first - self.offset) % 12) // 3 + 1}"

    def bounds(self, p: int, as_of: dt.date) -> tuple[dt.date, dt.date]:
        first = self.first_month(p)
        last = first + self.months - 1
        start = dt.date(first // 12, first % 12 + 1, 1)
        ly, lm = divmod(last, 12)
        end = dt.date(ly, lm + 1, calendar.monthrange(ly, lm + 1)[1])
        return start, min(end, as_of)

    def periods_sql(self, first: int, last: int, as_of: dt.date) -> str:
        """The period table from ``first`` to ``last`` as a query: period, label, period_start,
        period_end (the last cut at ``as_of``). Literal rows, not an Arrow table: building one would
        make pyarrow import pandas (a third of a second of every command)."""
        rows = []
        for p in range(first, last + 1):
            start, end = self.bounds(p, as_of)
            rows.append(f"({p}, '{self.label(p)}', DATE '{start.isoformat()}', DATE '{end.isoformat()}')")
        return (
            f"SELECT CAST(period AS BIGINT) AS period, label, period_start, period_end "
            f"FROM (VALUES {', '.join(rows)}) t(period, label, period_start, period_end)"
        )


def is_partial(period_end: dt.date, *, grain: str = "month", fiscal_start: int = 1) -> bool:
    """Whether a period's snapshot falls before the period's calendar end: the period holding an
    as-of date that is not a period end (every metric row's ``period_end`` is the earlier of the two)."""
    cal = Calendar(grain, fiscal_start)
    return cal.bounds(cal.period_of(period_end), dt.date.max)[1] != period_end


def period_label(period: str, period_end: dt.date, *, grain: str = "month", fiscal_start: int = 1) -> str:
    """A period's label as the surfaces print it: ``"2026-11 to date"`` for a partial period (see
    :func:`is_partial`), the label itself otherwise."""
    if is_partial(period_end, grain=grain, fiscal_start=fiscal_start):
        return f"{period} {TO_DATE}"
    return period
