"""The RUM table (managed ARR by stage x potential x risk) and the stage flow between two dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from ..definitions import STAGES
from ..errors import ConfigError
from ..frame import Frame
from ..metrics.book import book_of
from .accounts import accounts

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["flow", "rum"]


def rum(ws: Store, on: dt.date | str | None = None, *, by: str | Sequence[str] = (), expected: bool = True) -> Frame:
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
