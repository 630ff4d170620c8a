"""`revbook plan`: create, edit (options, a TOML file, a JSON file), show, history, export, and the
errors of each, on a two-account company."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revbook.cli import app
from support import write

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A pays core 10,000 a month (ARR 120,000) and is VIP by name; B pays 500 and is not VIP."""
    data = tmp_path / "data"
    data.mkdir()
    write(data / "accounts.csv", "account_id,name,segment\nA,Acme,enterprise\nB,Bolt,smb\n")
    write(
        data / "subscriptions.csv",
        "account_id,subscription_id,product,start_date,end_date,mrr\n"
        "A,S1,core,2023-06-01,,10000\nB,S2,core,2024-01-01,,500\nB,S3,sso,2024-01-01,,100\n",
    )
    config = write(
        tmp_path / "revbook.toml",
        '[workspace]\npath = "w.duckdb"\nas_of = "2024-12-31"\n'
        '[sources.accounts]\npath = "data/accounts.csv"\n[sources.subscriptions]\npath = "data/subscriptions.csv"\n'
        '[vip]\naccounts = ["A"]\n',
    )
    assert run("load", "-c", str(config)).exit_code == 0
    return config


def run(*args: str):
    return CliRunner(env={"COLUMNS": "120"}).invoke(app, list(args))


def test_create_show_edit_history_export(cfg: Path, tmp_path: Path) -> None:
    c = ("-c", str(cfg))
    vip = run("plan", "vip", *c)
    assert vip.exit_code == 0 and re.search(r"^A\s+Acme\s+enterprise\s+120,000\.00\s+list", vip.stdout, re.M)
    made = run(
        "plan",
        "create",
        "A",
        "--goal",
        "Grow core",
        "--kpi",
        "arr=150000@2025-06-30",
        "--stage",
        "sso=awareness",
        "--author",
        "ana",
        "--note",
        "kick-off",
        *c,
    )
    assert made.exit_code == 0, made.output
    assert "created the plan of A: version 1 by ana" in made.stdout
    shown = run("plan", "show", "A", *c)
    assert shown.exit_code == 0, shown.output
    assert "plan version 1 by ana" in shown.stdout and "  - Grow core" in shown.stdout
    assert re.search(r"arr\s+120,000\s+150,000\s+2025-06-30\s+open", shown.stdout)
    assert re.search(r"sso\s+awareness\s+\d{4}-\d{2}-\d{2}\s+awareness", shown.stdout)

    toml = write(
        tmp_path / "plan.toml",
        f'goals = ["Grow core", "Adopt SSO", "{EVIL}"]\nplays = ["Exec QBR"]\n'
        '[[kpis]]\nmetric = "nrr_12m"\ntarget = 1.05\ndue = 2025-06-30\n'
        '[journey]\nsso = { stage = "consideration", since = 2024-12-01 }\n',
    )
    edited = run("plan", "edit", "A", "--version", "1", "--file", str(toml), "--author", "bo", *c)
    assert edited.exit_code == 0, edited.output
    assert "version 2 by bo" in edited.stdout
    as_json = write(tmp_path / "plan.json", json.dumps({"challenges": ["Budget freeze"]}))
    assert run("plan", "edit", "A", "--version", "2", "--file", str(as_json), "--author", "ana", *c).exit_code == 0

    history = run("plan", "history", "A", "--format", "json", *c)
    rows = json.loads(history.stdout)
    assert [(r["version"], r["author"], r["changed"]) for r in rows] == [
        (3, "ana", "challenges"),
        (2, "bo", "goals, plays, kpis, journey"),
        (1, "ana", "created"),
    ]
    journey = json.loads(run("plan", "history", "A", "--journey", "--format", "json", *c).stdout)
    assert [(j["stage"], j["version"]) for j in journey] == [("awareness", 1), ("consideration", 2)]
    assert journey[1]["since"] == "2024-12-01"

    page = tmp_path / "plan.html"
    exported = run("plan", "export", "A", "--out", str(page), "--paper", "letter", *c)
    assert exported.exit_code == 0, exported.output
    html = page.read_text(encoding="utf-8")
    assert "size: letter" in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "NRR over 12 months" in html and "Budget freeze" in html and "consideration" in html
    # the account's NRR: 10,000 on 2024-12-31 over 10,000 on 2023-12-31, against 105%
    assert re.search(r"100\.0%</td>\s*<td class=\"num\">105\.0%", html)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "create", "B", "--goal", "x"), "error: account B is not a VIP account (1 named account)"),
        (("plan", "create", "A", "--kpi", "arr=150000"), "error: --kpi must be METRIC=TARGET@DUE"),
        (("plan", "create", "A", "--stage", "awareness"), "error: --stage must be OFFERING=STAGE"),
        (("plan", "create", "A", "--stage", "sso=keen"), "error: 'keen' is not a stage of the decision journey"),
        (("plan", "create", "Z", "--goal", "x"), "error: no account 'Z' in this workspace"),
        (("plan", "edit", "A", "--version", "1", "--goal", "x"), "error: account A has no plan to edit"),
        (("plan", "export", "A"), "error: account A has no plan to export"),
    ],
)
def test_errors_are_one_line(cfg: Path, args: tuple[str, ...], message: str) -> None:
    result = run(*args, "--author", "ana", "-c", str(cfg)) if args[1] != "export" else run(*args, "-c", str(cfg))
    assert result.exit_code == 2
    assert result.output.strip().startswith(message), result.output


def test_a_stale_edit_and_a_bad_file(cfg: Path, tmp_path: Path) -> None:
    c = ("-c", str(cfg))
    assert run("plan", "create", "B", "--force", "--goal", "x", "--author", "ana", *c).exit_code == 0
    assert run("plan", "edit", "B", "--version", "1", "--goal", "y", "--author", "bo", *c).exit_code == 0
    stale = run("plan", "edit", "B", "--version", "1", "--goal", "z", "--author", "carla", *c)
    assert stale.exit_code == 2 and "is at version 2 by bo" in stale.output
    broken = write(tmp_path / "broken.toml", "goals = [\n")
    bad = run("plan", "edit", "B", "--version", "2", "--file", str(broken), "--author", "bo", *c)
    assert bad.exit_code == 2 and "is not valid TOML" in bad.output
    shown = run("plan", "show", "B", *c)
    assert "plan version 2 by bo" in shown.stdout and "not VIP" in shown.stdout
