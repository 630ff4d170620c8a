"""Book: one CSM's or one team's book (ARR, NRR, GRR, movements, accounts), or every book side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...reports import charts
from ..filters import Filters, Query, filters_with, flag, slice_param
from ..paging import sorted_slice
from ..render import render
from .overview import charts_for, cohort_url, figures, top_movers

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Books", "/book")
BOOK_SLICES = ("owner", "team")
SHOWN = 50  # books listed (the largest by ARR) unless all=1
FILTERS = filters_with(slice_param(*BOOK_SLICES))
PARAMS = Query(flag("all", "every book"))


def leaderboard(f: Filters) -> list[dict[str, Any]]:
    """Every book at the period: ARR, the window's NRR, GRR and logo retention, the period's churn and expansion."""
    assert f.by is not None
    store = f.store
    end = f.period["period_end"]
    mrr = {r[f.by]: r for r in store.rows_at("mrr", end, grain=f.grain, by=f.by)}
    ret = {
        r[f.by]: r for r in store.rows_at("retention", end, grain=f.grain, by=f.by) if r["window_months"] == f.window
    }
    mov = {r[f.by]: r for r in store.rows_at("movements", end, grain=f.grain, by=f.by)}
    books = []
    for value, label in store.slice_values(f.by):
        if value not in mrr and value not in ret:
            continue
        books.append(
            {"value": value, "label": label, "mrr": mrr.get(value), "ret": ret.get(value), "mov": mov.get(value)}
        )
    return sorted(books, key=lambda b: -float(b["mrr"]["arr"] if b["mrr"] else 0))


@router.get("/book", response_class=HTMLResponse)
def book(
    request: Request,
    f: Filters = Depends(FILTERS),  # noqa: B008
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    if f.by is None:
        f.by = "owner"
    if f.value is None:
        books = leaderboard(f)
        shown = books if p["all"] else books[:SHOWN]
        return render(request, "book.html", title="Books", f=f, books=shown, total=len(books), fig=None)
    fig = figures(f)
    specs = charts_for(f, fig)
    specs["movements"] = charts.movement_bars(fig["movement_rows"][-24:], currency=f.store.currency)
    accounts = _accounts(f)
    return render(
        request,
        "book.html",
        title=f.slice_label or "Book",
        f=f,
        fig=fig,
        specs=specs,
        movers=top_movers(f),
        cohort_url=cohort_url(f),
        accounts=accounts,
        books=None,
        signals=_signals(f),
        impact=impact_section(f),
    )


SIGNALS_SHOWN = 20


def impact_section(f: Filters) -> dict[str, Any]:
    """The book's impact statements (docs/impact-statements.md), computed once per book in the
    background (the saves they read fit a model per flag date: tens of seconds): the state, the
    verified statements and the refusals, each with its provenance."""
    from ...impact.statements import provenance

    store = f.store
    by, value = f.by or "owner", f.value

    def compute() -> list[dict[str, Any]]:
        if by == "owner":
            return store.ws.impact_statements(owner=value).to_pylist()
        return store.ws.impact_statements(team=value).to_pylist()

    state, rows, problem = store.background(("impact_statements", by, value), compute)
    shown = [{**r, "provenance": provenance(r)} for r in rows or []]
    return {
        "state": state,
        "problem": problem,
        "verified": [r for r in shown if r["status"] == "verified"],
        "refused": [r for r in shown if r["status"] == "refused"],
    }


def _signals(f: Filters) -> dict[str, Any] | None:
    """The latest signals on the accounts of this book now (newest first), None without notes."""
    import polars as pl

    if not f.store.row_count("notes"):
        return None
    column = "owner" if f.by == "owner" else "team"
    df = f.store.signals().filter(pl.col(column) == f.value)
    link = "/signals?" + urlencode({"csm" if f.by == "owner" else "team": f.value})
    return {"rows": df.head(SIGNALS_SHOWN).to_dicts(), "total": df.height, "url": link}


def _accounts(f: Filters, n: int = 15) -> dict[str, Any]:
    import polars as pl

    df = f.store.account_list(f.grain, f.period).filter(
        (pl.col(f.by or "owner") == f.value) & (pl.col("status") == "paying")
    )
    return {"count": df.height, "top": sorted_slice(df, ["arr", "account_id"], [True, False], 0, n).to_dicts()}


def warm(store: Store) -> list[Callable[[], object]]:
    return [
        lambda: store.frame("mrr", grain="month", by="owner"),
        lambda: store.frame("retention", grain="month", by="owner"),
        lambda: store.frame("movements", grain="month", by="owner"),
        lambda: store.slice_values("owner"),
    ]
