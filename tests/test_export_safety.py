"""Exports are safe to open in a spreadsheet: text that a spreadsheet would run as a formula is written
with a leading apostrophe in every CSV (Frame.write, the CLI to stdout and --out, the metric tables);
numbers stay numbers, and Parquet and JSON keep the exact values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hostile import AS_OF, HOSTILE, TAB_AND_CR, hostile_workspace, risky
from revbook import Config, Frame, Workspace
from revbook.cli import app
from revbook.exports import write_metric_tables
from revbook.frame import FORMULA_STARTS, spreadsheet_safe, spreadsheet_safe_table

runner = CliRunner(env={"COLUMNS": "200"})


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ('=HYPERLINK("http://example.com","x")', '\'=HYPERLINK("http://example.com","x")'),
        ("Acme = best", "Acme = best"),  # only the first character matters
        (" =1+1", " =1+1"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")


def test_csv_neutralises_text_and_keeps_numbers_dates_and_nulls(tmp_path: Path):
    values = [*HOSTILE, *TAB_AND_CR, "Acme", None]
    n = len(values)
    table = pa.table(
        {
            "name": values,
            "segment": pa.array(values).dictionary_encode(),
            "mrr": pa.array([Decimal("-2.50")] * n, pa.decimal128(18, 2)),
            "accounts": pa.array([-3] * n, pa.int64()),
            "nrr": pa.array([-0.25] * n, pa.float64()),
            "period_end": [dt.date(2024, 1, 31)] * n,
        }
    )
    path = Frame("t", table).write(tmp_path / "t.csv")
    rows = _rows(path.read_bytes().decode("utf-8"))
    assert [r["name"] for r in rows] == [*("'" + v for v in [*HOSTILE, *TAB_AND_CR]), "Acme", ""]
    assert [r["segment"] for r in rows] == [r["name"] for r in rows]
    assert {(r["mrr"], r["accounts"], r["nrr"], r["period_end"]) for r in rows} == {
        ("-2.50", "-3", "-0.25", "2024-01-31")
    }
    assert not [c for c in _cells(path.read_bytes().decode("utf-8")) if risky(c)]
    # the frame itself, Parquet and JSON keep the exact values: they are for programs, not spreadsheets
    assert Frame("t", table).to_arrow().column("name").to_pylist() == values
    assert pq.read_table(Frame("t", table).write(tmp_path / "t.parquet")).equals(table)
    as_json = json.loads(Frame("t", table).write(tmp_path / "t.json").read_text("utf-8"))
    assert [r["name"] for r in as_json] == values
    # columns without text keep their values and types
    safe = spreadsheet_safe_table(table)
    for name in ("mrr", "accounts", "nrr", "period_end"):
        assert safe.column(name).equals(table.column(name))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile workspace's file, loaded and closed (the CLI opens it by itself)."""
    with hostile_workspace(tmp_path_factory.mktemp("hostile")) as ws:
        return ws.path


def _run(workspace: Path, *args: str) -> str:
    result = runner.invoke(app, [*args, "--workspace", str(workspace), "--as-of", "2024-12-31"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("command", "column"),
    [
        (("metrics", "accounts", "--by", "segment"), "segment"),
        (("metrics", "retention", "--by", "team"), "team"),
        (("rum", "--accounts"), "owner_name"),
        (("signals",), "sentence"),
    ],
)
def test_cli_csv_to_stdout_and_to_a_file_is_safe(hostile: Path, tmp_path: Path, command, column):
    stdout = _run(hostile, *command, "--format", "csv")
    out = tmp_path / "out.csv"
    _run(hostile, *command, "--format", "csv", "--out", str(out))
    for text in (stdout, out.read_bytes().decode("utf-8")):
        rows = _rows(text)
        assert rows, text
        assert not [c for c in _cells(text) if risky(c)], text
        shown = {r[column] for r in rows}
        # every hostile value that reaches this table shows as itself behind the apostrophe
        assert {v for v in shown if v.startswith("'")} <= {
            "'" + h + t for h in HOSTILE for t in ("", " we are being acquired by a rival")
        }
        assert any(v.startswith("'") for v in shown)


def test_metric_tables_csv_is_safe_and_parquet_keeps_the_values(hostile: Path, tmp_path: Path):
    with Workspace(hostile, config=Config(as_of=AS_OF), read_only=True) as ws:
        write_metric_tables(ws, tmp_path, formats=("csv", "parquet"))
    files = sorted((tmp_path / "csv").glob("*.csv"))
    assert len(files) >= 20
    for path in files:
        text = path.read_bytes().decode("utf-8")
        assert not [c for c in _cells(text) if risky(c)], path.name
    by_segment = _rows((tmp_path / "csv" / "retention_by_segment.csv").read_text("utf-8"))
    assert {r["segment"] for r in by_segment} == {"'" + h for h in HOSTILE}
    # numbers stay numbers: the start MRR of segment '=1+1' (100.00 a month) parses back
    assert {Decimal(r["start_mrr"]) for r in by_segment if r["segment"] == "'=1+1"} >= {Decimal("100.00")}
    parquet = pq.read_table(tmp_path / "parquet" / "retention_by_segment.parquet")
    assert set(parquet.column("segment").to_pylist()) == set(HOSTILE)
    assert pa.types.is_decimal(parquet.schema.field("start_mrr").type)
