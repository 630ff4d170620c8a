"""`revbook reconcile`: the split as JSON adds up to the cent, --accounts names the accounts,
a bad --total file is an error naming the file, the row and the column."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app
from revbook.metrics.reconcile import CAUSES
from test_reconcile_causes import _company

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def opts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("reccli") / "r.duckdb"
    with Workspace(path, config=Config(as_of=dt.date(2024, 3, 31))) as ws:
        ws.load_frames(_company())
    return ["--workspace", str(path), "--as-of", "2024-03-31"]


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_reconcile_as_json_adds_up_and_names_the_accounts(opts: list[str]):
    result = run("reconcile", "--format", "json", *opts)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["period"] for r in rows] == ["2024-01", "2024-02", "2024-03"]
    for r in rows:
        parts = [Decimal(str(r[c])) for c in (*CAUSES, "unexplained")]
        assert Decimal(str(r["difference"])) == sum(parts)
    # with the default conventions (end of service, net price) churn timing and discounts are 0
    march = rows[-1]
    assert Decimal(str(march["churn_timing"])) == 0 and Decimal(str(march["discounts"])) == 0
    assert Decimal(str(march["unexplained"])) == 0
    accounts = json.loads(run("reconcile", "--accounts", "--format", "json", *opts).output)
    assert {r["account_id"] for r in accounts if r["period"] == "2024-03" and Decimal(str(r["one_time"]))} == {"O"}


def test_a_bad_total_file_names_file_row_and_column(opts: list[str], tmp_path: Path):
    bad = tmp_path / "totals.csv"
    bad.write_text("period,total\n2024-03,12O.00\n")
    result = run("reconcile", "--total", str(bad), *opts)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "row 2, column 'total' is not a number" in text and "totals.csv" in text


@pytest.mark.parametrize("columns", ["80", "120"])
def test_reconcile_against_the_crm_prints_and_adds_up(tmp_path: Path, columns: str):
    from test_reconcile_crm import _company as crm_company

    path = tmp_path / "c.duckdb"
    with Workspace(path, config=Config(as_of=dt.date(2024, 3, 31))) as ws:
        ws.load_frames(crm_company())
    opts = ["--workspace", str(path), "--as-of", "2024-03-31"]
    narrow = CliRunner(env={"COLUMNS": columns})
    table = narrow.invoke(app, ["reconcile", "--against", "crm", *opts], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert "CRM's ARR field" in table.output and "2024-03-15" in table.output
    assert all(len(line) <= int(columns) for line in table.output.splitlines())
    rows = json.loads(run("reconcile", "--against", "crm", "--accounts", "--format", "json", *opts).output)
    assert {r["account_id"] for r in rows if r["read_on"] == "2024-03-15" and Decimal(str(r["churned"]))} == {"C"}


def test_a_total_says_which_causes_revbook_can_compute(opts: list[str], tmp_path: Path):
    totals = tmp_path / "totals.csv"
    totals.write_text("period,total\n2024-03,500.00\n")
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["reconcile", "--total", str(totals), *opts])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "revbook computes only churn_timing, delinquent_churn, discounts, trials, fx" in text
    rows = json.loads(run("reconcile", "--total", str(totals), "--format", "json", *opts).output)
    # revbook 520 (end of service, net), the total 500: C's +50 at cancellation, D's -10 at list price
    # and X's -10 at March's rate together leave -10, the least any combination leaves
    (march,) = rows
    split = [Decimal(str(march[c])) for c in ("difference", "churn_timing", "discounts", "fx", "unexplained")]
    assert split == [Decimal(20), Decimal(50), Decimal(-10), Decimal(-10), Decimal(-10)]
