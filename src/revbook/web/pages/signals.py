"""Signals: the trigger phrases found in notes (``find_signals``), newest first, filterable by rule,
polarity, CSM or team and date; beside it, what followed each signal (``signal_lift``).

The rules are the library's defaults with ``[signals]`` of revbook.toml. Note text is data: a
sentence is shown escaped, whatever it contains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from ...reports import charts
from ..filters import store_of
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("Signals", "/signals")
PAGE_SIZE = 50
#: a polarity filter keeps these rule polarities ("both" rules count as risk and as expansion, as in the library)
POLARITY = {"risk": ("risk", "both"), "expansion": ("expansion", "both"), "both": ("both",)}


def signal_rows(store: Store, account_ids: list[str] | None = None) -> pl.DataFrame:
    """The cached signals, newest first, of some accounts (all without ``account_ids``)."""
    import polars as pl

    df = store.signals()
    return df if account_ids is None else df.filter(pl.col("account_id").is_in(account_ids))


def lift_table(store: Store) -> dict[str, Any]:
    """``signal_lift`` rows pivoted: one row per rule with its 90 and 180-day rates and lifts; the base rates."""
    rows = store.signal_lift()
    base = {r["horizon_days"]: r for r in rows if r["rule"] == "(base)"}
    table: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["rule"] == "(base)":
            continue
        entry = table.setdefault(r["rule"], {"rule": r["rule"], "polarity": r["polarity"], "h": {}})
        entry["h"][r["horizon_days"]] = r
    return {"base": base, "rules": list(table.values()), "rows": rows}


@router.get("/signals", response_class=HTMLResponse)
def signals(
    request: Request,
    rule: str | None = Query(None, pattern=r"^[A-Za-z0-9_.-]{1,60}$", description="one rule's name"),
    polarity: Literal["", "risk", "expansion", "both"] = "",
    csm: str | None = Query(None, max_length=200, description="a CSM's id: the accounts of their book now"),
    team: str | None = Query(None, max_length=200, description="a team: the accounts of its book now"),
    account: str | None = Query(None, max_length=200, description="one account's id"),
    since: Annotated[dt.date | None, Query(description="notes dated on or after, e.g. 2026-01-01")] = None,
    until: Annotated[dt.date | None, Query(description="notes dated on or before")] = None,
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    import polars as pl

    store = store_of(request)
    if not store.row_count("notes"):
        return render(request, "signals.html", title="Signals", empty=True)
    names = [r.name for r in store.signal_rule_set()]
    if rule and rule not in names:
        raise HTTPException(422, f"rule: unknown signal rule {rule!r} (rules: {', '.join(names)})")
    if csm and csm not in dict(store.slice_values("owner")):
        raise HTTPException(404, f"no CSM {csm!r} in this workspace")
    if team and team not in dict(store.slice_values("team")):
        raise HTTPException(404, f"no team {team!r} in this workspace")
    if since and until and since > until:
        raise HTTPException(400, f"since ({since}) is after until ({until})")
    params: dict[str, Any] = {
        "rule": rule or None,
        "polarity": polarity or None,
        "csm": csm or None,
        "team": team or None,
        "account": account or None,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }

    def url(**overrides: Any) -> str:
        merged = {**params, **overrides}
        query = urlencode({k: v for k, v in merged.items() if v is not None and v != ""})
        return "/signals" + (f"?{query}" if query else "")

    df = store.signals()
    if csm:
        df = df.filter(pl.col("owner") == csm)
    if team:
        df = df.filter(pl.col("team") == team)
    if account:
        df = df.filter(pl.col("account_id") == account)
    if since:
        df = df.filter(pl.col("date") >= since)
    if until:
        df = df.filter(pl.col("date") <= until)
    if polarity:
        df = df.filter(pl.col("polarity").is_in(POLARITY[polarity]))
    per_rule = dict(df.group_by("rule").len().iter_rows()) if df.height else {}
    if rule:
        df = df.filter(pl.col("rule") == rule)
    pages = max(1, -(-df.height // PAGE_SIZE))
    page = min(page, pages)
    rows = df.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts()
    rule_set = [{"name": r.name, "polarity": r.polarity, "description": r.description} for r in store.signal_rule_set()]
    lift = lift_table(store)
    spec = charts.signal_lift_bars(lift["rows"], horizon=90, href=lambda r: url(rule=r["rule"], page=None))
    dates = store.signals()["date"]
    return render(
        request,
        "signals.html",
        title="Signals",
        empty=False,
        params=params,
        url=url,
        rows=rows,
        total=df.height,
        page=page,
        pages=pages,
        rules=rule_set,
        per_rule=per_rule,
        lift=lift,
        spec=spec,
        owners=store.slice_values("owner"),
        teams=store.slice_values("team"),
        csm_label=store.slice_label("owner", csm) if csm else None,
        notes=store.row_count("notes"),
        first_date=dates.min() if len(dates) else None,
        last_date=dates.max() if len(dates) else None,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    def default() -> object:
        if not store.row_count("notes"):
            return None
        store.signals()
        return store.signal_lift()

    return [default]
