"""The auditable Excel workbook: the account-level facts, and every derived figure as a live formula.

::

    ws = open_workspace()
    path = write_workbook(ws, "revbook.xlsx", months=24)   # facts as values, figures as formulas
    path = recalculate(path)                                # LibreOffice computes every formula
    results = check_results(path)                           # [("all checks", "PASS"), (check, result), ...]

The **Accounts** sheet holds the raw facts, one row per account and period (values, never formulas);
**Waterfall**, **MRR by account** and **Retention** compute the metrics from them with SUMIFS, COUNTIFS
and SUMPRODUCT, each beside the engine's own figure written as a constant; **Checks** compares the
two, row by row, and reads PASS only when every formula's value equals the engine's to the cent (ratios
to 1e-9). Only functions LibreOffice 7.4 and every Excel since 2010 know are used (no XLOOKUP, LET or
dynamic arrays). openpyxl stores no computed values: read the figures back only after
:func:`recalculate` (or after Excel has opened and saved the file).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, RevbookError

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from ..workspace import Workspace

__all__ = ["WINDOWS", "WorkbookError", "check_results", "recalculate", "write_workbook"]

#: the retention windows (months) of the Retention sheet
WINDOWS = (1, 3, 12)
#: periods before the first waterfall month kept in Accounts, so every window has its start snapshot
LOOKBACK = max(WINDOWS)
#: Excel's rows per sheet
MAX_SHEET_ROWS = 1_048_576
#: the ratio tolerance of the Checks sheet (money is compared to the cent, counts exactly)
RATIO_TOLERANCE = 1e-9

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")
SHEETS = ("README", "Checks", "Waterfall", "Retention", "MRR by account", "Accounts", "Definitions")

# the first row of data on the Accounts, Waterfall, Retention and Checks sheets (title, note, blank, header)
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
# MRR by account: totals in rows 4-7, the header in row 8, accounts from row 9
GRID_HEADER_ROW = 8
GRID_FIRST_ROW = 9

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "CNY": "¥"}

# LibreOffice: recalculate every formula of an xlsx or ods on load (not only those without a cached value)
_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class WorkbookError(RevbookError, RuntimeError):
    """The workbook cannot be written, recalculated (e.g. LibreOffice is missing) or read back."""


# -- the facts ---------------------------------------------------------------------------------


@dataclass
class _Facts:
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


def _collect(ws: Workspace, months: int) -> _Facts:
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
    return _Facts(
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
    )


def _num(value: Decimal | float | int | None) -> float | int | None:
    """A money Decimal as the float Excel stores: exact to the cent for amounts below 10^13."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    return value


# -- styles ------------------------------------------------------------------------------------


def _money_format(currency: str, minor_units: int) -> str:
    number = "#,##0" + ("." + "0" * minor_units if minor_units else "")
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f'"{symbol}"{number};-"{symbol}"{number}'
    return f'{number} "{currency}";-{number} "{currency}"'


def _add_styles(wb: Workbook, money_format: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

    fact = Font(color="1F4E9C")  # blue: a value typed in (the facts, the engine's constants)
    engine_fill = PatternFill("solid", fgColor="EDEDED")
    thin = Side(style="thin", color="808080")

    def style(name: str, **kw: Any) -> None:
        wb.add_named_style(NamedStyle(name=name, **kw))

    style("rb_title", font=Font(bold=True, size=14))
    style("rb_note", font=Font(italic=True, color="595959"), alignment=Alignment(wrap_text=False))
    style("rb_label", font=Font(bold=True))
    style(
        "rb_header",
        font=Font(bold=True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor="305496"),
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        border=Border(bottom=thin),
    )
    style(
        "rb_header_engine",
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="BFBFBF"),
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        border=Border(bottom=thin),
    )
    style("rb_text_fact", font=fact)
    style("rb_period_fact", font=fact, number_format="yyyy-mm")
    style("rb_date_fact", font=fact, number_format="yyyy-mm-dd")
    style("rb_period", number_format="yyyy-mm")
    style("rb_money_fact", font=fact, number_format=money_format)
    style("rb_money", number_format=money_format)
    style("rb_money_total", font=Font(bold=True), number_format=money_format, border=Border(top=thin))
    style("rb_money_engine", font=fact, fill=engine_fill, number_format=money_format)
    style("rb_count", number_format="#,##0")
    style("rb_count_engine", font=fact, fill=engine_fill, number_format="#,##0")
    style("rb_ratio", number_format="0.00%")
    style("rb_ratio_engine", font=fact, fill=engine_fill, number_format="0.00%")
    style("rb_tolerance", font=fact, number_format="0.0########")
    style("rb_result", font=Font(bold=True), alignment=Alignment(horizontal="center"))
    style("rb_link", font=Font(color="0563C1", underline="single"))


