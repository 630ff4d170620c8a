"""What the impact statements measure (:mod:`.statements`), account by account, in two windows.

The "after" window is the cohort window of :func:`.csm_model.cohort` (``window`` months ending on a
month end); the "before" window is as long and ends on the month end the "after" window starts on.
Every measure is a ratio of sums over the accounts of one window, so the bootstrap
(:mod:`.resample`) can resample the accounts:

- revenue (:func:`revenue_samples`), the cohort of :mod:`revbook.metrics.retention` (accounts paying on
  the window's start, in the slice they had then): NRR = sum(end MRR) / sum(start MRR); GRR =
  sum(min(end, start)) / sum(start); gross revenue churn = 1 - GRR, the share of the start MRR lost to
  churn and contraction by the window's end; logo retention = accounts still paying / accounts;
- proxies (:func:`proxy_samples`), for roles without revenue access, from the point-in-time features
  (:mod:`revbook.health.features`) of the accounts paying on each window's end, in the slice they had
  then: usage per account (``usage_90d``), support cases opened per account in the last 90 days
  (``tickets_90d``), adoption (the share of accounts that reached the ``[lifecycle] value_milestone``),
  onboarding completion (of the accounts that began paying within the window, the share with every
  onboarding milestone reached: ``milestone_progress`` = 1) and NPS (promoters minus detractors, in
  points, over the accounts' latest NPS answer of the last 365 days);
- renewals (:func:`renewal_samples`): the cohort accounts whose first renewal date known on the
  window's start (:mod:`revbook.health.renewals`) falls within the window; renewal rate = renewed ARR
  / ARR due, where an account's ARR due is its ARR on the window's start and its renewed ARR is its ARR
  on the renewal date, capped at the ARR due (so the rate is at most 100%);
- plays (:func:`plays`): per activity type, the touchpoints of the slice's accounts in each window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..definitions import NO_VALUE
from ..errors import ConfigError
from ..health.features import features
from ..health.renewals import renewals_sql
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from .csm_model import Cohort

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "METRICS",
    "Metric",
    "Sample",
    "Scope",
    "plays",
    "proxy_samples",
    "renewal_samples",
    "revenue_samples",
]

SCOPES = ("owner", "team", "segment")


@dataclass(frozen=True)
class Metric:
    """One measure: its name, words, kind (``outcome``: revenue; ``proxy``), unit (``rate``: a share
    shown in %, ``count``: per account, ``score``: NPS points) and direction (+1: higher is better)."""

    name: str
    words: str
    kind: str
    unit: str
    better: int


#: the measures, in the order the statements list them
METRICS: tuple[Metric, ...] = (
    Metric("gross_revenue_churn", "gross revenue churn", "outcome", "rate", -1),
    Metric("grr", "GRR", "outcome", "rate", 1),
    Metric("nrr", "NRR", "outcome", "rate", 1),
    Metric("logo_retention", "logo retention", "outcome", "rate", 1),
    Metric("usage_per_account", "usage per account", "proxy", "count", 1),
    Metric("ticket_volume", "support cases per account (90 days)", "proxy", "count", -1),
    Metric("adoption", "adoption (accounts past the value milestone)", "proxy", "rate", 1),
    Metric("onboarding_completion", "onboarding completion", "proxy", "rate", 1),
    Metric("nps", "NPS", "proxy", "score", 1),
)
METRIC = {m.name: m for m in METRICS}


@dataclass(frozen=True)
class Scope:
    """Whose statements: a CSM (``owner``), a team or a segment, with its words."""

    kind: str
    value: str
    label: str

    def mask(self, table: pa.Table) -> np.ndarray:
        """The rows of ``table`` (with a column named by :attr:`kind`) in this scope."""
        return np.array([v == self.value for v in table[self.kind].to_pylist()], dtype=bool)


@dataclass(frozen=True)
class Sample:
    """The accounts of one window and each one's numerator and denominator."""

    num: np.ndarray
    den: np.ndarray

    @property
    def accounts(self) -> int:
        return int((self.den > 0).sum())

    @property
    def value(self) -> float:
        """sum(num) / sum(den) (NaN without a denominator)."""
        d = float(self.den.sum())
        return float(self.num.sum()) / d if d else float("nan")


