"""Vega-Lite specs of the Customer Success pages: lifecycle stages (``revbook.rum``) and health
(``revbook.health``). As in :mod:`revbook.reports.charts`, nothing here computes a metric: each
spec lays out rows the library returned; ``href`` functions make a mark a link to its accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import definitions
from ..definitions import HEALTH_BANDS, STAGE_FLOW
from .charts.common import base, money, num, top_legend

__all__ = [
    "BAND_COLORS",
    "CS_GLOSSARY",
    "STAGE_COLORS",
    "component_bars",
    "health_histogram",
    "reliability_curves",
    "stage_flow",
]

#: one colour per stage of a stage flow (definitions.STAGE_FLOW)
STAGE_COLORS = dict(zip(STAGE_FLOW, ("#7cb342", "#90caf9", "#1e88e5", "#2e7d32", "#8e24aa", "#e53935"), strict=True))
BAND_COLORS = dict(zip(HEALTH_BANDS, ("#e53935", "#fbc02d", "#43a047", "#b0bec5"), strict=True))
SCORER_COLORS = {"composite health score": "#fb8c00", "model (logistic)": "#1e88e5", "model (boosting)": "#8e24aa"}


def stage_flow(
    rows: Iterable[Mapping[str, Any]],
    *,
    currency: str,
    start: str,
    end: str,
    href: Callable[[Mapping[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """Where each stage's ARR went between two dates (rows of ``rum.flow()``): one bar per stage at
    the start, split by the stage at the end; a new account's bar is its ARR at the end."""
    values = []
    for r in rows:
        new = r["from_stage"] == "new"
        amount = num(r["arr_end"] if new else r["arr_start"]) or 0.0
        v = {
            "from": r["from_stage"],
            "to": r["to_stage"],
            "arr": amount,
            "accounts": r["accounts"],
            "start_label": f"{money(r['arr_start'])} {currency}",
            "end_label": f"{money(r['arr_end'])} {currency}",
            "change_label": f"{money(r['arr_change'])} {currency}",
        }
        if href:
            v["url"] = href(r)
        values.append(v)
    present = [s for s in STAGE_FLOW if any(v["from"] == s for v in values)]
    encoding: dict[str, Any] = {
        "y": {"field": "from", "type": "nominal", "sort": present, "title": f"stage on {start}"},
        "x": {"field": "arr", "type": "quantitative", "title": f"ARR, {currency} (new: at the end)", "stack": True},
        "color": {
            "field": "to",
            "type": "nominal",
            "title": f"stage on {end}",
            "scale": {"domain": list(STAGE_COLORS), "range": list(STAGE_COLORS.values())},
            "legend": top_legend(columns=2),  # beside the stage names of the y axis: less room
        },
        "order": {"field": "to_rank", "type": "quantitative"},
        "tooltip": [
            {"field": "from", "title": "from"},
            {"field": "to", "title": "to"},
            {"field": "accounts", "format": ","},
            {"field": "start_label", "title": f"ARR on {start}"},
            {"field": "end_label", "title": f"ARR on {end}"},
            {"field": "change_label", "title": "change"},
        ],
    }
    for v in values:
        v["to_rank"] = STAGE_FLOW.index(v["to"]) if v["to"] in STAGE_FLOW else len(STAGE_FLOW)
    if href:
        encoding["href"] = {"field": "url", "type": "nominal"}
    return base(
        {"text": "Where each stage's ARR went", "subtitle": f"{start} → {end}"},
        data={"values": values},
        height={"step": 26},
        mark={"type": "bar", "cursor": "pointer" if href else "default"},
        encoding=encoding,
    )


