"""`revbook survival`: customer lifetimes, Kaplan-Meier survival and CLTV by slice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

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

#: the lifetimes table's columns, most important first (the slices come before them)
LIFETIME_COLUMNS = (
    "accounts",
    "churned",
    "median_lifetime",
    "survival_12m",
    "monthly_churn_hazard",
    "cltv",
    "arpa",
    "restricted_mean_lifetime",
    "cltv_km",
    "gross_margin",
)
#: how the lifetimes table says what each column is
LIFETIME_NOTE = (
    "life: months from the first paid month to churn (censored at the as-of date); median: first month the "
    "Kaplan-Meier curve is at or below 50%; hazard = churned / exposure months; ARPA: MRR of the group's paying "
    "accounts on the as-of date; CLTV = ARPA x margin / hazard; CLTV, curve = ARPA x margin x mean life to the "
    "horizon (months in brackets). Slices are fixed at each account's first paid month."
)


def _formats() -> dict[str, Any]:
    from .layout import NONE, percent, whole

    def median(v: float | None, row: Mapping[str, Any]) -> str:
        return "not reached" if v is None else f"{v:.0f}"

    def mean(v: float | None, row: Mapping[str, Any]) -> str:
        return NONE if v is None else f"{v:.1f} ({row['horizon_months']})"

    return {
        "median_lifetime": median,
        "restricted_mean_lifetime": mean,
        "monthly_churn_hazard": lambda v, row: percent(v, 2),
        "gross_margin": lambda v, row: percent(v, 0),
        "cltv": lambda v, row: whole(v),
        "cltv_km": lambda v, row: whole(v),
    }


@app.command(cls=RevbookCommand)
def survival(
    by: Annotated[
        str | None, typer.Option(help="slice fixed at each account's start: segment, cohort, region, plan, ...")
    ] = None,
    spell: Annotated[str | None, typer.Option(help="first (a life ends at the first churn) or whole")] = None,
    curve: Annotated[bool, typer.Option("--curve", help="the Kaplan-Meier curve, month by month, instead")] = False,
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
    """Customer lifetimes: Kaplan-Meier survival, median lifetime, churn hazard and CLTV, by slice."""
    from ..health import survival as sv

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = sv.survival(ws, by=by, spell=spell) if curve else sv.lifetimes(ws, by=by, spell=spell)
    view = View.of(columns, wide, limit, all_)
    if curve or format is not Format.table or out is not None:
        title = "Kaplan-Meier survival by month since the first paid month"
        emit(frame, title, format, out, view=view, all_columns=True)
        return
    cur = cfg.reporting_currency
    known = {*LIFETIME_COLUMNS, "exposure_months", "horizon_months", "paying_accounts"}
    emit(
        frame,
        f"Customer lifetimes and CLTV ({cur}; CLTV in whole units)",
        format,
        out,
        view=view,
        dims=[c for c in frame.columns if c not in known],
        columns=LIFETIME_COLUMNS,
        formats=_formats(),
        headings={
            "median_lifetime": "median life (mo)",
            "restricted_mean_lifetime": "mean life to horizon (mo)",
            "survival_12m": "alive at 12 mo",
            "monthly_churn_hazard": "churn hazard / mo",
            "arpa": "ARPA",
            "gross_margin": "margin",
            "cltv": "CLTV",
            "cltv_km": "CLTV, curve",
        },
    )
    say(LIFETIME_NOTE, style="dim")
