"""Expansion attribution over a trailing window: the ARR of each class and its share of gross expansion,
and NRR with and without product-driven expansion, overall or per CSM (docs/attribution.md).

For a window of w months ending with the as-of month e (so opening on the snapshot of month s = e - w),
the cohort is every account paying on s's snapshot, with the CSM it had then, as in
:mod:`revbook.metrics.retention` (one cohort step, :func:`~revbook.metrics.retention.cohort_step`):

    NRR                     = sum(MRR at e) / sum(MRR at s)
    GRR                     = sum(min(MRR at e, MRR at s)) / sum(MRR at s)
    NRR without product     = sum(max(MRR at e - P, min(MRR at e, MRR at s))) / sum(MRR at s)

where P is the account's product-attributed expansion MRR in months s+1 .. e. Taking out the growth the
product drove can take an account back to its start at most, never below what it retained: an account
whose usage grew and then fell back kept its start, and is not charged twice. So
GRR <= NRR without product <= NRR, and the two NRRs are equal when no cohort account had product expansion.

The class ARR counts every expansion of months s+1 .. e, new accounts' included, each under the CSM who
held the account at the start of the month it expanded (the ``csm`` of :func:`.attribution.expansions`);
a CSM's csm-attributed ARR is their *influenced* expansion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..definitions import NO_CSM, NO_VALUE
from ..errors import ConfigError
from ..frame import Frame
from ..metrics.book import book_of
from ..metrics.movements import money
from ..metrics.retention import cohort_rates, cohort_step
from .attribution import CLASSES, attribution_stage

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["BY", "by_class", "summary"]

#: what the summary may be split by
BY = ("csm",)


def summary(store: Store, *, window: int = 12, by: str | None = None) -> Frame:
    """Expansion ARR per class and its share of gross expansion over the trailing ``window`` months to
    the as-of date, with NRR, NRR without product-driven expansion and GRR of the accounts paying at the
    window's start ("attribution_summary"); ``by="csm"``: one row per CSM."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ConfigError(f"window must be a whole number of months of 1 or more, not {window!r}")
    if by is not None and by not in BY:
        raise ConfigError(f"attribution summary cannot be split by '{by}'", hint="use by='csm' or no split")
    book = book_of(store)
    stage = attribution_stage(book)
    periods, _, last = book.spine("month")
    snap = book.snapshots("month")
    owners = book.slices("month", ["owner", "owner_name"])
    mu = store.config.minor_units
    s = last - window
    key = "owner" if by else "'all'"
    step = cohort_step("start_mrr", "end_mrr")
    nrr, grr, logo = cohort_rates("start_mrr", "end_mrr", "retained_mrr", "start_accounts", "retained_accounts")
    nrr_wo = cohort_rates("start_mrr", "end_without", "retained_mrr", "start_accounts", "retained_accounts")[0]
    class_sums = ", ".join(f"sum(CASE WHEN attribution = '{c}' THEN delta ELSE 0 END) AS {c}" for c in CLASSES)
    sql = f"""
    WITH product AS (
        SELECT account_id, sum(delta) AS product_mrr FROM {stage}
        WHERE attribution = 'product' AND period > {s} AND period <= {last} GROUP BY account_id
    ),
    members AS (
        SELECT c.account_id, o.owner, o.owner_name, c.mrr AS start_mrr, coalesce(e.mrr, 0) AS end_mrr,
               coalesce(p.product_mrr, 0) AS product_mrr
        FROM {snap} c JOIN {owners} o ON o.account_id = c.account_id AND o.period = c.period
        LEFT JOIN {snap} e ON e.account_id = c.account_id AND e.period = {last}
        LEFT JOIN product p ON p.account_id = c.account_id
        WHERE c.period = {s}
    ),
    steps AS (
        SELECT *, {step[0]} AS end_step, {step[1]} AS retained_step, {step[2]} AS logo_step,
               greatest(end_mrr - product_mrr, {step[1]}) AS end_without_step
        FROM members
    ),
    cohort AS (
        SELECT {key} AS k, min(owner_name) AS owner_name, count(*) AS start_accounts,
               sum(start_mrr) AS start_mrr, sum(end_step) AS end_mrr, sum(retained_step) AS retained_mrr,
               sum(logo_step) AS retained_accounts, sum(end_without_step) AS end_without
        FROM steps GROUP BY {key}
    ),
    classes AS (
        SELECT {key} AS k, min(owner_name) AS owner_name, sum(delta) AS gross, {class_sums}
        FROM {stage} WHERE period > {s} AND period <= {last} GROUP BY {key}
    ),
    joined AS (
        SELECT coalesce(c.k, x.k) AS k, coalesce(c.owner_name, x.owner_name) AS owner_name,
               coalesce(c.start_accounts, 0) AS start_accounts, coalesce(c.retained_accounts, 0) AS retained_accounts,
               coalesce(c.start_mrr, 0) AS start_mrr, coalesce(c.end_mrr, 0) AS end_mrr,
               coalesce(c.retained_mrr, 0) AS retained_mrr, coalesce(c.end_without, 0) AS end_without,
               coalesce(x.gross, 0) AS gross, {", ".join(f"coalesce(x.{c}, 0) AS {c}" for c in CLASSES)}
        FROM cohort c FULL OUTER JOIN classes x ON x.k = c.k
    ),
    everything AS (
        SELECT * FROM joined
        UNION ALL
        SELECT 'all', NULL, 0, 0, 0, 0, 0, 0, 0, {", ".join("0" for _ in CLASSES)}
        WHERE NOT EXISTS (SELECT 1 FROM joined) AND {"false" if by else "true"}
    )
    SELECT {f"CASE WHEN k = '{NO_VALUE}' THEN '{NO_CSM}' ELSE k END AS csm, " if by else ""}
           {f"CASE WHEN k = '{NO_VALUE}' THEN '{NO_CSM}' ELSE coalesce(owner_name, k) END AS csm_name, " if by else ""}
           p.label AS period, CAST({window} AS BIGINT) AS window_months,
           (SELECT min(period_start) FROM {periods} WHERE period = {s} + 1) AS window_start, p.period_end,
           CAST(start_accounts AS BIGINT) AS start_accounts,
           {money("12 * start_mrr", mu)} AS start_arr, {money("12 * end_mrr", mu)} AS end_arr,
           {money("12 * end_without", mu)} AS end_arr_without_product,
           {money("12 * retained_mrr", mu)} AS retained_arr,
           {nrr} AS nrr, {nrr_wo} AS nrr_without_product, {grr} AS grr, {logo} AS logo_retention,
           {money("12 * (end_mrr - end_without)", mu)} AS product_arr_removed,
           {money("12 * gross", mu)} AS gross_expansion_arr,
           {", ".join(money(f"12 * {c}", mu) + f" AS {c}_arr" for c in CLASSES)},
           {", ".join(f"CAST({c} AS DOUBLE) / CAST(nullif(gross, 0) AS DOUBLE) AS {c}_share" for c in CLASSES)}
    FROM everything JOIN {periods} p ON p.period = {last}
    ORDER BY {"CASE WHEN k = '" + NO_VALUE + "' THEN 1 ELSE 0 END, k" if by else "1"}
    """
    return Frame("attribution_summary", book.engine.arrow(sql))


def by_class(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One summary row's expansion per class, largest ARR first: attribution, arr, share."""
    return [
        {"attribution": c, "arr": row[f"{c}_arr"], "share": row[f"{c}_share"]}
        for c in sorted(CLASSES, key=lambda c: -(row[f"{c}_arr"] or 0))
    ]
