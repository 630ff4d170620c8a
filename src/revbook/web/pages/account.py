"""Account: one account's MRR timeline with each movement, its ledger lines and its owner history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...errors import NotFoundError
from ...reports import charts
from ..filters import store_of
from ..render import render

router = APIRouter()
NAV = None  # reached from every list of accounts


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(request: Request, account_id: str) -> HTMLResponse:
    import polars as pl

    store = store_of(request)
    period = store.period("month", None)
    listing = store.account_list("month", period) if period else None
    found = listing.filter(pl.col("account_id") == account_id).to_dicts() if listing is not None else []
    if not found:
        shown = account_id if len(account_id) <= 60 else account_id[:60] + "…"
        raise NotFoundError(f"no account {shown!r} in this workspace", value=account_id, hint="find it on /accounts")
    acc = found[0]
    # per-account library calls bind the id as a parameter; they are quick, so not cached
    with store.lock:
        mrr = store.ws.mrr(account=account_id).to_pylist()
        lines = store.ws.ledger(account=account_id).to_pylist()
    moves = store.moves("month").filter(pl.col("account_id") == account_id).sort("period_end").to_dicts()
    owners = _owner_history(store.table("owners").filter(pl.col("account_id") == account_id), store.owner_names())
    details = store.table("accounts").filter(pl.col("account_id") == account_id).to_dicts()[0]
    signals, reasons = account_insights(store, account_id)
    lifecycle = account_lifecycle(store, account_id)
    spec = charts.account_timeline(_with_zeros(mrr, store.periods("month")), moves, currency=store.currency)
    return render(
        request,
        "account.html",
        title=acc["name"] or account_id,
        acc=acc,
        details=details,
        moves=list(reversed(moves)),
        lines=lines,
        owners=owners,
        spec=spec,
        period=period,
        signals=signals,
        reasons=reasons,
        lifecycle=lifecycle,
    )


SIGNALS_SHOWN = 50


def account_lifecycle(store: Any, account_id: str) -> dict[str, Any] | None:
    """The account's stage, overlays, risk, potential and renewal outlook on the as-of date
    (``rum.accounts``) and its composite health score with each component (``health.composite``);
    None when it neither pays on the as-of date nor churned in the window before it."""
    import polars as pl

    from ...health.composite import COMPONENTS

    found = store.rum_accounts(store.as_of).filter(pl.col("account_id") == account_id).to_dicts()
    if not found:
        return None
    health = store.health().filter(pl.col("account_id") == account_id).to_dicts()
    h = health[0] if health else {}
    components = [
        {"name": c, "description": d, "score": h.get(c), "lost": h.get(f"lost_{c}")} for c, (_, d) in COMPONENTS.items()
    ]
    return {"rum": found[0], "components": components}


def account_insights(store: Any, account_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """The account's signals in notes (newest first) and its churn reasons, from the cached library
    frames; None for what the workspace has not loaded."""
    import polars as pl

    signals = None
    if store.row_count("notes"):
        df = store.signals().filter(pl.col("account_id") == account_id)
        signals = {"rows": df.head(SIGNALS_SHOWN).to_dicts(), "total": df.height}
    reasons = None
    if store.row_count("churn_reasons"):
        reasons = (
            store.reason_events().filter(pl.col("account_id") == account_id).sort("date", descending=True).to_dicts()
        )
    return signals, reasons


def _with_zeros(mrr: list[dict[str, Any]], periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The account's snapshots from its first MRR on, with the months it paid nothing shown at 0."""
    if not mrr:
        return []
    paid = {r["period"]: r["mrr"] for r in mrr}
    first = mrr[0]["period"]
    return [
        {"period": p["period"], "period_label": p.get("period_label"), "mrr": paid.get(p["period"], 0)}
        for p in periods
        if p["period"] >= first
    ]


def _owner_history(owners: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = owners.sort("start_date", descending=True).to_dicts()
    for r in rows:
        r["name"] = names.get(r["owner_id"], r["owner_id"])
    return rows
