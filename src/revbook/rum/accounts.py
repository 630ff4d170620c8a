"""Every account on a date: lifecycle stage and reason, overlays, health, risk, expansion
potential, owner, ARR and the renewal outlook; the accounts that churned just before."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..definitions import UNMANAGED
from ..frame import Frame
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from .outlook import Outlook, fit_outlook
from .potential import potential as expansion_potential

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Scoring", "accounts", "accounts_and_health", "scoring"]


def _paying_before(ws: Store, on: dt.date, days: int) -> pa.Table:
    """Accounts not paying on ``on`` that paid in the ``days`` before: (account_id, mrr the day they left)."""
    lines = book_of(ws).ledger()
    return ws.con.execute(
        f"""
        WITH ends AS (
            SELECT account_id, max(end_date) AS left_on FROM {lines}
            WHERE mrr > 0 AND end_date IS NOT NULL GROUP BY account_id
        ),
        recent AS (
            SELECT account_id, left_on, DATE '{on}' AS today, CAST(left_on - 1 AS DATE) AS eve FROM ends
            WHERE left_on <= DATE '{on}' AND left_on > DATE '{on}' - {int(days)}
        ),
        now AS {account_mrr_sql(lines, "recent", "today", "mrr_now")},
        before AS {account_mrr_sql(lines, "recent", "eve")}
        SELECT r.account_id, r.left_on, CAST(b.mrr AS BIGINT) AS mrr
        FROM recent r JOIN now n ON n.account_id = r.account_id
        JOIN before b ON b.account_id = r.account_id AND b.eve = r.eve
        WHERE n.mrr_now = 0
        ORDER BY r.account_id
        """
    ).to_arrow_table()


def _exact_arr(mrr: pa.Array | pa.ChunkedArray, minor_units: int) -> pa.Array:
    """12 x MRR (minor units) as an exact decimal in the reporting currency."""
    from decimal import Decimal

    return pa.array(
        [None if v is None else Decimal(12 * v).scaleb(-minor_units) for v in mrr.to_pylist()],
        pa.decimal128(18, minor_units),
    )


def _owners_on(ws: Store, on: dt.date, account_ids: pa.Array | pa.ChunkedArray) -> pa.Table:
    """The CSM (owner, owner_name, team) of each account on ``on``, as the metrics' owner slice
    reads it (:meth:`Book.slices_at`: the same rule for overlapping assignments); accounts with no
    CSM are left out."""
    from ..metrics.book import UNASSIGNED

    sl = book_of(ws).slices_at(account_ids, on, ["owner", "owner_name", "team"])
    return sl.select(["account_id", "owner", "owner_name", "team"]).filter(pc.not_equal(sl["owner"], UNASSIGNED))


def accounts(ws: Store, on: dt.date | str | None = None, *, expected: bool = True) -> Frame:
    """Every account paying on ``on`` (default: the as-of date), and those that churned in the
    ``churned_days`` before it: stage and reason, overlays, health score and band, risk band,
    expansion potential (by component, total, band), owner and team, ARR, and for accounts in the
    renewal window the expected renewal ARR and its trend."""
    return accounts_and_health(ws, on, expected=expected)[0]


def accounts_and_health(ws: Store, on: dt.date | str | None = None, *, expected: bool = True) -> tuple[Frame, pa.Table]:
    """:func:`accounts`, and the composite health table of its paying accounts
    (:func:`revbook.health.composite.score_table` with ``arr``) from the same scoring."""
    s = scoring(ws, on, expected=expected)
    return s.frame, s.health


class Scoring(NamedTuple):
    """One RUM scoring: the accounts frame, the health table, the point-in-time features of the
    paying accounts (rows in the frame's order) and the renewal outlook's fitted model (None when
    not asked for or not fittable)."""

    frame: Frame
    health: pa.Table
    feats: pa.Table
    outlook: Outlook | None


def scoring(ws: Store, on: dt.date | str | None = None, *, expected: bool = True, outlook: bool = False) -> Scoring:
    """The scoring behind :func:`accounts_and_health`; ``outlook``: fit the renewal outlook even when
    no account is in its renewal window (revbook.rum.forecast needs every account's probability)."""
    from ..health.composite import score_table
    from ..health.features import features

    on = ws.config.on_date(on)
    lc, rs, hs = ws.config.lifecycle, ws.config.rum, ws.config.health
    feats = features(ws, [on], lifecycle=lc)
    n = feats.num_rows
    health = score_table(feats, hs)
    pot = expansion_potential(ws, feats, on, rs, lc.expansion_utilisation)
    has_ms = bool(ws.row_counts().get("milestones", 0))

    def f(name: str) -> np.ndarray:
        return np.asarray(feats[name].to_numpy(zero_copy_only=False), dtype=float)

    tenure, progress, util = f("tenure_days"), f("milestone_progress"), f("utilisation")
    renew, cancel = f("days_to_renewal"), f("cancel_requested") > 0
    band = np.asarray(health["band"].to_numpy(zero_copy_only=False), dtype=object)
    onboarding_open = (progress < 1) if has_ms else (tenure < lc.onboarding_days)
    open_opp = pot["open_expansion_arr"] > 0
    ready_util = util >= lc.expansion_utilisation
    ready = ~onboarding_open & (band != "red") & (ready_util | pot["over_tier"] | open_opp)
    stage = np.where(
        renew <= lc.renewal_window_days,
        "renewal window",
        np.where(onboarding_open, "onboarding", np.where(ready, "expansion window", "adoption")),
    )
    reasons = []
    for i in range(n):
        s = stage[i]
        if s == "renewal window":
            r = f"contract ends in {int(renew[i])} days"
        elif s == "onboarding":
            r = (
                f"{round(progress[i] * len(lc.onboarding_milestones))} of {len(lc.onboarding_milestones)} "
                f"onboarding milestones reached, {int(tenure[i])} days in"
                if has_ms
                else f"first paid {int(tenure[i])} days ago (onboarding lasts {lc.onboarding_days})"
            )
            if has_ms and tenure[i] > lc.onboarding_days:
                r += " (overdue)"
        elif s == "expansion window":
            why = []
            if ready_util[i]:
                why.append(f"seat utilisation {util[i]:.0%}")
            if pot["over_tier"][i]:
                why.append("usage above its plan's tier")
            if open_opp[i]:
                why.append("an open expansion deal")
            r = "onboarded, health " + str(band[i]) + ", " + " and ".join(why)
        else:
            r = "onboarded; no expansion readiness yet" if band[i] != "red" else "onboarded; health red"
        reasons.append(r)
    potential = (
        pot["seat_whitespace_arr"] + pot["usage_upgrade_arr"] + pot["cross_sell_arr"] + pot["open_expansion_arr"]
    )
    arr = f("arr")
    hi, med = rs.potential_bands
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(arr > 0, potential / arr, 0.0)
    pband = np.where(share >= hi, "high", np.where(share >= med, "medium", "low"))
    risk = np.where((band == "red") | cancel, "high", np.where(band == "green", "low", "medium"))
    gone = _paying_before(ws, on, lc.churned_days)
    owners = _owners_on(
        ws, on, pa.concat_arrays([feats["account_id"].combine_chunks(), gone["account_id"].combine_chunks()])
    )
    idx = pc.index_in(feats["account_id"], owners["account_id"])
    owner = owners["owner"].take(idx)
    team = pc.if_else(pc.is_null(idx), pa.scalar(UNMANAGED), owners["team"].take(idx))
    overlay = np.where(cancel, "cancel requested", "")
    cols: dict[str, Any] = {
        "account_id": feats["account_id"],
        "stage": pa.array(stage.astype(object), pa.string()),
        "reason": pa.array(reasons, pa.string()),
        "overlay": pa.array(overlay.astype(object), pa.string()),
        "arr": _exact_arr(feats["mrr"], ws.config.minor_units),
        "health_score": health["score"],
        "health_band": health["band"],
        "health_drivers": health["drivers"],
        "risk_band": pa.array(risk.astype(object), pa.string()),
        "potential_arr": pa.array(np.round(potential, 2)),
        "potential_band": pa.array(pband.astype(object), pa.string()),
        "seat_whitespace_arr": pa.array(np.round(pot["seat_whitespace_arr"], 2)),
        "usage_upgrade_arr": pa.array(np.round(pot["usage_upgrade_arr"], 2)),
        "cross_sell_arr": pa.array(np.round(pot["cross_sell_arr"], 2)),
        "cross_sell_products": pa.array(pot["cross_sell_products"], pa.string()),
        "open_expansion_arr": pa.array(np.round(pot["open_expansion_arr"], 2)),
        "owner": owner,
        "owner_name": owners["owner_name"].take(idx),
        "team": team,
        "managed": pc.invert(pc.is_null(idx)),
    }
    exp_arr = np.full(n, np.nan)
    p_event = np.full(n, np.nan)
    in_window = stage == "renewal window"
    fit = None
    if outlook or (expected and in_window.any()):
        fit = fit_outlook(ws, feats, on, hs, rs, lc)
    if expected and in_window.any():
        if fit is not None:
            p_event, g1, g0 = fit.model.predict_proba(feats), fit.g1, fit.g0
            exp_arr = arr * (1 + p_event * g1 + (1 - p_event) * g0)
            exp_arr = np.where(in_window, exp_arr, np.nan)
            p_event = np.where(in_window, p_event, np.nan)
        else:
            p_event = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = exp_arr / arr - 1
    label = np.where(change > rs.growth_band, "growth", np.where(change < -rs.growth_band, "contraction", "flat"))
    trend = np.where(np.isnan(exp_arr), np.array(None, dtype=object), label.astype(object))
    cols["p_churn_or_contract"] = pa.array(np.round(p_event, 4), mask=np.isnan(p_event))
    cols["expected_renewal_arr"] = pa.array(np.round(exp_arr, 2), mask=np.isnan(exp_arr))
    cols["renewal_trend"] = pa.array(trend.astype(object), pa.string())
    table = pa.table(cols)
    if gone.num_rows:
        gi = pc.index_in(gone["account_id"], owners["account_id"])
        m = gone.num_rows
        churned = {name: pa.nulls(m, table.schema.field(name).type) for name in table.column_names}
        churned["account_id"] = gone["account_id"]
        churned["stage"] = pa.array(["churned"] * m, pa.string())
        churned["overlay"] = pa.array(["churned"] * m, pa.string())
        left = gone["left_on"].to_pylist()
        churned["reason"] = pa.array([f"stopped paying on {d}" for d in left], pa.string())
        churned["arr"] = _exact_arr(gone["mrr"], ws.config.minor_units)
        churned["owner"] = owners["owner"].take(gi)
        churned["owner_name"] = owners["owner_name"].take(gi)
        churned["team"] = pc.if_else(pc.is_null(gi), pa.scalar(UNMANAGED), owners["team"].take(gi))
        churned["managed"] = pc.invert(pc.is_null(gi))
        table = pa.concat_tables([table, pa.table(churned, schema=table.schema)])
    return Scoring(Frame("rum_accounts", table), health.append_column("arr", feats["arr"]), feats, fit)
