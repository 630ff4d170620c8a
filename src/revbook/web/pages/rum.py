"""RUM: the ARR a CS team manages on a date, by lifecycle stage x expansion potential x risk
(``rum.rum``), by team and CSM, how it moved between stages (``rum.flow``), and the renewal outlook
(``rum.accounts``), and the Forecast panel: expected NRR, GRR and logo retention over the [forecast]
horizons (``rum.forecast``) beside the backtest's error and the naive forecast's
(``rum.forecast_backtest``). The definitions are the docstring of :mod:`revbook.rum` (and the
Definitions page; the forecast's method is docs/forecast.md).

The forecast takes seconds to a minute (a model and the history of every horizon) and is computed in
a background thread on the first visit; the backtest, one forecast per past month end (minutes on
a large book), runs when asked for (``?backtest=yes``, a link on the panel), one date per
background job so the dashboard's other pages are served between them; meanwhile the panel says so.

Every figure is the library's: the tiles and the matrix sum the rows of ``rum(by=team)`` (or
``by=owner`` for one CSM), the account lists filter ``rum.accounts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...definitions import STAGES
from ...errors import ConfigError
from ...reports import cs_charts
from ..filters import Query, choice, date, key, lookup, store_of
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("RUM", "/rum")
BANDS = ("high", "medium", "low")
LIST_SIZE = 200
FLOW_MONTHS = 6
PARAMS = Query(
    date("on", "date RUM is read on"),
    date("from", "flow's start date"),
    key("team", "team"),
    key("owner", "CSM"),
    choice("stage", (*STAGES, "churned"), "lifecycle stage"),
    choice("potential", BANDS, "expansion potential band"),
    choice("risk", BANDS, "risk band"),
    choice("trend", ("growth", "flat", "contraction"), "renewal trend"),
    choice("overlay", ("cancel requested",), "overlay"),
    choice("managed", ("yes", "no"), "managed choice"),
    choice("moved_from", ("new", *STAGES), "stage the flow starts from"),
    choice("moved_to", (*STAGES, "churned"), "stage the flow ends in"),
    choice("backtest", ("yes",), "backtest choice"),
)


def on_or_before(name: str, value: dt.date | None, default: dt.date, as_of: dt.date) -> dt.date:
    """A date from the URL (``default`` when absent); a ConfigError when it is after the as-of date."""
    if value is None:
        return default
    if value > as_of:
        raise ConfigError(f"{name}: {value} is after the as-of date {as_of}", hint="RUM is read on or before it")
    return value


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    import calendar

    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return float(sum(r[key] or 0 for r in rows))


def tiles(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline figures: sums of ``rum()`` rows (managed and unmanaged)."""
    managed = [r for r in rows if r["managed"]]
    return {
        "managed_arr": _sum(managed, "arr"),
        "managed_accounts": int(_sum(managed, "accounts")),
        "unmanaged_arr": _sum([r for r in rows if not r["managed"]], "arr"),
        "unmanaged_accounts": int(_sum([r for r in rows if not r["managed"]], "accounts")),
        "stage": {s: _sum([r for r in rows if r["stage"] == s], "arr") for s in STAGES},
        "stage_accounts": {s: int(_sum([r for r in rows if r["stage"] == s], "accounts")) for s in STAGES},
        "arr_at_risk": _sum(rows, "arr_at_risk"),
        "open_expansion_arr": _sum(rows, "open_expansion_arr"),
        "potential_arr": _sum(rows, "potential_arr"),
        "renewal_arr": _sum(rows, "renewal_arr"),
        "expected_renewal_arr": _sum(rows, "expected_renewal_arr"),
        "cancel_requested": int(_sum(rows, "cancel_requested")),
        "arr": _sum(rows, "arr"),
    }


def matrix(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, float]]:
    """(stage, risk band, potential band) -> accounts and ARR, from ``rum()`` rows."""
    cells: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in rows:
        c = cells.setdefault((r["stage"], r["risk_band"], r["potential_band"]), {"accounts": 0, "arr": 0.0})
        c["accounts"] += r["accounts"]
        c["arr"] += float(r["arr"] or 0)
    return cells


