"""`revbook catalogue [METRIC]`: the CS metric catalogue in the terminal (registered in cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import AsOfOpt, ConfigOpt, Format, FormatOpt, OutOpt, WorkspaceOpt


def catalogue(
    metric: Annotated[str | None, typer.Argument(help="a metric (default: every metric's headline)")] = None,
    grain: Annotated[str, typer.Option(help="month, quarter or year")] = "quarter",
    by: Annotated[
        str | None,
        typer.Option(help="slice(s), comma-separated: segment, region, industry, owner, team, plan, cohort, arr_band"),
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first period end date to show (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option(help="last period end date to show (YYYY-MM-DD)")] = None,
    accounts: Annotated[bool, typer.Option("--accounts", help="the facts behind the metric, one row each")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The CS metric catalogue: renewal rate, time to value, adoption, QBR conversion, NPS beside retention, ..."""
    from .. import cli
    from ..metrics.book import expand_dimensions
    from ..metrics.catalogue import METRICS

    cfg = cli._config(config, workspace, as_of)
    with cli._open(cfg, read_only=True) as ws:
        frame = ws.catalogue(metric, grain=grain, by=by, start=from_, end=to, accounts=accounts)
    dims = expand_dimensions([d.strip() for d in (by or "").split(",") if d.strip()])
    # every ratio of the catalogue prints as a percentage
    cli.RATIO_COLUMNS.update(c for c in frame.columns if c.endswith(("_rate", "_share")) or "retention" in c
                             or c.startswith(("nrr", "grr")))  # fmt: skip
    cli.TERMINAL_COLUMNS["catalogue"] = ("metric", "period", "key", "value", "numerator", "denominator", "unit")
    if frame.name != "catalogue":
        cli.TERMINAL_COLUMNS[frame.name] = tuple(c for c in frame.columns if c not in ("period_start", "period_end"))
    title = "CS metric catalogue" if metric is None else f"{METRICS[metric].title} ({grain})"
    cli._emit(frame, title, format, out, dims=dims, limit=400 if accounts else 200)
