"""NRR, GRR and logo retention forecast from RUM: every paying account's outcome simulated over each
horizon (docs/forecast.md has the method in words and its measured error).

On the date ``on`` the cohort is every account paying then (the cohort of
:mod:`revbook.metrics.retention` for a window opening on ``on``). For a horizon of H months
(``days``: from ``on`` to the same day H months later, a month end when ``on`` is one):

1. **event probability** (churn or a contraction of at least ``[health] contraction_threshold``):
   *p*, the RUM renewal outlook's probability of the event within its own horizon *T* (the
   renewal window, 90 days; :func:`revbook.rum.outlook.fit_outlook`), scaled to the horizon as
   1 - (1 - p) ^ e (a constant hazard when e = days / T). The exponent e is learned from history:
   the same model scores the accounts paying on the ``[rum] train_months`` month ends whose
   ``days`` had run out by ``on``, and e is the value that makes their mean scaled probability
   equal to the share of them that had the event within ``days``. It is learned per cell of
   (renewal date inside the horizon or not) x (size band), so an account whose renewal falls in
   the horizon is scaled like the accounts of its size that renewed in theirs; a cell of fewer
   than ``MIN_CELL_ROWS`` (30) rows takes the exponent of all rows.

2. **size**: an event draws its relative MRR change from the accounts with such an event over the
   same number of days after earlier month ends (``[rum] train_months`` of them, whose outcome was
   known on ``on``); an account without the event draws from those without it (their expansion
   and small contractions). An account draws from the rows of its size band (the quartiles of the
   history's ARR: small accounts churn, large ones contract), ARR-weighted within it (a row is drawn
   in proportion to its ARR, so the expected change is the band's historical ARR-weighted one).

3. **open expansion opportunities** (open on ``on``, the RUM's ``open_expansion_arr``) are won with
   the win rate of expansion deals closed on or before ``on``; an account without the event that wins
   takes the larger of its drawn change and the deal's ``arr_delta`` over its ARR (history's
   changes already hold won deals: a deal is not added on top of them).

Each draw sums the cohort: NRR = end ARR / start ARR, GRR = sum(min(end, start)) / start ARR,
logo retention = accounts still paying / accounts. The forecast is the mean of the draws, the
interval the central ``[forecast] interval`` (0.8: the 10th to the 90th percentile) of them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError, WorkspaceError
from ..frame import Frame
from ..metrics.book import UNASSIGNED, book_of
from .outlook import TRAIN_ACCOUNTS, Outlook

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "SLICES",
    "Pools",
    "event_probability",
    "forecast",
    "months_after",
    "outcome_pools",
    "simulate",
    "win_rate",
]

#: what a forecast can be sliced by
SLICES = ("segment", "owner", "team")
#: a cell of history (renewal inside the horizon, size band) calibrates its own exponent from this many rows
MIN_CELL_ROWS = 30
#: account x draw cells simulated at once (memory: a few arrays of this many floats)
BLOCK = 1_000_000


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months later; a month end gives that month's end."""
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(y, m + 1)[1]
    at_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(y, m + 1, last if at_end else min(day.day, last))


def event_probability(p: np.ndarray, exponent: np.ndarray | float) -> np.ndarray:
    """P(churn or contraction within the horizon) from the outlook's ``p`` (within its own horizon):
    1 - (1 - p) ^ exponent, the exponent of the account's cell (:func:`calibrate`)."""
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    return np.asarray(1.0 - (1.0 - p) ** np.asarray(exponent, float), float)


