"""Attribution: who or what drove each expansion (``revbook.impact.attribution``): expansion ARR per
class over the trailing window, NRR with and without product-driven expansion, each CSM's
influenced expansion, the rules in the order they decide, and the expansions behind the figures.

Every figure is a library call cached by the Store; the page filters and pages the rows in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...impact.attribution import CLASSES, RULES
from ...impact.attribution_summary import by_class
from ...reports import impact_charts
from ..filters import Query, choice, key, lookup, number, store_of
from ..render import render

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Attribution", "/attribution")
PAGE_SIZE = 50
WINDOW = 12
PARAMS = Query(
    key("csm", "CSM"),
    choice("attribution", CLASSES, "attribution class"),
    number("page", "page", 1),
)


@router.get("/attribution", response_class=HTMLResponse)
def attribution(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    import polars as pl

    store = store_of(request)
    csm, cls, page = p["csm"], p["attribution"], p["page"]
    lookup(PARAMS["csm"], csm, lambda: dict(store.slice_values("owner")), "CSM")
    total = store.rows("attribution_summary", window=WINDOW)[0]
    per_csm = store.rows("attribution_summary", window=WINDOW, by="csm")
    params = {"csm": csm, "attribution": cls}

    def url(**overrides: Any) -> str:
        merged = {**params, **overrides}
        query = urlencode({k: v for k, v in merged.items() if v})
        return "/attribution" + (f"?{query}" if query else "")

    rows = pl.from_arrow(store.frame("attribution"))
    assert isinstance(rows, pl.DataFrame)
    rows = rows.filter(pl.col("period_end") > total["window_start"]).sort(["period_end", "arr_delta"], descending=True)
    if csm:
        rows = rows.filter(pl.col("csm") == csm)
    per_class = dict(rows.group_by("attribution").len().iter_rows()) if rows.height else {}
    if cls:
        rows = rows.filter(pl.col("attribution") == cls)
    pages = max(1, -(-rows.height // PAGE_SIZE))
    page = min(page, pages)
    shown = next((r for r in per_csm if r["csm"] == csm), None) if csm else total
    classes = by_class(shown) if shown else []
    return render(
        request,
        "attribution.html",
        title="Attribution",
        window=WINDOW,
        total=total,
        shown=shown,
        csm=csm,
        csm_label=store.slice_label("owner", csm) if csm else None,
        cls=cls,
        classes=classes,
        spec=impact_charts.attribution_bars(
            classes, currency=store.currency, title=f"Expansion ARR by source, trailing {WINDOW} months"
        ),
        per_csm=sorted(per_csm, key=lambda r: -(r["gross_expansion_arr"] or 0)),
        rules=RULES,
        rows=rows.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts(),
        matched=rows.height,
        per_class=per_class,
        all_classes=CLASSES,
        page=page,
        pages=pages,
        url=url,
        owners=store.slice_values("owner"),
    )


def warm(store: Store) -> list[Callable[[], object]]:
    return [
        lambda: store.rows("attribution_summary", window=WINDOW),
        lambda: store.rows("attribution_summary", window=WINDOW, by="csm"),
        lambda: store.frame("attribution"),
    ]
