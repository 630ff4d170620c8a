"""What the commands print in a terminal of 80 and 120 columns: whole numbers and ids, the stated order."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from revbook import Workspace
from revbook.cli import app
from revbook.cli.layout import formatter, is_ratio
from revbook.frame import Frame

WIDTHS = (80, 120)

#: every command that prints a table, with the arguments that print it
TABLE_COMMANDS: dict[str, tuple[str, ...]] = {
    "headline": ("headline",),
    "check": ("check",),
    "metrics movements": ("metrics", "movements"),
    "metrics movements by segment": ("metrics", "movements", "--grain", "quarter", "--by", "segment"),
    "metrics retention": ("metrics", "retention", "--window", "12", "--by", "owner"),
    "metrics cohorts": ("metrics", "cohorts"),
    "metrics mrr": ("metrics", "mrr"),
    "metrics accounts": ("metrics", "accounts"),
    "metrics ledger": ("metrics", "ledger"),
    "metrics revenue": ("metrics", "revenue"),
    "metrics reconcile": ("metrics", "reconcile"),
    "churn": ("churn",),
    "signals": ("signals",),
    "signals lift": ("signals", "--lift"),
    "rum": ("rum", "--flow-from", "2026-01-01"),
    "rum accounts": ("rum", "--accounts"),
    "health": ("health",),
    "health red": ("health", "--band", "red"),
    "health suggest bands": ("health", "--suggest-bands"),
    "model": ("model",),
    "survival": ("survival", "--by", "segment"),
    "survival curve": ("survival", "--curve"),
    "catalogue": ("catalogue",),
    "catalogue renewal": ("catalogue", "renewal_rate"),
    "reasons classify": ("reasons", "classify"),
    "attribution": ("attribution",),
    "attribution by csm": ("attribution", "--by", "csm"),
    "attribution accounts": ("attribution", "--accounts"),
    "concentration": ("concentration",),
    "concentration by owner": ("concentration", "--by", "owner", "--top", "1,3"),
    "csm book": ("csm", "--view", "book"),
    "csm book owner": ("csm", "--view", "book", "--owner", "P0003", "--start", "2026-01-01"),
    "csm": ("csm",),
    "csm capacity": ("csm", "--view", "capacity"),
    "saves": ("saves", "--start", "2025-06-01", "--end", "2025-10-31"),
    "saves summary": ("saves", "--summary", "--start", "2025-06-01", "--end", "2025-10-31"),
    "plan vip": ("plan", "vip"),
    "forecast": ("forecast", "--draws", "200"),
    "forecast by segment": ("forecast", "--by", "segment", "--draws", "200"),
    "forecast backtest": ("forecast", "--backtest", "--months", "2", "--draws", "200"),
    "renewals": ("renewals",),
    "renewals rate": ("renewals", "--rate", "--by", "due_quarter"),
    "reconcile": ("reconcile",),
    "reconcile accounts": ("reconcile", "--accounts"),
}
#: the commands that print no table (covered by tests/cli/test_cli.py and below)
OTHER_COMMANDS = {
    "demo",
    "init",
    "load",
    "workbook",
    "serve",
    "report",
    "reasons correct",
    "connect",
    "export",
    "mcp",
    "impact",
}
#: the account-plan commands other than `plan vip` need a plan: tests/cli/test_cli_plans.py
OTHER_COMMANDS |= {"plan show", "plan create", "plan edit", "plan history", "plan export"}


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    """A sample company of 150 accounts in a workspace; its revbook.toml."""
    from revbook.sample.demo import write_demo

    files = write_demo(tmp_path_factory.mktemp("terminal") / "demo", accounts=150, seed=7)
    with Workspace(config=files.config) as ws:
        ws.load(files.tables)
    return files.config_path


def run(width: int, *args: str):
    return CliRunner(env={"COLUMNS": str(width)}).invoke(app, list(args), catch_exceptions=False)


def _commands() -> set[str]:
    found: set[str] = set()

    def walk(command, words: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*words, name))
        else:
            found.add(" ".join(words))

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_is_covered():
    commands = _commands()

    def command_of(args: tuple[str, ...]) -> str:
        return max((" ".join(args[:n]) for n in range(1, len(args) + 1) if " ".join(args[:n]) in commands), key=len)

    assert {command_of(args) for args in TABLE_COMMANDS.values()} | OTHER_COMMANDS == commands


#: a number as people read it: thousands separators, decimals, a sign, a percent sign
NUMBER = re.compile(r"^[-+]?\d{1,3}(,\d{3})*(\.\d+)?%?$")


def _figures(text: str) -> list[str]:
    """The words of ``text`` that hold a digit and no letter (figures, not ids or dates)."""
    words = re.findall(r"[^\s()]+", text)
    return [w.rstrip(",;:") for w in words if re.search(r"\d", w) and not re.search(r"[A-Za-z_]", w)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(TABLE_COMMANDS))
def test_tables_fit_and_print_every_figure_in_full(name, width, company):
    result = run(width, *TABLE_COMMANDS[name], "-c", str(company))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "…" not in out and "..." not in out, out
    if "wider than the terminal" not in out:
        assert max(len(line.rstrip()) for line in out.splitlines()) <= width, out
    for word in _figures(out):
        if re.fullmatch(
            r"\d{4}-\d{2}(-\d{2})?|\d{4}-Q\d|-?\d+\.\.\d+|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}|(19|20)\d{2}", word
        ):
            continue  # a period, a date or a year (a published benchmark's: "SaaS Capital, 2023")
        assert NUMBER.match(word), (word, out)
    # an id is printed whole: every account id on screen is one of the company's
    ids = set(re.findall(r"\bA\d+\b", out))
    assert all(re.fullmatch(r"A\d{6}", i) for i in ids), ids


def _health(company: Path) -> list[dict]:
    from revbook.config import load_config
    from revbook.rum.health_scores import health_scores

    with Workspace(config=load_config(company), read_only=True) as ws:
        return health_scores(ws, None).to_pylist()


@pytest.mark.parametrize("width", WIDTHS)
def test_health_shows_the_worst_first_with_every_id_and_score(width, company):
    rows = _health(company)
    result = run(width, "health", "--limit", "10", "-c", str(company))
    assert result.exit_code == 0, result.output
    shown = re.findall(r"^(A\d{6}) +([\d.]+) ", result.stdout, flags=re.M)
    assert [(r["account_id"], f"{r['score']:.1f}") for r in rows[:10]] == shown
    assert rows[0]["score"] <= rows[9]["score"] <= rows[-1]["score"]
    assert f"{rows[0]['arr']:,.2f}" in result.stdout  # money with separators and cents
    note = " ".join(result.stdout.split())
    assert f"showing the first 10 of {len(rows):,} rows (worst first): --limit N, --all" in note
    everything = run(width, "health", "--all", "--columns", "account_id,score", "-c", str(company))
    assert len(re.findall(r"^A\d{6} ", everything.stdout, flags=re.M)) == len(rows)
    assert "showing the first" not in everything.stdout


def test_suggest_bands_prints_the_rule_beside_the_configured_edges_and_the_line_to_set(company):
    from revbook.config import load_config
    from revbook.health.bands import band_edges, past_scores

    with Workspace(config=load_config(company), read_only=True) as ws:
        rule = band_edges(*past_scores(ws))
    result = run(120, "health", "--suggest-bands", "--format", "csv", "-c", str(company))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["edges"], r["band"]) for r in rows] == [
        (e, b) for e in ("suggested", "configured") for b in ("red", "yellow", "green")
    ]
    suggested = {r["band"]: r for r in rows if r["edges"] == "suggested"}
    assert (
        float(suggested["yellow"]["from_score"]) == rule.yellow
        and float(suggested["green"]["from_score"]) == rule.green
    )
    for edges in ("suggested", "configured"):
        assert sum(float(r["share"]) for r in rows if r["edges"] == edges) == pytest.approx(1.0)
    table = run(120, "health", "--suggest-bands", "-c", str(company))
    said = " ".join(table.stdout.split())
    assert f"bands = {{ green = {rule.green:g}, yellow = {rule.yellow:g} }}" in said
    assert f"base rate {rule.base_rate:.1%} churned within 180 days, {rule.rows:,} scored account-months" in said


def test_the_movements_show_the_latest_periods_and_say_so(company):
    result = run(120, "metrics", "movements", "--limit", "3", "-c", str(company))
    from revbook.config import load_config

    with Workspace(config=load_config(company), read_only=True) as ws:
        rows = ws.movements().to_pylist()
    assert re.findall(r"^(\d{4}-\d{2}) ", result.stdout, flags=re.M) == [r["period"] for r in rows[-3:]]
    assert f"{rows[-1]['end_mrr']:,.2f}" in result.stdout
    assert f"showing the latest 3 of {len(rows)} rows" in " ".join(result.stdout.split())


def test_columns_are_left_out_by_importance_and_named(company):
    narrow = " ".join(run(80, "metrics", "movements", "-c", str(company)).stdout.split())
    assert "not shown at 80 columns: reactivation_mrr" in narrow and "--columns NAME,NAME to pick, --wide" in narrow
    assert "start end" not in narrow and "period start new" in narrow  # the waterfall's order is kept
    picked = run(80, "metrics", "movements", "--columns", "period,churned_accounts", "-c", str(company))
    header = next(line for line in picked.stdout.splitlines() if line.startswith("period"))
    assert header.split() == ["period", "churned", "accts"]
    assert "not shown" not in picked.stdout
    wide = run(80, "metrics", "movements", "--wide", "-c", str(company))
    assert (
        "end accts" in wide.stdout and "reactivation" in wide.stdout and "wider than the terminal's 80" in wide.stdout
    )
    bad = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["metrics", "--columns", "period,bogus", "-c", str(company)])
    assert bad.exit_code == 2 and "no column bogus" in bad.output and "end_mrr" in bad.output


def test_bracketed_text_survives():
    from revbook.cli.output import print_frame

    hint = "set churn_grace_days in revbook.toml [workspace] to bridge gaps"
    frame = Frame("check", pa.table({"severity": ["warning"], "rows": [1234567], "hint": [hint]}))
    one = typer.Typer()

    @one.command()
    def show() -> None:
        print_frame(frame, title="findings [bold]of[/] the workspace")

    result = CliRunner(env={"COLUMNS": "80"}).invoke(one, [])
    assert result.exit_code == 0, result.output
    assert hint in " ".join(result.stdout.split()) and "findings [bold]of[/] the workspace" in result.stdout
    assert "1,234,567" in result.stdout


def test_init_names_the_sections_to_fill_in(tmp_path):
    result = run(80, "init", str(tmp_path / "revbook.toml"))
    assert result.exit_code == 0
    assert "fill in its [sources.*] sections, then run `revbook load`" in " ".join(result.stdout.split())


def test_the_workbook_without_libreoffice_is_written_and_says_how_to_check_it(tmp_path, company, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("REVBOOK_SOFFICE", raising=False)
    out = tmp_path / "book.xlsx"
    result = run(80, "workbook", "--out", str(out), "--months", "3", "-c", str(company))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000
    text = " ".join(result.stdout.split())
    assert "formulas compute when Excel or LibreOffice opens it" in text
    assert "apt-get install" in text and "--no-recalc" in text


@pytest.mark.parametrize("command", sorted(_commands() | {""}))
def test_help_has_no_type_tags(command):
    result = run(120, *command.split(), "--help")
    assert result.exit_code == 0, result.output
    for tag in ("<str>", "<bool>", "<int>", "<path>"):
        assert tag not in result.output, (command, tag)


def test_the_next_step_is_printed_as_it_can_be_run(tmp_path, monkeypatch):
    from revbook.cli.output import command_name

    script = tmp_path / ".venv" / "bin" / "revbook"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [".venv/bin/revbook"])
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert command_name() == ".venv/bin/revbook"
    monkeypatch.setenv("PATH", str(script.parent))
    assert command_name() == "revbook"
    monkeypatch.setattr("sys.argv", ["/usr/lib/python3/site-packages/pytest/__main__.py"])
    assert command_name() == "revbook"


def test_numbers_print_as_people_read_them():
    def cells(name: str, arrow_type: str, values: list) -> list[str]:
        fmt = formatter(name, arrow_type, values)
        return [fmt(v) for v in values]

    assert cells("end_mrr", "decimal128(18, 2)", [Decimal("4907141.5"), None]) == ["4,907,141.50", "–"]
    assert cells("arr_up", "decimal128(38, 0)", [Decimal("4446000")]) == ["4,446,000"]
    assert cells("rows", "double", [6641.0, 689.0]) == ["6,641", "689"]  # counts kept as floats
    assert cells("score", "double", [51.5, 88.25]) == ["51.50", "88.25"]
    assert cells("score", "double", [51.5, 88.0]) == ["51.5", "88.0"]
    assert cells("renewal_rate", "double", [0.8803]) == ["88.0%"]
    assert cells("p_logistic", "double", [0.1684]) == ["16.8%"]
    assert cells("roc_auc", "double", [0.93571]) == ["0.9357"]
    assert cells("potential_arr", "double", [25743.1, 0.0]) == ["25,743.10", "0.00"]
    assert cells("accounts", "int64", [1320]) == ["1,320"]
    assert cells("source_row", "int64", [12345]) == ["12345"]
    assert cells("managed", "bool", [True, False]) == ["yes", "no"]
    assert cells("score_date", "date32[day]", [dt.date(2026, 11, 15)]) == ["2026-11-15"]
    assert is_ratio("nrr") and is_ratio("cum_share_arr") and is_ratio("logo_retention")
    assert not is_ratio("quick_ratio") and not is_ratio("risk_lift") and not is_ratio("brier")


def test_no_owner_prints_as_one_word_in_tables_and_stays_as_data_in_csv(company):
    """The data's "(none)" (a metric's owner slice) and "unmanaged" (RUM's team) print as
    "unassigned", as on the dashboard; the CSV keeps the values a filter or a join needs."""
    c = str(company)
    table = run(200, "metrics", "retention", "--window", "12", "--by", "owner", "--all", "-c", c).stdout
    assert "unassigned" in table and "(none)" not in table
    rum = run(200, "rum", "--by", "team", "-c", c).stdout
    assert "unassigned" in rum and "unmanaged" not in rum
    csv = run(200, "metrics", "retention", "--window", "12", "--by", "owner", "--format", "csv", "-c", c).stdout
    assert "(none)" in csv and "unassigned" not in csv


def test_a_command_without_table_options_names_only_what_is_left_out(company):
    result = run(80, "check", "-c", str(company))
    assert result.exit_code in (0, 1), result.output
    assert "--columns" not in result.stdout and "--limit" not in result.stdout
