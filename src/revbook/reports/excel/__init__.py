"""The auditable Excel workbook: the account-level facts, and every derived figure as a live formula.

::

    ws = open_workspace()
    path = write_workbook(ws, months=24)     # revbook.xlsx next to the workspace: facts as values, figures as formulas
    path = recalculate(path)                                # LibreOffice computes every formula
    results = check_results(path)                           # [("all checks", "PASS"), (check, result), ...]

The **Accounts** sheet holds the raw facts, one row per account and period (values, never formulas);
**Waterfall**, **MRR by account** and **Retention** compute the metrics from them with SUMIFS, COUNTIFS
and SUMPRODUCT, each beside the engine's own figure written as a constant; **Checks** compares the
two, row by row, and reads PASS only when every formula's value equals the engine's to the cent (ratios
to 1e-9). Only functions LibreOffice 7.4 and every Excel since 2010 know are used (no XLOOKUP, LET or
dynamic arrays). openpyxl stores no computed values: read the figures back only after
:func:`recalculate` (or after Excel has opened and saved the file).

One module per part: :mod:`.facts` (what the workbook is built from), :mod:`.style`, :mod:`.sheets`
(the figure sheets), :mod:`.guide` (Checks, Definitions, README), :mod:`.libreoffice`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import ConfigError, WorkbookError
from .book import book_sheet
from .facts import SHEETS, WINDOWS, Check, collect
from .guide import checks_sheet, definitions_sheet, readme_sheet
from .libreoffice import check_results, recalculate
from .sheets import accounts_sheet, grid_sheet, retention_sheet, waterfall_sheet
from .style import add_styles, forget_styles, money_format

if TYPE_CHECKING:
    from ...workspace import Workspace

__all__ = ["DEFAULT_NAME", "WINDOWS", "WorkbookError", "check_results", "recalculate", "write_workbook"]

#: the workbook's file name when no path is given, next to the workspace's file
DEFAULT_NAME = "revbook.xlsx"


def write_workbook(ws: Workspace, path: str | Path | None = None, *, months: int = 24) -> Path:
    """Write the auditable workbook of the last ``months`` months; return its absolute path.

    ``path``: by default ``revbook.xlsx`` next to the workspace's file. Formulas are stored without
    values (openpyxl computes nothing): Excel computes them on opening, :func:`recalculate` with
    LibreOffice; only then do :func:`check_results` and ``data_only`` readers see them. Text from the
    data is stored as text, never as a formula (see :mod:`.style`); each sheet prints one page wide
    (MRR by account, too wide for that, across pages with its accounts and header repeated).
    """
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ConfigError("months must be a whole number of 1 or more", value=months)
    from openpyxl import Workbook

    path = (Path(ws.path).parent / DEFAULT_NAME if path is None else Path(path)).resolve()
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(f"the workbook must be an .xlsx file, not '{path.name}'", value=str(path))
    facts = collect(ws, months)
    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        wb.create_sheet(name)
    add_styles(wb, money_format(facts.currency, facts.minor_units))
    checks: list[Check] = []
    try:
        blocks = accounts_sheet(wb, facts)
        waterfall_sheet(wb, facts, checks)
        last_grid_row = grid_sheet(wb, facts, blocks, checks)
        retention_sheet(wb, facts, last_grid_row, checks)
        book_sheet(wb, facts, checks)
        checks_sheet(wb, facts, checks)
        definitions_sheet(wb)
        readme_sheet(wb, facts)
    finally:
        forget_styles(wb)
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
