"""Revenue charts: ARR over time, one period's waterfall, movements per period, one account's MRR."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from ...definitions import MOVEMENT_KINDS, MOVEMENTS
from .common import MOVEMENT_COLORS, base, kind_scale, money, money_compact, num, period_shown, top_legend, with_href

__all__ = ["NARROW", "account_timeline", "arr_trend", "movement_bars", "waterfall"]

#: a waterfall narrower than this (pixels of plot) slants its step names and labels its bars compactly
NARROW = 520


def arr_trend(
    rows: Iterable[Mapping[str, Any]], *, currency: str, href: Callable[[Mapping[str, Any]], str] | None = None
) -> dict[str, Any]:
    """ARR at each period's snapshot (rows of ``ws.mrr()``: period, period_end, arr, accounts)."""
    values = []
    for r in rows:
        v = {"period": period_shown(r), "arr": num(r["arr"]), "label": f"{money(r['arr'])} {currency}"}
        v["accounts"] = r.get("accounts")
        if href:
            v["url"] = href(r)
        values.append(v)
    enc = {
        "x": {"field": "period", "type": "ordinal", "title": None, "axis": {"labelAngle": -45, "labelOverlap": True}},
        "y": {"field": "arr", "type": "quantitative", "title": f"ARR ({currency})", "axis": {"format": "~s"}},
        "tooltip": [
            {"field": "period", "title": "period"},
            {"field": "label", "title": "ARR"},
            {"field": "accounts", "title": "paying accounts", "format": ","},
        ],
    }
    return base(
        f"ARR ({currency})",
        height=180,
        data={"values": values},
        layer=[
            {"mark": {"type": "area", "color": "#bbdefb", "line": {"color": "#1e88e5"}}, "encoding": enc},
            {
                "mark": {"type": "point", "filled": True, "size": 30, "color": "#1e88e5"},
                "encoding": with_href(dict(enc), values),
            },
        ],
    )


def waterfall(
    row: Mapping[str, Any], *, currency: str, href: Callable[[str], str | None] | None = None
) -> dict[str, Any]:
    """One period's movements (a row of ``ws.movements()``) as a waterfall from start to end MRR."""
    steps = [
        ("start", "Start MRR", row["start_mrr"], None),
        *((k, m.label, m.sign * row[f"{k}_mrr"], row.get(f"{m.counted}_accounts")) for k, m in MOVEMENTS.items()),
    ]
    # the movements are small beside the book: the axis starts just below the lowest level reached
    levels = [Decimal(row["start_mrr"])]
    for _, _, amount, _ in steps[1:]:
        levels.append(levels[-1] + Decimal(amount))
    low, high = min(levels), max(levels)
    floor = max(Decimal(0), low - max(high - low, high * Decimal("0.02")) * 2)
    values = []
    level = Decimal(0)
    for kind, label, amount, count in steps:
        amount = Decimal(amount)
        lo, hi = (floor, amount) if kind == "start" else sorted((level, level + amount))
        level = amount if kind == "start" else level + amount
        text = (
            money(amount)
            if kind == "start"
            else ("+" if amount > 0 else "−" if amount < 0 else "") + money(abs(amount))
        )
        short = money_compact(amount) if kind == "start" else text[0] + money_compact(abs(amount)) if amount else "0"
        v: dict[str, Any] = {
            "kind": kind,
            "step": label,
            "lo": float(lo),
            "hi": float(hi),
            "label": text,
            "short": short,
            "accounts": "" if count is None else f"{count:,}",
        }
        if href and (url := href(kind)):
            v["url"] = url
        values.append(v)
    end = {
        "kind": "end",
        "step": "End MRR",
        "lo": float(floor),
        "hi": float(row["end_mrr"]),
        "label": money(row["end_mrr"]),
        "short": money_compact(row["end_mrr"]),
        "accounts": "",
    }
    if href and (url := href("end")):
        end["url"] = url
    values.append(end)
    order = [v["step"] for v in values]
    enc = {
        # narrow (a phone): the step names slant and the bars' labels are compact, so none overlap
        "x": {
            "field": "step",
            "type": "nominal",
            "sort": order,
            "title": None,
            "axis": {"labelAngle": {"expr": f"width < {NARROW} ? -40 : 0"}, "labelLimit": 90},
        },
        "y": {
            "field": "lo",
            "type": "quantitative",
            "title": f"MRR ({currency})",
            "axis": {"format": "~s"},
            "scale": {"zero": False, "domain": [float(floor), float(high + (high - floor) * Decimal("0.08"))]},
        },
        "y2": {"field": "hi"},
        "color": {
            "field": "kind",
            "type": "nominal",
            "legend": None,
            "scale": {"domain": list(MOVEMENT_COLORS), "range": list(MOVEMENT_COLORS.values())},
        },
        "tooltip": [
            {"field": "step"},
            {"field": "label", "title": currency},
            {"field": "accounts", "title": "accounts"},
        ],
    }
    subtitle = "axis starts at " + money_compact(floor) if floor > 0 else None
    return base(
        {"text": f"MRR movements, {period_shown(row)}", "subtitle": subtitle}
        if subtitle
        else f"MRR movements, {period_shown(row)}",
        height=220,
        data={"values": values},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if href else "default", "clip": True},
                "encoding": with_href(enc, values),
            },
            {
                "transform": [{"calculate": f"width < {NARROW} ? datum.short : datum.label", "as": "shown"}],
                "mark": {
                    "type": "text",
                    "dy": -6,
                    "fontSize": {"expr": f"width < {NARROW} ? 9 : 11"},
                    "color": "#263238",
                },
                "encoding": {"x": enc["x"], "y": {"field": "hi", "type": "quantitative"}, "text": {"field": "shown"}},
            },
        ],
    )