def _pass_fail_format(sheet: Worksheet, ref: str) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    sheet.conditional_formatting.add(
        ref,
        CellIsRule(
            operator="equal",
            formula=['"PASS"'],
            fill=PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE"),
            font=Font(color="006100"),
        ),
    )
    sheet.conditional_formatting.add(
        ref,
        CellIsRule(
            operator="equal",
            formula=['"FAIL"'],
            fill=PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE"),
            font=Font(color="9C0006"),
        ),
    )


# per workbook being written: named style -> the style array of a cell that has it (setting a named
# style by name costs a lookup per cell; copying the array of a cell that has it is the same, faster)
_STYLE_CACHE: dict[int, dict[str, Any]] = {}


def _put(sheet: Worksheet, row: int, col: int, value: Any, style: str | None = None) -> Any:
    cell = sheet.cell(row=row, column=col, value=value)
    if style:
        cache = _STYLE_CACHE.setdefault(id(sheet.parent), {})
        known = cache.get(style)
        if known is None:
            cell.style = style
            cache[style] = copy(cell._style)
        else:
            cell._style = copy(known)
    return cell


def _title(sheet: Worksheet, title: str, note: str) -> None:
    _put(sheet, 1, 1, title, "rb_title")
    _put(sheet, 2, 1, note, "rb_note")


def _headers(sheet: Worksheet, row: int, start_col: int, names: Sequence[str], style: str = "rb_header") -> None:
    for i, name in enumerate(names):
        _put(sheet, row, start_col + i, name, style)


def _widths(sheet: Worksheet, widths: Mapping[str, float]) -> None:
    for col, width in widths.items():
        sheet.column_dimensions[col].width = width


def _link(cell: Any, sheet: str, coordinate: str) -> None:
    from openpyxl.worksheet.hyperlink import Hyperlink

    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!{coordinate}", display=cell.value)
    cell.style = "rb_link"


def _q(sheet: str) -> str:
    """A sheet name as a formula reference prefix."""
    return f"'{sheet}'!" if " " in sheet else f"{sheet}!"


# -- the checks --------------------------------------------------------------------------------


@dataclass
class _Check:
    family: str
    period: str
    figure: str
    sheet: str
    cell: str  # the workbook's formula cell
    engine: str | float | int  # the engine's constant: a cell on the same sheet, or a value
    kind: str  # money, count or ratio


# -- the sheets --------------------------------------------------------------------------------


def _accounts_sheet(wb: Workbook, facts: _Facts) -> dict[str, tuple[int, int]]:
    """The facts, one row per account and period; returns each account's first and last row."""
    from openpyxl.workbook.defined_name import DefinedName

    sh = wb["Accounts"]
    _title(
        sh,
        "Accounts: the facts, one row per account and period",
        f"Values from the revbook engine (not formulas), {facts.currency}. A row for every account that had MRR at "
        "the period's start or end snapshot; start MRR is the previous snapshot. Movement is blank when MRR did not "
        "change. Segment and owner are the ones the account had at the period's start.",
    )
    cols = ["account_id", "name", "period", "period end", "segment", "owner", "start MRR", "end MRR", "movement"]
    _headers(sh, HEADER_ROW, 1, cols)
    blocks: dict[str, tuple[int, int]] = {}
    names = facts.names
    for i, r in enumerate(facts.rows):
        row = FIRST_ROW + i
        aid = str(r["account_id"])
        _put(sh, row, 1, aid, "rb_text_fact")
        _put(sh, row, 2, names.get(aid, ""), "rb_text_fact")
        _put(sh, row, 3, r["period"], "rb_text_fact")
        _put(sh, row, 4, r["period_end"], "rb_date_fact")
        _put(sh, row, 5, r.get("segment"), "rb_text_fact")
        _put(sh, row, 6, r.get("owner_name") or r.get("owner"), "rb_text_fact")
        _put(sh, row, 7, _num(r["start_mrr"]), "rb_money_fact")
        _put(sh, row, 8, _num(r["end_mrr"]), "rb_money_fact")
        _put(sh, row, 9, r["movement"], "rb_text_fact")
        first, _ = blocks.get(aid, (row, row))
        blocks[aid] = (first, row)
    last = FIRST_ROW + len(facts.rows) - 1
    for name, col in (
        ("acc_account", "A"),
        ("acc_period_end", "D"),
        ("acc_start", "G"),
        ("acc_end", "H"),
        ("acc_movement", "I"),
    ):
        wb.defined_names[name] = DefinedName(name, attr_text=f"Accounts!${col}${FIRST_ROW}:${col}${last}")
    sh.freeze_panes = f"B{FIRST_ROW}"
    sh.auto_filter.ref = f"A{HEADER_ROW}:I{last}"
    _widths(sh, {"A": 12, "B": 30, "C": 9, "D": 12, "E": 13, "F": 22, "G": 15, "H": 15, "I": 13})
    return blocks


