"""Retention: NRR, GRR and logo retention by slice for 1, 3 and 12-month windows; cohort triangles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...reports import charts
from ..benchmarks import beside
from ..filters import WINDOWS, Filters, Query, filters, flag
from ..render import render

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Retention", "/retention")
DEFAULT_SLICE = "segment"
SHOWN = 40  # slices shown (the largest by starting MRR) unless all=1; the chart shows at most CHARTED
CHARTED = 20
PARAMS = Query(flag("all", "every slice"))


def by_slice(f: Filters) -> list[dict[str, Any]]:
    """One row per slice value: each window's cohort size, MRR, NRR, GRR and logo retention at the period."""
    rows = f.store.rows_at("retention", f.period["period_end"], grain=f.grain, by=f.by)
    table: dict[Any, dict[str, Any]] = {}
    for r in rows:
        if r.get("nrr") is None:
            continue
        key = r[f.by] if f.by else None
        if f.by and f.value is not None and key != f.value:
            continue
        entry = table.setdefault(key, {"value": key, "label": _label(f, r), "windows": {}})
        entry["windows"][r["window_months"]] = r
    return sorted(table.values(), key=lambda e: -float(e["windows"].get(f.window, {}).get("start_mrr") or 0))


def _label(f: Filters, r: dict[str, Any]) -> str:
    if not f.by:
        return "All accounts"
    return str(r.get("owner_name") or r[f.by]) if f.by == "owner" else str(r[f.by])


@router.get("/retention", response_class=HTMLResponse)
def retention(
    request: Request,
    f: Filters = Depends(filters),  # noqa: B008
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    if "by" not in request.query_params:
        f.by = DEFAULT_SLICE
    every = by_slice(f)
    slices = every if p["all"] else every[:SHOWN]
    end = f.period["period_end"]
    for s in slices:  # the 12-month figures beside their bands and the median of the slice's own ACV band
        s["bench"] = beside(f.store, s["windows"].get(12), window=12, period_end=end, by=f.by, value=s["value"])

    def drill(window: int, value: Any) -> str:
        end = f.period["period_end"]
        return f.url(
            "/accounts",
            view="cohort",
            grain="month",
            period=f"{end.year}-{end.month:02d}",
            window=window,
            value=value if f.by else None,
        )

    chart_rows = [
        dict(s["windows"][f.window], slice_label=s["label"]) for s in slices[:CHARTED] if f.window in s["windows"]
    ]
    specs = {
        "by_slice": charts.retention_by_slice(
            chart_rows,
            dim=f.by or "all accounts",
            label=lambda r: r["slice_label"],
            window=f.window,
            href=lambda r: drill(f.window, r[f.by] if f.by else None),
        ),
    }
    specs["cohorts"] = charts.cohort_heatmaps(
        f.store.rows("cohorts"),
        periods=[p["period"] for p in f.store.periods("month")],
        href_prefix="/accounts?grain=month&status=all",
    )
    return render(
        request,
        "retention.html",
        title="Retention",
        f=f,
        slices=slices,
        total=len(every),
        charted=min(CHARTED, len(chart_rows)),
        windows=WINDOWS,
        drill=drill,
        specs=specs,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    return [
        lambda: store.rows("retention", grain="month", by=DEFAULT_SLICE),
        lambda: store.rows("cohorts"),
        lambda: store.slice_values(DEFAULT_SLICE),
    ]
