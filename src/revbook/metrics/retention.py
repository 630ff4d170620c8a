"""Retention over trailing windows of 1, 3 and 12 months, by the cohort method of DESIGN.md.

For a window ending at month e and opening at month s = e - w: the cohort is every account with
MRR above zero on the snapshot of month s, in the slice it had on that snapshot.

    NRR  = sum(MRR at e) / sum(MRR at s)
    GRR  = sum(min(MRR at e, MRR at s)) / sum(MRR at s)           (so GRR <= min(NRR, 100%))
    logo retention = accounts with MRR at e / accounts in the cohort

Beside them, the movement measures of the same window (months s+1 .. e, every account of the
slice, new ones included, each month's movements sliced at that month's start):

    movement NRR           = (start + expansion - contraction - churn) / start
    gross revenue churn    = (churn + contraction) / start
    net revenue churn      = (churn + contraction - expansion) / start
    expansion rate         = expansion / start
    quick ratio            = (new + reactivation + expansion) / (contraction + churn)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .movements import account_movements_sql, money, movement_amount

if TYPE_CHECKING:
    from .book import Book

__all__ = ["WINDOWS", "retention_sql"]

WINDOWS = (1, 3, 12)


def _ratio(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / CAST(nullif({den}, 0) AS DOUBLE)"


def retention_sql(
    book: Book,
    windows: Sequence[int],
    dims: Sequence[str],
    grain: str,
    start: str | None,
    end: str | None,
) -> str:
    for w in windows:
        if not isinstance(w, int) or w < 1:
            raise ConfigError(f"window must be a whole number of months of 1 or more, not {w!r}")
    cal = book.calendar(grain)
    snap = book.snapshots("month")
    slices = book.slices("month", dims)
    periods, _, last = book.spine("month")
    mu = book.config.minor_units
    rows = account_movements_sql(book, "month", dims)
    values = ", ".join(f"({w})" for w in windows)
    d_sl = "".join(f", sl.{d}" for d in dims)
    d_plain = "".join(f", {d}" for d in dims)
    d_join = "".join(f" AND m.{d} = c.{d}" for d in dims)
    d_coalesce = "".join(f", coalesce(c.{d}, m.{d}) AS {d}" for d in dims)

    def mv(kind: str) -> str:
        return f"sum({movement_amount(kind)}) AS {kind}"

    filters = [f"x.end_period <= {last}"]
    if cal.months > 1:
        # only windows that close on a period end of the chosen grain, and the as-of month
        filters.append(f"((x.end_period - {cal.offset} + 1) % {cal.months} = 0 OR x.end_period = {last})")
    if start:
        filters.append(f"p.period_end >= DATE '{start}'")
    if end:
        filters.append(f"p.period_end <= DATE '{end}'")

    m = {k: f"coalesce(m.{k}, 0)" for k in ("new", "reactivation", "expansion", "contraction", "churn")}
    start_mrr = "coalesce(c.start_mrr, 0)"
    return f"""
    WITH w AS (SELECT * FROM (VALUES {values}) t(window_months)),
    cohort AS (
        SELECT s.period + w.window_months AS end_period, w.window_months{d_sl},
               count(*) AS start_accounts, sum(s.mrr) AS start_mrr, sum(coalesce(e.mrr, 0)) AS end_mrr,
               sum(least(coalesce(e.mrr, 0), s.mrr)) AS retained_mrr,
               sum(CASE WHEN e.mrr IS NOT NULL THEN 1 ELSE 0 END) AS retained_accounts
        FROM {snap} s CROSS JOIN w
        JOIN {slices} sl ON sl.account_id = s.account_id AND sl.period = s.period
        LEFT JOIN {snap} e ON e.account_id = s.account_id AND e.period = s.period + w.window_months
        WHERE s.period + w.window_months <= {last}
        GROUP BY s.period + w.window_months, w.window_months{d_sl}
    ),
    monthly AS (
        SELECT period{d_plain}, {mv("new")}, {mv("reactivation")}, {mv("expansion")},
               {mv("contraction")}, {mv("churn")}
        FROM ({rows}) r GROUP BY period{d_plain}
    ),
    windowed AS (
        SELECT p.period AS end_period, w.window_months{"".join(f", mo.{d}" for d in dims)},
               sum(mo.new) AS new, sum(mo.reactivation) AS reactivation, sum(mo.expansion) AS expansion,
               sum(mo.contraction) AS contraction, sum(mo.churn) AS churn
        FROM {periods} p CROSS JOIN w
        JOIN monthly mo ON mo.period > p.period - w.window_months AND mo.period <= p.period
        WHERE p.period - w.window_months >= (SELECT min(period) FROM {periods}) - 1
        GROUP BY p.period, w.window_months{"".join(f", mo.{d}" for d in dims)}
    ),
    x AS (
        SELECT coalesce(c.end_period, m.end_period) AS end_period,
               coalesce(c.window_months, m.window_months) AS window_months{d_coalesce},
               coalesce(c.start_accounts, 0) AS start_accounts, {start_mrr} AS start_mrr,
               coalesce(c.end_mrr, 0) AS end_mrr, coalesce(c.retained_mrr, 0) AS retained_mrr,
               coalesce(c.retained_accounts, 0) AS retained_accounts,
               {m["new"]} AS new, {m["reactivation"]} AS reactivation, {m["expansion"]} AS expansion,
               {m["contraction"]} AS contraction, {m["churn"]} AS churn
        FROM cohort c FULL OUTER JOIN windowed m
          ON m.end_period = c.end_period AND m.window_months = c.window_months{d_join}
    )
    SELECT p.label AS period, p.period_start, p.period_end, x.window_months{"".join(f", x.{d}" for d in dims)},
           x.start_accounts, CAST(x.retained_accounts AS BIGINT) AS retained_accounts,
           {money("x.start_mrr", mu)} AS start_mrr, {money("x.end_mrr", mu)} AS end_mrr,
           {money("x.retained_mrr", mu)} AS retained_mrr,
           {_ratio("x.end_mrr", "x.start_mrr")} AS nrr,
           {_ratio("x.retained_mrr", "x.start_mrr")} AS grr,
           {_ratio("x.retained_accounts", "x.start_accounts")} AS logo_retention,
           {money("x.new", mu)} AS new_mrr, {money("x.reactivation", mu)} AS reactivation_mrr,
           {money("x.expansion", mu)} AS expansion_mrr, {money("x.contraction", mu)} AS contraction_mrr,
           {money("x.churn", mu)} AS churn_mrr,
           {_ratio("x.start_mrr + x.expansion - x.contraction - x.churn", "x.start_mrr")} AS movement_nrr,
           {_ratio("x.churn + x.contraction", "x.start_mrr")} AS gross_revenue_churn,
           {_ratio("x.churn + x.contraction - x.expansion", "x.start_mrr")} AS net_revenue_churn,
           {_ratio("x.expansion", "x.start_mrr")} AS expansion_rate,
           {_ratio("x.new + x.reactivation + x.expansion", "x.contraction + x.churn")} AS quick_ratio
    FROM x JOIN {periods} p ON p.period = x.end_period
    WHERE {" AND ".join(filters)}
    ORDER BY x.window_months, x.end_period{d_plain}
    """
