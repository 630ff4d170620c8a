"""Vintage triangles: logo retention and net revenue retention by months since first MRR.

An account's cohort is the month of its first period-end snapshot with MRR above zero (not
``created_at``). At age k (months since that month) a cohort's logo retention is the share of
its accounts with MRR on the snapshot of month cohort + k, and its NRR is their MRR then over
the cohort's MRR at age 0. Returning accounts count again when they pay again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from .movements import money

if TYPE_CHECKING:
    from .book import Book

__all__ = ["cohorts_sql", "pivot"]


def cohorts_sql(book: Book, start: str | None, end: str | None) -> str:
    changes = book.changes("month")
    periods, _, last = book.spine("month")
    mu = book.config.minor_units
    filters = []
    if start:
        filters.append(f"pc.period_end >= DATE '{start}'")
    if end:
        filters.append(f"pc.period_end <= DATE '{end}'")
    where = ("WHERE " + " AND ".join(filters)) if filters else ""
    # Each paying interval [jf, jt) of an account adds 1 account and its MRR to its cohort's ages
    # jf - cohort .. jt - cohort - 1: prefix sums over age give the triangle without a grid of accounts.
    return f"""
    WITH j AS (
        SELECT account_id, period AS jf, coalesce(next_period, {last} + 1) AS jt, mrr,
               min(period) OVER (PARTITION BY account_id) AS cohort
        FROM {changes} WHERE mrr > 0
    ),
    steps AS (
        SELECT cohort, age, sum(n) AS n, sum(m) AS m FROM (
            SELECT cohort, jf - cohort AS age, 1 AS n, mrr AS m FROM j
            UNION ALL
            SELECT cohort, jt - cohort, -1, -mrr FROM j WHERE jt <= {last}
        ) e GROUP BY cohort, age
    ),
    grid AS (
        SELECT c.cohort, p.period - c.cohort AS age
        FROM (SELECT DISTINCT cohort FROM j) c JOIN {periods} p ON p.period >= c.cohort
    ),
    aged AS (
        SELECT g.cohort, g.age,
               sum(coalesce(s.n, 0)) OVER w AS active_accounts, sum(coalesce(s.m, 0)) OVER w AS mrr
        FROM grid g LEFT JOIN steps s ON s.cohort = g.cohort AND s.age = g.age
        WINDOW w AS (PARTITION BY g.cohort ORDER BY g.age ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    size AS (SELECT cohort, active_accounts AS cohort_accounts, mrr AS cohort_mrr FROM aged WHERE age = 0)
    SELECT pc.label AS cohort, a.age AS months_since_start, CAST(z.cohort_accounts AS BIGINT) AS cohort_accounts,
           CAST(a.active_accounts AS BIGINT) AS active_accounts,
           CAST(a.active_accounts AS DOUBLE) / CAST(z.cohort_accounts AS DOUBLE) AS logo_retention,
           {money("z.cohort_mrr", mu)} AS cohort_mrr, {money("a.mrr", mu)} AS mrr,
           CAST(a.mrr AS DOUBLE) / CAST(z.cohort_mrr AS DOUBLE) AS nrr
    FROM aged a JOIN size z ON z.cohort = a.cohort
    JOIN {periods} pc ON pc.period = a.cohort
    {where}
    ORDER BY a.cohort, a.age
    """


def pivot(long: pa.Table, measure: str) -> pa.Table:
    """The long cohort table as a triangle: cohort, its size, then ``m0``, ``m1``, ... of ``measure``."""
    rows = long.to_pylist()
    ages = max((r["months_since_start"] for r in rows), default=-1) + 1
    cohorts: dict[str, dict[str, object]] = {}
    for r in rows:
        row = cohorts.setdefault(r["cohort"], {"cohort": r["cohort"], "cohort_accounts": r["cohort_accounts"]})
        row[f"m{r['months_since_start']}"] = r[measure]
    columns: dict[str, list[object]] = {"cohort": [], "cohort_accounts": []}
    columns.update({f"m{k}": [] for k in range(ages)})
    for row in cohorts.values():
        for name, values in columns.items():
            values.append(row.get(name))
    types = {"cohort": pa.string(), "cohort_accounts": pa.int64()}
    return pa.table({name: pa.array(values, types.get(name, pa.float64())) for name, values in columns.items()})
