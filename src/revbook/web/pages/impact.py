"""Impact: each CSM's risk-adjusted retention (``revbook.impact.csm``: actual against what models that
do not know the CSM expect of their book, with a bootstrap interval and a verdict), their load weighted
by account complexity (``capacity``), and the change of their book over the year with its arithmetic
(``book_change``), and the saves claimed, each judged by what the model said on its flag dates
(``saves``); ``?csm=`` shows one CSM's figures in words.

The risk-adjusted figures take seconds (about 5 s at 2,000 accounts): they are computed once in a
background thread (``revbook serve`` starts them at start-up); meanwhile the page says so and reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...impact.csm import VERDICTS, by_rank, method_text
from ...impact.saves import saves_summary
from ...reports import impact_charts
from ..filters import Query, key, lookup, store_of
from ..render import render

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Impact", "/impact")
PARAMS = Query(key("csm", "CSM"))
#: the claimed saves listed, newest first
SAVES_SHOWN = 50


def impact_rows(store: Store, *, wait: bool = False) -> tuple[str, list[dict[str, Any]] | None, str | None]:
    """``csm_impact`` rows, computed once in the background (``wait``: in this thread)."""
    return store.background("csm_impact", lambda: store.ws.csm_impact().to_pylist(), wait=wait)


def save_rows(store: Store, *, wait: bool = False) -> tuple[str, Any, str | None]:
    """The ``saves`` frame (a model fitted per month end: tens of seconds), computed once in the background."""
    return store.background("saves", store.ws.saves, wait=wait)


def mine(rows: list[dict[str, Any]] | None, csm: str | None) -> list[dict[str, Any]]:
    return [r for r in rows or [] if csm is None or r["owner"] == csm]


@router.get("/impact", response_class=HTMLResponse)
def impact(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    store = store_of(request)
    csm = p["csm"]
    lookup(PARAMS["csm"], csm, lambda: dict(store.slice_values("owner")), "CSM")
    state, rows, problem = impact_rows(store)
    ranked = by_rank(mine(rows, csm))
    capacity = mine(store.rows("capacity"), csm)
    book = mine(store.rows("book_change"), csm)
    counts = {v: sum(r["verdict"] == v for r in rows or []) for v in VERDICTS}
    saves_state, saves, saves_problem = save_rows(store)
    my_saves = sorted(mine(saves.to_pylist() if saves else [], csm), key=lambda r: r["flag_date"], reverse=True)
    summary = [r for r in saves_summary(saves).to_pylist() if r["owner"] == (csm or "all")] if saves else []
    return render(
        request,
        "impact.html",
        title="Impact",
        csm=csm,
        csm_label=store.slice_label("owner", csm) if csm else None,
        state=state,
        problem=problem,
        impact=ranked,
        counts=counts,
        verdicts=VERDICTS,
        spec=impact_charts.impact_intervals(ranked, title="NRR against what each book's risk predicted")
        if ranked
        else None,
        method=method_text(store.ws.config.csm_impact),
        capacity=capacity,
        book=book,
        saves_state=saves_state,
        saves_problem=saves_problem,
        saves=my_saves[:SAVES_SHOWN],
        saves_total=len(my_saves),
        saves_summary=summary,
        owners=store.slice_values("owner"),
    )


def warm(store: Store) -> list[Callable[[], object]]:
    return [
        lambda: store.rows("capacity"),
        lambda: store.rows("book_change"),
        lambda: impact_rows(store, wait=True),
        lambda: save_rows(store, wait=True),
    ]
