"""What the workbook is built from: the account-level rows and the engine's own figures; the sheets' layout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...errors import RevbookError, WorkbookError

if TYPE_CHECKING:
    from ...workspace import Workspace

__all__ = [
    "FIRST_ROW",
    "GRID_FIRST_ROW",
    "GRID_HEADER_ROW",
    "HEADER_ROW",
    "LOOKBACK",
    "MAX_SHEET_ROWS",
    "RATIO_TOLERANCE",
    "SHEETS",
    "WINDOWS",
    "Check",
    "Facts",
    "collect",
    "num",
]

#: the retention windows (months) of the Retention sheet
WINDOWS = (1, 3, 12)
#: periods before the first waterfall month kept in Accounts, so every window has its start snapshot
LOOKBACK = max(WINDOWS)
#: Excel's rows per sheet
MAX_SHEET_ROWS = 1_048_576
#: the ratio tolerance of the Checks sheet (money is compared to the cent, counts exactly)
RATIO_TOLERANCE = 1e-9

SHEETS = ("README", "Checks", "Waterfall", "Retention", "Book change", "MRR by account", "Accounts", "Definitions")

# the first row of data on the Accounts, Waterfall, Retention and Checks sheets (title, note, blank, header)
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
# MRR by account: totals in rows 4-7, the header in row 8, accounts from row 9
GRID_HEADER_ROW = 8
GRID_FIRST_ROW = 9


@dataclass
class Facts:
    """What the workbook is built from: the account-level rows and the engine's own figures."""

    as_of: dt.date
    currency: str
    minor_units: int
    workspace: str
    periods: list[tuple[str, dt.date]]  # every period of the grid (lookback + shown), oldest first
    shown: list[tuple[str, dt.date]]  # the waterfall's months
    rows: list[dict[str, Any]]  # account_movements rows of the grid periods, by account then period
    names: dict[str, str]
    mrr: dict[str, dict[str, Any]]  # period -> ws.mrr() row
    movements: dict[str, dict[str, Any]]  # period -> ws.movements() row
    retention: dict[tuple[int, str], dict[str, Any]]  # (window, period) -> ws.retention() row
    book: list[dict[str, Any]] = field(default_factory=list)  # ws.book_change() rows: each CSM's year


def collect(ws: Workspace, months: int) -> Facts:
    mrr = ws.mrr().to_pylist()
    if not mrr:
        raise WorkbookError("the workspace has no periods to put in a workbook", hint="load data first")
    periods = [(str(r["period"]), r["period_end"]) for r in mrr]
    grid = periods[-(months + LOOKBACK) :]
    shown = periods[-months:]
    labels = {p for p, _ in grid}
    try:
        detail = ws.account_movements(by=("segment", "owner")).to_pylist()
    except RevbookError:  # a workspace without the slice tables: the facts without them
        detail = ws.account_movements().to_pylist()
    rows = [r for r in detail if r["period"] in labels]
    if not rows:
        raise WorkbookError(f"no account had MRR in the last {len(grid)} periods", hint="check the as-of date")
    order = {p: i for i, (p, _) in enumerate(grid)}
    rows.sort(key=lambda r: (r["account_id"], order[r["period"]]))
    if len(rows) + FIRST_ROW > MAX_SHEET_ROWS:
        raise WorkbookError(
            f"{len(rows):,} account-periods do not fit in one Excel sheet ({MAX_SHEET_ROWS:,} rows)",
            hint="ask for fewer months (--months)",
        )
    names = {
        str(r["account_id"]): r.get("name") or ""
        for r in ws.table("accounts").to_arrow().select(["account_id", "name"]).to_pylist()
    }
    cfg = ws.config
    return Facts(
        as_of=cfg.snapshot_date(),
        currency=cfg.reporting_currency,
        minor_units=cfg.minor_units,
        workspace=str(ws.path),
        periods=grid,
        shown=shown,
        rows=rows,
        names=names,
        mrr={str(r["period"]): r for r in mrr},
        movements={str(r["period"]): r for r in ws.movements().to_pylist()},
        retention={(int(r["window_months"]), str(r["period"])): r for r in ws.retention(window=WINDOWS).to_pylist()},
        book=_book(ws),
    )


def _book(ws: Workspace) -> list[dict[str, Any]]:
    """Each CSM's book over the year to the as-of date; none when the workspace cannot say (no owners)."""
    try:
        return ws.book_change().to_pylist()
    except RevbookError:
        return []


def num(value: Decimal | float | int | None) -> float | int | None:
    """A money Decimal as the float Excel stores: exact to the cent for amounts below 10^13."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    return value


@dataclass
class Check:
    family: str
    period: str
    figure: str
    sheet: str
    cell: str  # the workbook's formula cell
    engine: str | float | int  # the engine's constant: a cell on the same sheet, or a value
    kind: str  # money, count or ratio
