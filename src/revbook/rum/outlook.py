"""The renewal outlook: each account's probability of a churn or contraction within the renewal
window, from a logistic health model trained on earlier month ends, and the mean MRR changes
with and without such an event (docs/rum.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from ..config import HealthSettings, LifecycleSettings, RumSettings
    from ..health.model import HealthModel
    from ..store import Store

__all__ = ["TRAIN_ACCOUNTS", "Outlook", "fit_outlook", "renewal_model"]

#: the renewal outlook's model trains on at most about this many accounts per scoring date
TRAIN_ACCOUNTS = 20_000


@dataclass(frozen=True)
class Outlook:
    """The renewal outlook's fitted model: ``model.predict_proba(feats)`` is p(churn or contraction
    within ``horizon_days``); ``g1``/``g0`` the mean relative MRR changes with and without it."""

    model: HealthModel
    g1: float
    g0: float
    horizon_days: int


def renewal_model(
    ws: Store, feats: pa.Table, on: dt.date, hs: HealthSettings, rs: RumSettings, lc: LifecycleSettings
) -> tuple[Any, float, float]:
    """p(churn or contraction within the renewal window) for each row, from a logistic model trained
    on month ends whose outcome was known on ``on``; plus the mean relative MRR change of the
    training rows with the event (g1) and without it (g0)."""
    fit = fit_outlook(ws, feats, on, hs, rs, lc)
    if fit is None:
        return None, 0.0, 0.0
    return fit.model.predict_proba(feats), fit.g1, fit.g0


def fit_outlook(
    ws: Store, feats: pa.Table, on: dt.date, hs: HealthSettings, rs: RumSettings, lc: LifecycleSettings
) -> Outlook | None:
    """The model of :func:`renewal_model` and its g1, g0 (None when the training rows have one outcome only)."""
    from ..health.backtest import month_ends
    from ..health.features import features, labels
    from ..health.model import HealthModel

    horizon = max(lc.renewal_window_days, 30)
    dates = month_ends(on - dt.timedelta(days=horizon), rs.train_months)
    # at most about TRAIN_ACCOUNTS accounts per date: a large book trains on a hash sample of them
    every = max(1, -(-feats.num_rows // TRAIN_ACCOUNTS))
    f_train = features(ws, dates, lifecycle=lc, sample_every=every)
    lab = labels(ws, dates, horizon_days=horizon, threshold=hs.contraction_threshold, sample_every=every)
    y = np.asarray(lab["event"].to_numpy(zero_copy_only=False), bool)
    if y.all() or not y.any():
        return None
    model = HealthModel("logistic", exclude=hs.drop_features).fit(f_train, y)
    end = np.asarray(lab["mrr_end"].to_numpy(zero_copy_only=False), float)
    mrr = np.asarray(f_train["mrr"].to_numpy(zero_copy_only=False), float)
    # the changes of accounts that were themselves in a renewal window, ARR-weighted (a renewal
    # moves money differently from a month of a monthly plan; all rows when too few)
    renew = np.asarray(f_train["days_to_renewal"].to_numpy(zero_copy_only=False), float)
    inside = renew <= lc.renewal_window_days
    if (inside & y).sum() < 20 or (inside & ~y).sum() < 20:
        inside = np.ones(len(y), bool)

    def weighted(rows: np.ndarray) -> float:
        return float((end[rows] - mrr[rows]).sum() / mrr[rows].sum()) if rows.any() else 0.0

    return Outlook(model, weighted(inside & y), weighted(inside & ~y), horizon)
