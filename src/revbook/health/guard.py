"""The leak guard of every backtest: does one feature alone know the outcome implausibly well?

A feature that carries the future (a current-state column read on a past date) shows in two ways,
both measured on the backtest's test rows:

- **outcome AUC**: the feature's own ROC AUC against the labels, in its better direction, a
  missing value ranked at whichever end separates better. Suspect when it reaches
  ``[health] max_feature_auc`` (0.9), or comes within ``feature_auc_margin`` (0.02) of the best
  model's AUC (the whole model is then that one feature);
- **drift AUC**: how well the feature's values on the test dates are told apart from its values on
  the as-of date (the ROC AUC of "as-of row" against the value, better direction, known values
  only). A point-in-time feature of a book keeps its distribution from one month end to the next;
  a value as of the export (a contract end repeated on every row) makes the past look unlike the
  present. Suspect at ``max_feature_drift`` (0.7).

A suspect feature is named, and the model is not called trustworthy until the user confirms it
(``[health] allow_features``, ``revbook model --allow-feature``) or drops it from the models
(``drop_features``, ``--drop-feature``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .model import MODEL_FEATURES

if TYPE_CHECKING:
    from ..config import HealthSettings

__all__ = ["GUARD_VERDICTS", "feature_auc", "leak_guard"]

#: a feature's verdict: no sign of a leak; suspect; suspect but confirmed by the user; left out
GUARD_VERDICTS = ("ok", "suspect", "allowed", "dropped")


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if not 0 < y.sum() < len(y):
        return float("nan")
    a = float(roc_auc_score(y, x))
    return max(a, 1 - a)


def feature_auc(y: np.ndarray, x: np.ndarray) -> float:
    """The ROC AUC of one feature against the labels, better direction; a missing value ranks at
    whichever end separates better (NaN when the feature is never known or the labels are one)."""
    known = ~np.isnan(x)
    if not known.any():
        return float("nan")
    if known.all():
        return _auc(y, x)
    lo, hi = float(np.nanmin(x)) - 1, float(np.nanmax(x)) + 1
    return max(_auc(y, np.where(known, x, lo)), _auc(y, np.where(known, x, hi)))


def _drift(past: np.ndarray, now: np.ndarray) -> float:
    past, now = past[~np.isnan(past)], now[~np.isnan(now)]
    if not len(past) or not len(now):
        return float("nan")
    return _auc(np.r_[np.zeros(len(past), bool), np.ones(len(now), bool)], np.r_[past, now])


def _column(t: pa.Table, name: str) -> np.ndarray:
    return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype=float)


def leak_guard(
    f_test: pa.Table, y_test: np.ndarray, f_now: pa.Table, model_auc: float, settings: HealthSettings
) -> pa.Table:
    """One row per model feature some test row has: ``feature``, ``roc_auc``, ``drift_auc``,
    ``verdict`` (:data:`GUARD_VERDICTS`) and ``reason``, suspects first, then by outcome AUC."""
    rows = []
    for name in MODEL_FEATURES:
        x = _column(f_test, name)
        if np.isnan(x).all():
            continue
        auc, drift = feature_auc(y_test, x), _drift(x, _column(f_now, name))
        why = []
        if auc >= settings.max_feature_auc:
            why.append(f"alone it separates the outcome with ROC AUC {auc:.3f} (>= {settings.max_feature_auc:g})")
        elif np.isfinite(model_auc) and auc >= model_auc - settings.feature_auc_margin:
            why.append(f"alone it separates the outcome as well as the model (ROC AUC {auc:.3f} vs {model_auc:.3f})")
        if drift >= settings.max_feature_drift:
            why.append(
                f"its values on past dates differ from the as-of date's (drift AUC {drift:.3f} >= "
                f"{settings.max_feature_drift:g}): a value as of the export?"
            )
        verdict = "ok"
        if name in settings.drop_features:
            verdict = "dropped"
        elif why:
            verdict = "allowed" if name in settings.allow_features else "suspect"
        rows.append(
            {
                "feature": name,
                "roc_auc": round(auc, 4),
                "drift_auc": round(drift, 4),
                "verdict": verdict,
                "reason": "; ".join(why) if why else ("left out of the models" if verdict == "dropped" else ""),
            }
        )
    rank = {"suspect": 0, "allowed": 1, "dropped": 2, "ok": 3}
    rows.sort(key=lambda r: (rank[str(r["verdict"])], -np.nan_to_num(float(r["roc_auc"]))))  # type: ignore[arg-type]
    schema = pa.schema(
        [("feature", pa.string()), ("roc_auc", pa.float64()), ("drift_auc", pa.float64()),
         ("verdict", pa.string()), ("reason", pa.string())]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)
