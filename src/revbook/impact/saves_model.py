"""What the health model would have said on a flag date: point-in-time fits, scores and base rates.

A model is fitted once per month end *M* (and kept until the next load): on the ``[health]
train_months`` month ends *d* whose outcome was known on *M* (*d* + horizon <= *M*), with their
point-in-time features (:func:`revbook.health.features.features`) and labels
(:func:`revbook.health.features.labels`: churn, or a contraction of at least ``[health]
contraction_threshold``, within the horizon). A flag dated *f* is scored by the model of the last
month end on or before *f*, on the account's features as of *f*. Nothing dated after *f* is read:
the training rows end by *M* <= *f* and the features of *f* read rows dated on or before *f*.

The segment's base rate is the event rate of that model's training rows in the account's segment
(each row's segment on its own date): the share of the segment's paying accounts that churned or
contracted within the same horizon, over the same months the model learnt from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from ..health.backtest import month_ends
from ..health.features import features, labels
from ..health.model import HealthModel
from ..metrics.book import book_of

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["MIN_TRAIN_DATES", "Score", "Scorer", "model_scorer", "month_end_on_or_before", "slices_on", "state_of"]

#: a model needs at least this many training month ends (as revbook.health.backtest.fit_models)
MIN_TRAIN_DATES = 3


@dataclass(frozen=True)
class Score:
    """What the model said about one episode on its flag date: ``probability`` of churn or contraction
    within the horizon, the segment's ``base_rate``, and ``note``: "" or why one of them is missing or
    too thin to judge (words, starting "too little data")."""

    probability: float | None
    base_rate: float | None
    note: str = ""


#: scores (account_id, flag_date, segment) triples in order; the model path is :func:`model_scorer`
Scorer = Callable[["Store", Sequence[tuple[str, dt.date, str]]], list[Score]]


@dataclass
class _State:
    """Per store, until the next load: features, labels and segments by date, models by month end."""

    features: dict[dt.date, pa.Table] = field(default_factory=dict)
    labels: dict[tuple[dt.date, int], pa.Table] = field(default_factory=dict)
    segments: dict[dt.date, dict[str, str]] = field(default_factory=dict)
    models: dict[tuple[Any, ...], tuple[HealthModel | None, dict[str, tuple[int, int]], str]] = field(
        default_factory=dict
    )

    def close(self) -> None:
        self.features.clear()
        self.labels.clear()
        self.segments.clear()
        self.models.clear()


def state_of(store: Store) -> _State:
    return store.derived("impact.saves", lambda _: _State())


def month_end_on_or_before(day: dt.date) -> dt.date:
    return month_ends(day, 1)[0]


def features_on(store: Store, dates: Sequence[dt.date]) -> dict[dt.date, pa.Table]:
    """The point-in-time features of every account paying on each date (computed once per date)."""
    state = state_of(store)
    missing = sorted(set(dates) - set(state.features))
    if missing:
        table = features(store, missing, settings=store.config.health)
        by_date = table["score_date"]
        for d in missing:
            state.features[d] = table.filter(pc.equal(by_date, pa.scalar(d, pa.date32())))
    return {d: state.features[d] for d in dates}


def _labels_on(store: Store, dates: Sequence[dt.date], horizon: int) -> dict[dt.date, pa.Table]:
    state = state_of(store)
    missing = sorted({d for d in dates if (d, horizon) not in state.labels})
    if missing:
        table = labels(store, missing, horizon_days=horizon, threshold=store.config.health.contraction_threshold)
        for d in missing:
            state.labels[(d, horizon)] = table.filter(pc.equal(table["score_date"], pa.scalar(d, pa.date32())))
    return {d: state.labels[(d, horizon)] for d in dates}


def slices_on(store: Store, pairs: Sequence[tuple[str, dt.date]], dims: Sequence[str]) -> list[dict[str, str]]:
    """Each (account, date)'s slice values on that date, as the metrics' slices read them
    (:meth:`revbook.metrics.book.Book.slices_at`: owners and account_history valid on the date)."""
    if not pairs:
        return []
    got = book_of(store).slices_at([a for a, _ in pairs], pa.array([d for _, d in pairs], pa.date32()), dims)
    columns = [got[d].to_pylist() for d in dims]
    return [{d: str(v) for d, v in zip(dims, vals, strict=True)} for vals in zip(*columns, strict=True)]


def _segments_on(store: Store, dates: Sequence[dt.date]) -> dict[dt.date, dict[str, str]]:
    state = state_of(store)
    missing = [d for d in dates if d not in state.segments]
    if missing:
        feats = features_on(store, missing)
        pairs = [(a, d) for d in missing for a in feats[d]["account_id"].to_pylist()]
        values = slices_on(store, pairs, ["segment"])
        for d in missing:
            state.segments[d] = {}
        for (a, d), v in zip(pairs, values, strict=True):
            state.segments[d][a] = v["segment"]
    return {d: state.segments[d] for d in dates}


def _fit(store: Store, month_end: dt.date, horizon: int, kind: str) -> tuple[
    HealthModel | None, dict[str, tuple[int, int]], str
]:  # fmt: skip
    """The model of ``month_end``, the (events, rows) of its training rows by segment, and "" or why
    there is no model."""
    hs = store.config.health
    key = (month_end, horizon, kind, hs.train_months, hs.contraction_threshold, hs.drop_features)
    state = state_of(store)
    if key in state.models:
        return state.models[key]
    dates = month_ends(month_end - dt.timedelta(days=horizon), hs.train_months)
    feats = features_on(store, dates)
    dates = [d for d in dates if feats[d].num_rows]  # before the first payment: no rows
    result: tuple[HealthModel | None, dict[str, tuple[int, int]], str]
    if len(dates) < MIN_TRAIN_DATES:
        result = (
            None,
            {},
            f"too little data: {len(dates)} month ends with a known {horizon}-day outcome before {month_end} "
            f"(the model needs {MIN_TRAIN_DATES})",
        )
    else:
        labs = _labels_on(store, dates, horizon)
        segs = _segments_on(store, dates)
        x = pa.concat_tables([feats[d] for d in dates])
        lab = pa.concat_tables([labs[d] for d in dates])
        if x["account_id"].to_pylist() != lab["account_id"].to_pylist():  # pragma: no cover - one ledger
            raise ConfigError("features and labels disagree on the paying accounts")
        y = np.asarray(lab["event"].to_numpy(zero_copy_only=False), bool)
        by_segment: dict[str, tuple[int, int]] = {}
        for d in dates:
            ev = labs[d]["event"].to_pylist()
            for a, e in zip(labs[d]["account_id"].to_pylist(), ev, strict=True):
                s = segs[d].get(a, "")
                events, n = by_segment.get(s, (0, 0))
                by_segment[s] = (events + bool(e), n + 1)
        try:
            model: HealthModel | None = HealthModel(kind, exclude=hs.drop_features).fit(x, y)  # type: ignore[arg-type]
            note = ""
        except ConfigError:
            model, note = None, f"too little data: the training months before {month_end} hold one outcome only"
        result = (model, by_segment, note)
    state.models[key] = result
    return result


def model_scorer(store: Store, episodes: Sequence[tuple[str, dt.date, str]]) -> list[Score]:
    """Each episode's probability from the model of the last month end on or before its flag date,
    on its features as of the flag date, and its segment's base rate among that model's training rows."""
    settings = store.config.saves
    horizon, kind = settings.horizon_days, settings.model
    feats = features_on(store, sorted({d for _, d, _ in episodes}))
    # one predict per (model, flag date): the rows of that date's features the episodes ask for
    wanted: dict[tuple[dt.date, dt.date], list[int]] = {}
    for i, (_, day, _) in enumerate(episodes):
        wanted.setdefault((month_end_on_or_before(day), day), []).append(i)
    probabilities: dict[int, float] = {}
    for (month_end, day), idx in wanted.items():
        model = _fit(store, month_end, horizon, kind)[0]
        if model is None:
            continue
        t = feats[day]
        position = {a: j for j, a in enumerate(t["account_id"].to_pylist())}
        present = [i for i in idx if episodes[i][0] in position]
        if present:
            rows = t.take(pa.array([position[episodes[i][0]] for i in present], pa.int64()))
            for i, p in zip(present, model.predict_proba(rows).tolist(), strict=True):
                probabilities[i] = float(p)
    out: list[Score] = []
    for i, (_, day, segment) in enumerate(episodes):
        _, by_segment, note = _fit(store, month_end_on_or_before(day), horizon, kind)  # kept: no refit
        events, rows_n = by_segment.get(segment, (0, 0))
        if rows_n < settings.min_segment_rows and not note:
            note = (
                f"too little data: the segment '{segment}' had {rows_n} paying account-months in the model's "
                f"training months (min_segment_rows {settings.min_segment_rows})"
            )
        out.append(Score(probabilities.get(i), events / rows_n if rows_n else None, note))
    return out
