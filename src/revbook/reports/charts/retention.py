"""Retention charts: NRR, GRR and logo retention over time and by slice; the cohort triangles."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .common import (
    FADED,
    MEASURE_COLORS,
    SMALL_COHORT,
    bars_around_one,
    base,
    pct,
    period_shown,
    small,
    top_legend,
    with_href,
)

__all__ = ["cohort_heatmaps", "retention_by_slice", "retention_trend"]


def retention_trend(
    rows: Iterable[Mapping[str, Any]], *, window: int, href: Callable[[Mapping[str, Any]], str] | None = None
) -> dict[str, Any]:
    """NRR, GRR and logo retention over time (rows of ``ws.retention()`` for one window and slice).

    Each point says how many accounts opened its window (``start_accounts``); a point with fewer
    than :data:`~.common.SMALL_COHORT` is drawn faded."""
    values = []
    for r in rows:
        if r.get("nrr") is None:
            continue
        accounts = r.get("start_accounts")
        for key, name in (("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "Logo retention")):
            v = {
                "period": period_shown(r),
                "measure": name,
                "value": r[key],
                "label": pct(r[key]),
                "accounts": accounts,
                "small": small(accounts),
            }
            if href:
                v["url"] = href(r)
            values.append(v)
    enc: dict[str, Any] = {
        "x": {"field": "period", "type": "ordinal", "title": None, "axis": {"labelAngle": -45, "labelOverlap": True}},
        "y": {
            "field": "value",
            "type": "quantitative",
            "title": None,
            "axis": {"format": ".0%"},
            "scale": {"zero": False},
        },
        "color": {
            "field": "measure",
            "type": "nominal",
            "title": None,
            "scale": {"domain": list(MEASURE_COLORS), "range": list(MEASURE_COLORS.values())},
            "legend": top_legend(),
        },
        "tooltip": [
            {"field": "period"},
            {"field": "measure"},
            {"field": "label", "title": "value"},
            {"field": "accounts", "title": "accounts at the window's start", "format": ","},
        ],
    }
    points = with_href(dict(enc, opacity=_faded()), values)
    few = [v for v in values if v["small"] and v["measure"] == "NRR"]
    subtitle = f"faded: fewer than {SMALL_COHORT} accounts at the window's start" if few else None
    title = f"Retention, trailing {window}-month windows"
    return base(
        {"text": title, "subtitle": subtitle} if subtitle else title,
        height=180,
        data={"values": values},
        layer=[
            {"mark": {"type": "line", "strokeWidth": 2}, "encoding": enc},
            {"mark": {"type": "point", "filled": True, "size": 25}, "encoding": points},
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"}, "encoding": {"y": {"datum": 1}}},
        ],
    )


def _faded() -> dict[str, Any]:
    """The opacity channel of a mark whose data carry ``small`` (too few accounts to read)."""
    return {"condition": {"test": "datum.small", "value": FADED}, "value": 1}


def retention_by_slice(
    rows: Iterable[Mapping[str, Any]],
    *,
    dim: str,
    label: Callable[[Mapping[str, Any]], str],
    window: int,
    href: Callable[[Mapping[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """NRR, GRR and logo retention side by side per slice value (rows of ``ws.retention(by=dim)``)."""
    values = []
    for r in rows:
        for key, name in (("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "Logo retention")):
            if r.get(key) is None:
                continue
            v = {
                "slice": label(r),
                "measure": name,
                "value": r[key],
                "label": pct(r[key]),
                "accounts": r.get("start_accounts"),
                "small": small(r.get("start_accounts")),
            }
            if href:
                v["url"] = href(r)
            values.append(v)
    enc = {
        "y": {"field": "slice", "type": "nominal", "title": None, "sort": None},
        "yOffset": {"field": "measure", "sort": list(MEASURE_COLORS)},
        "x": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": ".0%", "tickCount": 6}},
        "color": {
            "field": "measure",
            "type": "nominal",
            "title": None,
            "legend": top_legend(),
            "scale": {"domain": list(MEASURE_COLORS), "range": list(MEASURE_COLORS.values())},
        },
        "tooltip": [
            {"field": "slice", "title": dim},
            {"field": "measure"},
            {"field": "label", "title": "value"},
            {"field": "accounts", "title": "accounts at start", "format": ","},
        ],
        "opacity": _faded(),
    }
    return bars_around_one(f"Retention by {dim}, trailing {window} months", values, enc, clickable=bool(href))


def cohort_heatmaps(
    rows: Iterable[Mapping[str, Any]],
    *,
    periods: Sequence[str] | None = None,
    href_prefix: str | None = None,
) -> dict[str, Any]:
    """The vintage triangles (long rows of ``ws.cohorts()``) as two heatmaps: logo retention and NRR.

    A cell's tooltip gives the cohort's size; a cohort of fewer than :data:`~.common.SMALL_COHORT`
    accounts is drawn faded.

    With ``href_prefix`` (and ``periods``, the month labels), a cell links to
    ``{href_prefix}&period=<the cohort's month at that age>&cohort_month=<cohort>``.
    """
    index = {p: i for i, p in enumerate(periods or ())}
    values = []
    for r in rows:
        if r["logo_retention"] is None:
            continue
        v = {
            "c": r["cohort"],
            "a": r["months_since_start"],
            "l": round(r["logo_retention"], 4),
            "n": None if r["nrr"] is None else round(r["nrr"], 4),
            "k": r["active_accounts"],
            "s": r["cohort_accounts"],
            "small": small(r["cohort_accounts"]),
        }
        if href_prefix and periods:
            v["p"] = periods[min(index.get(r["cohort"], 0) + r["months_since_start"], len(periods) - 1)]
        values.append(v)
    transform: list[dict[str, Any]] = []
    if href_prefix and periods:
        prefix = json.dumps(href_prefix)
        transform.append({"calculate": f"{prefix} + '&period=' + datum.p + '&cohort_month=' + datum.c", "as": "url"})

    def panel(field: str, title: str, scale: dict[str, Any]) -> dict[str, Any]:
        enc: dict[str, Any] = {
            "x": {
                "field": "a",
                "type": "ordinal",
                "title": "months since first MRR",
                "axis": {"labelAngle": 0, "values": list(range(0, 120, 6))},
            },
            "y": {"field": "c", "type": "ordinal", "title": None, "axis": {"values": _every_nth_cohort(values)}},
            "color": {
                "field": field,
                "type": "quantitative",
                "title": None,
                "scale": {**scale, "clamp": True},
                "legend": {"format": ".0%"},
            },
            "tooltip": [
                {"field": "c", "title": "cohort"},
                {"field": "a", "title": "months since first MRR"},
                {"field": field, "title": title, "format": ".1%"},
                {"field": "k", "title": "paying accounts"},
                {"field": "s", "title": "cohort size (accounts)"},
            ],
            "opacity": _faded(),
        }
        if transform:
            enc["href"] = {"field": "url", "type": "nominal"}
        return {
            "title": {"text": title, "anchor": "start", "fontSize": 13},
            "width": {"step": 7},
            "height": {"step": 7},
            "mark": {"type": "rect", "cursor": "pointer" if transform else "default"},
            "encoding": enc,
        }

    few = sorted({v["c"] for v in values if v["small"]})
    note = f"faded: {len(few):,} cohorts of fewer than {SMALL_COHORT} accounts (the tooltip gives each size)"
    spec = base(
        {"text": note, "fontSize": 11, "fontWeight": 400, "color": "#78909c"} if few else None,
        data={"values": values},
        transform=transform,
        hconcat=[
            panel("l", "Logo retention", {"domain": [0, 1], "scheme": "blues"}),
            # NRR diverges at 100%: red below (the cohort shrank), blue above (it grew)
            panel("n", "NRR", {"domain": [0.5, 1, 1.5], "range": ["#d73027", "#f7f7f7", "#2166ac"]}),
        ],
        resolve={"scale": {"color": "independent"}},
    )
    del spec["width"], spec["autosize"]
    return spec


def _every_nth_cohort(values: list[dict[str, Any]]) -> list[str]:
    cohorts = sorted({v["c"] for v in values})
    return [c for c in cohorts if c.endswith(("-01", "-07"))] or cohorts
