"""`revbook concentration`: who carries the headline; and the book-change table `revbook csm --view book` prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..definitions import NO_CSM, NO_CSM_VALUES
from .app import RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    BySliceOpt,
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
    split_slices,
)
from .output import emit, say

if TYPE_CHECKING:
    from ..frame import Frame


#: the concentration table's columns in the terminal after the slices, most important first, for tops N
def concentration_columns(tops: list[int]) -> list[str]:
    return [
        "nrr",
        "grr",
        "logo_retention",
        "start_accounts",
        *(f"nrr_without_top_{n}" for n in tops),
        *(f"top_{n}_expansion_share" for n in tops),
        "masked_arr",
        "lost_arr",
        "expansion_arr",
        "start_arr",
        "end_arr",
    ]


CONCENTRATION_HEADINGS = {
    "logo_retention": "logo ret.",
    "start_accounts": "accts",
    "masked_arr": "masked",
    "lost_arr": "lost",
    "expansion_arr": "expansion",
    "start_arr": "start ARR",
    "end_arr": "end ARR",
}
BOOK_COLUMNS = (
    "owner",
    "start_arr",
    "end_arr",
    "growth_of_held_arr",
    "new_arr",
    "transferred_in_arr",
    "transferred_out_arr",
    "held_nrr",
    "owner_name",
    "growth_of_transferred_in_arr",
    "reactivated_arr",
    "start_accounts",
    "end_accounts",
)
BOOK_HEADINGS = {
    "start_arr": "start",
    "end_arr": "end",
    "growth_of_held_arr": "growth held",
    "new_arr": "new",
    "transferred_in_arr": "in",
    "transferred_out_arr": "out",
    "held_nrr": "held NRR",
    "owner_name": "name",
    "growth_of_transferred_in_arr": "growth in",
    "reactivated_arr": "reactivated",
    "start_accounts": "start accts",
    "end_accounts": "end accts",
}


def _tops(top: str | None) -> list[int] | None:
    from ..errors import ConfigError

    if top is None:
        return None
    try:
        return [int(t) for t in top.split(",") if t.strip()]
    except ValueError:
        raise ConfigError("--top must be whole numbers, comma-separated, such as 1,5,10", value=top) from None


@app.command(cls=RevbookCommand)
def concentration(
    window: Annotated[
        int | None, typer.Option(help="trailing window in months (default: [concentration] window_months, 12)")
    ] = None,
    by: BySliceOpt = None,
    top: Annotated[
        str | None, typer.Option(help="NRR without the top N expanding accounts, N comma-separated (default 1,5,10)")
    ] = None,
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
    """NRR without the top expanding accounts, the churn that expansion masks, logo beside dollar
    retention, and the alerts of [concentration]."""
    from ..impact.concentration import alerts
    from ..impact.concentration import concentration as concentration_

    cfg = load_config(config, workspace, as_of)
    tops = _tops(top)
    with open_workspace(cfg, read_only=True) as ws:
        frame = concentration_(ws, window=window, tops=tops, by=by)
        found = alerts(ws, window=window, by=by) if format is Format.table and out is None else []
    rows = frame.to_pylist()
    months = window or cfg.concentration.window_months
    if format is not Format.table or out is not None:
        emit(frame, "concentration", format, out)
        return
    if not rows:
        say(f"no accounts were paying at the start of the {months}-month window: try a shorter --window")
        return
    dims = split_slices(by)
    first = rows[0]
    cur = cfg.reporting_currency
    title = f"{months}-month retention from {first['window_start']} to {first['period_end']} ({cur}, ARR)"
    counts = tops or list(cfg.concentration.tops)
    emit(
        frame,
        title,
        format,
        out,
        view=View.of(columns, wide, limit, all_),
        dims=dims,
        columns=concentration_columns(counts),
        headings={
            **CONCENTRATION_HEADINGS,
            **{f"nrr_without_top_{n}": f"NRR w/o top {n}" for n in counts},
            **{f"top_{n}_expansion_share": f"top {n} share" for n in counts},
        },
        latest=False,
    )
    for r in rows:
        label = ", ".join(f"{d} {r[d]}" for d in dims if d != "owner_name")
        say(f"{label}: {r['sentence']}" if label else r["sentence"])
    for a in found:
        say(f"{a.severity}: {a.sentence}", style="yellow" if a.severity == "warning" else None)


def show_book_change(frame: Frame, currency: str, format: Format, out: Path | None, view: View) -> None:
    """The book-change table (`revbook csm --view book`), then each CSM's arithmetic in words."""
    rows = frame.to_pylist()
    if format is not Format.table or out is not None or not rows:
        emit(frame, "book change", format, out)
        return
    first = rows[0]
    when = f"{first['window_start']} to {first['window_end']}"
    title = f"the change of each CSM's book, {when} ({currency}, ARR)"
    emit(frame, title, format, out, view=view, columns=BOOK_COLUMNS, headings=BOOK_HEADINGS, latest=False)
    for r in rows:
        if r["owner"] in NO_CSM_VALUES:
            who = NO_CSM
        else:
            who = r["owner"] if r["owner_name"] == r["owner"] else f"{r['owner']} ({r['owner_name']})"
        say(f"{who}: {r['arithmetic']}")
