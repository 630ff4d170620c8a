"""Recognised revenue: each line's value spread day by day, for finance.

MRR is constant over a line's life and rounded once; recognised revenue is the exact amount. A
line's exact monthly value v (before rounding) accrues in each calendar month in proportion to the
line's active days in it: v x active days / days in the month. Rounding is cumulative per line
(revenue through month k is round(v x F(k)) and each month gets the difference), so a line's months
add up exactly to its exact total: a 36-month line of 100,000.00 recognises 100,000.00, where
36 x its MRR of 2,777.78 would be 100,000.08. Open-ended lines accrue up to the as-of date.

Computed with Python integers (exact rationals) rather than SQL: the products of the exact
numerators outgrow DECIMAL(38). Grace bridges carry no revenue (a gap is not billed). With invoices
as the MRR source, an invoice line without a service period (a one-off charge, a goodwill credit) is
revenue in the month of its invoice date, whole, and never MRR (DESIGN.md "credits").
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa

from ..ledger import REVENUE_ONLY

if TYPE_CHECKING:
    from .book import Book

__all__ = ["recognised_revenue", "revenue_periods"]

#: lcm(28, 29, 30, 31): every month's day fraction is an integer over it
DAYS_LCM = 755_160


def _round_half_even(num: int, den: int) -> int:
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def recognised_revenue(book: Book) -> pa.Table:
    """(account_id, month as 'YYYY-MM', period_start, revenue in minor units) for every line-month."""
    lines = book.ledger()
    stop = book.as_of + dt.timedelta(days=1)
    rows = book.engine.arrow(
        f"""SELECT account_id, start_date, least(coalesce(end_date, DATE '{stop.isoformat()}'),
                                                  DATE '{stop.isoformat()}') AS end_x,
                   CAST(value_num AS VARCHAR) AS num_text, CAST(value_den AS VARCHAR) AS den_text
            FROM {lines} WHERE source <> 'grace' AND value_num <> 0"""
    ).to_pylist()
    totals: dict[tuple[str, int], int] = {}
    for row in rows:
        account, start, end_x, num_text, den_text = row.values()
        num = Decimal(num_text)
        den = Decimal(den_text)
        # v = num / den exactly; scale both to integers
        scale = 10 ** max(-num.as_tuple().exponent, -den.as_tuple().exponent, 0)  # type: ignore[operator]
        n_int, d_int = int(num * scale), int(den * scale)
        y, m = start.year, start.month
        cum_days, done = 0, 0
        while True:
            first = dt.date(y, m, 1)
            if first >= end_x:
                break
            dim = calendar.monthrange(y, m)[1]
            last_x = first + dt.timedelta(days=dim)
            active = (min(end_x, last_x) - max(start, first)).days
            if active > 0:
                cum_days += active * (DAYS_LCM // dim)
                through = _round_half_even(n_int * cum_days, d_int * DAYS_LCM)
                key = (account, y * 12 + m - 1)
                totals[key] = totals.get(key, 0) + through - done
                done = through
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if book.config.mrr_source == "invoices":
        one_off = book.engine.arrow(
            f"""SELECT account_id, year(invoice_date) * 12 + month(invoice_date) - 1 AS month,
                       CAST(sum(revenue) AS BIGINT) AS revenue
                FROM {REVENUE_ONLY} GROUP BY account_id, month"""
        ).to_pylist()
        for row in one_off:
            key = (row["account_id"], row["month"])
            totals[key] = totals.get(key, 0) + row["revenue"]
    return pa.table(
        {
            "account_id": pa.array([k[0] for k in totals], pa.string()),
            "month": pa.array([k[1] for k in totals], pa.int64()),
            "revenue": pa.array(list(totals.values()), pa.int64()),
        }
    )


def revenue_periods(book: Book, grain: str, revenue: str) -> str:
    """The period table revenue is reported over: the book's spine, reaching back to the first month
    of ``revenue`` (month, revenue) when that is earlier, so a one-off charge billed before any MRR
    (or in a book with no MRR at all) still shows."""
    periods, first, last = book.spine(grain)
    cal = book.calendar(grain)
    earliest = book.engine.scalar(f"SELECT min(month) FROM {revenue}")
    if earliest is None or cal.period_of(_month_start(int(earliest))) >= first:  # type: ignore[call-overload]
        return periods
    lo = cal.period_of(_month_start(int(earliest)))  # type: ignore[call-overload]
    name = f"rb_revenue_periods_{grain}"
    book.engine.materialize(name, cal.periods_sql(lo, last, book.as_of))
    return name


def _month_start(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)