def calibrate(p: np.ndarray, event: np.ndarray) -> float:
    """The exponent e with mean(1 - (1 - p) ^ e) equal to the event rate of ``event`` (rows of
    history scored by the outlook): the outlook's probability scaled to the horizon the rows were
    followed for. Bisection on log e in [1/100, 100] (the mean rises with e)."""
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    rate = float(np.mean(event))
    lo, hi = np.log(0.01), np.log(100.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(np.mean(1.0 - (1.0 - p) ** np.exp(mid))) < rate:
            lo = mid
        else:
            hi = mid
    return float(np.exp((lo + hi) / 2))


@dataclass(frozen=True)
class Pools:
    """Relative MRR changes over a horizon after earlier month ends, with and without the event:
    each row's change, weight (its ARR at the start) and size band (by ``edges``, ARR)."""

    event: np.ndarray
    event_weight: np.ndarray
    event_band: np.ndarray
    stay: np.ndarray
    stay_weight: np.ndarray
    stay_band: np.ndarray
    #: the size bands' inner edges (ARR, reporting currency): quartiles of the history's accounts
    edges: np.ndarray
    dates: tuple[dt.date, ...] = ()
    #: (renewal inside the horizon, size band) -> the exponent of :func:`calibrate` (``default`` elsewhere)
    exponents: dict[tuple[bool, int], float] = field(default_factory=dict)
    default_exponent: float = 1.0

    @staticmethod
    def of(event: Sequence[float], stay: Sequence[float]) -> Pools:
        """Pools of the given changes, equally weighted, one size band (for worked examples)."""
        e, s = np.asarray(event, float), np.asarray(stay, float)
        return Pools(e, np.ones(len(e)), np.zeros(len(e), int), s, np.ones(len(s)), np.zeros(len(s), int), np.array([]))

    def band(self, arr: np.ndarray) -> np.ndarray:
        """The size band of each ARR."""
        return np.searchsorted(self.edges, np.asarray(arr, float), side="right")

    def exponent(self, renews: np.ndarray, band: np.ndarray) -> np.ndarray:
        """Each account's exponent by its cell (renewal inside the horizon, size band)."""
        return np.array(
            [self.exponents.get((bool(r), int(b)), self.default_exponent) for r, b in zip(renews, band, strict=True)]
        )


def pool_dates(store: Store, on: dt.date, days: int) -> list[dt.date]:
    """The ``[rum] train_months`` month ends whose ``days`` had run out by ``on``."""
    from ..health.backtest import month_ends

    return month_ends(on - dt.timedelta(days=days), store.config.rum.train_months)


def outcome_pools(
    store: Store, on: dt.date, days: int, outlook: Outlook, *, sample_every: int = 1, history: pa.Table | None = None
) -> Pools:
    """The changes of :class:`Pools` over ``days`` days after the :func:`pool_dates` month ends
    (:func:`revbook.health.features.labels`), and the exponents that scale ``outlook``'s
    probability, scored on the same rows, to their event rate. ``history``: the features of these
    dates (and maybe others), computed once for every horizon."""
    from ..health.features import features, labels

    dates = pool_dates(store, on, days)
    threshold = store.config.health.contraction_threshold
    lab = labels(store, dates, horizon_days=days, threshold=threshold, sample_every=sample_every)
    start = np.asarray(lab["mrr_start"].to_numpy(zero_copy_only=False), float)
    end = np.asarray(lab["mrr_end"].to_numpy(zero_copy_only=False), float)
    event = np.asarray(lab["event"].to_numpy(zero_copy_only=False), bool)
    keep = start > 0
    change = np.where(keep, end / np.where(keep, start, 1.0) - 1.0, 0.0)
    ev, st = keep & event, keep & ~event
    if not st.any():
        raise WorkspaceError(
            f"no history to size a {days}-day forecast on {on}: no account paid {days} days after the "
            f"month ends before it",
            hint="forecast on a later date or a shorter horizon ([forecast] horizons)",
        )
    arr = start * 12 / 10**store.config.minor_units
    edges = np.unique(np.quantile(arr[keep], [0.25, 0.5, 0.75]))
    band = np.searchsorted(edges, arr, side="right")
    if history is None:
        feats = features(store, dates, lifecycle=store.config.lifecycle, sample_every=sample_every)
    else:
        feats = history.filter(pc.is_in(history["score_date"], pa.array(dates, pa.date32())))
    if feats.num_rows != lab.num_rows:  # pragma: no cover - both read the same ledger
        raise WorkspaceError("the forecast's history features and labels disagree on the paying accounts")
    p = outlook.model.predict_proba(feats)
    renews = np.nan_to_num(np.asarray(feats["days_to_renewal"].to_numpy(zero_copy_only=False), float), nan=np.inf)
    renews = renews <= days
    default = calibrate(p[keep], event[keep]) if keep.any() else 1.0
    exponents = {}
    for cell in {(bool(r), int(b)) for r, b in zip(renews[keep], band[keep], strict=True)}:
        rows = keep & (renews == cell[0]) & (band == cell[1])
        if rows.sum() >= MIN_CELL_ROWS:
            exponents[cell] = calibrate(p[rows], event[rows])
    ev_change, ev_arr, ev_band = (
        (change[ev], arr[ev], band[ev]) if ev.any() else (np.array([-1.0]), np.ones(1), np.zeros(1, int))
    )
    # without any event in history, an event is a churn (the only size that needs no history)
    return Pools(ev_change, ev_arr, ev_band, change[st], arr[st], band[st], edges, tuple(dates), exponents, default)


def win_rate(store: Store, on: dt.date) -> tuple[float, int]:
    """The share of expansion opportunities closed on or before ``on`` that were won, and how many
    closed (0.0 and 0 without opportunities: open deals then add nothing)."""
    if not store.row_counts().get("opportunities", 0):
        return 0.0, 0
    row = store.con.execute(
        f"""SELECT count(*) FILTER (WHERE won), count(*) FROM opportunities
            WHERE kind = 'expansion' AND won IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= DATE '{on}'"""
    ).fetchone()
    won, closed = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    return (won / closed if closed else 0.0), closed


def _draw(
    values: np.ndarray, weight: np.ndarray, band: np.ndarray, bands: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """One change per account (``bands``: each account's size band) and draw, ARR-weighted, from the
    rows of its band (all rows when its band has none)."""
    out = np.empty((len(bands), draws))
    for b in np.unique(bands):
        who = bands == b
        rows = band == b
        if not rows.any():
            rows = np.ones(len(values), bool)
        w = weight[rows]
        pick = rng.choice(int(rows.sum()), size=(int(who.sum()), draws), p=w / w.sum() if w.sum() > 0 else None)
        out[who] = values[rows][pick]
    return out


def simulate(
    arr: np.ndarray,
    prob: np.ndarray,
    pools: Pools,
    *,
    deal_arr: np.ndarray | None = None,
    win: float = 0.0,
    groups: np.ndarray | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every account's outcome in ``draws`` draws; per group (``groups``: an index per account, all
    in group 0 by default) and draw, the sums of end ARR, of min(end, start) and of accounts still
    paying: three arrays of shape (groups, draws)."""
    arr = np.asarray(arr, float)
    n = len(arr)
    prob = np.asarray(prob, float)
    deal = np.zeros(n) if deal_arr is None else np.nan_to_num(np.asarray(deal_arr, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        deal_change = np.where(arr > 0, deal / arr, 0.0)
    g = np.zeros(n, int) if groups is None else np.asarray(groups, int)
    k = int(g.max()) + 1 if n else 1
    ind = np.zeros((k, n))
    ind[g, np.arange(n)] = 1.0
    rng = np.random.default_rng(seed)
    bands = pools.band(arr)
    end_sum, kept_sum, logos = (np.zeros((k, draws)) for _ in range(3))
    block = max(1, BLOCK // max(n, 1))
    for s in range(0, draws, block):
        m = min(block, draws - s)
        event = rng.random((n, m)) < prob[:, None]
        r_event = _draw(pools.event, pools.event_weight, pools.event_band, bands, m, rng)
        r_stay = _draw(pools.stay, pools.stay_weight, pools.stay_band, bands, m, rng)
        won = rng.random((n, m)) < win
        r_stay = np.where(won, np.maximum(r_stay, deal_change[:, None]), r_stay)
        end = arr[:, None] * (1.0 + np.maximum(np.where(event, r_event, r_stay), -1.0))
        end_sum[:, s : s + m] = ind @ end
        kept_sum[:, s : s + m] = ind @ np.minimum(end, arr[:, None])
        logos[:, s : s + m] = ind @ (end > 0)
    return end_sum, kept_sum, logos


def _slices(store: Store, acc: pa.Table, on: dt.date, by: str | None) -> tuple[list[str], pa.Table]:
    """The slice columns of ``by`` and each account's values on ``on``."""
    if by is None:
        return [], pa.table({"account_id": acc["account_id"]})
    if by not in SLICES:
        raise ConfigError(f"a forecast slices by {', '.join(SLICES)}, not '{by}'", hint="e.g. --by segment")
    if by == "segment":
        sl = book_of(store).slices_at(acc["account_id"], on, ["segment"])
        return ["segment"], pa.table({"account_id": acc["account_id"], "segment": sl["segment"]})
    if by == "team":
        return ["team"], acc.select(["account_id", "team"])
    owner = pc.fill_null(acc["owner"], UNASSIGNED)
    name = pc.if_else(pc.is_null(acc["owner"]), pa.scalar(UNASSIGNED), acc["owner_name"])
    return ["owner", "owner_name"], pa.table({"account_id": acc["account_id"], "owner": owner, "owner_name": name})


def forecast(
    store: Store,
    *,
    on: dt.date | str | None = None,
    horizons: Sequence[int] | None = None,
    by: str | None = None,
    draws: int | None = None,
    seed: int | None = None,
    interval: float | None = None,
) -> Frame:
    """Expected NRR, GRR and logo retention of the accounts paying on ``on`` (default: the as-of
    date) over each horizon (months), with the interval, per slice ``by`` (segment, owner or team);
    options left None come from ``[forecast]``. Reads nothing dated after ``on``."""
    from .accounts import scoring

    fs = store.config.forecast.override(horizons=horizons, draws=draws, seed=seed, interval=interval)
    day = store.config.on_date(on)
    sc = scoring(store, day, expected=False, outlook=True)
    feats = sc.feats
    if sc.outlook is None:
        raise WorkspaceError(
            f"no churn model can be trained for {day}: the month ends before it had one outcome only",
            hint="forecast on a later date, or load more history",
        )
    acc = sc.frame.to_arrow().slice(0, feats.num_rows)
    if acc["account_id"].to_pylist() != feats["account_id"].to_pylist():  # pragma: no cover - one scoring
        raise WorkspaceError("the RUM accounts and their features disagree")
    cols, sl = _slices(store, acc, day, by)
    keys = [tuple(r[c] for c in cols) for r in sl.select(cols).to_pylist()] if cols else [()] * acc.num_rows
    order = sorted(set(keys), key=lambda t: tuple("" if v is None else str(v) for v in t))
    index = {key: i for i, key in enumerate(order)}
    groups = np.array([index[key] for key in keys], int)
    arr = np.asarray(feats["arr"].to_numpy(zero_copy_only=False), float)
    start_arr = acc["arr"].to_pylist()
    outlook = sc.outlook
    renew = np.nan_to_num(np.asarray(feats["days_to_renewal"].to_numpy(zero_copy_only=False), float), nan=np.inf)
    p = outlook.model.predict_proba(feats)
    deal = np.asarray(acc["open_expansion_arr"].to_numpy(zero_copy_only=False), float)
    win, closed = win_rate(store, day)
    every = max(1, -(-feats.num_rows // TRAIN_ACCOUNTS))
    lo_q, hi_q = (1 - fs.interval) / 2, 1 - (1 - fs.interval) / 2
    from ..health.features import features

    every_date = sorted({d for h in fs.horizons for d in pool_dates(store, day, (months_after(day, h) - day).days)})
    history = features(store, every_date, lifecycle=store.config.lifecycle, sample_every=every)
    rows: list[dict[str, Any]] = []
    for h in fs.horizons:
        through = months_after(day, h)
        days = (through - day).days
        pools = outcome_pools(store, day, days, outlook, sample_every=every, history=history)
        prob = event_probability(p, pools.exponent(renew <= days, pools.band(arr)))
        end, kept, logos = simulate(
            arr, prob, pools, deal_arr=deal, win=win, groups=groups, draws=fs.draws, seed=fs.seed + h
        )
        for key, gi in index.items():
            member = groups == gi
            base = arr[member].sum()
            n = int(member.sum())
            start = sum((v for v, m in zip(start_arr, member, strict=True) if m), Decimal(0))
            row: dict[str, Any] = {"on": day, "horizon_months": h, "through": through}
            row.update(dict(zip(cols, key, strict=True)))
            row.update({"accounts": n, "start_arr": start})
            for name, values, den in (("nrr", end, base), ("grr", kept, base), ("logo_retention", logos, n)):
                ratio = values[gi] / den if den else np.full(fs.draws, np.nan)
                row[name] = float(ratio.mean())
                row[f"{name}_low"] = float(np.quantile(ratio, lo_q))
                row[f"{name}_high"] = float(np.quantile(ratio, hi_q))
            row["event_probability"] = float((prob[member] * arr[member]).sum() / base) if base else float("nan")
            row["interval"] = fs.interval
            row["win_rate"] = win
            row["deals_closed"] = closed
            rows.append(row)
    return Frame("forecast", _table(rows, cols, store.config.minor_units))


def _table(rows: list[dict[str, Any]], cols: list[str], minor_units: int) -> pa.Table:
    rates = [f"{m}{s}" for m in ("nrr", "grr", "logo_retention") for s in ("", "_low", "_high")]
    fields = [
        pa.field("on", pa.date32()),
        pa.field("horizon_months", pa.int64()),
        pa.field("through", pa.date32()),
        *(pa.field(c, pa.string()) for c in cols),
        pa.field("accounts", pa.int64()),
        pa.field("start_arr", pa.decimal128(18, minor_units)),
        *(pa.field(r, pa.float64()) for r in rates),
        pa.field("event_probability", pa.float64()),
        pa.field("interval", pa.float64()),
        pa.field("win_rate", pa.float64()),
        pa.field("deals_closed", pa.int64()),
    ]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))
