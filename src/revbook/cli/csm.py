"""`revbook csm`: each CSM's risk-adjusted impact, their complexity-weighted capacity, or their book's change."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from .app import RevbookCommand, app
from .concentration import show_book_change
from .options import (
    AllRowsOpt,
    AsOfOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LimitOpt,
    OnOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import emit, say


class CsmView(StrEnum):
    impact = "impact"
    capacity = "capacity"
    book = "book"


#: what the terminal table shows first, per view
IMPACT_COLUMNS: tuple[str, ...] = (
    "owner", "actual_nrr", "expected_nrr", "net_points", "net_low", "net_high", "verdict", "rank_nrr",
    "rank_adjusted", "accounts", "net_arr_vs_expected", "actual_grr", "expected_grr", "gross_points",
    "actual_logo_retention", "expected_logo_retention", "logo_points", "owner_name",
)  # fmt: skip
CAPACITY_COLUMNS: tuple[str, ...] = (
    "owner", "accounts", "managed_arr", "load", "load_vs_median", "load_per_account", "open_risks",
    "renewals_due", "escalations_90d", "multi_product", "owner_name", "team",
)  # fmt: skip
HEADINGS = {
    "actual_nrr": "NRR",
    "expected_nrr": "expected",
    "net_points": "pts",
    "net_low": "low",
    "net_high": "high",
    "rank_nrr": "rank raw",
    "rank_adjusted": "rank adj",
    "net_arr_vs_expected": "ARR vs expected",
    "actual_grr": "GRR",
    "expected_grr": "exp GRR",
    "gross_points": "GRR pts",
    "actual_logo_retention": "logos",
    "expected_logo_retention": "exp logos",
    "logo_points": "logo pts",
    "load_vs_median": "vs median",
    "load_per_account": "per acct",
}


def _owner_lines(frame_row: dict[str, object], view: CsmView) -> list[str]:
    """One CSM's figures as sentences (the --owner reading)."""
    r = frame_row
    who = f"{r['owner_name']} ({r['owner']})"
    if view is CsmView.capacity:
        return [
            f"{who}: {r['accounts']:,} accounts, managed ARR {r['managed_arr']:,.2f}, load {r['load']:,.2f} "
            f"({r['load_vs_median']:.2f} x the median CSM's), {r['open_risks']} open risks, "
            f"{r['renewals_due']} renewals due, {r['escalations_90d']} escalations in the last 90 days."
        ]
    return [
        f"{who}: {r['accounts']:,} accounts (held on {r['window_start']}), ARR {r['start_arr']:,.2f} then "
        f"{r['end_arr']:,.2f} (on {r['window_end']})",
        f"NRR {r['actual_nrr']:.1%} against {r['expected_nrr']:.1%} expected: {r['net_points']:+.1f} points "
        f"(interval {r['net_low']:+.1f} to {r['net_high']:+.1f}), {r['net_arr_vs_expected']:+,.2f} ARR; "
        f"GRR {r['actual_grr']:.1%} against {r['expected_grr']:.1%} ({r['gross_points']:+.1f} points); "
        f"logo retention {r['actual_logo_retention']:.1%} against {r['expected_logo_retention']:.1%} "
        f"({r['logo_points']:+.1f} points).",
        f"Verdict: {r['verdict']}; rank {r['rank_nrr']} by raw NRR, {r['rank_adjusted']} by risk-adjusted NRR",
    ]


@app.command(cls=RevbookCommand)
def csm(
    view: Annotated[
        CsmView,
        typer.Option("--view", help="impact (risk-adjusted retention), capacity, or book (the book's change)"),
    ] = CsmView.impact,
    owner: Annotated[str | None, typer.Option(help="only this CSM (owner id): their figures and the method")] = None,
    window: Annotated[
        int | None, typer.Option(min=1, max=120, help="impact: months from the cohort's start to its end")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="book: the window's first day YYYY-MM-DD (default: a year before the end)")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="impact: the window ends at the last month end on or before this date; book: its last day"),
    ] = None,
    on: OnOpt = None,
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
    """Each CSM's retention against what their book's risk predicted (impact), their load weighted
    by account complexity beside their managed ARR (capacity), or the change of their book over a
    window with the arithmetic that adds it up (book)."""
    from ..errors import NotFoundError
    from ..impact.capacity import capacity
    from ..impact.csm import csm_impact, method_text

    cfg = load_config(config, workspace, as_of)
    shown = View.of(columns, wide, limit, all_)
    terminal = format is Format.table and out is None
    with open_workspace(cfg, read_only=True) as ws:
        if view is CsmView.book:
            from ..impact.book import book_change

            frame = book_change(ws, start=start, end=end, owner=owner)
            show_book_change(frame, cfg.reporting_currency, format, out, shown)
            return
        if view is CsmView.capacity:
            frame = capacity(ws, on=on, owner=owner)
            title = f"CSM capacity on {on or cfg.snapshot_date().isoformat()}: load weighted by account complexity"
            order, preferred = "highest load first", CAPACITY_COLUMNS
        else:
            frame = csm_impact(ws, window=window, end=end, owner=owner)
            first = frame.to_arrow().slice(0, 1).to_pylist()
            span = f"{first[0]['window_start']} to {first[0]['window_end']}" if first else ""
            title = f"risk-adjusted CSM impact, {span}: actual against expected retention"
            order, preferred = "by owner id", IMPACT_COLUMNS
        if owner is not None and not len(frame):
            raise NotFoundError(f"no CSM '{owner}' with accounts here", hint="see the owner ids in `revbook csm`")
        if terminal and owner is not None:
            for line in _owner_lines(frame.to_arrow().to_pylist()[0], view):
                say(line)
        emit(frame, title, format, out, view=shown, order=order, columns=preferred, headings=HEADINGS)
        if terminal and view is CsmView.impact:
            say(method_text(cfg.csm_impact, window=window), style="dim")
