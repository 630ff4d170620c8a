"""The predictive health model: the probability that an account churns or contracts within a horizon.

Two estimators, scikit-learn style (``fit`` returns self): ``"logistic"`` (interpretable: a
logistic regression on standardised features with median imputation and missing-value
indicators) and ``"boosting"`` (stronger: histogram gradient boosting, which takes missing values
as they are). Trained on point-in-time features (:mod:`revbook.health.features`) at past scoring
dates, labelled by what happened in the horizon after each (:func:`revbook.health.features.labels`).

Drivers of one account's risk: for the logistic model, each feature's term
coefficient x standardised value (its push on the log-odds, against an average account); for the
boosting model, the change in predicted probability when the feature is set to its training median
(an occlusion estimate). The top three pushing the risk up are reported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from .features import FEATURES

__all__ = ["MODEL_FEATURES", "HealthModel"]

#: the model's inputs (ARR is not one: the risk of a dollar and of a logo are asked apart; feature_breadth,
#: the composite's share of key features, is features_used over a count the same on every row of a date)
MODEL_FEATURES: tuple[str, ...] = tuple(
    f for f in FEATURES if f not in ("arr", "open_expansion_arr", "feature_breadth")
)


def matrix(feats: pa.Table, columns: Sequence[str] = MODEL_FEATURES) -> np.ndarray:
    return (
        np.column_stack([np.asarray(feats[c].to_numpy(zero_copy_only=False), dtype=float) for c in columns])
        if feats.num_rows
        else np.zeros((0, len(columns)))
    )


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One OpenMP thread for scikit-learn's fits: gradient boosting's threads spin-wait, and on a busy
    2-core machine a fit took 15 s instead of 2.5 s. scikit-learn's boosting is imported first, since
    a limit applies only to the OpenMP runtimes already loaded: imported inside, the first fit of a
    process ran unlimited (1,600 accounts: 3.7 s instead of 0.25 s)."""
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


class HealthModel:
    """``HealthModel("logistic").fit(features, labels)``; ``predict_proba(features)``; ``drivers``.

    Options are set in ``__init__``; :meth:`fit` returns the model and sets the fitted attributes,
    whose names end in ``_``: ``columns_`` (the features it was trained on: those some row has,
    less ``exclude``), ``pipeline_`` (the scikit-learn estimator) and ``medians_`` (each column's
    training median)."""

    columns_: tuple[str, ...]
    pipeline_: Any
    medians_: np.ndarray

    def __init__(
        self,
        kind: Literal["logistic", "boosting"] = "logistic",
        *,
        random_state: int = 0,
        exclude: Sequence[str] = (),
    ) -> None:
        if kind not in ("logistic", "boosting"):
            raise ConfigError(f"unknown model kind '{kind}'", hint="use 'logistic' or 'boosting'")
        unknown = [name for name in exclude if name not in MODEL_FEATURES]
        if unknown:
            raise ConfigError(
                f"unknown model feature '{unknown[0]}'", hint=f"the model's features: {', '.join(MODEL_FEATURES)}"
            )
        self.kind = kind
        self.random_state = random_state
        self.exclude = tuple(exclude)

    def _estimator(self) -> Any:
        if self.kind == "logistic":
            from sklearn.impute import SimpleImputer
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
                LogisticRegression(C=1.0, max_iter=2000),
            )
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.06, max_leaf_nodes=15, l2_regularization=1.0,
            random_state=self.random_state,
        )  # fmt: skip

    def fit(self, feats: pa.Table, y: np.ndarray | pa.Array | pa.ChunkedArray) -> HealthModel:
        x = matrix(feats, MODEL_FEATURES)
        # a feature no row has (its table is not loaded) is left out
        present = ~np.isnan(x).all(axis=0) if len(x) else np.ones(x.shape[1], bool)
        present &= np.array([c not in self.exclude for c in MODEL_FEATURES])
        columns = tuple(c for c, keep in zip(MODEL_FEATURES, present, strict=True) if keep)
        x = x[:, present]
        target = np.asarray(y.to_numpy(zero_copy_only=False) if hasattr(y, "to_numpy") else y, dtype=bool)
        if len(target) != len(x):
            raise ConfigError("features and labels have different lengths", value=(len(x), len(target)))
        if target.all() or not target.any():
            raise ConfigError(
                "the training dates have only one outcome, so no model can be fitted",
                hint="train on a longer history (more scoring dates) or a longer horizon",
            )
        medians = np.nan_to_num(np.nanmedian(x, axis=0)) if len(x) else np.zeros(x.shape[1])
        with one_thread():
            pipeline = self._estimator().fit(x, target)
        self.columns_, self.pipeline_, self.medians_ = columns, pipeline, medians
        return self

    def _check(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise ConfigError("the model is not fitted", hint="call fit(features, labels) first")

    def predict_proba(self, feats: pa.Table) -> np.ndarray:
        """The probability of the event for each row."""
        self._check()
        x = matrix(feats, self.columns_)
        if not len(x):
            return np.zeros(0)
        with one_thread():
            return np.asarray(self.pipeline_.predict_proba(x)[:, 1])

    def coefficients(self) -> list[tuple[str, float]]:
        """The logistic model's coefficients on standardised features (missing indicators as
        ``<feature> missing``), largest magnitude first."""
        self._check()
        if self.kind != "logistic":
            raise ConfigError("coefficients are the logistic model's", hint="use drivers() for boosting")
        imputer, _, lr = (self.pipeline_[i] for i in range(3))
        names = list(self.columns_)
        names += [f"{self.columns_[i]} missing" for i in getattr(imputer.indicator_, "features_", [])]
        coef = lr.coef_[0]
        return sorted(zip(names, coef.tolist(), strict=True), key=lambda kv: -abs(kv[1]))

    def contributions(self, feats: pa.Table) -> np.ndarray:
        """Rows x features: each feature's push on the risk (see the module docstring)."""
        self._check()
        x = matrix(feats, self.columns_)
        if not len(x):
            return np.zeros((0, len(self.columns_)))
        if self.kind == "logistic":
            imputer, scaler, lr = (self.pipeline_[i] for i in range(3))
            z = scaler.transform(imputer.transform(x))
            return np.asarray((z * lr.coef_[0])[:, : len(self.columns_)])
        out = np.zeros_like(x)
        with one_thread():
            base = self.pipeline_.predict_proba(x)[:, 1]
            for j in range(x.shape[1]):
                x2 = x.copy()
                x2[:, j] = self.medians_[j]
                out[:, j] = base - self.pipeline_.predict_proba(x2)[:, 1]
        return out

    def drivers(self, feats: pa.Table, top: int = 3) -> list[str]:
        """For each row, the features pushing its risk up the most, e.g. ``usage_trend, nps``."""
        c = self.contributions(feats)
        out = []
        for row in c:
            order = np.argsort(-row)[:top]
            out.append(", ".join(self.columns_[j] for j in order if row[j] > 0))
        return out
