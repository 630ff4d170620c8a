"""Capacity: each CSM's load weighted by account complexity, beside their RUM (docs/csm-impact.md).

An account paying on the date weighs, with the ``[csm_impact]`` weights:

    weight = segment weight                                    (segment_weights; other_segment_weight)
           + product_weight x (running products - 1)
           + risk_weight       if an open risk: health band red, a cancel request, or an escalated
                               case open on the date
           + renewal_weight    if a renewal falls in the next renewal_days (health.renewals)
           + escalation_weight x escalated cases opened in the last 90 days

Everything is read on the date (point in time): the segment and the CSM as the metrics' slices read
them (:meth:`revbook.metrics.book.Book.slices_of`), the health band from the composite
(:func:`revbook.health.composite.score_table`), renewals and escalations from the point-in-time
features (:func:`revbook.health.features.features`). A CSM's load is the sum of their accounts'
weights; ``load_vs_median`` is it over the median load of every CSM holding accounts on the date.
Accounts with no CSM are left out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..definitions import NO_VALUE
from ..frame import Frame
from ..health.composite import score_table
from ..health.features import features
from ..ledger import active_on
from ..metrics.book import book_of
from ..metrics.owners import for_owner

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["account_weights", "capacity"]


def _products_and_escalations(store: Store, on: dt.date) -> pa.Table:
    """Per account paying on ``on``: running products (distinct products of its paid lines active
    that day; a line without a product counts as one) and escalated cases open on the day."""
    lines = book_of(store).ledger()
    day = f"DATE '{on.isoformat()}'"
    esc = "SELECT NULL::VARCHAR AS account_id, 0 AS open_escalated WHERE false"
    if store.row_counts().get("tickets", 0):
        esc = f"""SELECT account_id, count(*) AS open_escalated FROM tickets
                  WHERE coalesce(escalated, false) AND opened_at <= {day}
                    AND (closed_at IS NULL OR closed_at > {day})
                  GROUP BY account_id"""
    return store.con.execute(
        f"""WITH p AS (
                SELECT l.account_id, count(DISTINCT coalesce(l.product, '')) AS products
                FROM {lines} l WHERE l.mrr > 0 AND {active_on(day)} GROUP BY l.account_id),
            e AS ({esc})
            SELECT p.account_id, p.products, CAST(coalesce(e.open_escalated, 0) AS BIGINT) AS open_escalated
            FROM p LEFT JOIN e USING (account_id)"""
    ).to_arrow_table()


def account_weights(store: Store, *, on: dt.date | str | None = None, owner: str | None = None) -> Frame:
    """Every account paying on ``on`` (default: the as-of date) with its CSM, segment, ARR, the
    complexity drivers and its weight (the module docstring has the rule)."""
    day = store.config.on_date(on)
    cs = store.config.csm_impact
    feats = features(store, [day])
    ids = feats["account_id"]
    band = score_table(feats, store.config.health)["band"]
    sl = book_of(store).slices_at(ids, day, ["segment", "owner", "owner_name", "team"])
    pe = _products_and_escalations(store, day)
    at_sl, at_pe = pc.index_in(ids, sl["account_id"]), pc.index_in(ids, pe["account_id"])

    def num(name: str) -> np.ndarray:
        values: np.ndarray = np.nan_to_num(np.asarray(feats[name].to_numpy(zero_copy_only=False), dtype=float))
        return values

    segment = sl["segment"].take(at_sl).to_pylist()
    products = np.asarray(pe["products"].take(at_pe).fill_null(1).to_numpy(zero_copy_only=False), dtype=float)
    open_escalated = np.asarray(pe["open_escalated"].take(at_pe).fill_null(0).to_numpy(zero_copy_only=False))
    red = np.asarray([b == "red" for b in band.to_pylist()])
    cancel = num("cancel_requested") > 0
    risk = red | cancel | (open_escalated > 0)
    days = np.asarray(feats["days_to_renewal"].to_numpy(zero_copy_only=False), dtype=float)
    renewal = ~np.isnan(days) & (days <= cs.renewal_days)
    escalations = num("escalations_90d")
    seg_w = np.array([cs.segment_weights.get(s, cs.other_segment_weight) if s else cs.other_segment_weight
                      for s in segment])  # fmt: skip
    weight = (
        seg_w
        + cs.product_weight * np.maximum(products - 1, 0)
        + cs.risk_weight * risk
        + cs.renewal_weight * renewal
        + cs.escalation_weight * escalations
    )
    mu = store.config.minor_units
    arr = [Decimal(12 * int(m)).scaleb(-mu) for m in feats["mrr"].to_pylist()]
    table = pa.table(
        {
            "account_id": ids,
            "owner": sl["owner"].take(at_sl),
            "owner_name": sl["owner_name"].take(at_sl),
            "team": sl["team"].take(at_sl),
            "segment": pa.array(segment, pa.string()),
            "arr": pa.array(arr, pa.decimal128(18, mu)),
            "products": pa.array(products.astype(np.int64)),
            "health_band": band,
            "cancel_requested": pa.array(cancel),
            "open_escalated": pa.array(open_escalated.astype(np.int64)),
            "open_risk": pa.array(risk),
            "renewal_due": pa.array(renewal),
            "escalations_90d": pa.array(escalations.astype(np.int64)),
            "weight": pa.array(np.round(weight, 4)),
        }
    )
    return for_owner(Frame("capacity_accounts", table), owner)


def capacity(store: Store, *, on: dt.date | str | None = None, owner: str | None = None) -> Frame:
    """Each CSM's accounts, managed ARR (their RUM), complexity-weighted load, load per account and
    load over the median CSM's, with the counts behind the load, highest load first; ``owner``: only
    that CSM's row (the median is still every CSM's)."""
    acc = account_weights(store, on=on).to_arrow()
    day = store.config.on_date(on)
    groups: dict[str, list[int]] = {}
    for i, o in enumerate(acc["owner"].to_pylist()):
        if o is not None and o != NO_VALUE:
            groups.setdefault(o, []).append(i)
    col = {name: acc[name].to_pylist() for name in acc.column_names}
    rows: list[dict[str, Any]] = []
    for who, at in groups.items():
        weight = sum(col["weight"][i] for i in at)
        rows.append(
            {
                "owner": who,
                "owner_name": col["owner_name"][at[0]],
                "team": col["team"][at[0]],
                "accounts": len(at),
                "managed_arr": sum((col["arr"][i] for i in at), Decimal(0)),
                "load": round(weight, 2),
                "load_per_account": round(weight / len(at), 2),
                "open_risks": sum(bool(col["open_risk"][i]) for i in at),
                "renewals_due": sum(bool(col["renewal_due"][i]) for i in at),
                "escalations_90d": sum(col["escalations_90d"][i] for i in at),
                "multi_product": sum(col["products"][i] > 1 for i in at),
            }
        )
    median = float(np.median([r["load"] for r in rows])) if rows else 0.0
    for r in rows:
        r["load_vs_median"] = round(r["load"] / median, 3) if median > 0 else None
    rows.sort(key=lambda r: (-r["load"], r["owner"]))
    mu = store.config.minor_units
    names = ("owner", "owner_name", "team", "accounts", "managed_arr", "load", "load_vs_median", "load_per_account",
             "open_risks", "renewals_due", "escalations_90d", "multi_product")  # fmt: skip
    types: dict[str, pa.DataType] = {
        "owner": pa.string(), "owner_name": pa.string(), "team": pa.string(), "managed_arr": pa.decimal128(18, mu),
        "load": pa.float64(), "load_vs_median": pa.float64(), "load_per_account": pa.float64(),
    }  # fmt: skip
    table = pa.table({n: pa.array([r[n] for r in rows], types.get(n, pa.int64())) for n in names})
    table = table.append_column("on_date", pa.array([day] * len(rows), pa.date32()))
    return for_owner(Frame("capacity", table), owner)
