"""Vega-Lite specs of who moved the number (revbook.impact), shared by the dashboard and the report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..impact.csm import VERDICTS
from .charts.common import base, money, num, top_legend

__all__ = ["CLASS_COLORS", "VERDICT_COLORS", "attribution_bars", "impact_intervals"]

#: one colour per attribution class (revbook.impact.attribution.CLASSES)
CLASS_COLORS = {
    "csm": "#1e88e5",
    "ae": "#8e24aa",
    "product": "#00897b",
    "self_serve": "#7cb342",
    "price": "#fb8c00",
    "ambiguous": "#90a4ae",
}


#: one colour per verdict of revbook.impact.csm (above, below, within the noise, no verdict)
VERDICT_COLORS = dict(zip(VERDICTS, ("#2e7d32", "#c62828", "#90a4ae", "#cfd8dc"), strict=True))


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


def impact_intervals(rows: Iterable[Mapping[str, Any]], *, title: str) -> dict[str, Any]:
    """Each CSM's actual minus expected NRR in points with its bootstrap interval (``csm_impact``
    rows: owner_name, net_points, net_low, net_high, verdict), best first; a rule at 0 (as expected)."""
    values = [
        {
            "csm": r["owner_name"] or r["owner"],
            "diff": r["net_points"],
            "low": r["net_low"],
            "high": r["net_high"],
            "verdict": r["verdict"],
            "label": f"{r['net_points']:+.1f} pts ({r['net_low']:+.1f} to {r['net_high']:+.1f})",
        }
        for r in rows
        if r["net_points"] is not None and r["net_low"] is not None and r["net_high"] is not None
    ]
    y = {"field": "csm", "type": "nominal", "sort": {"field": "diff", "order": "descending"}, "title": None}
    tooltip = [{"field": "csm"}, {"field": "label", "title": "NRR, actual − expected"}, {"field": "verdict"}]
    return base(
        title,
        data={"values": values},
        height={"step": 16},
        layer=[
            {
                "mark": {"type": "rule", "color": "#90a4ae"},
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative", "title": "NRR points against expected"},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 50},
                "encoding": {
                    "y": y,
                    "x": {"field": "diff", "type": "quantitative"},
                    "color": {
                        "field": "verdict",
                        "type": "nominal",
                        "legend": top_legend(columns=2),
                        "scale": {"domain": list(VERDICT_COLORS), "range": list(VERDICT_COLORS.values())},
                    },
                    "tooltip": tooltip,
                },
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#37474f"}, "encoding": {"x": {"datum": 0}}},
        ],
    )
