"""Upstream: how the accounts that left for a reason looked before, against accounts that stayed.

For each top reason (by ARR lost), every churn / contraction event with that reason is described
on the day before it; the comparison group is accounts paying at the end of the same months that
had no churn or contraction in the next 180 days. Each feature is point in time (only data dated
before the snapshot day). Gaps are differences of means with seeded bootstrap intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..definitions import LOSSES_SQL
from ..frame import Frame
from ..metrics import tables
from .churn_reasons import classify_reasons, pareto, reason_events

if TYPE_CHECKING:
    from ..store import Store
    from .taxonomy import Taxonomy

__all__ = ["FEATURE_OWNERS", "MAX_SEGMENTS", "SEGMENT_OWNER", "feature_owner", "upstream"]

#: each upstream metric and the function that should own it
FEATURE_OWNERS: dict[str, str] = {
    "mrr_trend_90d": "customer success",
    "mrr_trend_180d": "customer success",
    "prior_contractions": "customer success",
    "tenure_days": "sales / onboarding",
    "discount_percent": "sales / pricing",
    "tickets_180d": "support",
    "escalations_180d": "support",
    "last_nps": "customer success / product",
    "usage_trend_90d": "product",
    "health_score": "customer success (health model)",
}
#: the owner of every ``segment=<value>`` feature (one per segment of the data)
SEGMENT_OWNER = "sales (ideal customer profile)"
#: at most this many segments (the ones with the most accounts) get a share feature
MAX_SEGMENTS = 12
#: tables declared by the contract but maybe not loaded yet, and the features they feed
OPTIONAL = {
    "tickets": ("tickets_180d", "escalations_180d"),
    "surveys": ("last_nps",),
    "usage": ("usage_trend_90d",),
}


def feature_owner(feature: str) -> str:
    """The function that should own an upstream feature ("unassigned" for one revbook does not know)."""
    if feature.startswith("segment="):
        return SEGMENT_OWNER
    return FEATURE_OWNERS.get(feature, "unassigned")


def _segments(con: Any) -> list[str]:
    """The data's own segment values, most accounts first (then by name), at most MAX_SEGMENTS."""
    rows = con.execute(
        """SELECT segment FROM accounts WHERE segment IS NOT NULL AND trim(segment) <> ''
           GROUP BY segment ORDER BY count(*) DESC, segment LIMIT ?""",
        [MAX_SEGMENTS],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _quote(value: str, mark: str) -> str:
    return mark + value.replace(mark, mark * 2) + mark


def _bootstrap(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, n: int) -> tuple[float, float]:
    ia = rng.integers(0, len(a), (n, len(a)))
    ib = rng.integers(0, len(b), (n, len(b)))
    d = a[ia].mean(axis=1) - b[ib].mean(axis=1)
    return float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))


