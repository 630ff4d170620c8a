"""The health table people read: each account's composite score beside its owner and lifecycle
stage (the RUM scoring of the same date), filtered by band and owner, worst first."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..definitions import HEALTH_BANDS, UNKNOWN_BAND
from ..errors import ConfigError
from ..frame import Frame
from ..metrics.owners import for_owner

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["BANDS", "band_totals", "check_band", "health_scores"]

#: the bands of the composite score, best first; ``unknown`` when a score has no data
BANDS = (*reversed([b for b in HEALTH_BANDS if b != UNKNOWN_BAND]), UNKNOWN_BAND)


def check_band(band: str | None) -> None:
    """Refuse a band that is not one of :data:`BANDS` (None passes)."""
    if band is not None and band not in BANDS:
        raise ConfigError(f"unknown band '{band}'", hint="use red, yellow or green")


def health_scores(
    ws: Store, on: dt.date | str | None = None, *, band: str | None = None, owner: str | None = None
) -> Frame:
    """The composite health of every account paying on ``on`` (default: the as-of date) with its
    ``owner`` and lifecycle ``stage`` (from :func:`revbook.rum.accounts` of the same scoring),
    only ``band`` and ``owner``'s accounts when given, worst score first (then largest ARR)."""
    import pyarrow.compute as pc

    from .accounts import accounts_and_health

    check_band(band)
    frame, table = accounts_and_health(ws, on, expected=False)
    acc = frame.to_arrow()
    idx = pc.index_in(table["account_id"], acc["account_id"])
    table = table.append_column("owner", acc["owner"].take(idx)).append_column("stage", acc["stage"].take(idx))
    if band is not None:
        table = table.filter(pc.equal(table["band"], band))
    table = for_owner(Frame("health", table), owner).to_arrow()
    return Frame("health", table.sort_by([("score", "ascending"), ("arr", "descending")]))


def band_totals(scores: Frame) -> dict[str, tuple[int, float]]:
    """Accounts and ARR per band of a :func:`health_scores` table, every band of :data:`BANDS` in order."""
    totals = dict.fromkeys(BANDS, (0, 0.0))
    for r in scores.to_arrow().select(["band", "arr"]).to_pylist():
        n, arr = totals[r["band"]]
        totals[r["band"]] = (n + 1, arr + (r["arr"] or 0.0))
    return totals
