"""`revbook renewals`: the renewal book (due in the next days, by bucket) and the renewal rate by cohort."""

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
    OnOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import emit, print_frame

#: the book's columns in the terminal, most important first
BOOK_COLUMNS = (
    "account_id",
    "due_date",
    "days_to_due",
    "arr",
    "likelihood",
    "committed_by",
    "risk_reasons",
    "owner",
    "last_touch_on",
    "last_touch_type",
    "expected_arr",
    "bucket_label",
    "name",
    "health_band",
)
RATE_COLUMNS = (
    "renewals_due",
    "renewed",
    "logo_renewal_rate",
    "arr_due",
    "arr_renewed",
    "dollar_renewal_rate",
    "net_dollar_renewal_rate",
    "pending",
)
HEADINGS = {
    "days_to_due": "days",
    "logo_renewal_rate": "logo rate",
    "dollar_renewal_rate": "dollar rate",
    "net_dollar_renewal_rate": "net rate",
    "bucket_label": "bucket",
}


@app.command(cls=RevbookCommand)
def renewals(
    on: OnOpt = None,
    within: Annotated[int, typer.Option(help="renewals due in the next N days (1-3650)")] = 180,
    owner: Annotated[
        str | None, typer.Option(help="only this CSM's accounts (owner id; with --rate: their book's renewals)")
    ] = None,
    rate: Annotated[
        bool, typer.Option("--rate", help="the renewal rate by cohort of due date instead (logo and dollar)")
    ] = False,
    by: Annotated[str, typer.Option(help="with --rate: due_month, due_quarter or due_year")] = "due_month",
    end: Annotated[str | None, typer.Option(help="with --rate: the last cohort ends on or before (YYYY-MM-DD)")] = None,
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
    """The renewal book: accounts with a renewal due in the next days, with ARR, likelihood, committed
    or not (and by what), risk reasons, the last touch and the owner; summed by 30/60/90/180-day bucket."""
    from ..rum.renewals import bucket_edges, renewal_book, renewal_rate, summary_of

    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        if rate:
            frame = renewal_rate(ws, by=by, end=end, owner=owner)
            title = f"renewal rate by {by.replace('_', ' ')} (renewed: paying on the due date or back within "
            title += f"{cfg.catalogue.renewal_grace_days} days)"
            emit(frame, title, format, out, view=view, columns=(by, *RATE_COLUMNS), headings=HEADINGS)
            return
        book = renewal_book(ws, on=on, within=within, owner=owner)
        when = on or cfg.snapshot_date().isoformat()
        if format is Format.table and out is None:
            summary = summary_of(book, bucket_edges(cfg.renewals.buckets, within))
            print_frame(
                summary,
                title=f"renewals due in the next {within} days from {when}, by bucket",
                view=View(wide=wide, pick=False),
                columns=("bucket_label", "accounts", "arr_due", "expected_arr", "committed_accounts", "committed_arr"),
                headings=HEADINGS,
            )
        title = f"renewal book on {when}" + (f", {owner}" if owner else "")
        emit(book, title, format, out, view=view, columns=BOOK_COLUMNS, ratios=("likelihood",), headings=HEADINGS,
             order="soonest first")  # fmt: skip
