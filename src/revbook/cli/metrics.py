"""`revbook metrics` and `revbook headline`: the metric tables and the headline figures."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .app import RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    BySliceOpt,
    ColumnsOpt,
    ConfigOpt,
    EngineName,
    EngineOpt,
    Format,
    FormatOpt,
    FromOpt,
    GrainOpt,
    LimitOpt,
    OutOpt,
    TablesOpt,
    ToOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
    split_slices,
)
from .output import emit, print_headline, print_movements, say


class Kind(StrEnum):
    mrr = "mrr"
    movements = "movements"
    retention = "retention"
    cohorts = "cohorts"
    ledger = "ledger"
    accounts = "accounts"
    revenue = "revenue"
    reconcile = "reconcile"


@app.command(cls=RevbookCommand)
def metrics(
    kind: Annotated[Kind, typer.Argument(help="which table")] = Kind.movements,
    grain: GrainOpt = "month",
    window: Annotated[list[int] | None, typer.Option(help="retention window(s) in months: 1, 3, 12")] = None,
    by: BySliceOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    triangle: Annotated[
        str | None, typer.Option(help="cohorts as a triangle of logo_retention or nrr (one column per month)")
    ] = None,
    engine: EngineOpt = EngineName.duckdb,
    tables: TablesOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Print or write a metric table: mrr, movements, retention, cohorts, ledger, accounts, revenue, reconcile."""
    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True, engine=engine, tables=tables) as ws:
        if kind is Kind.mrr:
            frame = ws.mrr(grain=grain, by=by, start=from_, end=to)
        elif kind is Kind.accounts:
            frame = ws.mrr(grain=grain, by=by, start=from_, end=to, accounts=True)
        elif kind is Kind.movements:
            frame = ws.movements(grain=grain, by=by, start=from_, end=to)
        elif kind is Kind.retention:
            frame = ws.retention(window=window or (1, 3, 12), by=by, grain=grain, start=from_, end=to)
        elif kind is Kind.cohorts:
            frame = ws.cohorts(start=from_, end=to, triangle=triangle)
        elif kind is Kind.revenue:
            frame = ws.revenue(grain=grain, start=from_, end=to)
        elif kind is Kind.reconcile:
            frame = ws.reconcile(grain=grain)
        else:
            frame = ws.ledger()
    view = View.of(columns, wide, limit, all_)
    emit(frame, f"{kind.value} ({grain})", format, out, view=view, dims=split_slices(by))


class Against(StrEnum):
    invoices = "invoices"
    stripe = "stripe"
    crm = "crm"


@app.command(cls=RevbookCommand)
def reconcile(
    against: Annotated[
        Against, typer.Option(help="what to compare revbook's MRR with (crm: the CRM's ARR field, as ARR)")
    ] = Against.invoices,
    total: Annotated[
        Path | None,
        typer.Option(
            "--total",
            help="a CSV of period,total to compare with instead (e.g. 2024-03,1250.00); split by what revbook "
            "computes alone (the conventions other tools differ on, and FX), the rest unexplained",
        ),
    ] = None,
    accounts: Annotated[
        bool, typer.Option("--accounts", help="one row per account and period: who is behind each cause")
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
    """Why our numbers differ: revbook's MRR beside the invoiced amount (Stripe's, the CRM's ARR field or
    your totals), split by cause."""
    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = ws.why_numbers_differ(against=total if total is not None else against.value, accounts=accounts)
    shown = "your totals" if total is not None else "the CRM's ARR field" if against is Against.crm else against.value
    title = f"why the numbers differ: revbook {'ARR' if against is Against.crm and total is None else 'MRR'} vs {shown}"
    emit(frame, title, format, out, view=View.of(columns, wide, limit, all_))
    if total is not None and format is Format.table:
        from ..metrics.reconcile import TOTAL_CAUSES

        say(
            f"against your totals revbook computes only {', '.join(TOTAL_CAUSES)} (its own conventions); "
            "the causes that compare lines (timing, credits, one-time, trials billed, tax, past-due) "
            "stay in unexplained",
            stderr=True,
        )


@app.command(cls=RevbookCommand)
def headline(
    engine: EngineOpt = EngineName.duckdb,
    tables: TablesOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The headline figures and the last 12 months' movements."""
    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True, engine=engine, tables=tables) as ws:
        print_headline(ws)
        print_movements(ws)