def revenue_samples(co: Cohort, at: np.ndarray) -> dict[str, Sample]:
    """NRR, GRR, gross revenue churn and logo retention of the cohort accounts ``at`` (a mask)."""
    start = co.column("start_mrr").astype(float)[at]
    end = co.column("end_mrr").astype(float)[at]
    kept = np.minimum(end, start)
    ones = np.ones_like(start)
    return {
        "nrr": Sample(end, start),
        "grr": Sample(kept, start),
        "gross_revenue_churn": Sample(start - kept, start),
        "logo_retention": Sample((end > 0).astype(float), ones),
    }


def _sliced(store: Store, ids: pa.Array | pa.ChunkedArray, day: dt.date) -> pa.Table:
    return book_of(store).slices_at(ids, day, ["owner", "team", "segment"])


def proxy_samples(
    store: Store, days: Sequence[dt.date], scopes: Sequence[Scope], window_days: int
) -> dict[tuple[str, dt.date], dict[str, Sample]]:
    """The proxy samples of each scope on each window end in ``days``: (scope value, day) -> metric -> sample.
    ``window_days``: how recent a start makes an account new (onboarding completion)."""
    feats = features(store, list(days))
    value_ms = store.config.lifecycle.value_milestone
    reached = _value_reached(store, value_ms, days)
    out: dict[tuple[str, dt.date], dict[str, Sample]] = {}
    for day in days:
        f = feats.filter(pa.compute.equal(feats["score_date"], pa.scalar(day, pa.date32())))
        sl = _sliced(store, f["account_id"], day) if f.num_rows else None
        for scope in scopes:
            if sl is None:
                out[(scope.value, day)] = {}
                continue
            at = scope.mask(sl)
            sub = f.filter(pa.array(at))
            out[(scope.value, day)] = _proxies(sub, reached.get(day, set()), window_days, bool(value_ms))
    return out


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in table[name].to_pylist()], dtype=float)


def _present(values: np.ndarray) -> Sample | None:
    ok = np.isfinite(values)
    if not ok.any():
        return None
    return Sample(np.where(ok, values, 0.0), ok.astype(float))


def _proxies(f: pa.Table, reached: set[str], window_days: int, has_value: bool) -> dict[str, Sample]:
    out: dict[str, Sample] = {}
    if not f.num_rows:
        return out
    for name, column in (("usage_per_account", "usage_90d"), ("ticket_volume", "tickets_90d")):
        s = _present(_col(f, column))
        if s is not None:
            out[name] = s
    if has_value and reached:
        ids = f["account_id"].to_pylist()
        out["adoption"] = Sample(np.array([a in reached for a in ids], dtype=float), np.ones(len(ids)))
    progress, tenure = _col(f, "milestone_progress"), _col(f, "tenure_days")
    new = np.isfinite(progress) & np.isfinite(tenure) & (tenure <= window_days)
    if new.any():
        out["onboarding_completion"] = Sample(np.where(new & (progress >= 1), 1.0, 0.0), new.astype(float))
    nps = _col(f, "nps")
    s = _present(np.where(np.isfinite(nps), np.where(nps >= 9, 1.0, np.where(nps <= 6, -1.0, 0.0)), np.nan))
    if s is not None:
        out["nps"] = s
    return out


def _value_reached(store: Store, milestone: str, days: Sequence[dt.date]) -> dict[dt.date, set[str]]:
    """The accounts that reached ``milestone`` on or before each day."""
    if not milestone or not store.row_counts().get("milestones", 0):
        return {}
    rows = store.con.execute(
        "SELECT account_id, min(achieved_at) AS at FROM milestones WHERE milestone = ? GROUP BY account_id",
        [milestone],
    ).fetchall()
    return {d: {a for a, at in rows if at <= d} for d in days}


