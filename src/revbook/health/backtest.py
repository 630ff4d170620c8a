"""A time-based backtest: train on earlier scoring dates, test on later ones, and measure.

Scoring dates are month ends. The test dates are the last ``test_months`` month ends whose horizon
has run out by the as-of date (their outcome is known); the training dates are the
``train_months`` month ends before them whose horizon ended by the first test date, so no outcome
a model learns from lies after the moment it is tested from.

Every scorer is measured on the same test rows (accounts paying on each test date):

- **ROC AUC** and **PR AUC** (average precision), against the base rate;
- **lift in the riskiest decile**: the event rate of the 10% riskiest rows over the base rate;
- **ARR captured in the riskiest decile**: the share of all MRR lost by events that the riskiest
  10% of rows account for (the dollars a team would have looked at first);
- **Brier score** and a **reliability curve** (10 quantile bins: mean predicted vs observed).

Scorers: the logistic and boosting models, and the composite health score (risk = 100 - score;
for its Brier score and reliability curve it is turned into a probability by a logistic fit on
the training rows, which leaves its ranking, and so its AUCs and lift, unchanged).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import WorkspaceError
from ..metrics.book import book_of
from .composite import score_table
from .features import features, labels
from .model import HealthModel

if TYPE_CHECKING:
    from ..config import HealthSettings
    from ..store import Store

__all__ = ["Backtest", "backtest", "month_ends", "scores"]


def month_ends(last: dt.date, count: int) -> list[dt.date]:
    """The ``count`` month ends on or before ``last``, oldest first."""
    out: list[dt.date] = []
    y, m = last.year, last.month
    while len(out) < count:
        end = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        if end <= last:
            out.append(end)
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


@dataclass
class Backtest:
    horizon_days: int
    train_dates: list[dt.date]
    test_dates: list[dt.date]
    #: one row per scorer: rows, events, base_rate, roc_auc, pr_auc, lift_top_decile,
    #: arr_captured_top_decile, brier
    metrics: pa.Table
    #: scorer, bin, mean_predicted, observed, rows
    reliability: pa.Table
    #: the logistic model's coefficients on standardised features, largest first
    coefficients: list[tuple[str, float]] = field(default_factory=list)
    #: the boosting model's mean absolute push per feature on the test rows, largest first
    importance: list[tuple[str, float]] = field(default_factory=list)
    models: dict[str, HealthModel] = field(default_factory=dict)


def scores(y: np.ndarray, p: np.ndarray, lost: np.ndarray) -> dict[str, float]:
    """The measures of one scorer (``p`` ranks risk; higher is riskier)."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    n = len(y)
    base = float(y.mean()) if n else float("nan")
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, n // 10)]
    lift = float(y[top].mean() / base) if base > 0 else float("nan")
    total_lost = float(lost[y].sum())
    captured = float(lost[top][y[top]].sum() / total_lost) if total_lost > 0 else float("nan")
    both = 0 < y.sum() < n
    return {
        "rows": float(n),
        "events": float(y.sum()),
        "base_rate": base,
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "lift_top_decile": lift,
        "arr_captured_top_decile": captured,
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1)))
        if both and p.min() >= 0 and p.max() <= 1
        else float("nan"),
    }


def _reliability(name: str, y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    if not len(y):
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in np.unique(idx):
        m = idx == b
        rows.append(
            {"scorer": name, "bin": int(b) + 1, "mean_predicted": float(p[m].mean()), "observed": float(y[m].mean()),
             "rows": int(m.sum())}
        )  # fmt: skip
    return rows


def _labelled(ws: Store, dates: list[dt.date], horizon: int, threshold: float) -> tuple[pa.Table, pa.Table]:
    feats = features(ws, dates)
    lab = labels(ws, dates, horizon_days=horizon, threshold=threshold)
    # the same rows in the same order (both are accounts paying on the date, sorted)
    if feats.num_rows != lab.num_rows:  # pragma: no cover - both read the same ledger
        raise WorkspaceError("features and labels disagree on the paying accounts")
    return feats, lab


def backtest(ws: Store, *, horizon_days: int | None = None, settings: HealthSettings | None = None) -> Backtest:
    """Train on earlier month ends, test on later ones; measure the models and the composite."""
    settings = settings or ws.config.health
    horizon = horizon_days or settings.horizons[0]
    as_of = ws.config.snapshot_date()
    test_dates = month_ends(as_of - dt.timedelta(days=horizon), settings.test_months)
    train_dates = month_ends(test_dates[0] - dt.timedelta(days=horizon), settings.train_months)
    first_paid = ws.con.execute(f"SELECT min(start_date) FROM {book_of(ws).ledger()} WHERE mrr > 0").fetchone()
    if first_paid is None or first_paid[0] is None:
        raise WorkspaceError("the workspace has no paying account", hint="load subscriptions or invoices first")
    train_dates = [d for d in train_dates if d >= first_paid[0]]
    if len(train_dates) < 3:
        raise WorkspaceError(
            f"too little history for a {horizon}-day backtest: {len(train_dates)} training month ends",
            hint="the backtest needs about a year of history before the test months; lower [health] test_months",
        )
    f_train, l_train = _labelled(ws, train_dates, horizon, settings.contraction_threshold)
    f_test, l_test = _labelled(ws, test_dates, horizon, settings.contraction_threshold)
    y_train = np.asarray(l_train["event"].to_numpy(zero_copy_only=False), bool)
    y_test = np.asarray(l_test["event"].to_numpy(zero_copy_only=False), bool)
    lost = np.asarray(l_test["lost_mrr"].to_numpy(zero_copy_only=False), float)
    rows: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    models: dict[str, HealthModel] = {}
    for kind in ("logistic", "boosting"):
        model = HealthModel(kind).fit(f_train, y_train)
        p = model.predict_proba(f_test)
        models[kind] = model
        rows.append({"scorer": f"model ({kind})", **scores(y_test, p, lost)})
        curves += _reliability(f"model ({kind})", y_test, p)
    # the composite: rank by 100 - score; calibrated on the training rows for Brier and reliability
    from sklearn.linear_model import LogisticRegression

    def risk(feats: pa.Table) -> np.ndarray:
        s = np.asarray(score_table(feats, settings)["score"].to_numpy(zero_copy_only=False), float)
        return np.asarray(100 - np.nan_to_num(s, nan=50.0))

    r_train, r_test = risk(f_train), risk(f_test)
    platt = LogisticRegression().fit(r_train.reshape(-1, 1), y_train)
    p_comp = platt.predict_proba(r_test.reshape(-1, 1))[:, 1]
    rows.append({"scorer": "composite health score", **scores(y_test, p_comp, lost)})
    curves += _reliability("composite health score", y_test, p_comp)
    coefficients = models["logistic"].coefficients()
    contrib = np.abs(models["boosting"].contributions(f_test)).mean(axis=0) if f_test.num_rows else []
    importance = sorted(
        zip(models["boosting"].columns_, [float(v) for v in contrib], strict=True), key=lambda kv: -kv[1]
    )
    return Backtest(
        horizon_days=horizon,
        train_dates=train_dates,
        test_dates=test_dates,
        metrics=pa.Table.from_pylist(rows),
        reliability=pa.Table.from_pylist(curves),
        coefficients=coefficients,
        importance=importance,
        models=models,
    )
