"""Revenue Under Management: lifecycle stage, expansion potential and risk of every account, and
the ARR a CS team manages split by them (docs/rum.md has the definitions and the settings).

Stage of a paying account on a date, the first rule that holds:

1. **renewal window**: a running line's contract ends within ``renewal_window_days`` (90);
2. **onboarding**: its onboarding milestones are not all reached (with no milestones loaded: it
   first paid fewer than ``onboarding_days`` (90) ago);
3. **expansion window**: readiness holds: onboarding done, health not red, and seat utilisation at
   least ``expansion_utilisation`` (0.85) or usage above its plan's tier or an open expansion deal;
4. **adoption**: otherwise.

Overlays: **cancel requested** (a running line has a requested cancellation) and **churned** (paid
in the ``churned_days`` (90) before the date, not on it: its ARR is the ARR it had the day before
it left). Each account's stage comes with the reason in words.

Expansion potential (ARR, reporting currency), the sum of: seat whitespace (seats to bring
utilisation back to ``target_utilisation`` (0.75) when it is at or above the readiness level,
priced at the account's own seat price); usage above the plan's tier (actions per licensed seat
per month above ``usage_tiers[plan]``: the upgrade to the next plan, priced from the data's own
median seat prices by plan); cross-sell (each product that at least ``cross_sell_share`` (25%) of
paying accounts of the same segment own and this one does not, at that product's median ARR
among them); open expansion opportunities. Bands: high >= 25% of the account's ARR, medium >= 10%.

Risk: high when the composite health band is red or a cancellation is requested; otherwise
medium for yellow (or no data) and low for green.
Expected renewal ARR of accounts in the renewal window, from the logistic health model trained on
month ends before the date whose outcome was known by it (horizon: the renewal window): with p
the account's probability of a churn or contraction, ARR x (1 + p x g1 + (1 - p) x g0), where g1
and g0 are the mean relative MRR change over the horizon of the training rows with and without
such an event, ARR-weighted, among training rows that were themselves in a renewal window (so
expansion of the healthy is counted as well as the loss of the rest); trend:
growth above +2%, contraction below -2%, flat between. The open expansion pipeline is shown beside
it, not added to it (the expansions in g0 already include deals like it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..definitions import STAGES, UNMANAGED
from ..errors import ConfigError
from ..frame import Frame
from ..ledger import account_mrr_sql, active_on
from ..metrics.book import book_of

if TYPE_CHECKING:
    from ..config import HealthSettings, LifecycleSettings, RumSettings
    from ..store import Store

__all__ = ["STAGES", "accounts", "accounts_and_health", "flow", "rum"]

#: the renewal outlook's model trains on at most about this many accounts per scoring date
TRAIN_ACCOUNTS = 20_000


# ----------------------------------------------------------------------------------------------


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


def _potential(
    ws: Store, feats: pa.Table, on: dt.date, rs: RumSettings, util_ready: float
) -> dict[str, np.ndarray]:
    """Expansion potential components (reporting currency ARR) for each row of ``feats``."""
    lines = book_of(ws).ledger()
    scale = 10**ws.config.minor_units
    book_of(ws).engine.register("rb_rum_accounts", feats.select(["account_id"]))
    has_usage = bool(ws.row_counts().get("usage", 0))
    tiers = " ".join(f"WHEN '{k.replace(chr(39), '')}' THEN {float(v)}" for k, v in rs.usage_tiers.items())
    tier_expr = f"CASE pl.plan {tiers} END" if tiers else "NULL"
    usage = (
        f"""LEFT JOIN (
            SELECT account_id, avg(value) AS actions FROM usage
            WHERE metric = '{rs.usage_metric.replace(chr(39), "")}' AND date <= DATE '{on}' AND date > DATE '{on}' - 90
            GROUP BY account_id) us USING (account_id)"""
        if has_usage
        else "LEFT JOIN (SELECT NULL::VARCHAR AS account_id, NULL::DOUBLE AS actions) us USING (account_id)"
    )
    rows = ws.con.execute(
        f"""
        WITH running AS (
            SELECT l.account_id, l.product, l.plan, l.mrr, s.quantity, s.pricing_model
            FROM {lines} l LEFT JOIN subscriptions s ON s._file = l._file AND s._row = l._row
            WHERE l.mrr > 0 AND {active_on(f"DATE '{on}'")}
        ),
        seg AS (
            SELECT r.account_id, coalesce(h.value, a.segment, '(none)') AS segment
            FROM (SELECT DISTINCT account_id FROM running) r
            LEFT JOIN accounts a USING (account_id)
            LEFT JOIN (SELECT account_id, arg_max(value, valid_from) AS value FROM account_history
                       WHERE attribute = 'segment' AND valid_from <= DATE '{on}' GROUP BY account_id) h
              USING (account_id)
        ),
        seats AS (
            SELECT account_id, sum(quantity) AS seats, sum(mrr) AS seat_mrr,
                   arg_max(plan, mrr) AS plan
            FROM running WHERE pricing_model = 'per_seat' AND quantity > 0 GROUP BY account_id
        ),
        plan_price AS (
            SELECT plan, median(seat_mrr / seats) AS price FROM seats GROUP BY plan
        ),
        next_plan AS (
            SELECT p.plan, min(q.price) AS next_price, p.price
            FROM plan_price p LEFT JOIN plan_price q ON q.price > p.price GROUP BY p.plan, p.price
        ),
        owned AS (
            SELECT r.account_id, s.segment, r.product, sum(r.mrr) AS mrr
            FROM running r JOIN seg s USING (account_id) WHERE r.product IS NOT NULL GROUP BY ALL
        ),
        seg_size AS (SELECT segment, count(*) AS n FROM seg GROUP BY segment),
        popular AS (
            SELECT o.segment, o.product, count(*) AS owners, median(o.mrr) AS median_mrr
            FROM owned o JOIN seg_size z USING (segment) GROUP BY o.segment, o.product, z.n
            HAVING count(*) >= {float(rs.cross_sell_share)} * z.n
        ),
        cross_sell AS (
            SELECT s.account_id, sum(p.median_mrr) AS mrr, string_agg(p.product, ', ' ORDER BY p.product) AS products
            FROM seg s JOIN popular p ON p.segment = s.segment
            WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.account_id = s.account_id AND o.product = p.product)
            GROUP BY s.account_id
        )
        SELECT k.account_id, sa.seats, sa.seat_mrr, sa.plan, us.actions,
               {tier_expr} AS tier, np.next_price, np.price AS plan_price,
               cs.mrr AS cross_mrr, cs.products AS cross_products
        FROM rb_rum_accounts k
        LEFT JOIN seats sa USING (account_id)
        LEFT JOIN seats pl USING (account_id)
        LEFT JOIN next_plan np ON np.plan = sa.plan
        LEFT JOIN cross_sell cs USING (account_id)
        {usage}
        """
    ).to_arrow_table()
    order = pc.index_in(feats["account_id"], rows["account_id"])
    rows = rows.take(order)

    def col(name: str) -> np.ndarray:
        return np.asarray(rows[name].to_numpy(zero_copy_only=False), dtype=float)

    seats, seat_mrr, actions = col("seats"), col("seat_mrr"), col("actions")
    util = np.asarray(feats["utilisation"].to_numpy(zero_copy_only=False), dtype=float)
    users = util * seats
    with np.errstate(invalid="ignore", divide="ignore"):
        price = seat_mrr / seats
        need = np.ceil(users / rs.target_utilisation) - seats
        whitespace = np.where((util >= util_ready) & (need > 0), need * price * 12, 0.0)
        per_seat = actions / seats
        tier, next_price, plan_price = col("tier"), col("next_price"), col("plan_price")
        over = (per_seat > tier) & (next_price > plan_price)
        upgrade = np.where(over, seat_mrr * (next_price / plan_price - 1) * 12, 0.0)
    cross = np.nan_to_num(col("cross_mrr")) * 12
    opp = np.nan_to_num(np.asarray(feats["open_expansion_arr"].to_numpy(zero_copy_only=False), float))
    out = {
        "seat_whitespace_arr": np.nan_to_num(whitespace) / scale,
        "usage_upgrade_arr": np.nan_to_num(upgrade) / scale,
        "cross_sell_arr": cross / scale,
        "open_expansion_arr": opp,
        "over_tier": np.nan_to_num(over).astype(bool),
    }
    out["cross_sell_products"] = np.asarray(rows["cross_products"].to_numpy(zero_copy_only=False), dtype=object)
    return out


def _exact_arr(mrr: pa.Array | pa.ChunkedArray, minor_units: int) -> pa.Array:
    """12 x MRR (minor units) as an exact decimal in the reporting currency."""
    from decimal import Decimal

    return pa.array(
        [None if v is None else Decimal(12 * v).scaleb(-minor_units) for v in mrr.to_pylist()],
        pa.decimal128(18, minor_units),
    )


def _owners_on(ws: Store, on: dt.date, account_ids: pa.Array | pa.ChunkedArray) -> pa.Table:
    """The CSM (owner, owner_name, team) of each account on ``on``, as the metrics' owner slice
    reads it (:meth:`Book.slices_of`: the same rule for overlapping assignments); accounts with no
    CSM are left out."""
    from ..metrics.book import UNASSIGNED

    book = book_of(ws)
    n = len(account_ids)
    rows = "rb_rum_owner_rows"
    book.engine.register(
        rows,
        pa.table(
            {
                "account_id": account_ids,
                "period": pa.array([0] * n, pa.int64()),
                "period_end": pa.array([on] * n, pa.date32()),
                "mrr": pa.array([0] * n, pa.int64()),
            }
        ),
    )
    sliced = None
    try:
        sliced = book.slices_of(rows, ["owner", "owner_name", "team"])
        return book.engine.arrow(
            f"SELECT account_id, owner, owner_name, team FROM {sliced} WHERE owner <> '{UNASSIGNED}'"
        )
    finally:
        for name in (rows, *([sliced] if sliced else [])):
            book.engine.drop(name)
            book._built.discard(name)


def accounts(ws: Store, on: dt.date | str | None = None, *, expected: bool = True) -> Frame:
    """Every account paying on ``on`` (default: the as-of date), and those that churned in the
    ``churned_days`` before it: stage and reason, overlays, health score and band, risk band,
    expansion potential (by component, total, band), owner and team, ARR, and for accounts in the
    renewal window the expected renewal ARR and its trend."""
    return accounts_and_health(ws, on, expected=expected)[0]


def accounts_and_health(
    ws: Store, on: dt.date | str | None = None, *, expected: bool = True
) -> tuple[Frame, pa.Table]:
    """:func:`accounts`, and the composite health table of its paying accounts
    (:func:`revbook.health.composite.score_table` with ``arr``) from the same scoring."""
    from ..health.composite import score_table
    from ..health.features import features

    on = ws.config.on_date(on)
    lc, rs, hs = ws.config.lifecycle, ws.config.rum, ws.config.health
    feats = features(ws, [on], lifecycle=lc)
    n = feats.num_rows
    health = score_table(feats, hs)
    pot = _potential(ws, feats, on, rs, lc.expansion_utilisation)
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
    if expected and in_window.any():
        p_event, g1, g0 = _renewal_model(ws, feats, on, hs, rs, lc)
        if p_event is not None:
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
    return Frame("rum_accounts", table), health.append_column("arr", feats["arr"])


def _renewal_model(
    ws: Store, feats: pa.Table, on: dt.date, hs: HealthSettings, rs: RumSettings, lc: LifecycleSettings
) -> tuple[Any, float, float]:
    """p(churn or contraction within the renewal window) for each row, from a logistic model trained
    on month ends whose outcome was known on ``on``; plus the mean relative MRR change of the
    training rows with the event (g1) and without it (g0)."""
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
        return None, 0.0, 0.0
    model = HealthModel("logistic").fit(f_train, y)
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

    return model.predict_proba(feats), weighted(inside & y), weighted(inside & ~y)


def rum(
    ws: Store, on: dt.date | str | None = None, *, by: str | Sequence[str] = (), expected: bool = True
) -> Frame:
    """The RUM table on ``on``: ARR of managed accounts (a CSM assigned on the date) by stage x
    potential band x risk band, with accounts, potential ARR, open expansion ARR, ARR at risk
    (risk band high), renewal ARR in the window and its expected value; ``by`` adds ``team``
    and/or ``owner`` (with ``owner_name``); the unmanaged book (no CSM: pooled or tech-touch) is the
    row group ``managed = false``. Churned accounts are not in it (see :func:`flow`)."""
    by = [by] if isinstance(by, str) else list(by)
    for b in by:
        if b not in ("team", "owner"):
            raise ConfigError(f"RUM slices by team or owner, not '{b}'")
    acc = accounts(ws, on, expected=expected).to_arrow()
    book_of(ws).engine.register("rb_rum", acc)
    keys = ["managed", *(["team"] if "team" in by else []), *(["owner", "owner_name"] if "owner" in by else [])]
    keys += ["stage", "potential_band", "risk_band"]
    whens = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES, 1))
    order = f"CASE stage {whens} ELSE {len(STAGES) + 1} END"
    key_sql = ", ".join(keys)
    sort = ", ".join(["managed DESC", *keys[1:-3], order, "potential_band", "risk_band"])
    table = ws.con.execute(
        f"""
        SELECT {key_sql}, count(*) AS accounts, CAST(sum(arr) AS DECIMAL(18, 2)) AS arr,
               CAST(sum(potential_arr) AS DECIMAL(18, 2)) AS potential_arr,
               CAST(sum(open_expansion_arr) AS DECIMAL(18, 2)) AS open_expansion_arr,
               CAST(sum(CASE WHEN risk_band = 'high' THEN arr ELSE 0 END) AS DECIMAL(18, 2)) AS arr_at_risk,
               count(*) FILTER (WHERE overlay = 'cancel requested') AS cancel_requested,
               CAST(sum(CASE WHEN stage = 'renewal window' THEN arr END) AS DECIMAL(18, 2)) AS renewal_arr,
               CAST(sum(expected_renewal_arr) AS DECIMAL(18, 2)) AS expected_renewal_arr
        FROM rb_rum WHERE stage <> 'churned'
        GROUP BY {key_sql}
        ORDER BY {sort}
        """
    ).to_arrow_table()
    return Frame("rum", table)


def flow(ws: Store, start: dt.date | str, end: dt.date | str | None = None) -> Frame:
    """How ARR moved between stages from ``start`` to ``end``, like a pipeline's stage flow: one row
    per (from_stage, to_stage) with its movement (new, renewed: out of the renewal window, stayed,
    moved, churned), accounts, ARR at the start and the end, the change, and the change split into
    expansion and contraction of the accounts that stayed customers. ``new`` is an account not
    paying at the start; ``churned`` one that stopped paying by the end (its end ARR is 0)."""
    d0, d1 = ws.config.on_date(start), ws.config.on_date(end)
    if d1 <= d0:
        raise ConfigError(f"the flow's end {d1} must be after its start {d0}")
    a = accounts(ws, d0, expected=False).to_arrow()
    b = accounts(ws, d1, expected=False).to_arrow()
    a = a.filter(pc.not_equal(a["stage"], "churned"))
    book_of(ws).engine.register("rb_flow_a", a.select(["account_id", "stage", "arr"]))
    book_of(ws).engine.register("rb_flow_b", b.select(["account_id", "stage", "arr"]))
    table = ws.con.execute(
        """
        WITH pairs AS (
            SELECT coalesce(a.stage, 'new') AS from_stage,
                   CASE WHEN b.stage IS NULL OR b.stage = 'churned' THEN 'churned' ELSE b.stage END AS to_stage,
                   coalesce(a.arr, 0) AS arr_start,
                   CASE WHEN b.stage IS NULL OR b.stage = 'churned' THEN 0 ELSE b.arr END AS arr_end
            FROM rb_flow_a a FULL JOIN rb_flow_b b USING (account_id)
            WHERE NOT (a.stage IS NULL AND b.stage = 'churned')
        )
        SELECT from_stage, to_stage,
               CASE WHEN to_stage = 'churned' THEN 'churned'
                    WHEN from_stage = 'new' THEN 'new'
                    WHEN from_stage = 'renewal window' AND to_stage <> 'renewal window' THEN 'renewed'
                    WHEN from_stage = to_stage THEN 'stayed'
                    ELSE 'moved' END AS movement,
               count(*) AS accounts,
               CAST(sum(arr_start) AS DECIMAL(18, 2)) AS arr_start,
               CAST(sum(arr_end) AS DECIMAL(18, 2)) AS arr_end,
               CAST(sum(arr_end - arr_start) AS DECIMAL(18, 2)) AS arr_change,
               CAST(sum(CASE WHEN from_stage <> 'new' AND to_stage <> 'churned'
                             THEN greatest(arr_end - arr_start, 0) ELSE 0 END) AS DECIMAL(18, 2)) AS arr_expanded,
               CAST(sum(CASE WHEN from_stage <> 'new' AND to_stage <> 'churned'
                             THEN least(arr_end - arr_start, 0) ELSE 0 END) AS DECIMAL(18, 2)) AS arr_contracted
        FROM pairs
        GROUP BY ALL
        ORDER BY from_stage, to_stage
        """
    ).to_arrow_table()
    return Frame("rum_flow", table)
