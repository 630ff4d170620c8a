"""The metrics a plan's KPI may name (one registry) and their live figures on a date.

Each figure comes from the one definition that exists for it: ARR is 12 x the account's MRR on
the date (``ledger.account_mrr_sql``, exact), the health score is the composite
(``health.composite.score_table``), the account's NRR over 12 months is the cohort step of
``metrics.retention`` for a cohort of one (its MRR on the date over its MRR on the same day 12
months before; none when it did not pay then), and the rest are the point-in-time features of
``health.features`` (what was known on the date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..health.features import FEATURES
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from ..metrics.retention import cohort_rates, cohort_step

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["KPI_METRICS", "KpiMetric", "kpi_status", "live_values"]


@dataclass(frozen=True)
class KpiMetric:
    name: str
    title: str
    #: "money" (reporting currency), "rate" (a share: 1.05 is 105%), "score", "count", "number"
    unit: str
    #: "higher" or "lower": which way the figure should move to meet its target
    better: str
    definition: str


def _feature(name: str, title: str, unit: str, better: str = "higher") -> KpiMetric:
    return KpiMetric(name, title, unit, better, FEATURES[name])


KPI_METRICS: dict[str, KpiMetric] = {
    m.name: m
    for m in (
        KpiMetric("arr", "ARR", "money", "higher", "12 x the account's MRR on the date (reporting currency)"),
        KpiMetric("health_score", "Health score", "score", "higher", "the composite health score, 0-100"),
        KpiMetric(
            "nrr_12m",
            "NRR over 12 months",
            "rate",
            "higher",
            "the account's MRR on the date over its MRR on the same day 12 months before",
        ),
        _feature("utilisation", "Usage per seat", "rate"),
        _feature("open_tickets", "Open tickets", "count", "lower"),
        _feature("tickets_90d", "Tickets in 90 days", "count", "lower"),
        _feature("escalations_90d", "Escalations in 90 days", "count", "lower"),
        _feature("usage_90d", "Usage (90 days)", "number"),
        _feature("features_used", "Key features used", "count"),
        _feature("activities_90d", "Touchpoints in 90 days", "count"),
        _feature("nps", "NPS answer", "score"),
        _feature("csat", "CSAT", "score"),
        _feature("milestone_progress", "Onboarding progress", "rate"),
    )
}


def _year_before(on: dt.date) -> dt.date:
    try:
        return on.replace(year=on.year - 1)
    except ValueError:  # 29 February
        return on.replace(year=on.year - 1, day=28)


def _build(store: Store, on: dt.date) -> dict[str, dict[str, Any]]:
    from ..health.composite import score_table
    from ..health.features import features

    cfg = store.config
    feats = features(store, [on], lifecycle=cfg.lifecycle, settings=cfg.health)
    health = score_table(feats, cfg.health)
    out: dict[str, dict[str, Any]] = {}
    scale = Decimal(1).scaleb(-cfg.minor_units)
    ids = feats["account_id"].to_pylist()
    mrr = feats["mrr"].to_pylist()
    score = health["score"].to_pylist()
    columns = {
        name: feats[name].to_pylist()
        for name in KPI_METRICS
        if name in FEATURES and name in feats.column_names and name != "arr"
    }
    for i, account in enumerate(ids):
        row: dict[str, Any] = {"arr": None if mrr[i] is None else Decimal(12 * int(mrr[i])) * scale}
        row["health_score"] = None if score[i] is None or score[i] != score[i] else round(float(score[i]), 1)
        for name, values in columns.items():
            v = values[i]
            row[name] = None if v is None or (isinstance(v, float) and v != v) else v
        out[account] = row
    lines = book_of(store).ledger()
    start, end = _year_before(on), on
    end_mrr, retained, _ = cohort_step("s.mrr", "coalesce(e.mrr, 0)")
    nrr, _, _ = cohort_rates("s.mrr", end_mrr, retained, "1", "1")
    rows = store.con.execute(
        f"""WITH s AS {account_mrr_sql(lines, f"(SELECT DATE '{start}' AS day)", "day", every_account=True)},
        e AS {account_mrr_sql(lines, f"(SELECT DATE '{end}' AS day)", "day", every_account=True)}
        SELECT s.account_id, {nrr} FROM s LEFT JOIN e ON e.account_id = s.account_id WHERE s.mrr > 0"""
    ).fetchall()
    for account, value in rows:
        out.setdefault(account, {"arr": Decimal(0)})["nrr_12m"] = None if value is None else round(float(value), 4)
    return out


def live_values(store: Store, on: dt.date) -> dict[str, dict[str, Any]]:
    """account_id -> {metric: its figure on ``on``} for every KPI metric (None: not known then),
    computed once per date and kept until the next load."""
    return store.derived(f"plans.kpis:{on}", lambda s: _build(s, on))


def kpi_status(metric: str, live: Any, target: Decimal, due: dt.date, on: dt.date) -> str:
    """ "met" when the live figure has reached the target (at or above it, or at or below it for a
    metric where lower is better), else "open" until the due date and "missed" after it; "no
    figure" when the figure is not known on the date."""
    if live is None:
        return "no figure"
    better = KPI_METRICS[metric].better
    value = Decimal(str(live))
    if (value >= target) if better == "higher" else (value <= target):
        return "met"
    return "missed" if on > due else "open"
