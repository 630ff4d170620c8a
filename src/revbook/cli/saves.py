"""`revbook saves`: claimed saves verified against what the health model said on the flag date."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LimitOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import emit, say

#: the saves table's columns in the terminal, most important first
SAVE_COLUMNS = (
    "account_id",
    "flag_date",
    "verdict",
    "churn_probability",
    "scored_on",
    "base_rate",
    "arr",
    "expected_arr_saved",
    "owner",
    "flag_kinds",
    "renewed_on",
    "segment",
)
RATIOS = ("churn_probability", "base_rate")


@app.command(cls=RevbookCommand)
def saves(
    owner: Annotated[str | None, typer.Option(help="only this CSM's saves (owner id on the flag date)")] = None,
    verdict: Annotated[str | None, typer.Option(help="only this verdict: credible, never_at_risk, uncertain")] = None,
    start: Annotated[
        str | None, typer.Option(help="first flag date (YYYY-MM-DD; default [saves] lookback_days before the as-of)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="last flag date (YYYY-MM-DD; default the as-of date)")] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="counts and expected ARR saved per verdict, overall and per CSM")
    ] = False,
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
    """Saves verified: each account flagged at risk that then renewed, the highest churn probability the
    health model gave on one of its flag dates against its segment's base rate, the verdict and the
    expected ARR saved."""
    from ..errors import ConfigError
    from ..frame import Frame
    from ..impact.saves import SAVE_VERDICTS, saves_summary
    from ..impact.saves import saves as saves_of

    if verdict is not None and verdict not in SAVE_VERDICTS:
        raise ConfigError(f"unknown verdict '{verdict}'", hint=f"use one of: {', '.join(SAVE_VERDICTS)}")
    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        frame = saves_of(ws, start=start, end=end, owner=owner)
        if verdict is not None:
            table = frame.to_arrow()
            frame = Frame(frame.name, table.filter([v == verdict for v in table["verdict"].to_pylist()]))
        if summary:
            emit(saves_summary(frame), "saves per verdict, overall and per CSM", format, out, view=view)
            return
        if format is Format.table and out is None:
            totals = [r for r in saves_summary(frame).to_pylist() if r["owner"] == "all"]
            say("  ".join(f"{r['verdict']}: {r['saves']:,}, expected ARR saved {r['expected_arr_saved']:,.0f}"
                          for r in totals))  # fmt: skip
        title = "saves: flagged at risk, then renewed"
        emit(frame, title, format, out, view=view, columns=SAVE_COLUMNS, ratios=RATIOS, order="by flag date")