def _waterfall_sheet(wb: Workbook, facts: _Facts, checks: list[_Check]) -> None:
    sh = wb["Waterfall"]
    mu = facts.minor_units
    _title(
        sh,
        "MRR waterfall",
        "Each figure is a SUMIFS over the Accounts sheet (named ranges acc_*). The identity column must be 0; "
        "the grey block on the right is the revbook engine's own figures, which the Checks sheet compares.",
    )
    cols = [
        "period",
        "period end",
        "start MRR",
        "new",
        "reactivation",
        "expansion",
        "contraction",
        "churn",
        "end MRR",
        "identity (must be 0)",
        "accounts at end",
    ]
    engine_cols = ["start MRR", "new", "reactivation", "expansion", "contraction", "churn", "end MRR", "accounts"]
    _headers(sh, HEADER_ROW, 1, cols)
    _headers(sh, HEADER_ROW, 13, [f"engine: {c}" for c in engine_cols], "rb_header_engine")
    _put(sh, HEADER_ROW - 1, 13, "revbook engine (constants)", "rb_label")

    def sumifs(column: str, row: int, movement: str | None = None) -> str:
        extra = f',acc_movement,"{movement}"' if movement else ""
        return f"SUMIFS({column},acc_period_end,$B{row}{extra})"

    figures = ["start MRR", "new", "reactivation", "expansion", "contraction", "churn", "end MRR"]
    keys = ["start_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churn_mrr", "end_mrr"]
    for i, (label, end) in enumerate(facts.shown):
        r = FIRST_ROW + i
        _put(sh, r, 1, label)
        _put(sh, r, 2, end, "rb_date_fact")
        formulas = [
            sumifs("acc_start", r),
            sumifs("acc_end", r, "new"),
            sumifs("acc_end", r, "reactivation"),
            f"{sumifs('acc_end', r, 'expansion')}-{sumifs('acc_start', r, 'expansion')}",
            f"{sumifs('acc_start', r, 'contraction')}-{sumifs('acc_end', r, 'contraction')}",
            sumifs("acc_start", r, "churn"),
            sumifs("acc_end", r),
        ]
        for j, f in enumerate(formulas):
            _put(sh, r, 3 + j, f"=ROUND({f},{mu})", "rb_money")
        _put(sh, r, 10, f"=ROUND(C{r}+D{r}+E{r}+F{r}-G{r}-H{r}-I{r},{mu})", "rb_money")
        _put(sh, r, 11, f'=COUNTIFS(acc_period_end,$B{r},acc_end,">0")', "rb_count")
        m = facts.movements.get(label)
        if m is None:
            continue
        for j, key in enumerate(keys):
            col = 13 + j
            _put(sh, r, col, _num(m[key]), "rb_money_engine")
            checks.append(
                _Check("Waterfall", label, figures[j], "Waterfall", f"{_col(3 + j)}{r}", f"{_col(col)}{r}", "money")
            )
        _put(sh, r, 20, int(m["end_accounts"]), "rb_count_engine")
        checks.append(_Check("Waterfall", label, "accounts at end", "Waterfall", f"K{r}", f"T{r}", "count"))
        checks.append(
            _Check("Identity", label, "start+new+react+exp-contr-churn-end", "Waterfall", f"J{r}", 0, "money")
        )
    first, last = FIRST_ROW, FIRST_ROW + len(facts.shown) - 1
    t = last + 1
    _put(sh, t, 1, "total", "rb_label")
    _put(sh, t, 3, f"=C{first}", "rb_money_total")
    for c in "DEFGH":
        _put(sh, t, ord(c) - 64, f"=ROUND(SUM({c}{first}:{c}{last}),{mu})", "rb_money_total")
    _put(sh, t, 9, f"=I{last}", "rb_money_total")
    _put(sh, t, 10, f"=ROUND(C{t}+D{t}+E{t}+F{t}-G{t}-H{t}-I{t},{mu})", "rb_money_total")
    sh.freeze_panes = f"C{FIRST_ROW}"
    _widths(sh, {_col(c): 15 for c in range(3, 21)} | {"A": 10, "B": 12, "L": 3})
    sh.row_dimensions[HEADER_ROW].height = 30


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _grid_sheet(wb: Workbook, facts: _Facts, blocks: dict[str, tuple[int, int]], checks: list[_Check]) -> int:
    """Accounts x periods of end MRR, each cell a SUMIFS over the account's own rows of Accounts."""
    sh = wb["MRR by account"]
    mu = facts.minor_units
    _title(
        sh,
        "MRR by account and period (end-of-period snapshot)",
        "Each cell is a SUMIFS over that account's rows of the Accounts sheet (sorted by account, so the range is "
        f"only its own rows). The first {len(facts.periods) - len(facts.shown)} period columns are the look-back "
        "the 12-month retention windows start from. Totals on top; the grey rows are the engine's.",
    )
    n_fixed = 3
    last_row = GRID_FIRST_ROW + len(blocks) - 1
    _headers(sh, GRID_HEADER_ROW, 1, ["account_id", "name", "segment (latest)"])
    labels = ["Total MRR", "Total MRR, engine", "Accounts with MRR", "Accounts, engine"]
    for i, text in enumerate(labels):
        _put(sh, 4 + i, 1, text, "rb_label")
    n_lookback = len(facts.periods) - len(facts.shown)
    for j, (label, end) in enumerate(facts.periods):
        c = _col(n_fixed + 1 + j)
        _put(sh, GRID_HEADER_ROW, n_fixed + 1 + j, end, "rb_header").number_format = "yyyy-mm"
        if j == 0 and n_lookback:
            _put(sh, 3, n_fixed + 1, "look-back for retention →", "rb_note")
        if j == n_lookback:
            _put(sh, 3, n_fixed + 1 + j, "waterfall months →", "rb_note")
        rng = f"{c}{GRID_FIRST_ROW}:{c}{last_row}"
        _put(sh, 4, n_fixed + 1 + j, f"=ROUND(SUM({rng}),{mu})", "rb_money")
        _put(sh, 6, n_fixed + 1 + j, f'=COUNTIF({rng},">0")', "rb_count")
        m = facts.mrr.get(label)
        if m is not None:
            _put(sh, 5, n_fixed + 1 + j, _num(m["mrr"]), "rb_money_engine")
            _put(sh, 7, n_fixed + 1 + j, int(m["accounts"]), "rb_count_engine")
            checks.append(_Check("MRR by account", label, "total MRR", "MRR by account", f"{c}4", f"{c}5", "money"))
            checks.append(_Check("MRR by account", label, "accounts", "MRR by account", f"{c}6", f"{c}7", "count"))
    segments: dict[str, Any] = {}
    for r in facts.rows:
        segments[str(r["account_id"])] = r.get("segment")
    first_period_col = n_fixed + 1
    for i, (aid, (lo, hi)) in enumerate(blocks.items()):
        row = GRID_FIRST_ROW + i
        _put(sh, row, 1, aid, "rb_text_fact")
        _put(sh, row, 2, facts.names.get(aid, ""), "rb_text_fact")
        _put(sh, row, 3, segments.get(aid), "rb_text_fact")
        value = f"Accounts!$H${lo}:$H${hi}"
        account = f"Accounts!$A${lo}:$A${hi}"
        period = f"Accounts!$D${lo}:$D${hi}"
        for j in range(len(facts.periods)):
            c = _col(first_period_col + j)
            _put(
                sh,
                row,
                first_period_col + j,
                f"=SUMIFS({value},{account},$A{row},{period},{c}${GRID_HEADER_ROW})",
                "rb_money",
            )
    sh.freeze_panes = f"{_col(first_period_col)}{GRID_FIRST_ROW}"
    sh.auto_filter.ref = f"A{GRID_HEADER_ROW}:{_col(n_fixed + len(facts.periods))}{last_row}"
    _widths(sh, {"A": 18, "B": 28, "C": 14} | {_col(first_period_col + j): 13 for j in range(len(facts.periods))})
    return last_row