def upstream(
    ws: Store,
    *,
    top: int = 5,
    seed: int = 0,
    resamples: int = 500,
    max_stayed: int = 3000,
    health: pa.Table | None = None,
    reasons: Taxonomy | Mapping[str, object] | None = None,
) -> Frame:
    """For the ``top`` reasons by ARR lost: each upstream feature for the accounts that left or shrank
    for it against those that stayed, with the gap and its 95% bootstrap interval (seeded).

    Features: MRR trend over the 90 and 180 days before (ledger), prior contractions, tenure,
    discount, the share in each segment (the data's own ``accounts.segment`` values, whatever they
    are called: the MAX_SEGMENTS with the most accounts, each a feature ``segment=<value>``);
    tickets and escalations in the 180 days before, last NPS and usage trend when those tables are
    loaded (else one row per feature with status "not loaded").
    ``health``: a hook for the health model to come, a table ``(account_id, date, score)``; when
    given, the last score before each snapshot is compared too.
    Columns: reason, reason_owner, feature, metric_owner, n_left, n_stayed, left_mean, stayed_mean,
    gap, gap_low, gap_high, status (measured, not loaded, too few).
    """
    classified = classify_reasons(ws, reasons=reasons)
    ranked = pareto(ws, classified=classified).to_arrow().to_pylist()
    chosen = [r for r in ranked if r["reason"] != "unknown"][:top]
    ev = reason_events(ws, classified=classified)
    mv = tables.account_movements(ws, grain="month", by_subscription=False).to_arrow()
    ledger = tables.ledger(ws).to_arrow().select(["account_id", "start_date", "end_date", "mrr"])
    con = ws.con.cursor()
    try:
        con.register("rb_ev", ev)
        con.register("rb_mv", mv)
        con.register("rb_led", ledger)
        units = con.execute(
            f"""
            WITH left_ AS (
                SELECT account_id, CAST(date - 1 AS DATE) AS s, reason FROM rb_ev WHERE matched
            ),
            months AS (SELECT DISTINCT last_day(date) AS m FROM rb_ev WHERE matched),
            bad AS (SELECT account_id, period_end FROM rb_mv WHERE movement IN ({LOSSES_SQL})),
            stayed AS (
                SELECT m.account_id, m.period_end AS s, NULL AS reason FROM rb_mv m JOIN months USING (period_end)
                WHERE m.end_mrr > 0 AND NOT EXISTS (
                    SELECT 1 FROM bad b WHERE b.account_id = m.account_id
                    AND b.period_end > m.period_end AND b.period_end <= m.period_end + 180)
            )
            SELECT * FROM left_ UNION ALL SELECT * FROM stayed
            ORDER BY account_id, s, reason  -- a fixed order, so the seeded subsample is reproducible
            """.replace("JOIN months USING (period_end)", "JOIN months ON months.m = m.period_end")
        ).to_arrow_table()
        rng = np.random.default_rng(seed)
        is_left = np.asarray(pc.is_valid(units["reason"]).to_numpy(zero_copy_only=False))
        stay_idx = np.flatnonzero(~is_left)
        if len(stay_idx) > max_stayed:
            stay_idx = np.sort(rng.choice(stay_idx, size=max_stayed, replace=False))
        keep = np.r_[np.flatnonzero(is_left), stay_idx]
        units = units.take(pa.array(keep)).append_column("unit", pa.array(np.arange(len(keep))))
        con.register("rb_units", units)
        optional = []
        if _rows(con, "tickets"):
            optional.append(
                """(SELECT count(*) FROM tickets t WHERE t.account_id = u.account_id AND t.opened_at <= u.s
                        AND t.opened_at > u.s - 180) AS tickets_180d,
                   (SELECT count(*) FROM tickets t WHERE t.account_id = u.account_id AND t.opened_at <= u.s
                        AND t.opened_at > u.s - 180 AND t.escalated) AS escalations_180d"""
            )
        if _rows(con, "surveys"):
            optional.append(
                """(SELECT arg_max(score, date) FROM surveys v WHERE v.account_id = u.account_id AND v.kind = 'nps'
                        AND v.date <= u.s) AS last_nps"""
            )
        if _rows(con, "usage"):
            optional.append(
                """(SELECT sum(value) FILTER (WHERE date > u.s - 30) / nullif(sum(value) FILTER (WHERE date <= u.s - 90
                        AND date > u.s - 120), 0) - 1 FROM usage g WHERE g.account_id = u.account_id
                        AND g.date <= u.s AND g.date > u.s - 120) AS usage_trend_90d"""
            )
        if health is not None:
            con.register("rb_health", health)
            optional.append(
                """(SELECT arg_max(score, date) FROM rb_health hh WHERE hh.account_id = u.account_id
                        AND hh.date <= u.s) AS health_score"""
            )
        extra = "".join(f", {o}" for o in optional)
        segments = "".join(
            f", CAST(a.segment = {_quote(v, chr(39))} AS DOUBLE) AS {_quote('segment=' + v, chr(34))}"
            for v in _segments(con)
        )
        feats = con.execute(
            f"""
            WITH mrr AS (
                SELECT u.unit,
                       sum(l.mrr) FILTER (WHERE l.start_date <= u.s AND (l.end_date IS NULL OR l.end_date > u.s)) AS m0,
                       sum(l.mrr) FILTER (WHERE l.start_date <= u.s - 90
                           AND (l.end_date IS NULL OR l.end_date > u.s - 90)) AS m90,
                       sum(l.mrr) FILTER (WHERE l.start_date <= u.s - 180
                           AND (l.end_date IS NULL OR l.end_date > u.s - 180)) AS m180,
                       min(l.start_date) FILTER (WHERE l.mrr > 0) AS first_paid
                FROM rb_units u JOIN rb_led l ON l.account_id = u.account_id AND l.start_date <= u.s
                GROUP BY u.unit
            ),
            disc AS (
                SELECT u.unit, max(coalesce(sb.discount_percent, 0)) AS discount_percent
                FROM rb_units u JOIN subscriptions sb ON sb.account_id = u.account_id AND sb.start_date <= u.s
                     AND (sb.end_date IS NULL OR sb.end_date > u.s)
                GROUP BY u.unit
            ),
            contr AS (
                SELECT u.unit, count(*) AS prior_contractions FROM rb_units u
                JOIN rb_mv m ON m.account_id = u.account_id AND m.movement = 'contraction' AND m.period_end < u.s
                GROUP BY u.unit
            )
            SELECT u.unit, u.reason,
                   CAST(mrr.m0 / nullif(mrr.m90, 0) - 1 AS DOUBLE) AS mrr_trend_90d,
                   CAST(mrr.m0 / nullif(mrr.m180, 0) - 1 AS DOUBLE) AS mrr_trend_180d,
                   CAST(coalesce(contr.prior_contractions, 0) AS DOUBLE) AS prior_contractions,
                   CAST(u.s - mrr.first_paid AS DOUBLE) AS tenure_days,
                   CAST(coalesce(disc.discount_percent, 0) AS DOUBLE) AS discount_percent{segments}{extra}
            FROM rb_units u LEFT JOIN mrr USING (unit) LEFT JOIN disc USING (unit) LEFT JOIN contr USING (unit)
            LEFT JOIN accounts a ON a.account_id = u.account_id
            ORDER BY u.unit"""
        ).to_arrow_table()
    finally:
        con.close()
    features = [c for c in feats.column_names if c not in ("unit", "reason")]
    missing = [f for table, fs in OPTIONAL.items() for f in fs if f not in features]
    reason_col = np.asarray(feats["reason"].to_pylist(), dtype=object)
    stayed = reason_col == None  # noqa: E711 (object array: None marks a stayer)
    rows: list[dict[str, Any]] = []
    for r in chosen:
        left = reason_col == r["reason"]
        for f in features:
            x = np.asarray(feats[f].to_numpy(zero_copy_only=False), dtype=float)
            a, b = x[left & ~np.isnan(x)], x[stayed & ~np.isnan(x)]
            row: dict[str, Any] = {
                "reason": r["reason"],
                "reason_owner": r["owner_function"],
                "feature": f,
                "metric_owner": feature_owner(f),
                "n_left": len(a),
                "n_stayed": len(b),
                "left_mean": None,
                "stayed_mean": None,
                "gap": None,
                "gap_low": None,
                "gap_high": None,
                "status": "too few",
            }
            if len(a) >= 5 and len(b) >= 5:
                lo, hi = _bootstrap(a, b, np.random.default_rng([seed, len(rows)]), resamples)
                row.update(
                    left_mean=float(a.mean()), stayed_mean=float(b.mean()), gap=float(a.mean() - b.mean()),
                    gap_low=lo, gap_high=hi, status="measured",
                )  # fmt: skip
            rows.append(row)
        for f in missing:
            rows.append(
                {
                    "reason": r["reason"], "reason_owner": r["owner_function"], "feature": f,
                    "metric_owner": feature_owner(f), "n_left": 0, "n_stayed": 0,
                    "left_mean": None, "stayed_mean": None, "gap": None, "gap_low": None, "gap_high": None,
                    "status": "not loaded",
                }
            )  # fmt: skip
    schema = pa.schema(
        [
            ("reason", pa.string()), ("reason_owner", pa.string()), ("feature", pa.string()),
            ("metric_owner", pa.string()), ("n_left", pa.int64()), ("n_stayed", pa.int64()),
            ("left_mean", pa.float64()), ("stayed_mean", pa.float64()), ("gap", pa.float64()),
            ("gap_low", pa.float64()), ("gap_high", pa.float64()), ("status", pa.string()),
        ]
    )  # fmt: skip
    return Frame("upstream", pa.Table.from_pylist(rows, schema=schema))


def _rows(con: Any, table: str) -> int:
    try:
        return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    except Exception:  # a table the workspace does not have
        return 0
