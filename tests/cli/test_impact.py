"""`revbook impact`: the verified statements then the refusals (text), the Markdown a CSM pastes, CSV and
JSON, on the hand-built company of tests/impact/test_statements.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revbook import Workspace
from revbook.cli import app
from revbook.config import load_config
from support import impact_company, write

TOML = """
[workspace]
path = "{path}"
as_of = "2024-12-31"

[impact_statements]
window = 6
min_accounts = 5
draws = 500
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("impact_cli")
    path = write(folder / "revbook.toml", TOML.format(path=folder / "w.duckdb"))
    with Workspace(config=load_config(path)) as ws:
        ws.load(impact_company(folder))
    return path


def run(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_text_prints_verified_then_refused_with_reasons(config: Path) -> None:
    out = run("impact", "--owner", "P1", "-c", str(config))
    verified, refused = out.split("Refused (")
    assert "Verified (4)" in verified
    assert "1. Reduced gross revenue churn from 50.0% to 0.0% (owner P1 Ada, 10 accounts;" in verified
    assert "metric gross_revenue_churn; 50.0% -> 0.0%; change -50.0 points" in verified
    assert refused.startswith("1)\n")  # P1's one refusal: the activity count
    assert "Ran 5 qbr touchpoints" in refused and "refused (activity_only):" in refused
    assert "Ran 5 qbr" not in verified


def test_markdown_is_what_a_csm_pastes(config: Path) -> None:
    out = run("impact", "--owner", "P1", "--format", "markdown", "-c", str(config))
    assert out.startswith("## Impact statements: owner P1, the months 2024-06-30 to 2024-12-31")
    bullets = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(bullets) == 4 and bullets[0].startswith("- Reduced gross revenue churn from 50.0% to 0.0%")
    assert "Refused" not in out
    everything = run("impact", "--owner", "P1", "--format", "markdown", "--all", "-c", str(config))
    assert "### Refused" in everything and "refused (`activity_only`)" in everything


def test_csv_and_json_hold_the_rows(config: Path) -> None:
    rows = list(
        csv.DictReader(io.StringIO(run("impact", "--owner", "P4", "--format", "csv", "--all", "-c", str(config))))
    )
    nrr = next(r for r in rows if r["metric"] == "nrr")
    assert (nrr["status"], nrr["rule"], float(nrr["before"]), float(nrr["after"])) == (
        "refused",
        "product_driven",
        1,
        2,
    )
    shown = json.loads(run("impact", "--team", "East", "--format", "json", "-c", str(config)))
    assert shown and all(r["status"] == "verified" and r["scope_value"] == "East" for r in shown)


def test_two_scopes_are_one_error(config: Path) -> None:
    result = CliRunner().invoke(app, ["impact", "--owner", "P1", "--team", "East", "-c", str(config)])
    assert result.exit_code == 2 and "give one of owner, team or segment" in result.output
