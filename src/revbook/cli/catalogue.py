"""`revbook catalogue [METRIC]`: the CS metric catalogue in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .options import (
    AsOfOpt,
    BySliceOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    FromOpt,
    OutOpt,
    ToOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
    split_slices,
)
from .output import emit

#: what a terminal shows of the catalogue's headline table
CATALOGUE_COLUMNS: tuple[str, ...] = ("metric", "period", "key", "value", "numerator", "denominator", "unit")


def _is_ratio(column: str) -> bool:
    """Every ratio of the catalogue prints as a percentage."""
    return column.endswith(("_rate", "_share")) or "retention" in column or column.startswith(("nrr", "grr"))


@app.command("catalogue")
def catalogue(
    metric: Annotated[str | None, typer.Argument(help="a metric (default: every metric's headline)")] = None,
    grain: Annotated[str, typer.Option(help="month, quarter or year")] = "quarter",
    by: BySliceOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    accounts: Annotated[bool, typer.Option("--accounts", help="the facts behind the metric, one row each")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
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
    if frame.name == "catalogue":
        columns = CATALOGUE_COLUMNS
    else:
        columns = tuple(c for c in frame.columns if c not in ("period_start", "period_end"))
    title = "CS metric catalogue" if metric is None else f"{METRICS[metric].title} ({grain})"
    emit(
        frame,
        title,
        format,
        out,
        dims=dims,
        limit=400 if accounts else 200,
        columns=columns,
        ratios=[c for c in frame.columns if _is_ratio(c)],
    )
