"""Signals: the trigger phrases found in notes (``find_signals``), newest first, filterable by rule,
polarity, CSM or team and date; beside it, what followed each signal (``signal_lift``).

The rules are the library's defaults with ``[signals]`` of revbook.toml. Note text is data: a
sentence is shown escaped, whatever it contains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...errors import ConfigError
from ...reports import charts
from ..filters import Query, choice, date, key, lookup, number, store_of
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("Signals", "/signals")
PAGE_SIZE = 50
#: a polarity filter keeps these rule polarities ("both" rules count as risk and as expansion, as in the library)
POLARITY = {"risk": ("risk", "both"), "expansion": ("expansion", "both"), "both": ("both",)}
PARAMS = Query(
    key("rule", "signal rule", code=True),
    choice("polarity", tuple(POLARITY), "polarity"),
    key("csm", "CSM"),
    key("team", "team"),
    key("account", "account"),
    date("since", "first note date"),
    date("until", "last note date"),
    number("page", "page", 1),
)


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
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    import polars as pl

    rule, polarity, csm, team, account = p["rule"], p["polarity"], p["csm"], p["team"], p["account"]
    since, until, page = p["since"], p["until"], p["page"]
    store = store_of(request)
    if not store.row_count("notes"):
        return render(request, "signals.html", title="Signals", empty=True)
    lookup(PARAMS["rule"], rule, lambda: [r.name for r in store.signal_rule_set()], "signal rule")
    lookup(PARAMS["csm"], csm, lambda: dict(store.slice_values("owner")), "CSM")
    lookup(PARAMS["team"], team, lambda: dict(store.slice_values("team")), "team")
    lookup(PARAMS["account"], account, lambda: store.table("accounts")["account_id"].to_list(), "account")
    if since and until and since > until:
        raise ConfigError(f"since: {since} is after until ({until})", hint="choose a since on or before until")
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