def grouped(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """``rum()`` rows summed per group, largest ARR first."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        g = out.setdefault(key(r), {"key": key(r), "accounts": 0, "cells": 0})
        for k in ("arr", "potential_arr", "open_expansion_arr", "arr_at_risk", "renewal_arr", "expected_renewal_arr"):
            g[k] = g.get(k, 0.0) + float(r[k] or 0)
        g["accounts"] += r["accounts"]
        g["cancel_requested"] = g.get("cancel_requested", 0) + r["cancel_requested"]
        for s in STAGES:
            g.setdefault(s, 0.0)
        g[r["stage"]] += float(r["arr"] or 0)
    return sorted(out.values(), key=lambda g: -g["arr"])


def forecast_rows(
    store: Store, day: dt.date, by: str | None = None, *, wait: bool = False
) -> tuple[str, list[dict[str, Any]] | None, str | None]:
    """``rum.forecast`` rows of ``day`` (sliced ``by`` team or owner), computed once in the background."""
    from ...rum.forecast import forecast

    return store.background(("forecast", day, by), lambda: forecast(store.ws, on=day, by=by).to_pylist(), wait=wait)


def backtest_state(store: Store, *, wait: bool = False) -> dict[str, Any]:
    """The backtest's summary once every date is done (each date's forecast is a background job of
    its own), else how many are: ``{"state", "done", "dates", "rows", "problem"}``."""
    from ...frame import Frame
    from ...rum.forecast_backtest import backtest_dates, forecast_backtest, summary

    dates = backtest_dates(store.ws)
    rows: list[dict[str, Any]] = []
    done, problem = 0, None

    def one(day: dt.date) -> Callable[[], list[dict[str, Any]]]:
        return lambda: forecast_backtest(store.ws, dates=[day]).to_pylist()

    for d in dates:
        state, value, why = store.background(("forecast_backtest", d), one(d), wait=wait)
        if state == "ready":
            done += 1
            rows += value or []
        elif state != "computing":
            problem = why
    out: dict[str, Any] = {"done": done, "dates": dates, "rows": None, "problem": problem}
    if problem:
        out["state"] = "failed"
    elif done < len(dates):
        out["state"] = "computing"
    else:
        import pyarrow as pa

        out["state"] = "ready"
        out["rows"] = summary(Frame("forecast_backtest", pa.Table.from_pylist(rows))).to_pylist()
    return out


@router.get("/rum", response_class=HTMLResponse)
def rum_page(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    import polars as pl

    on, start, team, owner = p["on"], p["from"], p["team"], p["owner"]
    stage, potential, risk, trend = (p[k] or "" for k in ("stage", "potential", "risk", "trend"))
    overlay, managed, moved_from, moved_to = (p[k] or "" for k in ("overlay", "managed", "moved_from", "moved_to"))
    store = store_of(request)
    as_of = store.as_of
    day = on_or_before("on", on, as_of, as_of)
    flow_start = on_or_before("from", start, months_before(day, FLOW_MONTHS), as_of)
    if flow_start >= day:
        raise ConfigError(f"from: the flow's start {flow_start} must be before its end (on = {day})")
    if team and owner:
        raise ConfigError("team: choose a team or a CSM (owner=), not both")
    acc = store.rum_accounts(day)
    teams = sorted(t for t in acc["team"].unique().to_list() if t is not None)
    owners = sorted(
        {(o, n or o) for o, n in acc.select("owner", "owner_name").unique().iter_rows() if o is not None},
        key=lambda kv: kv[1].lower(),
    )
    lookup(PARAMS["team"], team, lambda: teams, "team", f"on {day}")
    lookup(PARAMS["owner"], owner, lambda: dict(owners), "CSM", f"with accounts on {day}")
    if owner:
        rows = [r for r in store.rum_rows(day, ("owner",)) if r["owner"] == owner]
        sel = acc.filter(pl.col("owner") == owner)
    else:
        rows = store.rum_rows(day, ("team",))
        if team:
            rows = [r for r in rows if r["team"] == team]
        sel = acc.filter(pl.col("team") == team) if team else acc
    params: dict[str, Any] = {
        "on": day.isoformat() if on else None,
        "from": flow_start.isoformat() if start else None,
        "team": team or None,
        "owner": owner or None,
    }

    def url(**overrides: Any) -> str:
        merged = {**params, **overrides}
        query = urlencode({k: v for k, v in merged.items() if v is not None and v != ""})
        return "/rum" + (f"?{query}" if query else "")

    drill: dict[str, str] = {
        "stage": stage,
        "potential": potential,
        "risk": risk,
        "trend": trend,
        "overlay": overlay,
        "managed": managed,
    }
    listing = None
    if any(drill.values()):
        listing = account_list(sel, drill)
    moved = None
    if moved_from or moved_to:
        moved = flow_accounts(store, flow_start, day, moved_from, moved_to)
    renewals = sel.filter(pl.col("stage") == "renewal window").sort("arr", descending=True)
    trend_split = {
        t: {
            "accounts": renewals.filter(pl.col("renewal_trend") == t).height,
            "arr": float(renewals.filter(pl.col("renewal_trend") == t)["arr"].sum() or 0),
            "expected": float(renewals.filter(pl.col("renewal_trend") == t)["expected_renewal_arr"].sum() or 0),
        }
        for t in ("growth", "flat", "contraction")
    }
    churned = sel.filter(pl.col("stage") == "churned")
    flow_rows = store.rum_flow(flow_start, day)
    cells = matrix(rows)
    top_cell = max([c["arr"] for c in cells.values()] or [0.0])
    owner_team = {o: t for o, t in acc.select("owner", "team").unique().iter_rows() if o is not None}
    by_owner = grouped(
        [
            r
            for r in store.rum_rows(day, ("owner",))
            if r["managed"] and (not team or owner_team.get(r["owner"]) == team) and (not owner or r["owner"] == owner)
        ],
        lambda r: (r["owner"], r["owner_name"] or r["owner"]),
    )
    fc_by = "owner" if owner else "team" if team else None
    fc_state, fc_all, fc_problem = forecast_rows(store, day, fc_by)
    fc = [r for r in fc_all or [] if (not owner or r["owner"] == owner) and (not team or r["team"] == team)]
    backtest = None
    if fc_by is None and on is None:
        # the backtest is a forecast per past month end (minutes on a large book): run when asked
        from ...rum.forecast_backtest import backtest_dates

        first = ("forecast_backtest", backtest_dates(store.ws)[0])
        asked = p["backtest"] == "yes" or store.started(first)
        backtest = backtest_state(store) if asked else {"state": "not started", "url": url(backtest="yes")}
    spec = cs_charts.stage_flow(
        flow_rows,
        currency=store.currency,
        start=flow_start.isoformat(),
        end=day.isoformat(),
        href=lambda r: url(moved_from=r["from_stage"], moved_to=r["to_stage"]) + "#moved",
    )
    return render(
        request,
        "rum.html",
        title="RUM",
        day=day,
        flow_start=flow_start,
        params=params,
        url=url,
        teams=teams,
        owners=owners,
        owner_label=dict(owners).get(owner) if owner else None,
        t=tiles(rows),
        cells=cells,
        top_cell=top_cell,
        stages=STAGES,
        bands=BANDS,
        by_team=grouped(store.rum_rows(day, ("team",)), lambda r: r["team"]) if not owner else [],
        by_owner=by_owner,
        owner_team=owner_team,
        flow=flow_rows,
        spec=spec,
        renewals=renewals.to_dicts(),
        trend_split=trend_split,
        churned={"accounts": churned.height, "arr": float(churned["arr"].sum() or 0)},
        drill=drill,
        listing=listing,
        moved=moved,
        moved_from=moved_from,
        moved_to=moved_to,
        list_size=LIST_SIZE,
        fc=fc,
        fc_state=fc_state,
        fc_problem=fc_problem,
        backtest=backtest,
    )


def account_list(sel: pl.DataFrame, drill: dict[str, str]) -> dict[str, Any]:
    """The accounts behind a figure: the selection filtered by stage, bands, trend, overlay, book."""
    import polars as pl

    df = sel
    if not drill["stage"]:
        df = df.filter(pl.col("stage") != "churned")
    for part, col in (
        ("stage", "stage"),
        ("potential", "potential_band"),
        ("risk", "risk_band"),
        ("trend", "renewal_trend"),
        ("overlay", "overlay"),
    ):
        if drill[part]:
            df = df.filter(pl.col(col) == drill[part])
    if drill["managed"]:
        df = df.filter(pl.col("managed") == (drill["managed"] == "yes"))
    return {
        "rows": df.head(LIST_SIZE).to_dicts(),
        "total": df.height,
        "arr": float(df["arr"].sum() or 0),
        "label": ", ".join(f"{k} {v}" for k, v in drill.items() if v),
    }


def flow_accounts(store: Store, start: dt.date, end: dt.date, src: str, dst: str) -> dict[str, Any]:
    """The accounts behind a pair of the stage flow, as ``rum.flow`` counts them: each account's stage
    on both dates (``rum.accounts``), 'new' when it did not pay at the start, 'churned' when it does
    not pay at the end; accounts that churned before the start are left out."""
    import polars as pl

    a = store.rum_accounts(start).filter(pl.col("stage") != "churned").select("account_id", "stage", "arr")
    b = store.rum_accounts(end).select("account_id", "name", "stage", "arr", "owner", "owner_name", "reason")
    df = a.join(b, on="account_id", how="full", coalesce=True, suffix="_end")
    df = df.with_columns(
        pl.col("stage").fill_null("new").alias("from_stage"),
        pl.when(pl.col("stage_end").is_null() | (pl.col("stage_end") == "churned"))
        .then(pl.lit("churned"))
        .otherwise(pl.col("stage_end"))
        .alias("to_stage"),
        pl.when(pl.col("stage_end").is_null() | (pl.col("stage_end") == "churned"))
        .then(0.0)
        .otherwise(pl.col("arr_end"))
        .alias("arr_end"),
        pl.col("arr").fill_null(0.0).alias("arr_start"),
    ).filter(~(pl.col("stage").is_null() & (pl.col("stage_end") == "churned")))
    if src:
        df = df.filter(pl.col("from_stage") == src)
    if dst:
        df = df.filter(pl.col("to_stage") == dst)
    names = store.table("accounts").select("account_id", pl.col("name").alias("account_name"))
    df = df.join(names, on="account_id", how="left").sort(["arr_start", "arr_end"], descending=True)
    return {
        "rows": df.head(LIST_SIZE).to_dicts(),
        "total": df.height,
        "arr_start": float(df["arr_start"].sum() or 0),
        "arr_end": float(df["arr_end"].sum() or 0),
    }


def warm(store: Store) -> list[Callable[[], object]]:
    def default() -> object:
        day = store.as_of
        store.rum_accounts(day)
        store.rum_rows(day, ("team",))
        store.rum_rows(day, ("owner",))
        store.rum_accounts(months_before(day, FLOW_MONTHS))
        return store.rum_flow(months_before(day, FLOW_MONTHS), day)

    return [default]
