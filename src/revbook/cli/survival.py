"""`revbook survival`: customer lifetimes, Kaplan-Meier survival and CLTV by slice."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .options import AsOfOpt, ConfigOpt, Format, FormatOpt, OutOpt, WorkspaceOpt, load_config, open_workspace
from .output import console, emit


@app.command()
def survival(
    by: Annotated[
        str | None, typer.Option(help="slice fixed at each account's start: segment, cohort, region, plan, ...")
    ] = None,
    spell: Annotated[str | None, typer.Option(help="first (a life ends at the first churn) or whole")] = None,
    curve: Annotated[bool, typer.Option("--curve", help="the Kaplan-Meier curve, month by month, instead")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Customer lifetimes: Kaplan-Meier survival, median lifetime, churn hazard and CLTV, by slice."""
    from ..health import survival as sv

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = sv.survival(ws, by=by, spell=spell) if curve else sv.lifetimes(ws, by=by, spell=spell)
    if curve or format is not Format.table or out is not None:
        emit(frame, "Kaplan-Meier survival by month since the first paid month", format, out, all_columns=True)
    else:
        sv.print_lifetimes(frame, console=console(), currency=cfg.reporting_currency)