def _retention_sheet(wb: Workbook, facts: _Facts, last_grid_row: int, checks: list[_Check]) -> None:
    sh = wb["Retention"]
    mu = facts.minor_units
    _title(
        sh,
        "Retention by trailing window (cohort method)",
        "Cohort: accounts with MRR > 0 on the window's start snapshot. Each figure reads two columns of the "
        '\'MRR by account\' sheet (start S and end E): NRR = SUMIFS(E, S, ">0") / SUMIF(S, ">0"); GRR caps each '
        'account at its start MRR with SUMPRODUCT; logo retention = COUNTIFS(S, ">0", E, ">0") / COUNTIF(S, ">0").',
    )
    cols = [
        "window (months)",
        "period",
        "start snapshot",
        "end snapshot",
        "cohort accounts",
        "retained accounts",
        "start MRR",
        "end MRR",
        "retained MRR (capped)",
        "NRR",
        "GRR",
        "logo retention",
    ]
    engine = ["cohort accounts", "retained accounts", "start MRR", "end MRR", "retained MRR", "NRR", "GRR", "logo"]
    _headers(sh, HEADER_ROW, 1, cols)
    _headers(sh, HEADER_ROW, 14, [f"engine: {c}" for c in engine], "rb_header_engine")
    _put(sh, HEADER_ROW - 1, 14, "revbook engine (constants)", "rb_label")
    index = {label: j for j, (label, _) in enumerate(facts.periods)}
    grid = _q("MRR by account")
    keys = [
        ("start_accounts", "count", "rb_count_engine"),
        ("retained_accounts", "count", "rb_count_engine"),
        ("start_mrr", "money", "rb_money_engine"),
        ("end_mrr", "money", "rb_money_engine"),
        ("retained_mrr", "money", "rb_money_engine"),
        ("nrr", "ratio", "rb_ratio_engine"),
        ("grr", "ratio", "rb_ratio_engine"),
        ("logo_retention", "ratio", "rb_ratio_engine"),
    ]
    figures = ["cohort accounts", "retained accounts", "start MRR", "end MRR", "retained MRR", "NRR", "GRR", "logo"]
    r = FIRST_ROW
    for w in WINDOWS:
        for label, _ in facts.shown:
            e = index[label]
            s = e - w
            engine_row = facts.retention.get((w, label))
            if s < 0 or engine_row is None or not engine_row["start_accounts"]:
                continue
            sc, ec = _col(4 + s), _col(4 + e)
            S = f"{grid}${sc}${GRID_FIRST_ROW}:${sc}${last_grid_row}"
            E = f"{grid}${ec}${GRID_FIRST_ROW}:${ec}${last_grid_row}"
            _put(sh, r, 1, w, "rb_count")
            _put(sh, r, 2, label)
            _put(sh, r, 3, f"={grid}{sc}${GRID_HEADER_ROW}", "rb_period")
            _put(sh, r, 4, f"={grid}{ec}${GRID_HEADER_ROW}", "rb_period")
            _put(sh, r, 5, f'=COUNTIF({S},">0")', "rb_count")
            _put(sh, r, 6, f'=COUNTIFS({S},">0",{E},">0")', "rb_count")
            _put(sh, r, 7, f'=ROUND(SUMIF({S},">0"),{mu})', "rb_money")
            _put(sh, r, 8, f'=ROUND(SUMIFS({E},{S},">0"),{mu})', "rb_money")
            _put(sh, r, 9, f"=ROUND(SUMPRODUCT(({S}>0)*(({E}<{S})*{E}+({E}>={S})*{S})),{mu})", "rb_money")
            _put(sh, r, 10, f'=IF(G{r}>0,H{r}/G{r},"")', "rb_ratio")
            _put(sh, r, 11, f'=IF(G{r}>0,I{r}/G{r},"")', "rb_ratio")
            _put(sh, r, 12, f'=IF(E{r}>0,F{r}/E{r},"")', "rb_ratio")
            for k, (key, kind, style) in enumerate(keys):
                value = engine_row[key]
                if value is None:
                    continue
                _put(sh, r, 14 + k, int(value) if kind == "count" else _num(value), style)
                checks.append(
                    _Check(
                        "Retention",
                        label,
                        f"{w}m {figures[k]}",
                        "Retention",
                        f"{_col(5 + k)}{r}",
                        f"{_col(14 + k)}{r}",
                        kind,
                    )
                )
            r += 1
    sh.freeze_panes = f"C{FIRST_ROW}"
    sh.auto_filter.ref = f"A{HEADER_ROW}:L{max(r - 1, FIRST_ROW)}"
    _widths(sh, {_col(c): 14 for c in range(1, 22)} | {"M": 3})
    sh.row_dimensions[HEADER_ROW].height = 30


