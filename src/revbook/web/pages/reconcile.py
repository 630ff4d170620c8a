"""Reconcile: why our numbers differ (``revbook.metrics.reconcile.why_numbers_differ``): revbook's MRR
beside the amount invoiced each month, the difference split by cause, and for one month the
accounts behind each cause (largest first); with the CRM's ARR field read (account_history
crm_arr), revbook's ARR beside it on each read day, and the accounts behind each cause on the latest.

Every figure is a library call cached by the Store; a workspace without invoices says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...errors import WorkspaceError
from ...metrics.reconcile import CAUSES, CRM_CAUSES
from ..filters import Query, lookup, period, store_of
from ..render import render

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..data import Store

router = APIRouter()
NAV = ("Reconcile", "/reconcile")
MONTHS = 24
TOP = 10
PARAMS = Query(period("month", "month", months_only=True))


@router.get("/reconcile", response_class=HTMLResponse)
def reconcile(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    store = store_of(request)
    crm = _against_crm(store)
    try:
        months = store.rows("why_numbers_differ")
    except WorkspaceError as exc:
        return render(request, "reconcile.html", title="Reconcile", refused=str(exc), hint=exc.hint, crm=crm, top=TOP)
    labels = [str(r["period"]) for r in months]
    lookup(PARAMS["month"], p["month"], lambda: labels, "month", "among the months revbook has MRR for")
    month = p["month"] or (labels[-1] if labels else None)
    shown = next((r for r in months if r["period"] == month), None)
    accounts = [r for r in store.rows("why_numbers_differ", accounts=True) if r["period"] == month]
    behind = {c: _largest(accounts, c) for c in (*CAUSES, "unexplained")}
    return render(
        request,
        "reconcile.html",
        title="Reconcile",
        refused=None,
        months=list(reversed(months[-MONTHS:])),
        month=month,
        shown=shown,
        causes=CAUSES,
        behind={c: (rows[:TOP], len(rows)) for c, rows in behind.items()},
        top=TOP,
        crm=crm,
    )


def _against_crm(store: Store) -> dict[str, Any] | None:
    """revbook's ARR beside the CRM's ARR field per read day, and the accounts behind each cause on the
    latest read day; None when no CRM ARR was read."""
    try:
        days = store.rows("why_numbers_differ", against="crm")
    except WorkspaceError:
        return None
    if not days:
        return None
    latest = days[-1]
    accounts = store.rows("why_numbers_differ", against="crm", accounts=True)
    rows = [r for r in accounts if r["read_on"] == latest["read_on"]]
    behind = {c: _largest(rows, c) for c in (*CRM_CAUSES, "unexplained")}
    return {
        "days": list(reversed(days[-MONTHS:])),
        "latest": latest,
        "causes": CRM_CAUSES,
        "behind": {c: (found[:TOP], len(found)) for c, found in behind.items()},
    }


def _largest(rows: list[dict[str, Any]], cause: str) -> list[dict[str, Any]]:
    """The rows with a non-zero ``cause``, largest first (then by account id)."""
    return sorted((r for r in rows if r[cause]), key=lambda r: (-abs(r[cause]), str(r["account_id"])))


def warm(store: Store) -> list[Callable[[], object]]:
    return [lambda: store.rows("why_numbers_differ")]
