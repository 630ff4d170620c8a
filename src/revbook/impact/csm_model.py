"""The parts of risk-adjusted CSM impact (:mod:`revbook.impact.csm`): the cohort of a window, the
expected outcomes from models that do not know the CSM, out of fold, and the bootstrap of a book.

- :func:`cohort`: every account paying on the month-end snapshot of the window's start (the cohort of
  :mod:`revbook.metrics.retention`), its MRR then and at the window's end, and the CSM who held it on
  the start date (the owner slice of the metrics, so a transfer during the window stays with the
  start CSM);
- :func:`expectations`: per account, the probability of keeping the logo, the expected retained
  share of its start MRR (capped at 1) and the expected end share, each predicted by a model fitted
  on the other folds' accounts (:func:`fold_of`, :func:`out_of_fold`) from the account's
  point-in-time features on the start date (:func:`revbook.health.features.features`);
- :func:`bootstrap`: the interval of a book's actual-minus-expected, resampling its accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError, WorkspaceError
from ..health.features import FEATURES, features
from ..health.model import matrix, one_thread
from ..metrics.book import book_of
from .resample import generator, interval, picks, ratio_draws

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Cohort", "bootstrap", "cohort", "expectations", "fold_of", "out_of_fold", "window_dates"]

#: the model inputs: every point-in-time feature; never the owner, the team or the account id
IMPACT_FEATURES: tuple[str, ...] = tuple(FEATURES)


@dataclass(frozen=True)
class Cohort:
    """The accounts of one window, in account id order: ``table`` holds account_id, owner,
    owner_name, team, start_mrr and end_mrr (minor units)."""

    start: dt.date
    end: dt.date
    start_period: int
    end_period: int
    table: pa.Table

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.table[name].to_numpy(zero_copy_only=False))


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def window_dates(as_of: dt.date, window: int, end: dt.date | str | None) -> tuple[dt.date, dt.date]:
    """The window's start and end month ends: the end is the last month end on or before ``end``
    (default: the as-of date), never after the as-of date; the start ``window`` months before it."""
    if isinstance(end, str):
        try:
            end = dt.date.fromisoformat(end)
        except ValueError:
            raise ConfigError(f"'{end}' is not a date", hint="use YYYY-MM-DD") from None
    day = end or as_of
    if day > as_of:
        raise WorkspaceError(f"{day} is after the as-of date {as_of}", hint="the window must end by the as-of date")
    last = _month_end(day.year, day.month)
    if last > day:
        last = dt.date(day.year, day.month, 1) - dt.timedelta(days=1)
    months = last.year * 12 + last.month - 1 - window
    return _month_end(months // 12, months % 12 + 1), last


def cohort(store: Store, *, window: int, end: dt.date | str | None = None, extra: Sequence[str] = ()) -> Cohort:
    """The cohort of the window of ``window`` months ending at the month end :func:`window_dates` gives;
    ``extra``: more slice columns (e.g. ``segment``), as of the window's start, after ``team``."""
    book = book_of(store)
    start, last = window_dates(store.config.snapshot_date(), window, end)
    cal = book.calendar("month")
    s, e = cal.period_of(start), cal.period_of(last)
    _, first, _ = book.spine("month")
    if s < first:
        raise WorkspaceError(
            f"the window {start} to {last} starts before the first paid month",
            hint="pass a shorter --window or a later end",
        )
    snap = book.snapshots("month")
    dims = ["owner", "owner_name", "team", *(d for d in extra if d not in ("owner", "owner_name", "team"))]
    sl = book.slices("month", dims)
    more = "".join(f", sl.{d}" for d in dims[3:])
    table = book.engine.arrow(
        f"""SELECT s.account_id, sl.owner, sl.owner_name, sl.team{more},
                   CAST(s.mrr AS BIGINT) AS start_mrr, CAST(coalesce(e.mrr, 0) AS BIGINT) AS end_mrr
            FROM {snap} s JOIN {sl} sl ON sl.account_id = s.account_id AND sl.period = s.period
            LEFT JOIN {snap} e ON e.account_id = s.account_id AND e.period = {int(e)}
            WHERE s.period = {int(s)} AND s.mrr > 0
            ORDER BY s.account_id"""
    )
    if not table.num_rows:
        raise WorkspaceError(f"no account paid on {start}, the window's start", hint="pass a later end or window")
    return Cohort(start, last, s, e, table)


