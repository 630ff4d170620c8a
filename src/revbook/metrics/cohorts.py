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
    snap = book.snapshots("month")
    periods, _, _ = book.spine("month")
    mu = book.config.minor_units
    filters = []
    if start:
        filters.append(f"pc.period_end >= DATE '{start}'")
    if end:
        filters.append(f"pc.period_end <= DATE '{end}'")
    where = ("WHERE " + " AND ".join(filters)) if filters else ""
    return f"""
    WITH first AS (SELECT account_id, min(period) AS cohort FROM {snap} GROUP BY account_id),
    size AS (
        SELECT f.cohort, count(*) AS cohort_accounts, sum(s.mrr) AS cohort_mrr
        FROM first f JOIN {snap} s ON s.account_id = f.account_id AND s.period = f.cohort
        GROUP BY f.cohort
    ),
    aged AS (
        SELECT f.cohort, s.period - f.cohort AS age, count(*) AS active_accounts, sum(s.mrr) AS mrr
        FROM first f JOIN {snap} s ON s.account_id = f.account_id
        GROUP BY f.cohort, s.period - f.cohort
    ),
    grid AS (
        SELECT z.cohort, p.period - z.cohort AS age FROM size z JOIN {periods} p ON p.period >= z.cohort
    )
    SELECT pc.label AS cohort, g.age AS months_since_start, z.cohort_accounts,
           CAST(coalesce(a.active_accounts, 0) AS BIGINT) AS active_accounts,
           CAST(coalesce(a.active_accounts, 0) AS DOUBLE) / CAST(z.cohort_accounts AS DOUBLE) AS logo_retention,
           {money("z.cohort_mrr", mu)} AS cohort_mrr, {money("coalesce(a.mrr, 0)", mu)} AS mrr,
           CAST(coalesce(a.mrr, 0) AS DOUBLE) / CAST(z.cohort_mrr AS DOUBLE) AS nrr
    FROM grid g JOIN size z ON z.cohort = g.cohort
    JOIN {periods} pc ON pc.period = g.cohort
    LEFT JOIN aged a ON a.cohort = g.cohort AND a.age = g.age
    {where}
    ORDER BY g.cohort, g.age
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