def health_histogram(
    rows: Iterable[Mapping[str, Any]], *, href: Callable[[str], str] | None = None, width: int = 10
) -> dict[str, Any]:
    """Accounts per ``width``-point score bin, coloured by band (rows of ``health.composite()``)."""
    counts: dict[tuple[int, str], int] = {}
    for r in rows:
        if r["score"] is None:
            continue
        start = min(int(float(r["score"]) // width) * width, 100 - width)
        counts[(start, r["band"])] = counts.get((start, r["band"]), 0) + 1
    values = []
    for (start, band), n in sorted(counts.items()):
        v: dict[str, Any] = {"bin": start, "bin_end": start + width, "band": band, "accounts": n}
        v["range"] = f"{start}–{start + width}"
        if href:
            v["url"] = href(band)
        values.append(v)
    encoding: dict[str, Any] = {
        "x": {"field": "bin", "bin": {"binned": True, "step": width}, "type": "quantitative", "title": "health score",
              "scale": {"domain": [0, 100]}},
        "x2": {"field": "bin_end"},
        "y": {"field": "accounts", "type": "quantitative", "stack": True, "title": "accounts"},
        "color": {"field": "band", "type": "nominal", "title": "band", "legend": top_legend(),
                  "scale": {"domain": list(BAND_COLORS), "range": list(BAND_COLORS.values())}},
        "tooltip": [{"field": "range", "title": "score"}, {"field": "band"}, {"field": "accounts", "format": ","}],
    }  # fmt: skip
    if href:
        encoding["href"] = {"field": "url", "type": "nominal"}
    return base(
        "Accounts by health score",
        data={"values": values},
        height=180,
        mark={"type": "bar", "cursor": "pointer" if href else "default", "binSpacing": 1},
        encoding=encoding,
    )


def component_bars(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Each component's mean score (0-100) over the accounts with data for it (rows: component,
    mean, accounts, description)."""
    values = [
        {**r, "mean": num(r["mean"]), "label": "–" if r["mean"] is None else f"{float(r['mean']):.1f}"}
        for r in rows
        if r["mean"] is not None
    ]
    return base(
        "Mean component score",
        data={"values": values},
        height={"step": 20},
        layer=[
            {
                "mark": {"type": "bar", "color": "#1e88e5"},
                "encoding": {
                    "y": {"field": "component", "type": "nominal", "sort": None, "title": None},
                    "x": {"field": "mean", "type": "quantitative", "title": "0-100", "scale": {"domain": [0, 100]}},
                    "tooltip": [
                        {"field": "component"},
                        {"field": "description"},
                        {"field": "label", "title": "mean score"},
                        {"field": "accounts", "title": "accounts with data", "format": ","},
                    ],
                },
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"}, "encoding": {"x": {"datum": 70}}},
        ],
    )


def reliability_curves(rows: Iterable[Mapping[str, Any]], *, horizon: int) -> dict[str, Any]:
    """Mean predicted vs observed event rate per bin for each scorer (``Backtest.reliability``), with
    the diagonal a calibrated scorer follows."""
    values = [
        {
            "scorer": r["scorer"],
            "bin": r["bin"],
            "predicted": r["mean_predicted"],
            "observed": r["observed"],
            "rows": r["rows"],
        }
        for r in rows
    ]
    top = max([0.05, *(max(v["predicted"], v["observed"]) for v in values)])
    domain = [0, min(1.0, round(top * 1.1 + 0.005, 2))]
    colour = {
        "field": "scorer",
        "type": "nominal",
        "title": None,
        "legend": top_legend(),
        "scale": {"domain": list(SCORER_COLORS), "range": list(SCORER_COLORS.values())},
    }
    xy = {
        "x": {"field": "predicted", "type": "quantitative", "title": "predicted probability", "axis": {"format": "%"},
              "scale": {"domain": domain}},
        "y": {"field": "observed", "type": "quantitative", "title": f"observed rate ({horizon} days)",
              "axis": {"format": "%"}, "scale": {"domain": domain}},
    }  # fmt: skip
    return base(
        {"text": "Reliability: predicted vs observed", "subtitle": "10 bins of equal size per scorer"},
        height=260,
        layer=[
            {
                "data": {"values": [{"p": 0.0}, {"p": domain[1]}]},
                "mark": {"type": "line", "strokeDash": [4, 4], "color": "#90a4ae"},
                "encoding": {"x": {"field": "p", "type": "quantitative"}, "y": {"field": "p", "type": "quantitative"}},
            },
            {
                "data": {"values": values},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    **xy,
                    "color": colour,
                    "order": {"field": "bin", "type": "quantitative"},
                    "tooltip": [
                        {"field": "scorer"},
                        {"field": "bin"},
                        {"field": "predicted", "format": ".1%"},
                        {"field": "observed", "format": ".1%"},
                        {"field": "rows", "format": ","},
                    ],
                },
            },
        ],
    )


#: key -> (label, definition) of the Customer Success figures (revbook.definitions); the full text is in the
#: docstrings of revbook.rum and revbook.health (the dashboard's Definitions page lists them after GLOSSARY)
CS_GLOSSARY: dict[str, tuple[str, str]] = definitions.glossary(definitions.CS_GLOSSARY)
