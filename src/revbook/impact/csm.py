"""Risk-adjusted CSM impact: each CSM's actual retention against what their accounts' features at the
window's start predicted, from models that do not know the CSM (docs/csm-impact.md).

The cohort is :mod:`revbook.metrics.retention`'s: every account paying on the month-end snapshot of
the window's start, counted for the CSM who held it on that date (a transfer during the window stays
with the start CSM, so a CSM is judged on the book they were handed). Per CSM:

    actual NRR   = sum(MRR at end) / sum(MRR at start)
    actual GRR   = sum(min(MRR at end, MRR at start)) / sum(MRR at start)
    logo retention = accounts still paying at the end / accounts at the start
    expected NRR = sum(MRR at start x expected end share) / sum(MRR at start)   (GRR alike, capped at 1
                   per account; logo: the mean probability of keeping the logo)

Each expectation is out of fold (:mod:`revbook.impact.csm_model`): the accounts are dealt into k folds
and an account's expectation comes from models fitted on the other folds, so no account is predicted
by a model that saw its own outcome. The difference (actual - expected) is in points and, for NRR and
GRR, in ARR; its bootstrap interval resamples the CSM's accounts. The verdict reads the NRR
difference's interval: above expected when it lies above 0, below expected when below 0, within the
noise when it spans 0, and no verdict for a book of fewer than ``min_accounts`` accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..definitions import NO_VALUE
from ..errors import ConfigError
from ..frame import Frame
from ..metrics.owners import for_owner
from .csm_model import Cohort, Expected, bootstrap, cohort, expectations

if TYPE_CHECKING:
    from ..config import CsmImpactSettings
    from ..store import Store

__all__ = ["VERDICTS", "by_rank", "csm_impact", "csm_impact_accounts", "method_text"]

ABOVE, BELOW, NOISE, NONE = "above expected", "below expected", "within the noise", "no verdict"
#: the verdicts, in the order they are read
VERDICTS = (ABOVE, BELOW, NOISE, NONE)


def method_text(settings: CsmImpactSettings, *, window: int | None = None, min_accounts: int | None = None) -> str:
    """The method in words, with the settings in force (what the surfaces print beside the figures)."""
    w = settings.window if window is None else window
    m = settings.min_accounts if min_accounts is None else min_accounts
    level = f"{settings.confidence:.0%}"
    return (
        f"Each CSM is judged on the accounts paying at the start of a {w}-month window, counted for the CSM "
        "who held them on that date (a transfer during the window stays with the start CSM). Expected GRR, NRR "
        "and logo retention come from models fitted on every account's features at the start (usage, "
        "engagement, support, sentiment, renewals, ARR; never the CSM or the team), out of fold: the accounts "
        f"are dealt into {settings.folds} folds and each account's expectation comes from models fitted on "
        "the other folds, so no account is predicted by a model that saw its outcome. The difference is actual "
        f"minus expected, in points and in ARR; its {level} interval comes from {settings.draws:,} bootstrap "
        "draws of the CSM's accounts with the expectations held fixed, so it covers which accounts happened "
        "to be in the book, not the model's own error. Verdict on NRR: above or below expected when the "
        f"interval lies on one side of 0, within the noise when it spans 0, no verdict under {m} accounts."
    )


def _money(value: float, minor_units: int) -> Decimal:
    return Decimal(value).scaleb(-minor_units).quantize(Decimal(1).scaleb(-minor_units), ROUND_HALF_EVEN)


def _money_array(values: list[float], minor_units: int) -> pa.Array:
    return pa.array([_money(v, minor_units) for v in values], pa.decimal128(18, minor_units))


def _scored(
    store: Store, *, window: int | None, end: dt.date | str | None
) -> tuple[CsmImpactSettings, int, Cohort, Expected]:
    settings = store.config.csm_impact
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 120):
        raise ConfigError(f"window must be a whole number of months from 1 to 120, not {window!r}")
    w = settings.window if window is None else window
    co = cohort(store, window=w, end=end)
    return settings, w, co, expectations(store, co, folds=settings.folds, seed=settings.seed)


def by_rank(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``csm_impact`` rows by risk-adjusted rank, best first; the CSMs with no verdict (no rank) last."""
    return sorted((dict(r) for r in rows), key=lambda r: (r["rank_adjusted"] is None, r["rank_adjusted"] or 0))


def csm_impact_accounts(
    store: Store, *, window: int | None = None, end: dt.date | str | None = None, owner: str | None = None
) -> Frame:
    """The accounts behind :func:`csm_impact`: each cohort account with its start CSM, MRR at the
    window's start and end, whether it kept its logo, and its out-of-fold expectations and fold."""
    _, _, co, ex = _scored(store, window=window, end=end)
    return for_owner(_accounts_frame(store, co, ex), owner)


def _accounts_frame(store: Store, co: Cohort, ex: Expected) -> Frame:
    mu = store.config.minor_units
    start, end = co.column("start_mrr"), co.column("end_mrr")
    n = len(start)
    table = pa.table(
        {
            "account_id": co.table["account_id"],
            "owner": co.table["owner"],
            "owner_name": co.table["owner_name"],
            "team": co.table["team"],
            "window_start": pa.array([co.start] * n, pa.date32()),
            "window_end": pa.array([co.end] * n, pa.date32()),
            "start_mrr": _money_array(start.astype(float).tolist(), mu),
            "end_mrr": _money_array(end.astype(float).tolist(), mu),
            "kept": pa.array(end > 0),
            "p_keep": pa.array(np.round(ex.keep, 4)),
            "expected_retained_share": pa.array(np.round(ex.retained_share, 4)),
            "expected_end_share": pa.array(np.round(ex.end_share, 4)),
            "fold": pa.array(ex.fold, pa.int64()),
        }
    )
    return Frame("csm_impact_accounts", table)