def movement_bars(rows: Iterable[Mapping[str, Any]], *, currency: str) -> dict[str, Any]:
    """Movements per period (rows of ``ws.movements()``), gains up and losses down."""
    values = []
    for r in rows:
        for kind in MOVEMENT_KINDS:
            amount = num(r[f"{kind}_mrr"]) or 0.0
            sign = MOVEMENTS[kind].sign
            values.append(
                {"period": period_shown(r), "kind": kind, "amount": sign * amount, "label": money(sign * amount)}
            )
    return base(
        f"MRR movements per period ({currency})",
        height=200,
        data={"values": values},
        mark={"type": "bar"},
        encoding={
            "x": {
                "field": "period",
                "type": "ordinal",
                "title": None,
                "axis": {"labelAngle": -45, "labelOverlap": True},
            },
            "y": {"field": "amount", "type": "quantitative", "title": None, "axis": {"format": "~s"}, "stack": "zero"},
            "color": {
                "field": "kind",
                "type": "nominal",
                "title": None,
                "legend": top_legend(),
                "scale": kind_scale(),
            },
            "tooltip": [{"field": "period"}, {"field": "kind"}, {"field": "label", "title": currency}],
        },
    )


def account_timeline(
    mrr_rows: Iterable[Mapping[str, Any]], movements: Iterable[Mapping[str, Any]], *, currency: str
) -> dict[str, Any]:
    """One account's MRR at each snapshot (``ws.mrr(account=)``) with its movements as coloured points."""
    mrr_rows = list(mrr_rows)
    shown = {r["period"]: period_shown(r) for r in mrr_rows}  # "2026-11 to date" for a partial month
    line = [{"period": shown[r["period"]], "mrr": num(r["mrr"]), "label": money(r["mrr"], 2)} for r in mrr_rows]
    points = [
        {
            "period": shown.get(m["period"], m["period"]),
            "mrr": num(m["end_mrr"]),
            "kind": m["movement"],
            "label": f"{m['movement']}: {money(m['start_mrr'], 2)} → {money(m['end_mrr'], 2)}",
        }
        for m in movements
    ]
    x = {"field": "period", "type": "ordinal", "title": None, "axis": {"labelAngle": -45, "labelOverlap": True}}
    y = {"field": "mrr", "type": "quantitative", "title": f"MRR ({currency})", "axis": {"format": "~s"}}
    return base(
        f"MRR at each month-end snapshot ({currency})",
        height=200,
        layer=[
            {
                "data": {"values": line},
                "mark": {"type": "line", "interpolate": "step-after", "color": "#1e88e5"},
                "encoding": {"x": x, "y": y, "tooltip": [{"field": "period"}, {"field": "label", "title": "MRR"}]},
            },
            {
                "data": {"values": points},
                "mark": {"type": "point", "filled": True, "size": 90},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "title": None,
                        "legend": top_legend(),
                        "scale": kind_scale(),
                    },
                    "tooltip": [{"field": "period"}, {"field": "label", "title": "movement"}],
                },
            },
        ],
    )
