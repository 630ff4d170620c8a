"""What the HTML report and the web dashboard share: number formats, the glossary, Vega-Lite specs.

Every spec is built from rows the library returned (``ws.mrr()``, ``ws.movements()``,
``ws.retention()``, ``ws.cohorts()``, ...): nothing here computes a metric, it only lays out
figures the library computed. A spec is a plain dict (Vega-Lite 5); its ``$schema`` URL is an
identifier, never fetched. ``href`` functions make a mark a link to the accounts behind it
(the dashboard passes them; the report, a file, does not).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "GLOSSARY",
    "MOVEMENT_COLORS",
    "account_timeline",
    "arr_trend",
    "cohort_heatmaps",
    "money",
    "money_compact",
    "movement_bars",
    "pareto",
    "pct",
    "retention_by_slice",
    "retention_trend",
    "signal_lift_bars",
    "spec_json",
    "waterfall",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MOVEMENT_COLORS = {
    "start": "#78909c",
    "new": "#2e7d32",
    "reactivation": "#7cb342",
    "expansion": "#1e88e5",
    "contraction": "#fb8c00",
    "churn": "#e53935",
    "end": "#455a64",
}
MEASURE_COLORS = {"NRR": "#1e88e5", "GRR": "#8e24aa", "Logo retention": "#00897b"}

#: key -> (label, definition); the text follows docs/definitions.md, which has the worked examples
GLOSSARY: dict[str, tuple[str, str]] = {
    "arr": ("ARR", "Annual recurring revenue: 12 × MRR on the period's snapshot (the as-of date for the last period)."),
    "mrr": (
        "MRR",
        "Sum of an account's subscription lines active on the snapshot date (start ≤ d < end), each normalised "
        "to a month, after discounts, before tax, in the reporting currency, rounded once (half-even).",
    ),
    "accounts": ("Paying accounts", "Accounts with MRR above zero on the snapshot. Trials are not paying."),
    "nrr": (
        "NRR",
        "Net revenue retention (cohort): the accounts paying at the window's start; their MRR at the window's "
        "end over their MRR at the start, whatever happened between.",
    ),
    "grr": (
        "GRR",
        "Gross revenue retention: as NRR, with each account capped at its start MRR, so expansion cannot hide "
        "churn or contraction (GRR ≤ 100% and GRR ≤ NRR).",
    ),
    "logo_retention": ("Logo retention", "The share of the window's starting accounts still paying at its end."),
    "quick_ratio": ("Quick ratio", "(new + reactivation + expansion) / (contraction + churn) over the window."),
    "window": (
        "Window",
        "Retention is measured over trailing windows of 1, 3 or 12 months; 12 is the headline. Each account "
        "is counted in the slice (segment, CSM, ...) it had when the window opened.",
    ),
    "new": ("New", "An account's first MRR ever: 0 at the previous snapshot, never positive before."),
    "reactivation": ("Reactivation", "MRR again after a snapshot at zero, having paid before."),
    "expansion": ("Expansion", "MRR higher than at the previous snapshot."),
    "contraction": ("Contraction", "MRR lower than at the previous snapshot, still above zero."),
    "churn": ("Churn", "MRR to zero, dated when the paid service ends, not when cancellation is asked for."),
    "movements": (
        "MRR movements",
        "Each account's snapshot compared with its previous one. Identity, exact to the cent: start + new + "
        "reactivation + expansion − contraction − churn = end.",
    ),
    "slice": (
        "Slice",
        "Segment, region, industry, CSM (owner), team, plan, cohort or ARR band, as of the period's start "
        "(a new account: its first snapshot). An account that changes slice is a transfer out of one and into "
        "the other.",
    ),
    "cohort": (
        "Cohort",
        "The month of an account's first MRR (not its created date). A triangle's cell at age k: the cohort's "
        "logo retention (accounts paying k months later / cohort size) or NRR (their MRR then / cohort MRR).",
    ),
    "tenure": ("Tenure", "Months from the account's first MRR to the period's snapshot."),
    "data_quality": (
        "Data-quality findings",
        "Checks of the loaded data: error (a number would be wrong), warning (a number may not mean what a "
        "reader thinks), info (worth knowing).",
    ),
}


# -- formats -------------------------------------------------------------------------------
def money(value: Decimal | float | int | None, decimals: int = 0) -> str:
    """1234567.891 -> '1,234,568' (decimals=0) or '1,234,567.89' (decimals=2); None -> '–'."""
    if value is None:
        return "–"
    return f"{Decimal(str(value)):,.{decimals}f}"


def money_compact(value: Decimal | float | int | None) -> str:
    """89274130.08 -> '89.27M'; for headline cards (the exact figure goes beside it)."""
    if value is None:
        return "–"
    v = float(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.2f}{suffix}"
    return f"{v:,.0f}"


def pct(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{decimals}f}%"


def spec_json(spec: Mapping[str, Any]) -> str:
    """A spec as JSON that is safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""

    def default(v: object) -> object:
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        return str(v)

    text = json.dumps(spec, default=default, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(v: Decimal | float | int | None) -> float | None:
    return None if v is None else float(v)


def _base(title: str | dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {
            "font": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
            "axis": {"labelColor": "#37474f", "titleColor": "#37474f", "gridColor": "#eceff1"},
            "view": {"stroke": None},
        },
    }
    if title:
        spec["title"] = {
            "anchor": "start",
            "fontSize": 13,
            "fontWeight": 600,
            "subtitleColor": "#78909c",
            **(title if isinstance(title, dict) else {"text": title}),
        }
    spec.update(extra)
    return spec


def _bars_around_one(
    title: str, values: list[dict[str, Any]], encoding: dict[str, Any], *, clickable: bool
) -> dict[str, Any]:
    """Grouped horizontal bars with a dashed rule at 1 (100% retention, a lift of 1x)."""
    return _base(
        title,
        data={"values": values},
        height={"step": 9},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if clickable else "default"},
                "encoding": _with_href(encoding, values),
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"}, "encoding": {"x": {"datum": 1}}},
        ],
    )