def fold_of(n: int, folds: int, seed: int) -> np.ndarray:
    """Each of ``n`` accounts' fold (0 .. folds - 1): a seeded shuffle dealt round, so the folds
    partition the accounts and differ in size by at most one."""
    k = max(2, min(folds, n))
    order = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) % k
    return out


def out_of_fold(
    x: np.ndarray, y: np.ndarray, fold: np.ndarray, make: Callable[[], Any], *, proba: bool = False
) -> np.ndarray:
    """Predictions of ``y`` where each row's comes from a model (``make()``) fitted on the rows of
    the other folds only; ``proba``: the probability of the positive class. A training part with
    one class only predicts that class's share."""
    out = np.zeros(len(y), dtype=float)
    with one_thread():
        for f in np.unique(fold):
            test, train = fold == f, fold != f
            yt = y[train]
            if proba and (yt.all() or not yt.any()):
                out[test] = float(yt.mean()) if len(yt) else 0.0
                continue
            model = make().fit(x[train], yt)
            out[test] = model.predict_proba(x[test])[:, 1] if proba else model.predict(x[test])
    return out


def _classifier() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0,
        random_state=0,
    )  # fmt: skip


def _regressor() -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0,
        random_state=0,
    )  # fmt: skip


@dataclass(frozen=True)
class Expected:
    """Per cohort account (the cohort's order): its fold, the probability of keeping the logo, the
    expected retained share (0..1) and the expected end share (0 or more) of its start MRR."""

    fold: np.ndarray
    keep: np.ndarray
    retained_share: np.ndarray
    end_share: np.ndarray
    columns: tuple[str, ...]


def expectations(store: Store, co: Cohort, *, folds: int, seed: int) -> Expected:
    """The out-of-fold expectations of the cohort's accounts from their features on its start date."""
    if co.table.num_rows < 2:
        raise WorkspaceError(
            f"only {co.table.num_rows} account paid on {co.start}, the window's start: too few to fit expectations",
            hint="pass a longer window or a later end",
        )
    feats = features(store, [co.start])
    ids = co.table["account_id"]
    idx = pc.index_in(ids, feats["account_id"])
    if idx.null_count:
        # every cohort account pays on the start date, so the features have a row for it
        raise WorkspaceError("an account of the cohort has no features on the window's start")  # pragma: no cover
    x = matrix(feats.take(idx), IMPACT_FEATURES)
    present = ~np.isnan(x).all(axis=0)
    x = x[:, present]
    columns = tuple(c for c, keep in zip(IMPACT_FEATURES, present, strict=True) if keep)
    start = co.column("start_mrr").astype(float)
    end = co.column("end_mrr").astype(float)
    kept = end > 0
    fold = fold_of(len(start), folds, seed)
    keep = np.clip(out_of_fold(x, kept, fold, _classifier, proba=True), 0, 1)
    retained = np.clip(out_of_fold(x, np.minimum(end, start) / start, fold, _regressor), 0, 1)
    grown = np.clip(out_of_fold(x, end / start, fold, _regressor), 0, None)
    return Expected(fold, keep, retained, grown, columns)


def bootstrap(
    start: np.ndarray,
    gaps: dict[str, np.ndarray],
    weights: dict[str, np.ndarray],
    *,
    owner: str,
    draws: int,
    confidence: float,
    seed: int,
) -> dict[str, tuple[float, float]]:
    """The ``confidence`` interval of each measure's actual minus expected over a book, in points:
    ``draws`` times the book's accounts are drawn with replacement (:mod:`.resample`) and the measure
    is recomputed as sum(gap) / sum(weight) over the draw. The expectations are held fixed: the
    interval covers which accounts happened to be in the book, not the model's own error."""
    n = len(start)
    if n == 0:
        return {k: (float("nan"), float("nan")) for k in gaps}
    pick = picks(generator(seed, owner), n, draws)
    return {name: interval(ratio_draws(gap, weights[name], pick), confidence) for name, gap in gaps.items()}
