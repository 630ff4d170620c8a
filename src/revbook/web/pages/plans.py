"""Account plans: the VIP accounts (``plans.vip_accounts``) with their plans, and one page per
account with its plan (``plans.plan_view``: each KPI's live figure against its target, the decision
journey of each offering it does not own yet), the form that creates or edits it, and its history.

The form is the dashboard's only write (:mod:`revbook.web.security`: POST under ``/plans/`` only,
same origin, the session's CSRF token, the access token off loopback). A write goes through the
library (``plans.create_plan`` / ``plans.edit_plan``: validation, optimistic versions), so the form
meets the same errors as the command line; they are shown on the form, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from ...definitions import JOURNEY_STAGES
from ...errors import ConfigError, NotFoundError, WorkspaceError
from ...plans import (
    KPI_METRICS,
    LISTS,
    create_plan,
    edit_plan,
    live_values,
    plan_view,
    planned_accounts,
    vip_accounts,
)
from ...reports.plan import format_kpi, render_plan
from ..filters import Param, Query, store_of
from ..render import render
from ..security import CSRF_FIELD, FormRefused, csrf_token, read_form

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Plans", "/plans")
#: empty KPI rows the form offers beside the plan's
SPARE_KPIS = 2
PARAMS = Query(Param("saved", "int", "saved plan version", low=1, high=1_000_000))
PRINT = Query(Param("paper", "choice", "paper size", default="a4", choices=("a4", "letter")))
LIST_LABELS = {"challenges": "Challenges", "goals": "Goals", "initiatives": "Key initiatives", "plays": "Next plays"}


def _vip_rows(store: Store) -> list[dict[str, Any]]:
    return store.memo("plans.vip", lambda: vip_accounts(store.ws).to_pylist())


def warm(store: Store) -> list[Callable[[], object]]:
    """The VIP list and every account's live KPI figures on the as-of date (the first plan page's cost)."""

    def live() -> object:
        with store.lock:
            return live_values(store.ws, store.as_of)

    return [lambda: _vip_rows(store), live]


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request) -> HTMLResponse:
    store = store_of(request)
    with store.lock:
        vips = _vip_rows(store)
        planned = planned_accounts(store.ws)
    rows = [{**r, "plan": planned.get(r["account_id"])} for r in vips]
    vip_ids = {r["account_id"] for r in vips}
    others = [{"account_id": a, "plan": p} for a, p in sorted(planned.items()) if a not in vip_ids]
    return render(
        request,
        "plans.html",
        title="Account plans",
        rows=rows,
        others=others,
        rule=store.ws.config.vip.describe(),
        with_plan=sum(1 for r in rows if r["plan"]),
    )


def form_of(view: dict[str, Any]) -> dict[str, Any]:
    """The edit form's values from the plan (empty without one)."""
    current = view["current"]
    plan = current.plan if current else None
    return {
        "version": current.version if current else 0,
        "lists": {name: "\n".join(getattr(plan, name)) if plan else "" for name in LISTS},
        "kpis": [{"metric": k.metric, "target": str(k.target), "due": k.due.isoformat()} for k in plan.kpis]
        if plan
        else [],
        "stages": {o["product"]: o["stage"] or "" for o in view["offerings"]},
        "author": "",
        "note": "",
        "force": False,
    }


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def submitted(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The form's values as sent (to show again beside an error)."""
    metrics, targets, dues = (fields.get(n, []) for n in ("kpi_metric", "kpi_target", "kpi_due"))
    kpis = [
        {"metric": m.strip(), "target": t.strip(), "due": d.strip()}
        for m, t, d in zip(metrics, targets, dues, strict=False)
        if m.strip() or t.strip() or d.strip()
    ]
    products, stages = fields.get("stage_product", []), fields.get("stage", [])
    version = _one(fields, "version").strip()
    return {
        "version": int(version) if version.isdigit() else version,
        "lists": {name: _one(fields, name) for name in LISTS},
        "kpis": kpis,
        "stages": dict(zip(products, stages, strict=False)),
        "author": _one(fields, "author"),
        "note": _one(fields, "note"),
        "force": _one(fields, "force") == "1",
    }


def changes_of(form: dict[str, Any]) -> dict[str, Any]:
    """The plan's fields from the form: a list per textarea (one item a line, blank lines left out),
    the KPI rows filled in, and the stages chosen."""
    out: dict[str, Any] = {
        name: [line for line in (x.strip() for x in form["lists"][name].splitlines()) if line] for name in LISTS
    }
    out["kpis"] = [{"metric": k["metric"], "target": k["target"], "due": k["due"]} for k in form["kpis"]]
    out["journey"] = {p: s for p, s in form["stages"].items() if s}
    return out


def _page(
    request: Request,
    view: dict[str, Any],
    form: dict[str, Any],
    *,
    errors: list[str] | None = None,
    saved: int | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = form["kpis"] + [{"metric": "", "target": "", "due": ""}] * SPARE_KPIS
    response = render(
        request,
        "plan.html",
        title=f"Plan · {view['name'] or view['account_id']}",
        view=view,
        form=form,
        kpi_rows=rows,
        errors=errors or [],
        saved=saved,
        csrf=csrf_token(request),
        csrf_field=CSRF_FIELD,
        metrics=KPI_METRICS,
        stages=JOURNEY_STAGES,
        list_labels=LIST_LABELS,
        fmt=format_kpi,
    )
    response.status_code = status
    return response


@router.get("/plans/{account}", response_class=HTMLResponse)
def plan_page(request: Request, account: str, p: dict[str, Any] = Depends(PARAMS)) -> HTMLResponse:  # noqa: B008
    view = _view(store_of(request), account)
    return _page(request, view, form_of(view), saved=p["saved"])


@router.get("/plans/{account}/print", response_class=HTMLResponse)
def plan_print(request: Request, account: str, p: dict[str, Any] = Depends(PRINT)) -> HTMLResponse:  # noqa: B008
    store = store_of(request)
    view = _view(store, account)
    if view["current"] is None:
        raise NotFoundError(f"account {account} has no plan to print", value=account, hint="create it on its plan page")
    return HTMLResponse(render_plan(view, currency=store.currency, paper=p["paper"]))


def _view(store: Store, account: str) -> dict[str, Any]:
    with store.lock:
        return plan_view(store.ws, account)


def _save(store: Store, account: str, form: dict[str, Any]) -> int:
    changes = changes_of(form)
    version = form["version"]
    if not isinstance(version, int):
        raise ConfigError("the form's version is not a whole number", value=version, hint="reload the page")
    with store.lock:
        if version == 0:
            made = create_plan(
                store.ws, account, changes, author=form["author"], note=form["note"], force=form["force"]
            )
        else:
            made = edit_plan(store.ws, account, version, changes, author=form["author"], note=form["note"])
    return made.version


@router.post("/plans/{account}", response_class=HTMLResponse)
async def plan_save(request: Request, account: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    try:
        fields = await read_form(request)
    except FormRefused as refused:
        return PlainTextResponse(refused.reason, status_code=refused.status)
    store = store_of(request)
    form = submitted(fields)
    try:
        version = await run_in_threadpool(_save, store, account, form)
    except NotFoundError:
        raise
    except (ConfigError, WorkspaceError) as exc:
        view = await run_in_threadpool(_view, store, account)
        current = view["current"]
        status = 400 if isinstance(exc, ConfigError) else 409
        if isinstance(exc, WorkspaceError) and current is not None:
            # a stale edit: the form keeps what was typed, now over the current version, to check and save again
            form = {**form, "version": current.version}
        return _page(request, view, form, errors=[str(exc)], status=status)
    return RedirectResponse(f"/plans/{quote(account, safe='')}?saved={version}", status_code=303)
