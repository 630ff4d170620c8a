"""The command line, in-process through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from revbook.cli import app
from support import write

runner = CliRunner(env={"COLUMNS": "200"})


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for cmd in ("demo", "load", "check", "metrics", "headline"):
        assert cmd in result.output


def test_demo_prints_headline_and_writes_tables(tmp_path: Path):
    result = run("demo", "--accounts", "150", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "Headline as of" in result.output
    assert "MRR movements, last 12 months" in result.output
    metrics = tmp_path / "demo" / "metrics"
    assert str(metrics) in result.output.replace("\n", "")
    for name in ("movements_monthly", "retention", "cohorts", "mrr_by_account"):
        assert (metrics / "csv" / f"{name}.csv").stat().st_size > 100
        assert pq.read_table(metrics / "parquet" / f"{name}.parquet").num_rows > 0


def _workspace(tmp_path: Path, small_files: dict[str, Path]) -> list[str]:
    ws = tmp_path / "cli.duckdb"
    args = [f"{table}={path}" for table, path in small_files.items()]
    result = run("load", *args, "--workspace", str(ws))
    assert result.exit_code == 0, result.output
    assert "subscriptions" in result.output and "4 rows" in result.output
    return ["--workspace", str(ws), "--as-of", "2024-12-31"]


def test_load_then_metrics_in_every_format(tmp_path, small_files):
    opts = _workspace(tmp_path, small_files)
    table = run("metrics", "movements", *opts)
    assert table.exit_code == 0 and "2024-12" in table.output
    as_json = run("metrics", "retention", "--window", "3", "--by", "segment", "--format", "json", *opts)
    rows = json.loads(as_json.output)
    assert {r["window_months"] for r in rows} == {3}
    assert {r["segment"] for r in rows} == {"smb", "mid_market"}
    as_csv = run("metrics", "mrr", "--grain", "quarter", "--format", "csv", *opts)
    assert as_csv.output.splitlines()[0].startswith('"period"')
    assert len(as_csv.output.splitlines()) == 1 + 4  # 2024-Q1 .. 2024-Q4
    out = tmp_path / "m.parquet"
    written = run("metrics", "movements", "--from", "2024-06-30", "--format", "parquet", "--out", str(out), *opts)
    assert written.exit_code == 0
    assert pq.read_table(out).column("period").to_pylist() == [f"2024-{m:02d}" for m in range(6, 13)]


def test_load_with_mapping_on_the_command_line(tmp_path):
    subs = write(tmp_path / "s.csv", "Customer,Sub,Start,MRR\nA,S1,2024-01-01,10\n")
    acc = write(tmp_path / "a.csv", "account_id\nA\n")
    result = run(
        "load",
        f"subscriptions={subs}",
        f"accounts={acc}",
        "--workspace",
        str(tmp_path / "m.duckdb"),
        "--map",
        "subscriptions.account_id=Customer",
        "--map",
        "subscriptions.subscription_id=Sub",
        "--map",
        "subscriptions.start_date=Start",
        "--map",
        "subscriptions.mrr=MRR",
    )
    assert result.exit_code == 0, result.output


def test_errors_are_one_line_and_exit_2(tmp_path, small_files):
    bad = write(tmp_path / "bad.csv", "account_id,subscription_id,start_date,mrr\nA,S1,yesterday,10\n")
    result = runner.invoke(app, ["load", f"subscriptions={bad}", "--workspace", str(tmp_path / "e.duckdb")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "bad.csv, data row 1 (line 2), column 'start_date'" in text
    missing = runner.invoke(app, ["metrics", "--workspace", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "revbook load" in missing.output
    grain = runner.invoke(app, ["metrics", "--grain", "week", *_workspace(tmp_path, small_files)])
    assert grain.exit_code == 2 and "unknown grain 'week'" in grain.output


def test_check_exit_code_follows_severity(tmp_path, small_files):
    opts = _workspace(tmp_path, small_files)
    ok = run("check", *opts)
    assert ok.exit_code == 0
    orphan = write(tmp_path / "orph.csv", "account_id,subscription_id,start_date,mrr\nQ,S9,2024-01-01,10\n")
    rejected = runner.invoke(app, ["load", f"subscriptions={orphan}", "--workspace", opts[1], "--replace"])
    assert rejected.exit_code == 2 and "Traceback" not in rejected.output
    assert "orph.csv, data row 1 (line 2), column 'account_id'" in " ".join(rejected.output.split())
    assert run("check", *opts).exit_code == 0
    # a workspace written before loads ran the contract checks can still hold an orphan line
    import duckdb

    with duckdb.connect(opts[1]) as con:
        con.execute(
            "INSERT INTO subscriptions (account_id, subscription_id, start_date, mrr) VALUES "
            "('Q', 'S9', DATE '2024-01-01', 10)"
        )
    bad = runner.invoke(app, ["check", *opts])
    assert bad.exit_code == 1
    assert "unknown_account" in bad.output


def test_workbook_command_writes_formulas(tmp_path, small_files):
    import openpyxl

    opts = _workspace(tmp_path, small_files)
    out = tmp_path / "book.xlsx"
    result = run("workbook", "--out", str(out), "--no-recalc", "--months", "6", *opts)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert {"Checks", "Waterfall", "Retention", "Accounts"} <= set(wb.sheetnames)
    assert str(wb["Waterfall"]["C5"].value or wb["Waterfall"]["C4"].value).startswith("=")


def test_init_writes_a_config_that_loads(tmp_path):
    import tomllib

    from revbook.config import load_config

    path = tmp_path / "revbook.toml"
    assert run("init", str(path)).exit_code == 0
    text = path.read_text()
    assert "[sources.subscriptions]" in text and "churn_grace_days = 0" in text
    tomllib.loads(text)
    cfg = load_config(path)
    assert cfg.workspace == tmp_path / "revbook.duckdb" and cfg.churn_grace_days == 0
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_report_command_and_serve_refuses_an_open_address_without_token(tmp_path, small_files, monkeypatch):
    opts = _workspace(tmp_path, small_files)
    out = tmp_path / "r.html"
    result = run("report", "--out", str(out), *opts)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.lower().startswith("<!doctype html") and "NRR" in html
    assert "15,000" in html  # ARR on the as-of date: 12 x 1,250.00
    monkeypatch.delenv("REVBOOK_TOKEN", raising=False)
    refused = runner.invoke(app, ["serve", "--host", "0.0.0.0", *opts])
    assert refused.exit_code == 2 and "needs an access token" in refused.output


def _commands() -> list[tuple[str, ...]]:
    """Every command of the app, as the words that call it (``("reasons", "classify")``)."""
    found: list[tuple[str, ...]] = []

    def walk(command, words: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*words, name))
        else:
            found.append(words)

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_turns_a_library_error_into_one_line_and_exit_2(tmp_path):
    missing = tmp_path / "missing.toml"
    commands = _commands()
    assert len(commands) == 35
    for words in commands:
        if words == ("demo",):
            args = ["demo", "--accounts", "0", "--out", str(tmp_path / "demo")]
        elif words == ("init",):
            args = ["init", str(write(tmp_path / "exists.toml", ""))]
        elif words == ("reasons", "correct"):
            args = [*words, "A1", "2024-01-01", "price", "--by", "me", "-c", str(missing)]
        elif words == ("connect",):
            args = ["connect", "nowhere", "-c", str(missing)]
        elif words[0] == "plan" and words != ("plan", "vip"):
            args = [*words, "A1", *(["--version", "1"] if words == ("plan", "edit") else []), "-c", str(missing)]
        else:
            args = [*words, "-c", str(missing)]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (words, result.output)
        assert "Traceback" not in result.output and result.exception is not None
        text = result.output.strip()  # the demo's progress display leaves an empty line before it
        assert text.startswith("error: ") and "\n" not in text, (words, result.output)


def test_library_errors_are_handled_in_one_place():
    import revbook.cli

    package = Path(revbook.cli.__file__).parent
    handlers = [p.name for p in sorted(package.glob("*.py")) if "except RevbookError" in p.read_text(encoding="utf-8")]
    assert handlers == ["app.py"]
