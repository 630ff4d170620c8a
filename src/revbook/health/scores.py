"""The predictive models' scores of the paying accounts, for people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..frame import Frame

if TYPE_CHECKING:
    from ..store import Store
    from .model import HealthModel

__all__ = ["model_scores"]


def model_scores(ws: Store, models: Mapping[str, HealthModel], *, on: dt.date | None = None) -> Frame:
    """Each account paying on ``on`` (default: the as-of date) with the probability of churn or
    contraction of the ``logistic`` and the ``boosting`` model (fitted, e.g. ``Backtest.models``)
    and the logistic model's drivers, most at risk first."""
    import numpy as np
    import pyarrow as pa

    from .features import features

    feats = features(ws, [on or ws.config.snapshot_date()])
    logistic, boosting = models["logistic"], models["boosting"]
    table = pa.table(
        {
            "account_id": feats["account_id"],
            "arr": feats["arr"],
            "p_logistic": pa.array(np.round(logistic.predict_proba(feats), 4)),
            "p_boosting": pa.array(np.round(boosting.predict_proba(feats), 4)),
            "drivers": pa.array(logistic.drivers(feats)),
        }
    ).sort_by([("p_logistic", "descending")])
    return Frame("model_scores", table)
