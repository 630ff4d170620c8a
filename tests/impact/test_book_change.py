"""The change of a CSM's book over a window (docs/concentration.md): worked examples and the identity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import Config, Workspace
from revbook.definitions import NO_VALUE
from revbook.errors import ConfigError, NotFoundError, WorkspaceError
from revbook.impact.book import arithmetic, book_change, held_sentence
from support import write

AS_OF = dt.date(2024, 12, 31)

#: MRR; the window is 2024-01-01 to 2024-12-31
#:   A  P1 all year; 10,000, 12,000 from 2024-07-01                     (P1's held book grows 2,000)
#:   B  P1, to P2 on 2024-05-01; 5,000, 6,000 from 2024-03-01, 7,000 from 2024-09-01
#:      (P1: held, +1,000, out at 6,000; P2: in at 6,000, then +1,000)
#:   C  new: first pays 2024-04-01 at 3,000, P2's from that day          (P2: new 3,000)
#:   D  P3, who leaves on 2024-08-01 with no successor; 4,000            (P3: out 4,000; (none): in 4,000)
#:   E  P3; 2,000, churns on 2024-06-01                                   (P3: held, -2,000)
SUBSCRIPTIONS = """account_id,subscription_id,start_date,end_date,mrr
A,A1,2023-01-01,2024-07-01,10000
A,A2,2024-07-01,,12000
B,B1,2023-01-01,2024-03-01,5000
B,B2,2024-03-01,2024-09-01,6000
B,B3,2024-09-01,,7000
C,C1,2024-04-01,,3000
D,D1,2023-01-01,,4000
E,E1,2023-01-01,2024-06-01,2000
"""
OWNERS = """account_id,owner_id,role,start_date,end_date
A,P1,csm,2023-01-01,
B,P1,csm,2023-01-01,2024-05-01
B,P2,csm,2024-05-01,
C,P2,csm,2024-04-01,
D,P3,csm,2023-01-01,2024-08-01
E,P3,csm,2023-01-01,2024-08-01
"""
PEOPLE = "owner_id,name,team\nP1,Ada,East\nP2,Bo,East\nP3,Cy,West\n"


def _load(tmp_path: Path, subscriptions: str, owners: str, people: str = PEOPLE) -> Workspace:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    ws = Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF))
    ws.load(
        {
            "subscriptions": write(data / "s.csv", subscriptions),
            "owners": write(data / "o.csv", owners),
            "people": write(data / "p.csv", people),
        }
    )
    return ws


@pytest.fixture
def company(tmp_path: Path):
    with _load(tmp_path, SUBSCRIPTIONS, OWNERS) as ws:
        yield ws


def _arr(mrr: int) -> Decimal:
    return Decimal(12 * mrr).quantize(Decimal("0.01"))


def test_the_issue_example_shows_the_arithmetic_and_the_right_growth():
    # a seed text read start 4.0M, end 5.2M, new 0.8M as "+2M growth"; the growth of the accounts held is 0.4M
    text = arithmetic(
        start=Decimal(4_000_000),
        new=Decimal(800_000),
        transferred_in=Decimal(0),
        transferred_out=Decimal(0),
        growth_of_held=Decimal(400_000),
        end=Decimal(5_200_000),
    )
    assert text == (
        "5,200,000 at the end = 4,000,000 at the start + 800,000 new + 0 transferred in - 0 transferred out"
        " + 400,000 growth of the accounts held"
    )
    with pytest.raises(ValueError, match="do not add up"):
        arithmetic(
            start=Decimal(4_000_000),
            new=Decimal(800_000),
            transferred_in=Decimal(0),
            transferred_out=Decimal(0),
            growth_of_held=Decimal(2_000_000),
            end=Decimal(5_200_000),
        )


def test_the_issue_example_from_data(tmp_path):
    # the same shape in data (ARR is 12 x MRR, so the figures are 1.2 times the issue's):
    # H1 200,000 -> 240,000 and H2 200,000 held all year, N1 new on 2024-03-01 at 80,000
    subs = (
        "account_id,subscription_id,start_date,end_date,mrr\n"
        "H1,1,2023-01-01,2024-06-01,200000\nH1,2,2024-06-01,,240000\nH2,3,2023-01-01,,200000\n"
        "N1,4,2024-03-01,,80000\n"
    )
    owners = "account_id,owner_id,role,start_date\nH1,Q,csm,2023-01-01\nH2,Q,csm,2023-01-01\nN1,Q,csm,2024-02-15\n"
    with _load(tmp_path, subs, owners, "owner_id,name\nQ,Quinn\n") as ws:
        (row,) = book_change(ws, start="2024-01-01", end="2024-12-31").to_pylist()
    assert (row["start_arr"], row["new_arr"], row["end_arr"]) == (_arr(400_000), _arr(80_000), _arr(520_000))
    assert row["growth_of_held_arr"] == _arr(40_000) == Decimal("480000.00")  # not end - start + new
    assert row["change_arr"] == _arr(120_000) and row["held_nrr"] == pytest.approx(1.1)
    assert row["arithmetic"] == (
        "6,240,000 at the end = 4,800,000 at the start + 960,000 new + 0 transferred in - 0 transferred out"
        " + 480,000 growth of the accounts held"
    )
    assert held_sentence(row) == (
        "the book grew by 1,440,000; the accounts held at the start made +480,000 of it (held NRR 110.0%)"
    )


def test_book_change_worked_example_with_a_transfer_a_new_account_and_a_csm_who_leaves(company):
    rows = {r["owner"]: r for r in book_change(company, start="2024-01-01", end="2024-12-31").to_pylist()}
    assert list(rows) == ["P1", "P2", "P3", NO_VALUE]  # the unassigned book last
    p1, p2, p3, none = rows["P1"], rows["P2"], rows["P3"], rows[NO_VALUE]
    assert p1["owner_name"] == "Ada" and p1["window_start"] == dt.date(2024, 1, 1)
    # P1: held A and B; B leaves on 2024-05-01 at its ARR of the eve, 6,000 MRR
    assert (p1["start_arr"], p1["transferred_out_arr"], p1["end_arr"]) == (_arr(15_000), _arr(6_000), _arr(12_000))
    assert p1["growth_of_held_arr"] == _arr(3_000) and p1["held_nrr"] == pytest.approx(18 / 15)
    assert (p1["start_accounts"], p1["transferred_out_accounts"], p1["end_accounts"]) == (2, 1, 1)
    # P2: B in at 6,000 and grows 1,000 after; C new at 3,000
    assert (p2["start_arr"], p2["transferred_in_arr"], p2["new_arr"]) == (_arr(0), _arr(6_000), _arr(3_000))
    assert p2["growth_of_transferred_in_arr"] == _arr(1_000) and p2["end_arr"] == _arr(10_000)
    assert (p2["new_accounts"], p2["transferred_in_accounts"], p2["held_nrr"]) == (1, 1, None)
    assert p2["arithmetic"] == (
        "120,000 at the end = 0 at the start + 36,000 new + 72,000 transferred in - 0 transferred out"
        " + 0 growth of the accounts held + 12,000 growth of the accounts transferred in"
    )
    # P3 leaves on 2024-08-01: D goes to no one at 4,000; E had churned (a loss of the held book)
    assert (p3["start_arr"], p3["transferred_out_arr"], p3["end_arr"]) == (_arr(6_000), _arr(4_000), _arr(0))
    assert p3["growth_of_held_arr"] == _arr(-2_000) and p3["transferred_out_accounts"] == 1
    assert p3["arithmetic"].endswith("- 24,000 shrinkage of the accounts held")
    assert (none["transferred_in_arr"], none["end_arr"], none["owner_name"]) == (_arr(4_000), _arr(4_000), NO_VALUE)
    # transfers net to zero and the rows add up to the company
    assert sum(r["transferred_in_arr"] for r in rows.values()) == sum(r["transferred_out_arr"] for r in rows.values())
    assert sum(r["end_arr"] for r in rows.values()) == _arr(12_000 + 7_000 + 3_000 + 4_000)


def test_one_csm_and_an_unknown_one(company):
    (row,) = book_change(company, start="2024-01-01", owner="P2").to_pylist()
    assert row["owner"] == "P2" and row["window_end"] == AS_OF and row["end_arr"] == _arr(10_000)
    with pytest.raises(NotFoundError, match="no CSM 'P9'"):
        book_change(company, owner="P9")


def test_the_window_is_checked(company):
    with pytest.raises(ConfigError, match="not before its end"):
        book_change(company, start="2024-06-01", end="2024-06-01")
    with pytest.raises(WorkspaceError, match="after the as-of date"):
        book_change(company, start="2024-06-01", end="2025-01-31")
    with pytest.raises(ConfigError, match="CSM role"):
        book_change(company, role="ae")
    # by default the year before the as-of date
    (row, *_) = book_change(company).to_pylist()
    assert (row["window_start"], row["window_end"]) == (dt.date(2023, 12, 31), AS_OF)


def _identity(r: dict) -> Decimal:
    return (
        r["start_arr"]
        + r["new_arr"]
        + r["transferred_in_arr"]
        - r["transferred_out_arr"]
        + r["growth_of_held_arr"]
        + r["growth_of_transferred_in_arr"]
        + r["reactivated_arr"]
    )


@pytest.fixture(scope="module")
def sample_company(tmp_path_factory):
    from revbook import sample
    from support import sample_workspace

    as_of = sample.SampleConfig().as_of
    path = sample_workspace(tmp_path_factory.mktemp("book_change"), as_of=as_of, accounts=300, seed=5)
    with Workspace(path, config=Config(as_of=as_of), read_only=True) as ws:
        yield ws


def test_on_the_sample_company_every_book_adds_up_to_the_cent(sample_company):
    from revbook.metrics.tables import mrr

    as_of = sample_company.config.snapshot_date()
    start = dt.date(as_of.year - 1, as_of.month, 1) - dt.timedelta(days=1)  # a month end a year before
    rows = book_change(sample_company, start=start, end=as_of).to_pylist()
    assert len(rows) >= 3
    for r in rows:
        assert _identity(r) == r["end_arr"], r["owner"]
    assert sum(r["transferred_in_arr"] for r in rows) == sum(r["transferred_out_arr"] for r in rows)
    company = {r["period_end"]: r["arr"] for r in mrr(sample_company).to_pylist()}
    assert sum(r["start_arr"] for r in rows) == company[start]
    assert sum(r["end_arr"] for r in rows) == company[as_of]


def test_the_commands_print_the_table_and_the_arithmetic(tmp_path):
    from typer.testing import CliRunner

    from revbook.cli import app

    _load(tmp_path, SUBSCRIPTIONS, OWNERS).close()
    where = ["-w", str(tmp_path / "w.duckdb"), "--as-of", AS_OF.isoformat()]
    runner = CliRunner(env={"COLUMNS": "120"})
    result = runner.invoke(app, ["csm", "--view", "book", "--start", "2024-01-01", *where], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "P2 (Bo): 120,000 at the end = 0 at the start + 36,000 new + 72,000 transferred in" in text
    assert "unassigned: 48,000 at the end" in text  # the data's "(none)", as every surface shows it
    missing = runner.invoke(app, ["csm", "--view", "book", "--owner", "P9", *where])
    assert missing.exit_code == 2 and "no CSM 'P9'" in missing.output
    result = runner.invoke(app, ["concentration", "--window", "3", *where], catch_exceptions=False)
    assert result.exit_code == 0 and "3-month retention from 2024-09-30 to 2024-12-31" in result.stdout
    bad = runner.invoke(app, ["concentration", "--top", "a,b", *where])
    assert bad.exit_code == 2 and "--top must be whole numbers" in bad.output