def _checks_sheet(wb: Workbook, facts: _Facts, checks: list[_Check]) -> None:
    sh = wb["Checks"]
    mu = facts.minor_units
    _title(
        sh,
        "Checks: every workbook formula against the revbook engine",
        f"Money must equal the engine's to the cent (ROUND(x, {mu})), counts exactly, ratios within "
        f"{RATIO_TOLERANCE:g}. A cell that is not a number (an error, a blank) is a FAIL.",
    )
    families = list(dict.fromkeys(c.family for c in checks))
    header = HEADER_ROW + len(families) + 3
    first, last = header + 1, header + len(checks)
    result = f"$H${first}:$H${last}"
    _put(sh, HEADER_ROW, 1, "All checks", "rb_label")
    _put(sh, HEADER_ROW, 2, f'=IF(COUNTIF({result},"PASS")=ROWS({result}),"PASS","FAIL")', "rb_result")
    _put(sh, HEADER_ROW, 3, f'=COUNTIF({result},"PASS")&" of "&ROWS({result})&" pass"')
    fam = f"$A${first}:$A${last}"
    for i, name in enumerate(families):
        r = HEADER_ROW + 1 + i
        _put(sh, r, 1, name)
        _put(
            sh,
            r,
            2,
            f'=IF(COUNTIFS({fam},A{r},{result},"PASS")=COUNTIF({fam},A{r}),"PASS","FAIL")',
            "rb_result",
        )
        _put(sh, r, 3, f'=COUNTIFS({fam},A{r},{result},"PASS")&" of "&COUNTIF({fam},A{r})&" pass"')
    _pass_fail_format(sh, f"B{HEADER_ROW}:B{HEADER_ROW + len(families)}")
    cols = [
        "family",
        "period",
        "figure",
        "workbook value",
        "engine value",
        "difference",
        "tolerance",
        "result",
        "go to",
    ]
    _headers(sh, header, 1, cols)
    for i, c in enumerate(checks):
        r = first + i
        ref = _q(c.sheet)
        _put(sh, r, 1, c.family)
        _put(sh, r, 2, c.period)
        _put(sh, r, 3, c.figure)
        style = {"money": "rb_money", "count": "rb_count", "ratio": "rb_ratio"}[c.kind]
        _put(sh, r, 4, f"={ref}{c.cell}", style)
        _put(sh, r, 5, f"={ref}{c.engine}" if isinstance(c.engine, str) else c.engine, style)
        _put(sh, r, 6, f'=IFERROR(D{r}-E{r},"")', "rb_tolerance" if c.kind == "ratio" else style)
        if c.kind == "ratio":
            tol, value = RATIO_TOLERANCE, f"D{r}"
        elif c.kind == "count":
            tol, value = 0.5, f"ROUND(D{r},0)"
        else:
            tol, value = 0.5 * 10**-mu, f"ROUND(D{r},{mu})"
        _put(sh, r, 7, tol, "rb_tolerance")
        _put(
            sh,
            r,
            8,
            f'=IF(AND(ISNUMBER(D{r}),ISNUMBER(E{r})),IF(ABS({value}-E{r})<G{r},"PASS","FAIL"),"FAIL")',
            "rb_result",
        )
        link = _put(sh, r, 9, f"{c.sheet}!{c.cell}")
        _link(link, c.sheet, c.cell)
    _pass_fail_format(sh, f"H{first}:H{last}")
    sh.freeze_panes = f"A{first}"
    sh.auto_filter.ref = f"A{header}:I{last}"
    _widths(sh, {"A": 16, "B": 10, "C": 34, "D": 16, "E": 16, "F": 14, "G": 12, "H": 9, "I": 22})


