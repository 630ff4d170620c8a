"""The composite health score: 0-100 from configurable components and weights, banded, explained.

Each component turns point-in-time features (:mod:`revbook.health.features`) into 0-100 between
anchors chosen so that the component uses its range on a book of accounts: 0 is a clearly bad
state, 50 the ordinary one, 100 a clearly good one (linear in between, clipped outside):

=========== ==================================================================================
usage       the mean of two parts, whichever are known: the trend, 50 + 200 x usage_trend
            (usage down 25% or more over the last 90 days against the 90 before: 0; flat: 50; up
            25% or more: 100), and the breadth, 100 x the share of the product's key features
            used in 90 days (none: 0; half: 50; all: 100)
utilisation active users over licensed seats: 20% or less: 0; 60%: 50; every seat: 100
engagement  days since the last touchpoint on a log scale: within 7 days: 100; 50 days (the
            geometric middle): 50; a year or more: 0; +20 for an executive sponsor meeting in the
            last 180 days (capped at 100); an account that never had a touchpoint (tech touch)
            has no engagement component
support     100 - 12.5 x cases opened in 90 days - 25 x escalations - 12.5 x cases open: no case:
            100; four cases, or one escalated case still open: 50; eight cases: 0
sentiment   the mean of NPS and CSAT, whichever are known: NPS 4 or less: 0, 7: 50, 10: 100;
            CSAT 3 or less: 0, 4: 50, 5: 100
milestones  while onboarding is not done: the share of onboarding milestones reached x 100, minus
            50 when onboarding is overdue; once every onboarding milestone is reached the account
            has no milestones component (a finished onboarding says nothing about health later)
=========== ==================================================================================

The score is the weighted mean of the components an account has data for (weights re-normalised
over those), so a missing table or a quiet account is not scored as bad. A requested cancellation
(a running line's ``cancel_requested_at`` on or before the date) caps the score at ``[health]
cancel_cap`` (30, in the red band): the customer has said it is leaving, whatever its usage shows;
its drivers then start with ``cancellation requested (-points)``. Bands: green >= 57, yellow >= 47,
red below (``[health] bands``), edges set by the rule of :func:`band_edges`. Each component's
points lost, weight x (100 - component), explain the score: they sum to 100 - score (before a
cancellation's cap).

Settings: ``[health] weights`` and ``bands`` of revbook.toml, read by :func:`revbook.config.load_config`
into :class:`revbook.config.HealthSettings` (``ws.config.health``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..config import HealthSettings
from ..definitions import UNKNOWN_BAND

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["COMPONENTS", "composite", "score_table"]

#: component -> (features it reads, description), in the order of config.HEALTH_COMPONENTS
COMPONENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "usage": (("usage_trend", "feature_breadth"), "product usage: its trend and the key features used"),
    "utilisation": (("utilisation",), "seat utilisation"),
    "engagement": (("days_since_activity", "exec_meeting_180d"), "touchpoints and executive sponsor meetings"),
    "support": (("escalations_90d", "tickets_90d", "open_tickets"), "support load and escalations"),
    "sentiment": (("nps", "csat"), "NPS and CSAT"),
    "milestones": (("milestone_progress", "onboarding_overdue"), "onboarding milestone progress"),
}


def _clip(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.clip(x, 0.0, 100.0))


def _col(t: pa.Table, name: str) -> np.ndarray:
    return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype=float)


def _scale(x: np.ndarray, zero: float, hundred: float) -> np.ndarray:
    """``x`` mapped linearly so that ``zero`` gives 0 and ``hundred`` gives 100, clipped."""
    return _clip((x - zero) / (hundred - zero) * 100)


def _mean_known(*parts: np.ndarray) -> np.ndarray:
    """The mean of the parts known on each row (NaN where none is)."""
    stacked = np.vstack(parts)
    counted = (~np.isnan(stacked)).sum(axis=0)
    return np.where(counted > 0, np.nansum(stacked, axis=0) / np.maximum(counted, 1), np.nan)


#: days since the last touchpoint scoring 100 and 0 (log scale between: 50 at their geometric mean)
ENGAGEMENT_DAYS = (7.0, 365.0)


def component_scores(feats: pa.Table) -> dict[str, np.ndarray]:
    """Each component's 0-100 score per row (NaN where the account has no data for it; a feature
    column the table lacks counts as unknown)."""
    n = feats.num_rows
    names = {f for feats_, _ in COMPONENTS.values() for f in feats_}
    f = {name: _col(feats, name) if name in feats.column_names else np.full(n, np.nan) for name in names}
    out: dict[str, np.ndarray] = {}
    out["usage"] = _mean_known(_clip(50 + 200 * f["usage_trend"]), _clip(100 * f["feature_breadth"]))
    out["utilisation"] = _scale(f["utilisation"], 0.2, 1.0)
    near, far = ENGAGEMENT_DAYS
    with np.errstate(invalid="ignore"):
        days = np.maximum(f["days_since_activity"], near)
    eng = _clip(100 * (1 - np.log(days / near) / np.log(far / near)))
    # NaN where the account never had a touchpoint (days_since_activity is NULL) or none are loaded
    out["engagement"] = np.minimum(eng + 20 * np.nan_to_num(f["exec_meeting_180d"]), 100)
    out["support"] = _clip(100 - 12.5 * f["tickets_90d"] - 25 * f["escalations_90d"] - 12.5 * f["open_tickets"])
    out["sentiment"] = _mean_known(_scale(f["nps"], 4, 10), _scale(f["csat"], 3, 5))
    progress = f["milestone_progress"]
    with np.errstate(invalid="ignore"):
        onboarding = np.where(progress >= 1, np.nan, progress)
    out["milestones"] = _clip(onboarding * 100 - 50 * np.nan_to_num(f["onboarding_overdue"]))
    return out


def score_table(feats: pa.Table, settings: HealthSettings | None = None) -> pa.Table:
    """The composite of each features row: ``score`` 0-100, ``band``, each component's score and
    the points it loses (``lost_<component>``), and ``drivers`` (the components losing most)."""
    settings = settings or HealthSettings()
    comps = component_scores(feats)
    n = feats.num_rows
    weights = np.array([settings.weights.get(c, 0.0) for c in COMPONENTS])
    scores = np.vstack([comps[c] for c in COMPONENTS]) if n else np.zeros((len(COMPONENTS), 0))
    known = ~np.isnan(scores) & (weights[:, None] > 0)
    w = np.where(known, weights[:, None], 0.0)
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        wn = np.where(total > 0, w / total, 0.0)
    score = np.where(total > 0, (wn * np.nan_to_num(scores)).sum(axis=0), np.nan)
    lost = wn * (100 - np.nan_to_num(scores))
    # a requested cancellation: the customer said it leaves; the score is capped in the red band
    asked = (
        np.nan_to_num(_col(feats, "cancel_requested")) > 0
        if "cancel_requested" in feats.column_names
        else np.zeros(n, bool)
    )
    capped = asked & (score > settings.cancel_cap)
    cap_lost = np.where(capped, score - settings.cancel_cap, 0.0)
    score = np.where(capped, settings.cancel_cap, score)
    # the score is published to one decimal; its band is that published score's, so a 64.96 shown as
    # 65.0 is yellow, never a "65.0 red"
    score = np.round(score, 1)
    band = np.where(
        np.isnan(score),
        UNKNOWN_BAND,
        np.where(score >= settings.green, "green", np.where(score >= settings.yellow, "yellow", "red")),
    )
    names = list(COMPONENTS)
    order = np.argsort(-lost, axis=0)
    drivers = []
    for j in range(n):
        top = [names[i] for i in order[:3, j] if lost[i, j] >= 5]
        parts = [f"cancellation requested (-{cap_lost[j]:.0f})"] if asked[j] else []
        drivers.append(", ".join(parts + [f"{c} (-{lost[names.index(c), j]:.0f})" for c in top]))
    cols: dict[str, Any] = {
        "account_id": feats["account_id"],
        "score_date": feats["score_date"],
        "score": pa.array(score, pa.float64(), mask=np.isnan(score)),
        "band": pa.array(band.astype(object), pa.string()),
    }
    for i, c in enumerate(names):
        cols[c] = pa.array(np.round(scores[i], 1), pa.float64(), mask=np.isnan(scores[i]))
    for i, c in enumerate(names):
        cols[f"lost_{c}"] = pa.array(np.round(lost[i], 1), pa.float64())
    cols["drivers"] = pa.array(drivers, pa.string())
    return pa.table(cols)


def composite(ws: Store, on: dt.date | str | None = None) -> pa.Table:
    """The composite score of every account paying on ``on`` (a date or YYYY-MM-DD; default the
    as-of date, never after it), with its ARR (in account order)."""
    from .features import features

    feats = features(ws, [ws.config.on_date(on)])
    scored = score_table(feats, ws.config.health)
    return scored.append_column("arr", feats["arr"])
