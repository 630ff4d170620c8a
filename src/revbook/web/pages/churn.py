"""Churn: why accounts left or shrank, ranked by logos and by ARR lost (Pareto), the events behind each
reason, and how the accounts that left for the top reasons looked before (upstream).

Every figure is a library call (``revbook.insights``: ``pareto``, ``reason_events``, ``upstream``),
cached per workspace by the Store; the page filters and pages the cached rows in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...errors import ConfigError
from ...reports import charts
from ..filters import GRAINS, Filters, Query, filters, key, lookup, number, period
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("Churn", "/churn")
PAGE_SIZE = 25
COMMENT_CHARS = 400  # a comment longer than this is cut in the list (the full text stays in the workspace)
PARAMS = Query(
    period("start", "first period of the range"),
    key("reason", "churn reason", code=True),
    number("page", "page", 1),
)

#: how each upstream feature reads: (label, kind) with kind pct (a ratio), points (already in percent),
#: days or num
FEATURES: dict[str, tuple[str, str]] = {
    "mrr_trend_90d": ("MRR trend over the 90 days before", "pct"),
    "mrr_trend_180d": ("MRR trend over the 180 days before", "pct"),
    "prior_contractions": ("prior contractions", "num"),
    "tenure_days": ("tenure (days)", "days"),
    "discount_percent": ("discount", "points"),
    "segment=smb": ("share in segment smb", "pct"),
    "segment=mid_market": ("share in segment mid_market", "pct"),
    "segment=enterprise": ("share in segment enterprise", "pct"),
    "tickets_180d": ("tickets in the 180 days before", "num"),
    "escalations_180d": ("escalations in the 180 days before", "num"),
    "last_nps": ("last NPS", "num"),
    "usage_trend_90d": ("usage trend over 90 days", "pct"),
    "health_score": ("health score", "num"),
}


def fmt_feature(feature: str, value: float | None, gap: bool = False) -> str:
    """A feature's mean (or, ``gap=True``, a difference of means) as a reader expects it."""
    if value is None:
        return "–"
    kind = FEATURES.get(feature, (feature, "num"))[1]
    scale, decimals = {"pct": (100, 1), "points": (1, 1), "days": (1, 0)}.get(kind, (1, 2))
    v = round(value * scale, decimals) + 0.0  # + 0.0: no "-0"
    text = f"{v:+,.{decimals}f}" if gap else f"{v:,.{decimals}f}"
    if kind in ("pct", "points"):
        return f"{text} pts" if gap else f"{text}%"
    return text


def start_period(store: Store, grain: str, label: str | None) -> dict[str, Any] | None:
    """The range's first period. A label of another grain (the grain was just changed) becomes the
    period of this grain that contains its start; a label of no grain is a 400."""
    if label is None:
        return None
    found = store.period(grain, label)
    if found is not None:
        return found
    for other in GRAINS:
        p = store.period(other, label) if other != grain else None
        if p is not None:
            day = p["period_start"]
            return next((q for q in store.periods(grain) if q["period_start"] <= day <= q["period_end"]), None)
    periods = store.periods(grain)
    span = f"{periods[0]['period']} … {periods[-1]['period']}" if periods else "none"
    raise ConfigError(f"start: {label!r} is not a {grain} of this workspace", value=label, hint=f"its {grain}s: {span}")


def date_range(f: Filters, first: dict[str, Any] | None) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) dates for ``pareto``: None where the range is open (the defaults: all history)."""
    periods = f.store.periods(f.grain)
    last = periods[-1] if periods else None
    start = None if first is None or (periods and first["period"] == periods[0]["period"]) else first["period_start"]
    end = None if last is not None and f.period["period"] == last["period"] else f.period["period_end"]
    return start, end


def ranked(f: Filters, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """The Pareto rows of the chosen slice value (all accounts without one)."""
    if f.by and f.value is not None:
        return [r for r in f.store.pareto(f.by, "quarter", start, end) if r[f.by] == f.value]
    return f.store.pareto(None, "quarter", start, end)


def by_slice(f: Filters, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Per value of the slice: events, ARR lost, and the top reason by count and by ARR lost."""
    assert f.by is not None
    table: dict[Any, dict[str, Any]] = {}
    for r in f.store.pareto(f.by, "quarter", start, end):
        entry = table.setdefault(
            r[f.by],
            {
                "value": r[f.by],
                "label": (r.get("owner_name") or r[f.by]) if f.by == "owner" else r[f.by],
                "events": 0,
                "arr_lost": 0,
                "top_count": None,
                "top_arr": None,
            },
        )
        entry["events"] += r["events"]
        entry["arr_lost"] += r["arr_lost"] or 0
        if r["rank_count"] == 1:
            entry["top_count"] = r
        if r["rank_arr"] == 1:
            entry["top_arr"] = r
    return sorted(table.values(), key=lambda e: -float(e["arr_lost"]))


def events(f: Filters, start: dt.date | None, end: dt.date | None, reason: str | None) -> pl.DataFrame:
    """The churns and contractions behind the Pareto (``reason_events``), in the same range and slice."""
    import polars as pl

    df = f.store.reason_events()
    if start is not None:
        df = df.filter(pl.col("date") >= start)
    if end is not None:
        df = df.filter(pl.col("date") <= end)
    if f.by and f.value is not None:
        df = df.filter(pl.col(f.by) == f.value)
    if reason is not None:
        df = df.filter(pl.col("reason") == reason)
    return df.sort(["arr_lost", "date", "account_id"], descending=[True, True, False])