DEFINITIONS: list[tuple[str, str, str]] = [
    (
        "MRR of an account",
        "The sum of its active subscription lines, each normalised to a month, after discounts, before tax, in the "
        "reporting currency, rounded half-even once to the cent.",
        "Accounts: start MRR, end MRR",
    ),
    (
        "Period snapshot",
        "MRR on the last calendar day of the period (the as-of date for the last period).",
        "Accounts: period end",
    ),
    ("new", "0 → positive, never positive before: the new MRR.", "Waterfall: new"),
    ("reactivation", "0 → positive, positive at some earlier snapshot: the new MRR.", "Waterfall: reactivation"),
    ("expansion", "positive → higher: the increase (end − start).", "Waterfall: expansion"),
    ("contraction", "positive → lower, still positive: the decrease (start − end).", "Waterfall: contraction"),
    ("churn", "positive → 0: the previous MRR.", "Waterfall: churn"),
    (
        "Identity",
        "start + new + reactivation + expansion − contraction − churn = end, every period, to the cent.",
        "Waterfall: identity (must be 0)",
    ),
    (
        "Cohort (window w ending at month e)",
        "Every account with MRR > 0 on the snapshot of month e − w.",
        "Retention: cohort accounts",
    ),
    ("NRR", "Σ MRR at e of the cohort / Σ MRR at e − w of the cohort.", "Retention: NRR"),
    ("GRR", "Σ min(MRR at e, MRR at e − w) / Σ MRR at e − w (≤ 100%, ≤ NRR).", "Retention: GRR"),
    ("Logo retention", "Cohort accounts with MRR at e / cohort accounts.", "Retention: logo retention"),
    ("ARR", "12 × MRR.", "-"),
    (
        "Slices",
        "Segment and owner are the ones the account had at the period's start (a new account: its first snapshot's).",
        "Accounts: segment, owner",
    ),
]


