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

Every backtest runs the leak guard (:mod:`revbook.health.guard`): a feature that alone knows the
outcome implausibly well is named in ``Backtest.suspects`` and the result is not ``trustworthy``
until the user allows or drops it ([health] allow_features / drop_features).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import ConfigError, WorkspaceError
from ..metrics.book import book_of
from .composite import score_table
from .features import features, labels
from .guard import leak_guard
from .model import MODEL_FEATURES, HealthModel
from .renewals import ignored_contract_ends

if TYPE_CHECKING:
    from ..config import HealthSettings
    from ..store import Store

__all__ = ["Backtest", "backtest", "fit_models", "month_ends", "scores"]


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
    #: the leak guard: feature, roc_auc, drift_auc, verdict, reason (revbook.health.guard)
    guard: pa.Table | None = None
    #: the features the guard suspects and the user has neither allowed nor dropped
    suspects: list[str] = field(default_factory=list)
    #: what the data made revbook ignore or doubt (e.g. contract ends that are values as of the export)
    warnings: list[str] = field(default_factory=list)

    @property
    def trustworthy(self) -> bool:
        """No feature is suspect (or each suspect was allowed or dropped by the user)."""
        return not self.suspects


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


def _labelled(
    ws: Store, dates: list[dt.date], horizon: int, threshold: float, settings: HealthSettings | None = None
) -> tuple[pa.Table, pa.Table]:
    feats = features(ws, dates, settings=settings)
    lab = labels(ws, dates, horizon_days=horizon, threshold=threshold)
    # the same rows in the same order (both are accounts paying on the date, sorted)
    if feats.num_rows != lab.num_rows:  # pragma: no cover - both read the same ledger
        raise WorkspaceError("features and labels disagree on the paying accounts")
    return feats, lab


def _first_paid(ws: Store) -> dt.date:
    first_paid = ws.con.execute(f"SELECT min(start_date) FROM {book_of(ws).ledger()} WHERE mrr > 0").fetchone()
    if first_paid is None or first_paid[0] is None:
        raise WorkspaceError("the workspace has no paying account", hint="load subscriptions or invoices first")
    return first_paid[0]  # type: ignore[no-any-return]


def _check_names(settings: HealthSettings) -> None:
    for key in ("allow_features", "drop_features"):
        for name in getattr(settings, key):
            if name not in MODEL_FEATURES:
                raise ConfigError(
                    f"[health] {key} names an unknown model feature '{name}'",
                    hint=f"the model's features: {', '.join(MODEL_FEATURES)}",
                )


def _warnings(ws: Store) -> list[str]:
    if ws.config.lifecycle.contract_end != "own_term":
        return []
    n, example = ignored_contract_ends(ws)
    if not n:
        return []
    return [
        f"subscriptions.contract_end_date: {n:,} rows carry a contract end that does not end the row's own "
        f"term (e.g. {example}), a value as of the export; ignored for renewal dates (docs/health.md)"
    ]


def fit_models(
    ws: Store, *, horizon_days: int | None = None, settings: HealthSettings | None = None
) -> dict[str, HealthModel]:
    """Both models trained on the latest ``train_months`` month ends whose outcome is known on the
    as-of date (no months held out: for scoring, not for measuring); at least 3 are needed."""
    settings = settings or ws.config.health
    _check_names(settings)
    horizon = horizon_days or settings.horizons[0]
    dates = month_ends(ws.config.snapshot_date() - dt.timedelta(days=horizon), settings.train_months)
    dates = [d for d in dates if d >= _first_paid(ws)]
    if len(dates) < 3:
        raise WorkspaceError(
            f"too little history to train a {horizon}-day model: {len(dates)} month ends with a known outcome",
            hint=f"the models need 3 month ends at least {horizon} days before the as-of date",
        )
    feats, lab = _labelled(ws, dates, horizon, settings.contraction_threshold, settings)
    y = np.asarray(lab["event"].to_numpy(zero_copy_only=False), bool)
    return {kind: HealthModel(kind, exclude=settings.drop_features).fit(feats, y) for kind in ("logistic", "boosting")}


def backtest(ws: Store, *, horizon_days: int | None = None, settings: HealthSettings | None = None) -> Backtest:
    """Train on earlier month ends, test on later ones; measure the models and the composite; run
    the leak guard."""
    settings = settings or ws.config.health
    _check_names(settings)
    horizon = horizon_days or settings.horizons[0]
    as_of = ws.config.snapshot_date()
    test_dates = month_ends(as_of - dt.timedelta(days=horizon), settings.test_months)
    train_dates = month_ends(test_dates[0] - dt.timedelta(days=horizon), settings.train_months)
    train_dates = [d for d in train_dates if d >= _first_paid(ws)]
    if len(train_dates) < 3:
        raise WorkspaceError(
            f"too little history for a {horizon}-day backtest: {len(train_dates)} training month ends",
            hint="the backtest needs about a year of history before the test months; lower [health] test_months",
        )
    threshold = settings.contraction_threshold
    f_train, l_train = _labelled(ws, train_dates, horizon, threshold, settings)
    f_test, l_test = _labelled(ws, test_dates, horizon, threshold, settings)
    y_train = np.asarray(l_train["event"].to_numpy(zero_copy_only=False), bool)
    y_test = np.asarray(l_test["event"].to_numpy(zero_copy_only=False), bool)
    lost = np.asarray(l_test["lost_mrr"].to_numpy(zero_copy_only=False), float)
    rows: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    models: dict[str, HealthModel] = {}
    for kind in ("logistic", "boosting"):
        model = HealthModel(kind, exclude=settings.drop_features).fit(f_train, y_train)
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
    model_auc = max(float(r["roc_auc"]) for r in rows if str(r["scorer"]).startswith("model"))
    guard = leak_guard(f_test, y_test, features(ws, [as_of], settings=settings), model_auc, settings)
    suspects = [str(r["feature"]) for r in guard.to_pylist() if r["verdict"] == "suspect"]
    return Backtest(
        horizon_days=horizon,
        train_dates=train_dates,
        test_dates=test_dates,
        metrics=pa.Table.from_pylist(rows),
        reliability=pa.Table.from_pylist(curves),
        coefficients=coefficients,
        importance=importance,
        models=models,
        guard=guard,
        suspects=suspects,
        warnings=_warnings(ws),
    )