def upstream_view(store: Store) -> dict[str, Any]:
    """The upstream rows grouped by reason, and the inputs that are not loaded."""
    from ...insights.upstream import OPTIONAL

    rows = store.upstream()
    labels = {r["reason"]: r["reason_label"] for r in store.pareto(None, "quarter", None, None)}
    groups: dict[str, dict[str, Any]] = {}
    missing: set[str] = set()
    for r in rows:
        if r["status"] == "not loaded":
            missing.add(r["feature"])
            continue
        g = groups.setdefault(
            r["reason"],
            {
                "reason": r["reason"],
                "label": labels.get(r["reason"], r["reason"]),
                "owner": r["reason_owner"],
                "rows": [],
            },
        )
        sig = r["gap_low"] is not None and (r["gap_low"] > 0 or r["gap_high"] < 0)
        g["rows"].append(
            dict(
                r,
                label=FEATURES.get(r["feature"], (r["feature"], "num"))[0],
                left=fmt_feature(r["feature"], r["left_mean"]),
                stayed=fmt_feature(r["feature"], r["stayed_mean"]),
                gap_text=fmt_feature(r["feature"], r["gap"], gap=True),
                low=fmt_feature(r["feature"], r["gap_low"], gap=True),
                high=fmt_feature(r["feature"], r["gap_high"], gap=True),
                significant=sig,
            )
        )
    not_loaded = [
        {"table": table, "features": [FEATURES.get(x, (x, ""))[0] for x in feats]}
        for table, feats in OPTIONAL.items()
        if any(x in missing for x in feats)
    ]
    return {"groups": list(groups.values()), "not_loaded": not_loaded}


def headline(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Who leads each view, and how many reasons rank differently by logos and by dollars."""
    if not rows:
        return None
    top_count = min(rows, key=lambda r: r["rank_count"])
    top_arr = min(rows, key=lambda r: r["rank_arr"])
    return {
        "top_count": top_count,
        "top_arr": top_arr,
        "moved": sum(1 for r in rows if r["rank_count"] != r["rank_arr"]),
        "events": sum(r["events"] for r in rows),
        "logos": sum(r["churned_logos"] for r in rows),
        "contractions": sum(r["contractions"] for r in rows),
        "unmatched": sum(r["unmatched"] for r in rows),
        "arr_lost": sum((r["arr_lost"] or 0) for r in rows),
        "vital_count": [r for r in sorted(rows, key=lambda r: r["rank_count"]) if r["vital_few_count"]],
        "vital_arr": [r for r in sorted(rows, key=lambda r: r["rank_arr"]) if r["vital_few_arr"]],
    }


@router.get("/churn", response_class=HTMLResponse)
def churn(
    request: Request,
    f: Filters = Depends(filters),  # noqa: B008
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    start, reason, page = p["start"], p["reason"], p["page"]
    store = f.store
    if not store.row_count("churn_reasons"):
        return render(request, "churn.html", title="Churn", f=f, empty=True)
    if "grain" not in request.query_params and "period" not in request.query_params:
        f.grain, f.period = "quarter", store.period("quarter", None) or f.period
    first = start_period(store, f.grain, start)
    if first is not None and first["period_start"] > f.period["period_end"]:
        raise ConfigError(
            f"start: {first['period']} is after period {f.label}", hint="choose a start before the period"
        )
    lo, hi = date_range(f, first)
    rows = ranked(f, lo, hi)
    lookup(
        PARAMS["reason"],
        reason,
        lambda: sorted({r["reason"] for r in rows} | {r["reason"] for r in store.pareto(None, "quarter", None, None)}),
        "churn reason",
    )
    f.extra = {"start": first["period"] if first else None}

    def reason_url(r: Mapping[str, Any]) -> str:
        return f.url(reason=r["reason"], page=None) + "#events"

    specs = {}
    if rows:
        cur = store.currency
        specs["pareto_arr"] = charts.pareto(rows, measure="arr", currency=cur, href=reason_url)
        specs["pareto_count"] = charts.pareto(rows, measure="count", currency=cur, href=reason_url)
    ev = events(f, lo, hi, reason)
    pages = max(1, -(-ev.height // PAGE_SIZE))
    page = min(page, pages)
    ev_rows = ev.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts()
    for r in ev_rows:
        c = r.get("comment")
        r["comment_short"] = c if not isinstance(c, str) or len(c) <= COMMENT_CHARS else c[:COMMENT_CHARS] + "…"
    chosen = next((r for r in rows if r["reason"] == reason), None) if reason else None
    return render(
        request,
        "churn.html",
        title="Churn",
        f=f,
        empty=False,
        first=first,
        first_label=first["period"] if first else store.periods(f.grain)[0]["period"],
        rows=sorted(rows, key=lambda r: r["rank_arr"]),
        head=headline(rows),
        specs=specs,
        slices=by_slice(f, lo, hi) if f.by and f.value is None else None,
        reason=reason,
        chosen=chosen,
        events=ev_rows,
        events_total=ev.height,
        events_arr=ev["arr_lost"].sum() if ev.height else 0,
        page=page,
        pages=pages,
        upstream=upstream_view(store),
        reason_url=reason_url,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    def default() -> object:
        if not store.row_count("churn_reasons"):
            return None
        store.pareto(None, "quarter", None, None)
        store.reason_events()
        return store.upstream()

    return [default]
