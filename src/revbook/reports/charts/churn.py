"""Churn and signal charts: the Pareto of churn reasons, the lift of each signal rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .common import MOVEMENT_COLORS, bars_around_one, base, money, num, top_legend, with_href

__all__ = ["REASON_PALETTE", "pareto", "rule_label", "signal_lift_bars"]


#: one colour per churn reason, in the order of the taxonomy, so a reason keeps its colour in both Pareto charts
REASON_PALETTE = (
    "#1e88e5", "#e53935", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41",
    "#3949ab", "#c0ca33", "#d81b60", "#546e7a", "#00acc1", "#7cb342",
)  # fmt: skip


def pareto(
    rows: Sequence[Mapping[str, Any]],
    *,
    measure: str,
    currency: str,
    threshold: float = 0.8,
    href: Callable[[Mapping[str, Any]], str] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """One Pareto chart of churn reasons (rows of ``insights.pareto()`` for one slice): bars of the
    reasons ranked by ``measure`` ("arr": ARR lost, or "count": events, i.e. logos churned plus
    contractions), the cumulative share as a line on the right axis, the vital few in full colour
    (the rest faded). Each reason keeps one colour whatever its rank, so the two views compare at a glance.
    """
    by_arr = measure == "arr"
    value_key, share_key, cum_key = (
        ("arr_lost", "share_arr", "cum_share_arr") if by_arr else ("events", "share_count", "cum_share_count")
    )
    rank_key, vital_key = ("rank_arr", "vital_few_arr") if by_arr else ("rank_count", "vital_few_count")
    ranked = sorted(rows, key=lambda r: r[rank_key])
    colour_order = sorted(rows, key=lambda r: r["reason"])
    domain = [r["reason_label"] for r in colour_order]
    values = []
    for r in ranked:
        v = {
            "reason": r["reason_label"],
            "rank": r[rank_key],
            "value": num(r[value_key]) or 0.0,
            "share": r[share_key],
            "cum": r[cum_key],
            "vital": "vital few" if r[vital_key] else "the rest",
            "label": f"{money(r[value_key])} {currency}" if by_arr else f"{r[value_key]:,}",
            "other": (
                f"{r['events']:,} events, rank {r['rank_count']} by count"
                if by_arr
                else f"{money(r['arr_lost'])} {currency}, rank {r['rank_arr']} by ARR"
            ),
            "owner": r.get("owner_function"),
        }
        if href:
            v["url"] = href(r)
        values.append(v)
    vital = sum(1 for r in ranked if r[vital_key])
    x = {
        "field": "reason",
        "type": "nominal",
        "title": None,
        "sort": [v["reason"] for v in values],
        "axis": {"labelAngle": -35, "labelLimit": 140},
    }
    tooltip = [
        {"field": "rank", "title": "rank"},
        {"field": "reason", "title": "reason"},
        {"field": "label", "title": f"ARR lost ({currency})" if by_arr else "events (logos + contractions)"},
        {"field": "share", "title": "share", "format": ".1%"},
        {"field": "cum", "title": "cumulative share", "format": ".1%"},
        {"field": "other", "title": "other view"},
        {"field": "owner", "title": "owned by"},
    ]
    bar_enc: dict[str, Any] = {
        "x": x,
        "y": {
            "field": "value",
            "type": "quantitative",
            "title": f"ARR lost ({currency})" if by_arr else "events",
            "axis": {"format": "~s" if by_arr else "~d"},
        },
        "color": {
            "field": "reason",
            "type": "nominal",
            "legend": None,
            "scale": {"domain": domain, "range": list(REASON_PALETTE)[: len(domain)] or ["#1e88e5"]},
        },
        "opacity": {
            "field": "vital",
            "type": "nominal",
            "title": None,
            "scale": {"domain": ["vital few", "the rest"], "range": [1, 0.3]},
            "legend": top_legend(),
        },
        "tooltip": tooltip,
    }
    line_y = {
        "field": "cum",
        "type": "quantitative",
        "title": "cumulative share",
        "scale": {"domain": [0, 1]},
        "axis": {"format": ".0%", "orient": "right", "grid": False},
    }
    default_title = (
        f"By ARR lost ({currency}): {vital} reason{'s' if vital != 1 else ''} make {threshold:.0%}"
        if by_arr
        else f"By logos (events): {vital} reason{'s' if vital != 1 else ''} make {threshold:.0%}"
    )
    return base(
        title or default_title,
        height=220,
        data={"values": values},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if href else "default"},
                "encoding": with_href(bar_enc, values),
            },
            {
                "layer": [
                    {
                        "mark": {"type": "line", "color": "#263238", "strokeWidth": 1.5},
                        "encoding": {"x": x, "y": line_y},
                    },
                    {
                        "mark": {"type": "point", "filled": True, "color": "#263238", "size": 30},
                        "encoding": {"x": x, "y": line_y, "tooltip": tooltip},
                    },
                    {
                        "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"},
                        "encoding": {"y": {"datum": threshold, "type": "quantitative", "scale": {"domain": [0, 1]}}},
                    },
                ]
            },
        ],
        resolve={"scale": {"y": "independent"}},
    )


def rule_label(name: str) -> str:
    """A signal rule's name as the surfaces print it ("usage_drop" -> "usage drop"), as the
    dashboard's tables do."""
    return name.replace("_", " ")


def signal_lift_bars(
    rows: Iterable[Mapping[str, Any]],
    *,
    horizon: int = 90,
    href: Callable[[Mapping[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """Risk and expansion lift per signal rule at one horizon (rows of ``insights.signal_lift()``):
    how much likelier a churn / contraction or an expansion is after the signal than after any note.
    """
    values = []
    for r in rows:
        if r["rule"] == "(base)" or r["horizon_days"] != horizon:
            continue
        for key, name in (("risk_lift", "risk lift"), ("expansion_lift", "expansion lift")):
            if r.get(key) is None:
                continue
            v = {
                "rule": rule_label(r["rule"]),
                "measure": name,
                "value": r[key],
                "label": f"{r[key]:.2f}×",
                "notes": r["notes"],
                "polarity": r["polarity"],
            }
            if href:
                v["url"] = href(r)
            values.append(v)
    colours = {"risk lift": MOVEMENT_COLORS["churn"], "expansion lift": MOVEMENT_COLORS["expansion"]}
    enc = {
        "y": {"field": "rule", "type": "nominal", "title": None, "sort": None},
        "yOffset": {"field": "measure", "sort": list(colours)},
        "x": {"field": "value", "type": "quantitative", "title": "lift (× the base rate)"},
        "color": {
            "field": "measure",
            "type": "nominal",
            "title": None,
            "legend": top_legend(),
            "scale": {"domain": list(colours), "range": list(colours.values())},
        },
        "tooltip": [
            {"field": "rule"},
            {"field": "polarity"},
            {"field": "measure"},
            {"field": "label", "title": "lift"},
            {"field": "notes", "title": "notes measured", "format": ","},
        ],
    }
    return bars_around_one(f"Lift within {horizon} days of a signal", values, enc, clickable=bool(href))
