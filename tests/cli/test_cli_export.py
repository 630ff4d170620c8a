"""`revbook export`: the metric tables, every one or those named, as files (the warehouse path is in
tests/sources/test_warehouse.py)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app
from revbook.errors import ConfigError
from revbook.exports import METRIC_TABLES, metric_tables
from support import AS_OF


@pytest.fixture
def workspace(tmp_path, small_files):
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(small_files)
        yield ws


def test_export_writes_the_named_tables_as_csv_and_parquet(tmp_path, workspace):
    expected = workspace.retention().to_pylist()
    workspace.close()
    out = tmp_path / "out"
    args = ["export", "--table", "retention", "--table", "mrr_monthly", "--out", str(out), "-w", str(workspace.path)]
    result = CliRunner().invoke(app, [*args, "--as-of", str(AS_OF)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 tables" in result.output
    assert sorted(p.name for p in (out / "parquet").iterdir()) == ["mrr_monthly.parquet", "retention.parquet"]
    assert pq.read_table(out / "parquet" / "retention.parquet").to_pylist() == expected
    assert (out / "csv" / "retention.csv").read_text(encoding="utf-8").startswith('"period",')
    refused = CliRunner().invoke(app, ["export", "--schema", "x", "-w", str(workspace.path)])
    assert refused.exit_code == 2 and "--schema is an option of --to warehouse" in refused.output


def test_metric_tables_computes_only_the_named_ones_and_names_the_unknown(workspace):
    assert list(metric_tables(workspace, ["retention", "data_quality"])) == ["retention", "data_quality"]
    assert {"movements_monthly", "retention", "ledger", "data_quality"} <= set(METRIC_TABLES)
    with pytest.raises(ConfigError, match="unknown metric table 'retentio'") as err:
        metric_tables(workspace, ["retentio"])
    assert "did you mean 'retention'" in (err.value.hint or "")
    with pytest.raises(ConfigError, match="no signals table: the workspace has no notes"):
        metric_tables(workspace, ["signals"])
