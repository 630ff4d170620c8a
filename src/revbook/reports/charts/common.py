"""What every chart spec shares: number formats, colours, the Vega-Lite base of a spec."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ...definitions import MOVEMENT_KINDS, NO_CSM, NO_CSM_VALUES

__all__ = [
    "MEASURE_COLORS",
    "MOVEMENT_COLORS",
    "SCHEMA",
    "SMALL_COHORT",
    "bars_around_one",
    "base",
    "kind_scale",
    "money",
    "money_compact",
    "num",
    "pct",
    "period_shown",
    "shown_value",
    "small",
    "spec_json",
    "with_href",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: the waterfall's start and end, and one colour per movement kind (definitions.MOVEMENT_KINDS)
MOVEMENT_COLORS = {
    "start": "#78909c",
    **dict(zip(MOVEMENT_KINDS, ("#2e7d32", "#7cb342", "#1e88e5", "#fb8c00", "#e53935"), strict=True)),
    "end": "#455a64",
}
#: a retention point or a cohort cell with fewer accounts behind it than this is drawn faded: one
#: or two accounts leaving reads as 0% retention, which says little about the book (docs/dashboard.md)
SMALL_COHORT = 5
#: the opacity of a faded point or cell
FADED = 0.3
#: entries per row of a legend above a chart: three fit a phone-width screen
LEGEND_COLUMNS = 3
MEASURE_COLORS = {"NRR": "#1e88e5", "GRR": "#8e24aa", "Logo retention": "#00897b"}


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


def shown_value(value: Any) -> Any:
    """A slice value as the surfaces show it: the data's "(none)" (and RUM's "unmanaged" team) as
    :data:`revbook.definitions.NO_CSM`; the data keep their values (filters, links and exports use them)."""
    return NO_CSM if isinstance(value, str) and value in NO_CSM_VALUES else value


def period_shown(row: Mapping[str, Any]) -> str:
    """A row's period as charts print it: its ``period_label`` ("2026-11 to date") when the surface
    added one (``metrics.book.period_label``), its ``period`` otherwise."""
    return str(row.get("period_label") or row["period"])


def small(accounts: int | None) -> bool:
    """Whether a point stands on too few accounts to read (see :data:`SMALL_COHORT`)."""
    return accounts is not None and accounts < SMALL_COHORT


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


def num(v: Decimal | float | int | None) -> float | None:
    return None if v is None else float(v)


def base(title: str | dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
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


def bars_around_one(
    title: str, values: list[dict[str, Any]], encoding: dict[str, Any], *, clickable: bool
) -> dict[str, Any]:
    """Grouped horizontal bars with a dashed rule at 1 (100% retention, a lift of 1x)."""
    return base(
        title,
        data={"values": values},
        height={"step": 9},
        layer=[
            {
                "mark": {"type": "bar", "cursor": "pointer" if clickable else "default"},
                "encoding": with_href(encoding, values),
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#90a4ae"}, "encoding": {"x": {"datum": 1}}},
        ],
    )


def with_href(encoding: dict[str, Any], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if rows and "url" in rows[0]:
        encoding["href"] = {"field": "url", "type": "nominal"}
    return encoding


def top_legend(**extra: Any) -> dict[str, Any]:
    """A legend above the chart in rows of at most :data:`LEGEND_COLUMNS` entries: one long row
    of entries was cut off on a phone-width screen (390 px). Its title, if any, sits above them."""
    return {"orient": "top", "columns": LEGEND_COLUMNS, "titleOrient": "top", **extra}


def kind_scale() -> dict[str, list[Any]]:
    """The colour scale of the movement kinds (start and end left out)."""
    return {"domain": list(MOVEMENT_KINDS), "range": [MOVEMENT_COLORS[k] for k in MOVEMENT_KINDS]}
