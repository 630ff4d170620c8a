"""`revbook churn` and `revbook reasons classify` list the picklist values the taxonomy does not know."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


def _workspace(path: Path, primary: list[str | None]) -> list[str]:
    ids = ["A", "B", "C"]
    with Workspace(path, config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load_frames(
            {
                "accounts": pa.table({"account_id": ids}),
                "subscriptions": pa.table(
                    {
                        "account_id": ids,
                        "subscription_id": ids,
                        "start_date": [dt.date(2023, 1, 1)] * 3,
                        "end_date": [dt.date(2024, 3, 10), dt.date(2024, 4, 10), dt.date(2024, 5, 10)],
                        "mrr": pa.array([Decimal(100)] * 3, pa.decimal128(18, 4)),
                    }
                ),
                "churn_reasons": pa.table(
                    {
                        "account_id": ids,
                        "date": [dt.date(2024, 3, 10), dt.date(2024, 4, 10), dt.date(2024, 5, 10)],
                        "primary_reason": pa.array(primary, pa.string()),
                        "comment": ["too expensive", "too expensive", None],
                    }
                ),
            }
        )
    return ["--workspace", str(path), "--as-of", "2024-12-31"]


def test_churn_and_classify_list_the_unmapped_values(tmp_path: Path) -> None:
    opts = _workspace(tmp_path / "w.duckdb", ["Moved to in-house tool", "moved to in-house  tool", "Price"])
    churn = runner.invoke(app, ["churn", *opts], catch_exceptions=False)
    assert churn.exit_code == 0, churn.output
    assert "unmapped picklist values" in churn.output
    assert "[churn_reasons.moved_to_in_house_tool]" in churn.output
    assert 'aliases = ["Moved to in-house tool"]' in churn.output
    classify = runner.invoke(app, ["reasons", "classify", *opts[:2]], catch_exceptions=False)
    assert classify.exit_code == 0 and "[churn_reasons.moved_to_in_house_tool]" in classify.output
    as_csv = runner.invoke(app, ["churn", "--format", "csv", *opts], catch_exceptions=False)
    assert as_csv.exit_code == 0
    assert as_csv.stdout.count("moved_to_in_house_tool") == 1  # one Pareto row for both spellings
    assert "1 picklist value is not in the taxonomy" in as_csv.stderr and "'Moved to in-house tool'" in as_csv.stderr


def test_nothing_listed_when_every_value_maps(tmp_path: Path) -> None:
    opts = _workspace(tmp_path / "w.duckdb", ["Price", "Low adoption", None])
    churn = runner.invoke(app, ["churn", *opts], catch_exceptions=False)
    assert churn.exit_code == 0, churn.output
    assert "unmapped" not in churn.output and "Low adoption / never onboarded" in churn.output