def _ranks(values: list[float]) -> list[int]:
    """1 for the highest value; ties share the better rank."""
    order = sorted(values, reverse=True)
    return [order.index(v) + 1 for v in values]


def csm_impact(
    store: Store,
    *,
    window: int | None = None,
    end: dt.date | str | None = None,
    min_accounts: int | None = None,
    owner: str | None = None,
) -> Frame:
    """Each CSM's actual GRR, NRR and logo retention over the window against the expected, the
    difference in points and ARR with its bootstrap interval, the verdict, and the rank by raw NRR
    beside the rank by the risk-adjusted difference (the module docstring has the rules). ``window``
    (months), ``min_accounts``: default ``[csm_impact]``; ``end``: the last month end on or before it
    (default: the as-of date); ``owner``: only that CSM's row (ranks among all CSMs)."""
    settings, _, co, ex = _scored(store, window=window, end=end)
    floor = settings.min_accounts if min_accounts is None else min_accounts
    mu = store.config.minor_units
    start = co.column("start_mrr").astype(float)
    end_mrr = co.column("end_mrr").astype(float)
    owners = co.table["owner"].to_pylist()
    names = co.table["owner_name"].to_pylist()
    teams = co.table["team"].to_pylist()
    kept = (end_mrr > 0).astype(float)
    retained = np.minimum(end_mrr, start)
    exp_end, exp_ret = start * ex.end_share, start * ex.retained_share
    # the gap of each account and what the gaps are divided by, per measure
    gaps = {"net": end_mrr - exp_end, "gross": retained - exp_ret, "logo": kept - ex.keep}
    weights = {"net": start, "gross": start, "logo": np.ones_like(start)}
    rows: list[dict[str, Any]] = []
    for who in sorted({o for o in owners if o != NO_VALUE}):
        at = np.array([o == who for o in owners])
        first = int(np.argmax(at))
        n = int(at.sum())
        s = start[at].sum()
        cut = {k: v[at] for k, v in gaps.items()}
        bounds = bootstrap(
            start[at],
            cut,
            {k: v[at] for k, v in weights.items()},
            owner=who,
            draws=settings.draws,
            confidence=settings.confidence,
            seed=settings.seed,
        )
        points = {k: 100 * cut[k].sum() / (s if k != "logo" else n) for k in gaps}
        low, high = bounds["net"]
        verdict = NONE if n < floor else ABOVE if low > 0 else BELOW if high < 0 else NOISE
        row: dict[str, Any] = {
            "owner": who,
            "owner_name": names[first],
            "team": teams[first],
            "accounts": n,
            "start_arr": 12 * s,
            "end_arr": 12 * end_mrr[at].sum(),
            "expected_end_arr": 12 * exp_end[at].sum(),
            "actual_nrr": end_mrr[at].sum() / s,
            "expected_nrr": exp_end[at].sum() / s,
            "actual_grr": retained[at].sum() / s,
            "expected_grr": exp_ret[at].sum() / s,
            "actual_logo_retention": kept[at].mean(),
            "expected_logo_retention": ex.keep[at].mean(),
            "net_arr_vs_expected": 12 * cut["net"].sum(),
            "gross_arr_vs_expected": 12 * cut["gross"].sum(),
            "verdict": verdict,
        }
        for k in gaps:
            row[f"{k}_points"] = round(points[k], 1)
            row[f"{k}_low"], row[f"{k}_high"] = round(bounds[k][0], 1), round(bounds[k][1], 1)
        rows.append(row)
    raw = _ranks([r["actual_nrr"] for r in rows])
    adjusted = _ranks([r["net_arr_vs_expected"] / r["start_arr"] for r in rows])
    for r, a, b in zip(rows, raw, adjusted, strict=True):
        r["rank_nrr"], r["rank_adjusted"] = a, b
    return for_owner(Frame("csm_impact", _table(rows, co, mu)), owner)


#: the columns of the csm_impact frame, in order (money columns are exact decimals)
COLUMNS = (
    "owner", "owner_name", "team", "accounts", "start_arr", "end_arr", "expected_end_arr",
    "actual_nrr", "expected_nrr", "net_points", "net_low", "net_high", "net_arr_vs_expected",
    "actual_grr", "expected_grr", "gross_points", "gross_low", "gross_high", "gross_arr_vs_expected",
    "actual_logo_retention", "expected_logo_retention", "logo_points", "logo_low", "logo_high",
    "verdict", "rank_nrr", "rank_adjusted",
)  # fmt: skip
_MONEY = ("start_arr", "end_arr", "expected_end_arr", "net_arr_vs_expected", "gross_arr_vs_expected")
_TEXT = ("owner", "owner_name", "team", "verdict")
_INT = ("accounts", "rank_nrr", "rank_adjusted")


def _table(rows: list[dict[str, Any]], co: Cohort, mu: int) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for name in COLUMNS:
        values = [r[name] for r in rows]
        if name in _MONEY:
            cols[name] = _money_array(values, mu)
        elif name in _TEXT:
            cols[name] = pa.array(values, pa.string())
        elif name in _INT:
            cols[name] = pa.array(values, pa.int64())
        else:
            cols[name] = pa.array([float(v) for v in values], pa.float64())
    n = len(rows)
    cols["window_start"] = pa.array([co.start] * n, pa.date32())
    cols["window_end"] = pa.array([co.end] * n, pa.date32())
    return pa.table(cols)
