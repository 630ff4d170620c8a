"""The workbook is safe to open: text from the data is stored as text, never as a live formula, with the
same leading apostrophe as a CSV export; numbers and dates stay typed; each sheet has a print set-up; by
default the workbook is written next to the workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hostile import AS_OF, HOSTILE, IDS, TAB_AND_CR, hostile_workspace
from revbook import Config, Workspace
from revbook.reports.excel import check_results, recalculate, write_workbook
from revbook.reports.excel.facts import FIRST_ROW, SHEETS
from revbook.reports.excel.style import Formula, put

HAS_SOFFICE = shutil.which("soffice") is not None or shutil.which("libreoffice") is not None
#: the workbook's own formulas: every one is built from these functions and references, never from data
OWN_FUNCTIONS = ("ROUND", "SUMIFS", "COUNTIFS", "COUNTIF", "SUMIF", "SUMPRODUCT", "IF", "IFERROR", "ABS")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with hostile_workspace(tmp_path_factory.mktemp("hostile")) as ws:
        return ws.path


@pytest.fixture(scope="module")
def written(hostile: Path) -> Path:
    with Workspace(hostile, config=Config(as_of=AS_OF), read_only=True) as ws:
        return write_workbook(ws, months=12)


def test_the_workbook_is_written_next_to_the_workspace(hostile: Path, written: Path):
    assert written == hostile.parent.resolve() / "revbook.xlsx"
    assert written.is_absolute() and written.exists()


def test_hostile_text_is_text_with_the_apostrophe_and_numbers_stay_numbers(written: Path):
    wb = load_workbook(written)
    accounts = wb["Accounts"]
    rows = list(accounts.iter_rows(min_row=FIRST_ROW, max_col=9))
    assert rows
    # one row per account and period: the account's name (B), segment (E) and CSM's name (F)
    by_id = {row[0].value: row for row in rows}
    assert set(by_id) == {"'" + i if i[0] in "-=" else i for i in IDS}
    for account, value in zip(IDS, HOSTILE, strict=True):
        row = by_id["'" + account if account[0] in "-=" else account]
        for cell in (row[1], row[4], row[5]):
            assert cell.data_type == "s" and cell.value == "'" + value
            assert cell.hyperlink is None
        assert row[6].data_type == "n" and row[7].data_type == "n"  # start and end MRR: numbers
        assert row[3].is_date  # the period end: a date
    assert {r[7].value for r in rows} >= {100, 200, 300, 400}
    # the Accounts sheet holds facts only: no formula at all
    assert not [c.coordinate for row in accounts.iter_rows() for c in row if c.data_type == "f"]
    grid = wb["MRR by account"]
    names = {grid.cell(r, 2).value for r in range(9, grid.max_row + 1)}
    assert names == {"'" + h for h in HOSTILE}


def test_every_formula_is_the_workbooks_own(written: Path):
    wb = load_workbook(written)
    formulas = [c.value for sh in wb.worksheets for row in sh.iter_rows() for c in row if c.data_type == "f"]
    assert len(formulas) > 100
    for text in formulas:
        assert text.startswith("=")
        assert "HYPERLINK" not in text and "cmd" not in text and "SUM(A1)" not in text and "1+1" not in text
    for sheet in ("Accounts", "Definitions"):
        assert not [c for row in wb[sheet].iter_rows() for c in row if c.data_type == "f"]


def test_put_stores_every_string_as_text_and_a_formula_only_when_asked():
    wb = Workbook()
    sh = wb.active
    for i, value in enumerate([*HOSTILE, *TAB_AND_CR, "#N/A", "Acme"], start=1):
        put(sh, i, 1, value)
    cells = [sh.cell(i, 1) for i in range(1, len(HOSTILE) + len(TAB_AND_CR) + 3)]
    assert [c.data_type for c in cells] == ["s"] * len(cells)
    assert [c.value for c in cells] == [*("'" + v for v in [*HOSTILE, *TAB_AND_CR]), "#N/A", "Acme"]
    assert put(sh, 1, 2, -2.5).data_type == "n" and sh.cell(1, 2).value == -2.5
    assert put(sh, 1, 3, Formula("=SUM(B1:B1)")).data_type == "f"
    with pytest.raises(ValueError, match="starts with '='"):
        put(sh, 1, 4, Formula("SUM(B1)"))


def test_each_sheet_prints_with_an_area_and_its_header(written: Path):
    wb = load_workbook(written)
    assert wb.sheetnames == list(SHEETS)
    for sheet in wb.worksheets:
        assert sheet.print_area, sheet.title
    for name in ("README", "Checks", "Waterfall", "Retention", "Accounts", "Definitions"):
        sheet = wb[name]
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), name
    assert wb["Accounts"].print_title_rows == "$4:$4"
    grid = wb["MRR by account"]
    assert grid.print_title_rows == "$8:$8" and grid.print_title_cols == "$A:$B"
    assert (grid.page_setup.fitToWidth, grid.page_setup.fitToHeight) == (3, 0)


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed: no formula engine")
def test_the_neutralised_ids_still_reconcile_in_every_check(written: Path, tmp_path: Path):
    results = check_results(recalculate(written, out_dir=tmp_path))
    assert results[0] == ("all checks", "PASS"), [r for r in results if r[1] != "PASS"][:5]
