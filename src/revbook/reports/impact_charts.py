"""Vega-Lite specs of who moved the number (revbook.impact), shared by the dashboard and the report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .charts.common import base, money, num, top_legend

__all__ = ["CLASS_COLORS", "attribution_bars", "impact_intervals"]

#: one colour per attribution class (revbook.impact.attribution.CLASSES)
CLASS_COLORS = {
    "csm": "#1e88e5",
    "ae": "#8e24aa",
    "product": "#00897b",
    "self_serve": "#7cb342",
    "price": "#fb8c00",
    "ambiguous": "#90a4ae",
}


def attribution_bars(rows: Iterable[Mapping[str, Any]], *, currency: str, title: str) -> dict[str, Any]:
    """Expansion ARR per class (rows: attribution, arr, share), largest first."""
    values = [
        {
            "attribution": r["attribution"],
            "arr": num(r["arr"]) or 0.0,
            "label": f"{money(r['arr'])} {currency}",
            "share": "–" if r["share"] is None else f"{100 * r['share']:.1f}%",
        }
        for r in rows
    ]
    return base(
        title,
        data={"values": values},
        height={"step": 22},
        mark={"type": "bar"},
        encoding={
            "y": {"field": "attribution", "type": "nominal", "sort": "-x", "title": None},
            "x": {
                "field": "arr",
                "type": "quantitative",
                "title": f"expansion ARR, {currency}",
                "axis": {"format": "~s"},
            },
            "color": {
                "field": "attribution",
                "type": "nominal",
                "legend": None,
                "scale": {"domain": list(CLASS_COLORS), "range": list(CLASS_COLORS.values())},
            },
            "tooltip": [{"field": "attribution"}, {"field": "label", "title": "ARR"}, {"field": "share"}],
        },
    )


def impact_intervals(rows: Iterable[Mapping[str, Any]], *, title: str, field: str = "nrr") -> dict[str, Any]:
    """Each CSM's actual minus expected ``field`` in points with its interval (rows: csm_name,
    diff, low, high, verdict); a rule at 0 (as expected)."""
    values = [
        {
            "csm": r["csm_name"] or r["csm"],
            "diff": 100 * r["diff"],
            "low": 100 * r["low"],
            "high": 100 * r["high"],
            "verdict": r["verdict"],
            "label": f"{100 * r['diff']:+.1f} pts ({100 * r['low']:+.1f} to {100 * r['high']:+.1f})",
        }
        for r in rows
        if r["diff"] is not None and r["low"] is not None and r["high"] is not None
    ]
    y = {"field": "csm", "type": "nominal", "sort": {"field": "diff", "order": "descending"}, "title": None}
    tooltip = [{"field": "csm"}, {"field": "label", "title": "actual − expected"}, {"field": "verdict"}]
    return base(
        title,
        data={"values": values},
        height={"step": 16},
        layer=[
            {
                "mark": {"type": "rule", "color": "#90a4ae"},
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative", "title": "points"},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 50},
                "encoding": {
                    "y": y,
                    "x": {"field": "diff", "type": "quantitative"},
                    "color": {"field": "verdict", "type": "nominal", "legend": top_legend(columns=2)},
                    "tooltip": tooltip,
                },
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#37474f"}, "encoding": {"x": {"datum": 0}}},
        ],
    )
