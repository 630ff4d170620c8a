"""The dashboard's benchmarks beside a retention row (``metrics.benchmarks``), the slice's ACV cached."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..metrics.benchmarks import Benchmarks, acv_of, benchmarks, window_grain

if TYPE_CHECKING:
    from .data import Store

__all__ = ["beside"]


def beside(
    store: Store,
    row: Mapping[str, Any] | None,
    *,
    window: int,
    period_end: dt.date,
    by: str | None = None,
    value: Any = None,
) -> Benchmarks:
    """The NRR, GRR and gross revenue churn of a retention ``row`` (a window of ``window`` months
    ending ``period_end``, of the slice ``by`` = ``value`` or the whole book) beside their bands and the
    median of the slice's own ACV band; empty without a row or with ``[benchmarks] show = false``."""
    grain = window_grain(window)
    if not row or grain is None or not store.ws.config.benchmarks.show:
        return Benchmarks()
    acv = store.memo(("acv", period_end, by), lambda: acv_of(store.ws, period_end, by=by)).get(value if by else None)
    figures = {k: row.get(k) for k in ("nrr", "grr", "gross_revenue_churn")}
    return benchmarks(
        store.ws, figures, grain=grain, acv=acv, segment=str(value) if by == "segment" and value is not None else None
    )
