"""The auditable Excel workbook: formulas over the account-level facts, recalculated by LibreOffice,
equal to the engine's figures; a tampered fact turns the Checks sheet to FAIL."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from revbook import Config, Workspace, sample
from revbook.errors import ConfigError, RevbookError, WorkbookError
from revbook.reports.excel import check_results, recalculate, write_workbook
from revbook.reports.excel.facts import FIRST_ROW

HAS_SOFFICE = shutil.which("soffice") is not None or shutil.which("libreoffice") is not None
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed: no formula engine")

MONTHS = 24
WATERFALL = ["start MRR", "new", "reactivation", "expansion", "contraction", "churn", "end MRR"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("workbook")
    paths = sample.write(tmp / "data", accounts=200)
    with Workspace(tmp / "w.duckdb", config=Config(as_of=sample.SampleConfig().as_of)) as w:
        w.load(paths)
        yield w


@pytest.fixture(scope="module")
def written(ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(ws, tmp_path_factory.mktemp("written") / "revbook.xlsx", months=MONTHS)


@pytest.fixture(scope="module")
def recalculated(written: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed: no formula engine to recalculate with")
    return recalculate(written, out_dir=tmp_path_factory.mktemp("recalculated"))


def _row_of(sheet, column: int, value: object, start: int = FIRST_ROW) -> int:
    for r in range(start, sheet.max_row + 1):
        if sheet.cell(r, column).value == value:
            return r
    raise AssertionError(f"{value!r} not found in column {column}")


# -- without LibreOffice -------------------------------------------------------------------------


def test_sheets_and_derived_figures_are_formulas(written: Path, ws: Workspace):
    wb = load_workbook(written)
    assert wb.sheetnames == [
        "README", "Checks", "Waterfall", "Retention", "Book change", "MRR by account", "Accounts", "Definitions"
    ]  # fmt: skip
    wf = wb["Waterfall"]
    periods = [r["period"] for r in ws.movements().to_pylist()][-MONTHS:]
    assert [wf.cell(FIRST_ROW + i, 1).value for i in range(MONTHS)] == periods
    for r in range(FIRST_ROW, FIRST_ROW + MONTHS):
        for c in range(3, 12):  # start ... end, identity, accounts
            value = wf.cell(r, c).value
            assert isinstance(value, str) and value.startswith("="), (r, c, value)
    assert "SUMIFS(acc_end,acc_period_end" in wf.cell(FIRST_ROW, 4).value
    ret = wb["Retention"]
    assert all(str(ret.cell(FIRST_ROW, c).value).startswith("=") for c in range(5, 13))
    assert "SUMPRODUCT" in ret.cell(FIRST_ROW, 9).value
    grid = wb["MRR by account"]
    assert str(grid["D9"].value).startswith("=SUMIFS(Accounts!")
    assert str(grid["D4"].value).startswith("=ROUND(SUM(")
    checks = wb["Checks"]
    assert checks["B4"].value.startswith("=IF(COUNTIF(")
    # the facts are values, money with 2 decimals at most and a currency format
    acc = wb["Accounts"]
    for r in range(FIRST_ROW, FIRST_ROW + 50):
        for c in (7, 8):
            cell = acc.cell(r, c)
            assert isinstance(cell.value, int | float)
            assert Decimal(repr(cell.value)) == Decimal(repr(cell.value)).quantize(Decimal("0.01"))
            assert "$" in cell.number_format
    assert set(wb.defined_names) >= {"acc_account", "acc_period_end", "acc_start", "acc_end", "acc_movement"}
    assert acc.freeze_panes == "B5"


def test_accounts_sheet_holds_the_engine_facts(written: Path, ws: Workspace):
    wb = load_workbook(written, read_only=True)
    try:
        rows = list(wb["Accounts"].iter_rows(min_row=FIRST_ROW, values_only=True))
    finally:
        wb.close()
    periods = [r["period"] for r in ws.mrr().to_pylist()][-(MONTHS + 12) :]
    engine = {
        (r["account_id"], r["period"]): r for r in ws.account_movements().to_pylist() if r["period"] in set(periods)
    }
    assert len(rows) == len(engine)
    for aid, _name, period, _end, _seg, _owner, start, end, movement in rows[:300]:
        e = engine[(aid, period)]
        assert Decimal(str(start)) == e["start_mrr"] and Decimal(str(end)) == e["end_mrr"]
        assert movement == e["movement"]


def test_check_results_needs_a_recalculated_workbook(written: Path):
    with pytest.raises(WorkbookError, match="recalculate"):
        check_results(written)


def test_months_must_be_positive(tmp_path: Path, ws: Workspace):
    with pytest.raises(ConfigError, match="months"):
        write_workbook(ws, tmp_path / "x.xlsx", months=0)
    with pytest.raises(ConfigError, match="xlsx"):
        write_workbook(ws, tmp_path / "x.xls")


def test_recalculate_without_libreoffice_is_a_clear_error(
    written: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("REVBOOK_SOFFICE", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(WorkbookError, match="LibreOffice") as info:
        recalculate(written, out_dir=tmp_path)
    assert isinstance(info.value, RevbookError) and "apt-get install" in str(info.value)


# -- recalculated by LibreOffice -----------------------------------------------------------------


@pytest.mark.slow
@needs_soffice
def test_every_check_passes(recalculated: Path):
    results = check_results(recalculated)
    assert results[0] == ("all checks", "PASS")
    assert len(results) > 500
    failing = [r for r in results if r[1] != "PASS"]
    assert not failing, failing[:10]
    known = ("Waterfall", "Identity", "MRR by account", "Retention", "Book change")
    families = {next((f for f in known if name.startswith(f"{f} ")), name) for name, _ in results[1:]}
    assert families == set(known)
    assert sum(name.startswith("Book change ") for name, _ in results) >= 5  # one identity per CSM


@pytest.mark.slow
@needs_soffice
def test_formula_values_equal_the_engine(recalculated: Path, ws: Workspace):
    wb = load_workbook(recalculated, data_only=True)
    wf = wb["Waterfall"]
    movements = ws.movements().to_pylist()[-MONTHS:]
    for i, m in enumerate(movements):
        r = FIRST_ROW + i
        assert wf.cell(r, 1).value == m["period"]
        for j, key in enumerate(["start_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr"]):
            assert Decimal(str(round(wf.cell(r, 3 + j).value, 2))) == m[key], (m["period"], key)
        assert Decimal(str(round(wf.cell(r, 9).value, 2))) == m["end_mrr"]
        assert wf.cell(r, 10).value == 0  # the identity
    last = movements[-1]
    assert Decimal(str(round(wf.cell(FIRST_ROW + MONTHS - 1, 6).value, 2))) == last["expansion_mrr"] > 0

    ret = wb["Retention"]
    r12 = next(r for r in ws.retention(window=12).to_pylist() if r["period"] == last["period"])
    row = next(
        r
        for r in range(FIRST_ROW, ret.max_row + 1)
        if ret.cell(r, 1).value == 12 and ret.cell(r, 2).value == r12["period"]
    )
    assert Decimal(str(round(ret.cell(row, 7).value, 2))) == r12["start_mrr"]
    assert Decimal(str(round(ret.cell(row, 9).value, 2))) == r12["retained_mrr"]
    assert round(ret.cell(row, 10).value * 100, 2) == round(r12["nrr"] * 100, 2)  # NRR in % at 2 decimals
    assert ret.cell(row, 10).value == pytest.approx(r12["nrr"], abs=1e-12)
    assert ret.cell(row, 11).value == pytest.approx(r12["grr"], abs=1e-12)
    assert ret.cell(row, 12).value == pytest.approx(r12["logo_retention"], abs=1e-12)

    grid = wb["MRR by account"]
    total = ws.mrr().to_pylist()[-1]
    last_col = grid.max_column
    assert Decimal(str(round(grid.cell(4, last_col).value, 2))) == total["mrr"]
    assert grid.cell(6, last_col).value == total["accounts"]
    assert wb["Accounts"].freeze_panes == "B5"  # kept through LibreOffice


@pytest.mark.slow
@needs_soffice
def test_a_tampered_fact_fails_the_checks(written: Path, ws: Workspace, tmp_path: Path):
    wb = load_workbook(written)
    acc = wb["Accounts"]
    last_period = ws.movements().to_pylist()[-1]["period"]
    row = next(
        r
        for r in range(FIRST_ROW, acc.max_row + 1)
        if acc.cell(r, 3).value == last_period and acc.cell(r, 9).value == "expansion"
    )
    acc.cell(row, 8).value = round(acc.cell(row, 8).value + 0.01, 2)  # one cent more
    tampered = tmp_path / "tampered.xlsx"
    wb.save(tampered)
    results = dict(check_results(recalculate(tampered)))
    assert results["all checks"] == "FAIL"
    assert results[f"Waterfall {last_period} expansion"] == "FAIL"
    assert results[f"Waterfall {last_period} end MRR"] == "FAIL"
    assert results[f"MRR by account {last_period} total MRR"] == "FAIL"
    assert results[f"Waterfall {last_period} new"] == "PASS"
    assert results[f"Identity {last_period} start+new+react+exp-contr-churn-end"] == "PASS"
