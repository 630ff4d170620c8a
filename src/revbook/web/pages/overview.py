"""Overview: ARR, NRR, GRR and logo retention with their trends, the period's waterfall, top movers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...reports import charts
from ..filters import Filters, filters
from ..paging import sorted_slice
from ..render import render

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Overview", "/")


def at_period(rows: list[dict[str, Any]], period: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in rows if r["period_end"] == period["period_end"]), None)


def figures(f: Filters) -> dict[str, Any]:
    """The Overview figures of a slice (or everything), all read from cached library frames: ARR and
    retention at the period, the movements (waterfall) at ``f.moves_period``."""
    store = f.store
    by = f.by if f.value is not None else None
    mrr = store.rows_in("mrr", by, f.value, grain=f.grain)
    retention = [r for r in store.rows_in("retention", by, f.value, grain=f.grain) if r["window_months"] == f.window]
    movements = store.rows_in("movements", by, f.value, grain=f.grain)
    now = at_period(mrr, f.period) or {"arr": 0, "mrr": 0, "accounts": 0}
    ret = at_period(retention, f.period) or {}
    moves_period = f.moves_period
    mov = at_period(movements, moves_period)
    return {
        "moves_period": moves_period,
        "moves_label": f.store.label(f.grain, moves_period),
        "mrr_rows": mrr,
        "retention_rows": retention,
        "movement_rows": movements,
        "now": now,
        "ret": ret,
        "mov": mov,
    }


def cohort_url(f: Filters, row: Mapping[str, Any] | None = None, **extra: Any) -> str:
    """The accounts behind a retention figure: the window's starting cohort, month grain."""
    end = row["period_end"] if row else f.period["period_end"]
    return f.url("/accounts", view="cohort", grain="month", period=f"{end.year}-{end.month:02d}", **extra)


def top_movers(f: Filters, n: int = 8) -> dict[str, list[dict[str, Any]]]:
    import polars as pl

    store = f.store
    moves = store.moves(f.grain).filter(pl.col("period") == f.moves_period["period"])
    if f.by and f.value is not None:
        moves = moves.filter(pl.col(f.by) == f.value)
    names = store.table("accounts").select("account_id", "name")
    moves = moves.join(names, on="account_id", how="left").select(
        "account_id", "name", "movement", "start_mrr", "end_mrr", "change", "segment", "owner_name"
    )
    return {
        "up": sorted_slice(
            moves.filter(pl.col("change") > 0), ["change", "account_id"], [True, False], 0, n
        ).to_dicts(),
        "down": sorted_slice(
            moves.filter(pl.col("change") < 0), ["change", "account_id"], [False, False], 0, n
        ).to_dicts(),
    }


def charts_for(f: Filters, fig: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cur = f.store.currency
    specs = {
        "arr": charts.arr_trend(
            fig["mrr_rows"], currency=cur, href=lambda r: f.url("/accounts", period=r["period"], status="paying")
        ),
        "retention": charts.retention_trend(fig["retention_rows"], window=f.window, href=lambda r: cohort_url(f, r)),
    }
    if fig["mov"]:
        specs["waterfall"] = charts.waterfall(fig["mov"], currency=cur, href=lambda kind: waterfall_url(f, kind))
    return specs


def waterfall_url(f: Filters, kind: str) -> str | None:
    label = f.moves_period["period"]
    if kind == "end":
        return f.url("/accounts", period=label, status="paying")
    if kind == "start":
        prev = f.store.shift(f.grain, label, 1)
        return f.url("/accounts", period=prev["period"], status="paying") if prev else None
    return f.url("/accounts", period=label, view="movement", movement=kind)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, f: Filters = Depends(filters)) -> HTMLResponse:  # noqa: B008
    fig = figures(f)
    from ..benchmarks import beside

    by = f.by if f.value is not None else None
    bench = beside(f.store, fig["ret"], window=f.window, period_end=f.period["period_end"], by=by, value=f.value)
    return render(
        request,
        "overview.html",
        title="Overview",
        f=f,
        fig=fig,
        specs=charts_for(f, fig),
        bench=bench,
        movers=top_movers(f),
        cohort_url=cohort_url(f),
        headline_findings=f.store.headline_findings(),
        concentration=book_alerts(f.store) if f.by is None else None,
    )


def book_alerts(store: Store) -> dict[str, Any]:
    """The book's concentration over the trailing year: the masking sentence and the alerts of the
    [concentration] thresholds (``revbook.impact.concentration``), once per workspace."""

    def compute() -> dict[str, Any]:
        from ...impact.concentration import alerts

        frame = store.ws.concentration()
        rows = frame.to_pylist()
        # the alerts read the same figures, not a second computation of them
        return {"sentence": rows[0]["sentence"] if rows else None, "alerts": alerts(store.ws, frame=frame)}

    return store.memo(("book_alerts",), compute)


def warm(store: Store) -> list[Callable[[], object]]:
    return [
        lambda: store.rows("mrr", grain="month", by=None),
        lambda: store.rows("retention", grain="month", by=None),
        lambda: store.rows("movements", grain="month", by=None),
        lambda: store.moves("month"),
        store.headline_findings,
        lambda: book_alerts(store),
    ]
