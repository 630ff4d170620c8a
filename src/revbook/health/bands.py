"""Band edges of the composite from a stated rule, measured on the book's own past.

The rule (docs/health.md): on accounts scored at past month ends whose outcome is known (point in
time: each score reads only what was known on its date), with the base rate the share that churned
(MRR to zero) within the horizon,

- **red** is the riskiest group whose churn rate is at least ``red_ratio`` (3) times the base: the
  yellow edge is the highest whole score *e* such that the rows scored below *e* churn at
  ``red_ratio`` x base or more;
- **green** is the safest group whose churn rate is at most ``green_ratio`` (1/3) times the base:
  the green edge is the lowest whole score *e* such that the rows scored at or above *e* churn at
  ``green_ratio`` x base or less;
- yellow is between.

:func:`band_edges` applies the rule to given scores and outcomes; :func:`suggest_bands` scores the
workspace's past month ends and applies it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..errors import WorkspaceError
from ..frame import Frame

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["BandEdges", "band_edges", "band_frame", "bands_on", "past_scores", "suggest_bands"]


@dataclass(frozen=True)
class BandEdges:
    """Edges chosen by the rule and what they give on the rows they were measured on."""

    green: float
    yellow: float
    rows: int
    base_rate: float
    #: share of rows and churn rate per band (red, yellow, green)
    share: dict[str, float]
    churn_rate: dict[str, float]


def band_edges(
    scores: np.ndarray, churned: np.ndarray, *, red_ratio: float = 3.0, green_ratio: float = 1 / 3
) -> BandEdges:
    """The yellow and green edges by the rule (whole scores 0-100; rows without a score left out)."""
    s = np.asarray(scores, float)
    y = np.asarray(churned, bool)
    keep = ~np.isnan(s)
    s, y = s[keep], y[keep]
    if not len(s) or not 0 < y.sum() < len(s):
        raise WorkspaceError(
            "the band rule needs scored rows with and without churn", hint="score more month ends (a longer history)"
        )
    base = float(y.mean())
    yellow, green = 0.0, 100.0
    for e in range(1, 101):
        below = s < e
        if below.any() and y[below].mean() >= red_ratio * base:
            yellow = float(e)
    for e in range(100, -1, -1):
        above = s >= e
        if above.any() and y[above].mean() <= green_ratio * base:
            green = float(e)
    return bands_on(s, y, green=max(green, yellow), yellow=yellow)


def bands_on(scores: np.ndarray, churned: np.ndarray, *, green: float, yellow: float) -> BandEdges:
    """What given edges give on scored rows: each band's share of the rows and churn rate."""
    s = np.asarray(scores, float)
    y = np.asarray(churned, bool)
    keep = ~np.isnan(s)
    s, y = s[keep], y[keep]
    bands = {"red": s < yellow, "yellow": (s >= yellow) & (s < green), "green": s >= green}
    return BandEdges(
        green=green,
        yellow=yellow,
        rows=len(s),
        base_rate=float(y.mean()) if len(y) else float("nan"),
        share={b: float(m.mean()) if len(s) else float("nan") for b, m in bands.items()},
        churn_rate={b: float(y[m].mean()) if m.any() else float("nan") for b, m in bands.items()},
    )


def band_frame(**edges: BandEdges) -> Frame:
    """One row per (named set of edges, band): the band's scores (in words, and its lowest score),
    share of the rows, churn rate and its ratio to the base rate."""
    rows = []
    for name, e in edges.items():
        ranges = {
            "red": (0.0, f"below {e.yellow:g}"),
            "yellow": (e.yellow, f"{e.yellow:g} to below {e.green:g}"),
            "green": (e.green, f"{e.green:g} and above"),
        }
        for band, (low, words) in ranges.items():
            rate = e.churn_rate[band]
            rows.append(
                {"edges": name, "band": band, "scores": words, "from_score": low, "share": e.share[band],
                 "churn_rate": None if np.isnan(rate) else rate,
                 "x_base": None if np.isnan(rate) or not e.base_rate else round(rate / e.base_rate, 2)}
            )  # fmt: skip
    schema = pa.schema(
        [("edges", pa.string()), ("band", pa.string()), ("scores", pa.string()), ("from_score", pa.float64()),
         ("share", pa.float64()), ("churn_rate", pa.float64()), ("x_base", pa.float64())]
    )  # fmt: skip
    return Frame("health_bands", pa.Table.from_pylist(rows, schema=schema))


def suggest_bands(
    ws: Store,
    *,
    horizon_days: int = 180,
    months: int = 12,
    red_ratio: float = 3.0,
    green_ratio: float = 1 / 3,
) -> BandEdges:
    """:func:`band_edges` on the composite of every account paying at the last ``months`` month
    ends whose ``horizon_days`` outcome is known on the as-of date (churn: MRR to zero)."""
    s, y = past_scores(ws, horizon_days=horizon_days, months=months)
    return band_edges(s, y, red_ratio=red_ratio, green_ratio=green_ratio)


def past_scores(ws: Store, *, horizon_days: int = 180, months: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """The composite scores of every account paying at the last ``months`` month ends whose
    ``horizon_days`` outcome is known on the as-of date, and whether each churned (MRR to zero)."""
    from .backtest import month_ends
    from .composite import score_table
    from .features import features, labels

    last = ws.config.snapshot_date() - dt.timedelta(days=horizon_days)
    dates = month_ends(last, months)
    feats = features(ws, dates)
    lab = labels(ws, dates, horizon_days=horizon_days)
    scored = score_table(feats, ws.config.health)
    s = np.asarray(scored["score"].to_numpy(zero_copy_only=False), float)
    lost = np.asarray(lab["lost_mrr"].to_numpy(zero_copy_only=False), float)
    start = np.asarray(lab["mrr_start"].to_numpy(zero_copy_only=False), float)
    return s, (start > 0) & (lost >= start)
