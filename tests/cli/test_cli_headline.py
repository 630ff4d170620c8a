"""`revbook headline` puts the data-quality findings that change its figures under them, and marks
a partial month "to date"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from revbook import Config, Workspace, sample
from revbook.cli import app
from revbook.quality import headline_findings

runner = CliRunner(env={"COLUMNS": "120"})


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("headline")
    paths = sample.write(out / "data", accounts=300, seed=3)
    path = out / "w.duckdb"
    with Workspace(path, config=Config(as_of=sample.SampleConfig().as_of)) as ws:
        ws.load(dict(paths))
    return path


def headline(path: Path, as_of: str) -> str:
    result = runner.invoke(app, ["headline", "-w", str(path), "--as-of", as_of], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_findings_that_change_the_figures_are_printed_under_them(company: Path) -> None:
    as_of = sample.SampleConfig().as_of
    with Workspace(company, config=Config(as_of=as_of), read_only=True) as ws:
        expected = headline_findings(ws.check().to_pylist())
    assert expected, "the sample has overlapping lines and gaps"
    text = headline(company, as_of.isoformat())
    title = f"{len(expected)} data-quality finding"
    assert title in text and text.index("quick ratio") < text.index(title) < text.index("MRR movements")
    for f in expected:
        assert f"{f['check']}" in text and f"{f['rows']:,} {f['table']} rows" in text


def test_a_month_cut_by_the_as_of_date_reads_to_date(company: Path) -> None:
    inside = headline(company, "2026-11-15").splitlines()
    assert any(line.startswith("2026-11 to date") for line in inside)
    assert not any(line.startswith("2026-10 to date") for line in inside)
    at_month_end = headline(company, "2026-10-31").splitlines()
    assert any(line.startswith("2026-10 ") for line in at_month_end)
    assert not any("to date" in line for line in at_month_end)


def test_each_retention_figure_is_printed_beside_its_band_and_median(company: Path, tmp_path: Path) -> None:
    from revbook.metrics.benchmarks import headline_benchmarks

    as_of = sample.SampleConfig().as_of
    with Workspace(company, config=Config(as_of=as_of), read_only=True) as ws:
        found = headline_benchmarks(ws)
    assert [r.metric for r in found.rows] == ["nrr", "grr", "gross_revenue_churn"]
    text = headline(company, as_of.isoformat())
    flat = " ".join(text.split())
    assert text.index("quick ratio") < text.index("Beside the benchmarks") < text.index("MRR movements")
    for row in found.rows:
        assert f"{row.band.name}: {row.band.threshold}" in flat, row
        assert row.median_text in flat, row
    churn = found.of("gross_revenue_churn")
    assert churn and f"({churn.band.conversion})" in flat  # the annual churn, converted to a month, says so
    assert found.basis in flat and "SaaS Capital, 2023" in flat

    off = tmp_path / "revbook.toml"
    off.write_text(
        f'[workspace]\npath = "{company}"\nas_of = "{as_of.isoformat()}"\n\n[benchmarks]\nshow = false\n',
        encoding="utf-8",
    )
    quiet = runner.invoke(app, ["headline", "-c", str(off)], catch_exceptions=False)
    assert quiet.exit_code == 0, quiet.output
    assert "Beside the benchmarks" not in quiet.output and "NRR, 12 months" in quiet.output
