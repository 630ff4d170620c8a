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

from ..definitions import GAINS, LOSSES, MOVEMENT_KINDS
from ..errors import ConfigError
from .movements import money, movement_amount

if TYPE_CHECKING:
    from .book import Book

__all__ = ["WINDOWS", "cohort_rates", "cohort_step", "retention_sql"]

WINDOWS = (1, 3, 12)


def _ratio(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / CAST(nullif({den}, 0) AS DOUBLE)"


def cohort_step(start_mrr: str, end_mrr: str) -> tuple[str, str, str]:
    """A cohort member's part in its window: an account paying ``start_mrr`` at the window's start
    adds its MRR at the end, that MRR capped at the start (so GRR <= min(NRR, 100%)), and 1 if it
    still pays. The sums of these and of the start are what :func:`cohort_rates` divides."""
    return end_mrr, f"least({start_mrr}, {end_mrr})", f"CASE WHEN {end_mrr} > 0 THEN 1 ELSE 0 END"


def cohort_rates(
    start_mrr: str, end_mrr: str, retained_mrr: str, start_accounts: str, retained_accounts: str
) -> tuple[str, str, str]:
    """NRR, GRR and logo retention of a cohort from the sums of :func:`cohort_step`."""
    return (
        _ratio(end_mrr, start_mrr),
        _ratio(retained_mrr, start_mrr),
        _ratio(retained_accounts, start_accounts),
    )


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
    from .states import levels, movement_rows, states

    cal = book.calendar(grain)
    st = states(book, "month", dims)
    lv = levels(book, "month", dims)
    changes = book.changes("month")
    periods, _, last = book.spine("month")
    mu = book.config.minor_units
    values = ", ".join(f"({w})" for w in windows)
    d_plain = "".join(f", {d}" for d in dims)
    d_g = "".join(f", g.{d}" for d in dims)
    d_join = "".join(f" AND m.{d} = c.{d}" for d in dims)
    d_lv = "".join(f" AND lv.{d} = e.{d}" for d in dims)
    d_coalesce = "".join(f", coalesce(c.{d}, m.{d}) AS {d}" for d in dims)
    part = "PARTITION BY window_months" + d_plain

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

    # The end months asked for (start/end dates) bound every step below, not only the result: a
    # cohort segment counts only for window starts s with e_lo <= s + w <= e_hi.
    e_lo = f"(SELECT min(period) FROM {periods} WHERE period_end >= DATE '{start}')" if start else None
    e_hi = f"(SELECT max(period) FROM {periods} WHERE period_end <= DATE '{end}')" if end else None
    lo_bound = f", {e_lo} - w.window_months" if e_lo else ""
    hi_bound = f", {e_hi} - w.window_months + 1" if e_hi else ""
    ends_in = "".join([f" AND p.period >= {e_lo}" if e_lo else "", f" AND p.period <= {e_hi}" if e_hi else ""])
    # ... and the rows read: a segment must cover a window start, an interval a window end, a
    # movement a month inside a window
    wide, narrow = max(windows), min(windows)
    g_in = "".join(
        [
            f" AND coalesce(next_period, {last} + 1) > {e_lo} - {wide}" if e_lo else "",
            f" AND period <= {e_hi} - {narrow}" if e_hi else "",
        ]
    )
    j_in = "".join(
        [f" AND coalesce(next_period, {last} + 1) > {e_lo}" if e_lo else "", f" AND period <= {e_hi}" if e_hi else ""]
    )
    moved_in = "".join([f" AND period > {e_lo} - {wide}" if e_lo else "", f" AND period <= {e_hi}" if e_hi else ""])

    m = {k: f"coalesce(m.{k}, 0)" for k in MOVEMENT_KINDS}
    start_mrr = "coalesce(c.start_mrr, 0)"
    # pairs: a cohort segment's start MRR against the MRR of one interval at the window's end
    step = cohort_step("start_mrr", "end_mrr")
    nrr, grr, logo = cohort_rates(
        "x.start_mrr", "x.end_mrr", "x.retained_mrr", "x.start_accounts", "x.retained_accounts"
    )
    return f"""
    WITH w AS (SELECT * FROM (VALUES {values}) t(window_months)),
    -- cohort segments: an account's paying state (MRR and slice) over [gf, gt)
    g AS (
        SELECT account_id, period AS gf, coalesce(next_period, {last} + 1) AS gt, mrr{d_plain}
        FROM {st} WHERE mrr > 0{g_in}
    ),
    -- the account's paying MRR over [jf, jt), whatever its slice
    j AS (
        SELECT account_id, period AS jf, coalesce(next_period, {last} + 1) AS jt, mrr
        FROM {changes} WHERE mrr > 0{j_in}
    ),
    -- window starts s in [lo, hi) at which the segment is the start and the interval the end
    pairs AS (
        SELECT w.window_months{d_g}, g.mrr AS start_mrr, j.mrr AS end_mrr,
               greatest(g.gf, j.jf - w.window_months{lo_bound}) AS lo,
               least(g.gt, j.jt - w.window_months, {last} - w.window_months + 1{hi_bound}) AS hi
        FROM g JOIN j ON j.account_id = g.account_id CROSS JOIN w
        WHERE j.jf < g.gt + w.window_months AND j.jt > g.gf + w.window_months
    ),
    steps AS (
        SELECT lo AS s, window_months{d_plain}, {step[0]} AS d_end, {step[1]} AS d_ret, {step[2]} AS d_n
        FROM pairs WHERE lo < hi
        UNION ALL
        SELECT hi, window_months{d_plain}, -({step[0]}), -({step[1]}), -({step[2]}) FROM pairs WHERE lo < hi
        UNION ALL
        SELECT lv.period, w.window_months{"".join(f", lv.{d}" for d in dims)}, 0, 0, 0
        FROM {lv} lv CROSS JOIN w WHERE lv.accounts > 0 AND lv.period + w.window_months <= {last}
    ),
    summed AS (
        SELECT s, window_months{d_plain}, sum(d_end) AS d_end, sum(d_ret) AS d_ret, sum(d_n) AS d_n
        FROM steps GROUP BY s, window_months{d_plain}
    ),
    ends AS (
        SELECT s, window_months{d_plain},
               sum(d_end) OVER v AS end_mrr, sum(d_ret) OVER v AS retained_mrr, sum(d_n) OVER v AS retained_accounts
        FROM summed
        WINDOW v AS ({part} ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    cohort AS (
        SELECT e.s + e.window_months AS end_period, e.window_months{"".join(f", e.{d}" for d in dims)},
               lv.accounts AS start_accounts, lv.mrr AS start_mrr, e.end_mrr, e.retained_mrr, e.retained_accounts
        FROM ends e JOIN {lv} lv ON lv.period = e.s{d_lv}
        WHERE lv.accounts > 0 AND e.s + e.window_months <= {last}
    ),
    monthly AS (
        SELECT period{d_plain}, {", ".join(mv(k) for k in MOVEMENT_KINDS)}
        FROM ({movement_rows(book, "month", dims)}) r
        WHERE kind IN ('movement', 'residual'){moved_in} GROUP BY period{d_plain}
    ),
    windowed AS (
        SELECT p.period AS end_period, w.window_months{"".join(f", mo.{d}" for d in dims)},
               {", ".join(f"sum(mo.{k}) AS {k}" for k in MOVEMENT_KINDS)}
        FROM {periods} p CROSS JOIN w
        JOIN monthly mo ON mo.period > p.period - w.window_months AND mo.period <= p.period
        WHERE p.period - w.window_months >= (SELECT min(period) FROM {periods}) - 1{ends_in}
        GROUP BY p.period, w.window_months{"".join(f", mo.{d}" for d in dims)}
    ),
    x AS (
        SELECT coalesce(c.end_period, m.end_period) AS end_period,
               coalesce(c.window_months, m.window_months) AS window_months{d_coalesce},
               coalesce(c.start_accounts, 0) AS start_accounts, {start_mrr} AS start_mrr,
               coalesce(c.end_mrr, 0) AS end_mrr, coalesce(c.retained_mrr, 0) AS retained_mrr,
               coalesce(c.retained_accounts, 0) AS retained_accounts,
               {", ".join(f"{m[k]} AS {k}" for k in MOVEMENT_KINDS)}
        FROM cohort c FULL OUTER JOIN windowed m
          ON m.end_period = c.end_period AND m.window_months = c.window_months{d_join}
    )
    SELECT p.label AS period, p.period_start, p.period_end, x.window_months{"".join(f", x.{d}" for d in dims)},
           x.start_accounts, CAST(x.retained_accounts AS BIGINT) AS retained_accounts,
           {money("x.start_mrr", mu)} AS start_mrr, {money("x.end_mrr", mu)} AS end_mrr,
           {money("x.retained_mrr", mu)} AS retained_mrr,
           {nrr} AS nrr, {grr} AS grr, {logo} AS logo_retention,
           {", ".join(f"{money(f'x.{k}', mu)} AS {k}_mrr" for k in MOVEMENT_KINDS)},
           {_ratio("x.start_mrr + x.expansion - x.contraction - x.churn", "x.start_mrr")} AS movement_nrr,
           {_ratio("x.churn + x.contraction", "x.start_mrr")} AS gross_revenue_churn,
           {_ratio("x.churn + x.contraction - x.expansion", "x.start_mrr")} AS net_revenue_churn,
           {_ratio("x.expansion", "x.start_mrr")} AS expansion_rate,
           {_ratio(" + ".join(f"x.{k}" for k in GAINS), " + ".join(f"x.{k}" for k in LOSSES))} AS quick_ratio
    FROM x JOIN {periods} p ON p.period = x.end_period
    WHERE {" AND ".join(filters)}
    ORDER BY x.window_months, x.end_period{d_plain}
    """