def _with_href(encoding: dict[str, Any], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if rows and "url" in rows[0]:
        encoding["href"] = {"field": "url", "type": "nominal"}
    return encoding


# -- specs ---------------------------------------------------------------------------------
def arr_trend(
    rows: Iterable[Mapping[str, Any]], *, currency: str, href: Callable[[Mapping[str, Any]], str] | None = None
) -> dict[str, Any]:
    """ARR at each period's snapshot (rows of ``ws.mrr()``: period, period_end, arr, accounts)."""
    values = []
    for r in rows:
        v = {"period": r["period"], "arr": _num(r["arr"]), "label": f"{money(r['arr'])} {currency}"}
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
    return _base(
        f"ARR ({currency})",
        height=180,
        data={"values": values},
        layer=[
            {"mark": {"type": "area", "color": "#bbdefb", "line": {"color": "#1e88e5"}}, "encoding": enc},
            {
                "mark": {"type": "point", "filled": True, "size": 30, "color": "#1e88e5"},
                "encoding": _with_href(dict(enc), values),
            },
        ],
    )


def retention_trend(
    rows: Iterable[Mapping[str, Any]], *, window: int, href: Callable[[Mapping[str, Any]], str] | None = None
) -> dict[str, Any]:
    """NRR, GRR and logo retention over time (rows of ``ws.retention()`` for one window and slice)."""
    values = []
    for r in rows:
        if r.get("nrr") is None:
            continue
        for key, name in (("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "Logo retention")):
            v = {"period": r["period"], "measure": name, "value": r[key], "label": pct(r[key])}
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
            "legend": {"orient": "top"},
        },
        "tooltip": [{"field": "period"}, {"field": "measure"}, {"field": "label", "title": "value"}],
    }
    return _base(
        f"Retention, trailing {window}-month windows",
        height=180,
        data={"values": values},
        layer=[
            {"mark": {"type": "line", "strokeWidth": 2}, "encoding": enc},
            {"mark": {"type": "point", "filled": True, "size": 25}, "encoding": _with_href(dict(enc), values)},
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"}, "encoding": {"y": {"datum": 1}}},
        ],
    )


def waterfall(
    row: Mapping[str, Any], *, currency: str, href: Callable[[str], str | None] | None = None
) -> dict[str, Any]:
    """One period's movements (a row of ``ws.movements()``) as a waterfall from start to end MRR."""
    steps = [
        ("start", "Start MRR", row["start_mrr"], None),
        ("new", "New", row["new_mrr"], row.get("new_accounts")),
        ("reactivation", "Reactivation", row["reactivation_mrr"], row.get("reactivated_accounts")),
        ("expansion", "Expansion", row["expansion_mrr"], row.get("expanded_accounts")),
        ("contraction", "Contraction", -row["contraction_mrr"], row.get("contracted_accounts")),
        ("churn", "Churn", -row["churn_mrr"], row.get("churned_accounts")),
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
        v: dict[str, Any] = {
            "kind": kind,
            "step": label,
            "lo": float(lo),
            "hi": float(hi),
            "label": text,
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
        "accounts": "",
    }
    if href and (url := href("end")):
        end["url"] = url
    values.append(end)
    order = [v["step"] for v in values]
    enc = {
        "x": {"field": "step", "type": "nominal", "sort": order, "title": None, "axis": {"labelAngle": 0}},
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
    return _base(
        {"text": f"MRR movements, {row['period']}", "subtitle": subtitle}
        if subtitle
        else f"MRR movements, {row['period']}",
        height=220,
        data={"values": values},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if href else "default", "clip": True},
                "encoding": _with_href(enc, values),
            },
            {
                "mark": {"type": "text", "dy": -6, "fontSize": 11, "color": "#263238"},
                "encoding": {"x": enc["x"], "y": {"field": "hi", "type": "quantitative"}, "text": {"field": "label"}},
            },
        ],
    )


