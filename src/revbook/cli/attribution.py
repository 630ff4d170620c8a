"""`revbook attribution`: who or what drove expansion (csm, ae, product, self-serve, price or ambiguous),
and NRR with and without product-driven expansion (docs/attribution.md)."""

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
    FromOpt,
    LimitOpt,
    OutOpt,
    ToOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import emit

#: the summary's columns in a terminal, most important first
SUMMARY_COLUMNS = (
    "csm",
    "gross_expansion_arr",
    "nrr",
    "nrr_without_product",
    "grr",
    "csm_arr",
    "ambiguous_arr",
    "product_share",
    "csm_share",
    "ae_share",
    "self_serve_share",
    "price_share",
    "ambiguous_share",
    "csm_name",
    "start_accounts",
    "product_arr",
    "ae_arr",
    "self_serve_arr",
    "price_arr",
)
#: the row-level table's columns in a terminal, most important first
ACCOUNT_COLUMNS = (
    "period",
    "account_id",
    "arr_delta",
    "attribution",
    "rule",
    "csm",
    "change",
    "opportunity_id",
    "days_from_close",
    "touches",
    "owner_role",
    "source",
    "products",
    "change_date",
    "reason",
)


@app.command(cls=RevbookCommand)
def attribution(
    by: Annotated[str | None, typer.Option(help="csm: one row per CSM (who held the account)")] = None,
    owner: Annotated[str | None, typer.Option(help="only this CSM (owner id)")] = None,
    accounts: Annotated[
        bool, typer.Option("--accounts", help="one row per expansion account-month and class, with its evidence")
    ] = False,
    window: Annotated[int, typer.Option(min=1, help="trailing months of the summary, to the as-of date")] = 12,
    from_: FromOpt = None,
    to: ToOpt = None,
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
    """Expansion attribution: each expansion's class by documented rules (a won deal in the window, usage
    lines, seats or plans added with or without a CSM touch, price only), its share of expansion ARR, and
    NRR with and without product-driven expansion."""
    from ..frame import Frame
    from ..impact.attribution import expansions
    from ..impact.attribution_summary import summary

    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        if accounts:
            frame = expansions(ws, start=from_, end=to, owner=owner)
            title = "expansions by attribution" + (f", {owner}'s accounts" if owner else "")
            emit(frame, title, format, out, view=view, columns=ACCOUNT_COLUMNS)
            return
        frame = summary(ws, window=window, by=by or ("csm" if owner else None))
        if owner is not None:
            table = frame.to_arrow()
            frame = Frame(frame.name, table.filter([c == owner for c in table.column("csm").to_pylist()]))
        when = cfg.snapshot_date().isoformat()
        title = f"expansion attribution, {window} months to {when}" + (" by CSM" if by or owner else "")
        emit(frame, title, format, out, view=view, columns=SUMMARY_COLUMNS, latest=False)