def _definitions_sheet(wb: Workbook) -> None:
    from openpyxl.styles import Alignment

    sh = wb["Definitions"]
    _title(sh, "Definitions", "From revbook's docs/definitions.md (the full text, with worked examples).")
    _headers(sh, HEADER_ROW, 1, ["term", "definition", "in this workbook"])
    for i, (term, text, where) in enumerate(DEFINITIONS):
        r = FIRST_ROW + i
        _put(sh, r, 1, term, "rb_label")
        _put(sh, r, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
        _put(sh, r, 3, where)
    _widths(sh, {"A": 30, "B": 90, "C": 32})


SHEET_NOTES = {
    "Checks": "PASS only when every formula's value equals the engine's; one row per figure, with a link to it.",
    "Waterfall": "MRR movements per month (start, new, reactivation, expansion, contraction, churn, end): SUMIFS "
    "over Accounts, with the identity column and the engine's figures beside.",
    "Retention": "NRR, GRR and logo retention over 1, 3 and 12-month windows: formulas over two columns of "
    "MRR by account.",
    "MRR by account": "Accounts x periods of end MRR (SUMIFS over Accounts), totals per period on top.",
    "Accounts": "The facts: one row per account and period, values from the engine (not formulas).",
    "Definitions": "What each figure means (docs/definitions.md).",
}


def _readme_sheet(wb: Workbook, facts: _Facts) -> None:
    from openpyxl.styles import Alignment

    from .. import __version__

    sh = wb["README"]
    _title(sh, "revbook: the auditable revenue workbook", "Every derived figure is a live formula over the facts.")
    first, last = facts.shown[0][0], facts.shown[-1][0]
    info: list[tuple[str, Any, str | None]] = [
        ("as of", facts.as_of, "rb_date_fact"),
        ("currency", facts.currency, None),
        (
            "months",
            f"{first} to {last} ({len(facts.shown)}), with {len(facts.periods) - len(facts.shown)} "
            "months of look-back for the retention windows",
            None,
        ),
        ("accounts", len({r["account_id"] for r in facts.rows}), "rb_count"),
        ("account-periods", len(facts.rows), "rb_count"),
        ("workspace", facts.workspace, None),
        ("written by", f"revbook {__version__}", None),
        ("all checks", "=Checks!B4", "rb_result"),
    ]
    for i, (k, v, style) in enumerate(info):
        _put(sh, 4 + i, 1, k, "rb_label")
        _put(sh, 4 + i, 2, v, style)
    check_row = 4 + len(info) - 1
    _pass_fail_format(sh, f"B{check_row}")
    r = check_row + 2
    _headers(sh, r, 1, ["sheet", "what it holds"])
    for i, (name, text) in enumerate(SHEET_NOTES.items()):
        cell = _put(sh, r + 1 + i, 1, name)
        _link(cell, name, "A1")
        _put(sh, r + 1 + i, 2, text)
    r += len(SHEET_NOTES) + 2
    _put(sh, r, 1, "How to audit a number", "rb_label")
    steps = [
        "1. Click the figure: the formula bar shows how it is computed (e.g. =SUMIFS(acc_end,acc_period_end,$B5,"
        'acc_movement,"new")); acc_* are named ranges, columns of the Accounts sheet (Formulas > Name Manager).',
        "2. Filter the Accounts sheet on the same period and movement to see every account behind it.",
        "3. The grey cells beside each figure are the revbook engine's own values (constants); the Checks sheet "
        "compares every figure with them, and links to each.",
        "4. Colours: blue text is a value typed in (the facts, the engine's constants); black text is a formula.",
        "5. Change a fact and the figures follow; the Checks sheet then shows which no longer match the engine.",
    ]
    for i, s in enumerate(steps):
        _put(sh, r + 1 + i, 1, s).alignment = Alignment(wrap_text=False)
    _widths(sh, {"A": 18, "B": 110})


# -- public API --------------------------------------------------------------------------------


def write_workbook(ws: Workspace, path: str | Path, *, months: int = 24) -> Path:
    """Write the auditable workbook of the last ``months`` months; return its path.

    Formulas are stored without values (openpyxl computes nothing): Excel computes them on opening,
    :func:`recalculate` with LibreOffice; only then do :func:`check_results` and ``data_only`` readers see them.
    """
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ConfigError("months must be a whole number of 1 or more", value=months)
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(f"the workbook must be an .xlsx file, not '{path.name}'", value=str(path))
    facts = _collect(ws, months)
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for name in SHEETS:
        wb.create_sheet(name)
    _add_styles(wb, _money_format(facts.currency, facts.minor_units))
    checks: list[_Check] = []
    try:
        blocks = _accounts_sheet(wb, facts)
        _waterfall_sheet(wb, facts, checks)
        last_grid_row = _grid_sheet(wb, facts, blocks, checks)
        _retention_sheet(wb, facts, last_grid_row, checks)
        _checks_sheet(wb, facts, checks)
        _definitions_sheet(wb)
        _readme_sheet(wb, facts)
    finally:
        _STYLE_CACHE.pop(id(wb), None)
    wb.calculation.fullCalcOnLoad = True  # Excel: compute every formula on opening
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _find_soffice(soffice: str | Path | None) -> str:
    exe = soffice or os.environ.get("REVBOOK_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise WorkbookError(
            "LibreOffice (soffice) is not installed, so the workbook's formulas cannot be recalculated here",
            hint="install it (Debian: apt-get install -y --no-install-recommends libreoffice-calc-nogui), set "
            "REVBOOK_SOFFICE to its path, or open the workbook in Excel, which computes it on opening",
        )
    return str(exe)


def recalculate(
    path: str | Path,
    *,
    out_dir: str | Path | None = None,
    timeout: float = 600.0,
    soffice: str | Path | None = None,
) -> Path:
    """Recalculate every formula with LibreOffice (headless) and save as xlsx, with the computed values.

    Writes ``out_dir/<name>.xlsx`` (default: replaces ``path``) and returns its path. Each run uses a
    profile directory of its own, so runs in parallel never share LibreOffice's lock.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"no workbook at {path}")
    exe = _find_soffice(soffice)
    dest_dir = Path(out_dir) if out_dir is not None else path.parent
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{path.stem}.xlsx"
    with tempfile.TemporaryDirectory(prefix="revbook-soffice-") as tmp:
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
        out = Path(tmp) / "out"
        out.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(path.resolve()),
        ]
        try:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
        except OSError as exc:
            raise WorkbookError(f"cannot run LibreOffice ({exe}): {exc}", hint="check the soffice install") from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise WorkbookError(
                f"LibreOffice did not finish recalculating {path} within {timeout:g} s",
                hint="ask for fewer months, or raise the timeout",
            ) from None
        produced = out / f"{path.stem}.xlsx"
        if proc.returncode != 0 or not produced.is_file():
            detail = (stderr or stdout or "").strip().splitlines()
            raise WorkbookError(
                f"LibreOffice could not recalculate {path} (exit status {proc.returncode})"
                + (f": {detail[-1]}" if detail else ""),
                hint="try the soffice command by hand to see why",
            )
        _restore_frozen_panes(path, produced)
        tmp_dest = dest.with_name(f".{dest.name}.tmp")
        shutil.move(str(produced), tmp_dest)
        os.replace(tmp_dest, dest)
    return dest


_SHEET_VIEWS = re.compile(rb"<sheetViews>.*?</sheetViews>|<sheetViews/>", re.DOTALL)


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name -> its part in the xlsx package."""
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    pkg = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter(f"{pkg}Relationship")
    }
    parts = {}
    for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{main}sheet"):
        target = targets.get(sheet.get(f"{rel}id"), "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _restore_frozen_panes(source: Path, target: Path) -> None:
    """LibreOffice's headless conversion drops frozen panes: put back the source's sheet views where
    they had one (a header row that stays on screen matters when auditing 30,000 rows)."""
    try:
        with zipfile.ZipFile(source) as z:
            views = {}
            for name, part in _sheet_parts(z).items():
                m = _SHEET_VIEWS.search(z.read(part))
                if m and b"<pane " in m.group(0):
                    views[name] = m.group(0)
        if not views:
            return
        with zipfile.ZipFile(target) as z:
            parts = {part: name for name, part in _sheet_parts(z).items()}
            entries = [(info, z.read(info.filename)) for info in z.infolist()]
    except (KeyError, OSError, zipfile.BadZipFile, SyntaxError):
        return  # not the package shape expected: leave LibreOffice's file as it is
    patched = target.with_name(f"{target.name}.views")
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            view = views.get(parts.get(info.filename, ""))
            if view is not None and (m := _SHEET_VIEWS.search(data)):
                data = data[: m.start()] + view + data[m.end() :]
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    os.replace(patched, target)


def check_results(path: str | Path) -> list[tuple[str, str]]:
    """The Checks sheet of a recalculated workbook: ``("all checks", PASS/FAIL)`` first, then one
    ``(family period figure, PASS/FAIL)`` per check."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"no workbook at {path}")
    wb = load_workbook(path, data_only=True, read_only=True)
    try:
        if "Checks" not in wb.sheetnames:
            raise WorkbookError(f"{path} has no Checks sheet", hint="write it with revbook's write_workbook")
        rows = list(wb["Checks"].iter_rows(min_row=HEADER_ROW, max_col=8, values_only=True))
    finally:
        wb.close()
    overall = rows[0][1] if rows else None
    if overall is None:
        raise WorkbookError(
            f"{path} has no computed values", hint="recalculate it first (recalculate(), or open and save it in Excel)"
        )
    out: list[tuple[str, str]] = [("all checks", str(overall))]
    header = next((i for i, r in enumerate(rows) if r[0] == "family"), None)
    if header is None:
        raise WorkbookError(f"{path}: the Checks sheet has no header row")
    for r in rows[header + 1 :]:
        if r[0] is None:
            continue
        out.append((f"{r[0]} {r[1]} {r[2]}", str(r[7])))
    return out
