"""`revbook catalogue [METRIC]`: the CS metric catalogue in the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from .app import RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    BySliceOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    FromOpt,
    LimitOpt,
    OutOpt,
    ToOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
    split_slices,
)
from .output import emit

#: what a terminal shows of the catalogue's headline table
CATALOGUE_COLUMNS: tuple[str, ...] = ("metric", "period", "key", "value", "numerator", "denominator", "unit")


#: the headline's numeric columns, which the library gives as text
CATALOGUE_NUMBERS = ("value", "numerator", "denominator")


def _value(value: float | None, row: Mapping[str, Any]) -> str:
    """A headline value as its unit reads: a rate as a percentage, money with cents, days, scores and
    accounts with one decimal and the unit."""
    from .layout import NONE, percent

    if value is None:
        return NONE
    if row["unit"] == "rate":
        return percent(value)
    return f"{value:,.2f}" if row["unit"] == "money" else f"{value:,.1f} {row['unit']}"


def _count(text: str | None, row: Mapping[str, Any]) -> str:
    """A numerator or denominator (text in the library's table): money with cents, counts whole."""
    from decimal import Decimal, InvalidOperation

    from .layout import NONE

    try:
        number = Decimal(text) if text not in (None, "", NONE) else None
    except InvalidOperation:
        return str(text)
    if number is None:
        return NONE
    return f"{number:,.2f}" if row["unit"] == "money" or number != number.to_integral_value() else f"{number:,.0f}"


@app.command("catalogue", cls=RevbookCommand)
def catalogue(
    metric: Annotated[str | None, typer.Argument(help="a metric (default: every metric's headline)")] = None,
    grain: Annotated[str, typer.Option(help="month, quarter or year")] = "quarter",
    by: BySliceOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    accounts: Annotated[bool, typer.Option("--accounts", help="the facts behind the metric, one row each")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The CS metric catalogue: renewal rate, time to value, adoption, QBR conversion, NPS beside retention, ..."""
    from ..metrics.catalogue import METRICS

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = ws.catalogue(metric, grain=grain, by=by, start=from_, end=to, accounts=accounts)
    dims = split_slices(by)
    headline = frame.name == "catalogue"
    shown = (
        CATALOGUE_COLUMNS if headline else tuple(c for c in frame.columns if c not in ("period_start", "period_end"))
    )
    title = "CS metric catalogue" if metric is None else f"{METRICS[metric].title} ({grain})"
    emit(
        frame,
        title,
        format,
        out,
        view=View.of(columns, wide, limit, all_),
        dims=dims,
        limit=400 if accounts else 200,
        columns=shown,
        formats={"value": _value, "numerator": _count, "denominator": _count} if headline else None,
        numbers=CATALOGUE_NUMBERS if headline else (),
    )