def movement_bars(rows: Iterable[Mapping[str, Any]], *, currency: str) -> dict[str, Any]:
    """Movements per period (rows of ``ws.movements()``), gains up and losses down."""
    values = []
    for r in rows:
        for kind in ("new", "reactivation", "expansion", "contraction", "churn"):
            amount = _num(r[f"{kind}_mrr"]) or 0.0
            sign = -1 if kind in ("contraction", "churn") else 1
            values.append({"period": r["period"], "kind": kind, "amount": sign * amount, "label": money(sign * amount)})
    return _base(
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
                "legend": {"orient": "top"},
                "scale": {"domain": list(MOVEMENT_COLORS)[1:6], "range": list(MOVEMENT_COLORS.values())[1:6]},
            },
            "tooltip": [{"field": "period"}, {"field": "kind"}, {"field": "label", "title": currency}],
        },
    )


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
            "legend": {"orient": "top"},
            "scale": {"domain": list(MEASURE_COLORS), "range": list(MEASURE_COLORS.values())},
        },
        "tooltip": [
            {"field": "slice", "title": dim},
            {"field": "measure"},
            {"field": "label", "title": "value"},
            {"field": "accounts", "title": "accounts at start", "format": ","},
        ],
    }
    return _bars_around_one(f"Retention by {dim}, trailing {window} months", values, enc, clickable=bool(href))


def cohort_heatmaps(
    rows: Iterable[Mapping[str, Any]],
    *,
    periods: Sequence[str] | None = None,
    href_prefix: str | None = None,
) -> dict[str, Any]:
    """The vintage triangles (long rows of ``ws.cohorts()``) as two heatmaps: logo retention and NRR.

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
                {"field": "s", "title": "cohort size"},
            ],
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

    spec = _base(
        None,
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


def account_timeline(
    mrr_rows: Iterable[Mapping[str, Any]], movements: Iterable[Mapping[str, Any]], *, currency: str
) -> dict[str, Any]:
    """One account's MRR at each snapshot (``ws.mrr(account=)``) with its movements as coloured points."""
    line = [{"period": r["period"], "mrr": _num(r["mrr"]), "label": money(r["mrr"], 2)} for r in mrr_rows]
    points = [
        {
            "period": m["period"],
            "mrr": _num(m["end_mrr"]),
            "kind": m["movement"],
            "label": f"{m['movement']}: {money(m['start_mrr'], 2)} → {money(m['end_mrr'], 2)}",
        }
        for m in movements
    ]
    x = {"field": "period", "type": "ordinal", "title": None, "axis": {"labelAngle": -45, "labelOverlap": True}}
    y = {"field": "mrr", "type": "quantitative", "title": f"MRR ({currency})", "axis": {"format": "~s"}}
    return _base(
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
                        "legend": {"orient": "top"},
                        "scale": {"domain": list(MOVEMENT_COLORS)[1:6], "range": list(MOVEMENT_COLORS.values())[1:6]},
                    },
                    "tooltip": [{"field": "period"}, {"field": "label", "title": "movement"}],
                },
            },
        ],
    )


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
            "value": _num(r[value_key]) or 0.0,
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
            "legend": {"orient": "top"},
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
    return _base(
        title or default_title,
        height=220,
        data={"values": values},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if href else "default"},
                "encoding": _with_href(bar_enc, values),
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
                "rule": r["rule"],
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
            "legend": {"orient": "top"},
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
    return _bars_around_one(f"Lift within {horizon} days of a signal", values, enc, clickable=bool(href))