def renewal_samples(store: Store, co: Cohort, at: np.ndarray) -> Sample:
    """The renewal rate's sample of the cohort accounts ``at``: per account due in the window, ARR
    renewed (capped at the ARR due) over ARR due, in minor units of MRR."""
    ids = [a for a, keep in zip(co.table["account_id"].to_pylist(), at.tolist(), strict=True) if keep]
    start = dict(zip(co.table["account_id"].to_pylist(), co.column("start_mrr").astype(float).tolist(), strict=True))
    if not ids:
        return Sample(np.zeros(0), np.zeros(0))
    book = book_of(store)
    name = "rb_statement_due"
    book.engine.register(
        name,
        pa.table(
            {"account_id": pa.array(ids, pa.string()), "score_date": pa.array([co.start] * len(ids), pa.date32())}
        ),
    )
    try:
        ren = renewals_sql("subscriptions", name, rule=store.config.lifecycle.contract_end)
        rows = book.engine.arrow(
            f"""WITH ren AS ({ren}),
                due AS (
                    SELECT r.account_id, r.score_date + CAST(r.days_to_renewal AS INTEGER) AS renews_on
                    FROM ren r JOIN {name} d USING (account_id, score_date)
                    WHERE r.score_date + CAST(r.days_to_renewal AS INTEGER) <= DATE '{co.end.isoformat()}')
                SELECT due.account_id, m.mrr FROM due
                JOIN {account_mrr_sql(book.ledger(), "due", "renews_on")} m USING (account_id, renews_on)
                ORDER BY due.account_id"""
        ).to_pylist()
    finally:
        book.engine.drop(name)
    due = np.array([start[r["account_id"]] for r in rows], dtype=float)
    renewed = np.minimum(np.array([float(r["mrr"]) for r in rows], dtype=float), due)
    return Sample(renewed, due)


@dataclass(frozen=True)
class Play:
    """One activity type's touchpoints of a slice in the two windows."""

    type: str
    before: int
    after: int
    first_after: dt.date | None
    accounts_before: int
    accounts_after: int
    months: int

    def rate(self, which: str) -> float:
        """Touchpoints per account and year in the window."""
        n, a = (self.before, self.accounts_before) if which == "before" else (self.after, self.accounts_after)
        return 12 * n / a / self.months if a else 0.0


def plays(
    store: Store,
    before: tuple[dt.date, dt.date, Sequence[str]],
    after: tuple[dt.date, dt.date, Sequence[str]],
    months: int,
) -> list[Play]:
    """Per activity type, the touchpoints of each window's accounts dated after its start and on or
    before its end (``before``/``after``: start, end, account ids)."""
    if not store.row_counts().get("activities", 0):
        return []
    counts: dict[str, list[Any]] = {}
    for i, (start, end, ids) in enumerate((before, after)):
        if not ids:
            continue
        rows = store.con.execute(
            """SELECT type, count(*) AS n, min(date) AS first FROM activities
               WHERE date > ? AND date <= ? AND list_contains(?, account_id) GROUP BY type""",
            [start, end, list(ids)],
        ).fetchall()
        for kind, n, first in rows:
            c = counts.setdefault(str(kind), [0, 0, None])
            c[i] = int(n)
            if i == 1:
                c[2] = first
    return [
        Play(kind, b, a, first, len(before[2]), len(after[2]), months) for kind, (b, a, first) in sorted(counts.items())
    ]


def scope_of(kind: str, value: str, label: str | None = None) -> Scope:
    """A scope, checked."""
    if kind not in SCOPES:
        raise ConfigError(f"unknown scope '{kind}'", hint=f"use one of: {', '.join(SCOPES)}")
    if not value.strip() or value == NO_VALUE:
        raise ConfigError(f"{kind} must name a {kind}", value=value)
    return Scope(kind, value, label or f"{kind} {value}")
