"""Expansion potential of each paying account (docs/rum.md): seat whitespace, usage above the
plan's tier, cross-sell and open expansion opportunities, in ARR of the reporting currency."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..ledger import active_on
from ..metrics.book import book_of

if TYPE_CHECKING:
    from ..config import RumSettings
    from ..store import Store

__all__ = ["potential"]


def potential(ws: Store, feats: pa.Table, on: dt.date, rs: RumSettings, util_ready: float) -> dict[str, np.ndarray]:
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
