"""The renewal book (docs/renewals.md): a worked example by hand (bucket edges, each source of a
commitment, point in time), the summary by bucket, the likelihood against the RUM outlook, the
renewal rate by cohort of due date by hand, the settings and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from revbook import Config, ConfigError, Workspace
from revbook.cli import app
from revbook.config import RenewalSettings, load_config
from revbook.rum.renewals import (
    bucket_edges,
    bucket_label,
    bucket_of,
    renewal_book,
    renewal_rate,
    renewal_summary,
)
from support import write

ON = dt.date(2024, 12, 31)
AS_OF = dt.date(2025, 1, 31)

SUBS = (
    "account_id,subscription_id,start_date,end_date,amount,billing_period_months,contract_end_date,cancel_requested_at\n"
    "A,A1,2024-01-30,,12000,12,2025-01-30,\n"  # 30 days: the last day of 1-30
    "B,B1,2024-01-31,,24000,12,2025-01-31,2024-12-15\n"  # 31 days: the first of 31-60; cancel requested
    "H,H1,2024-02-15,,9600,12,2025-02-15,\n"  # 46 days, no CSM
    "C,C1,2024-03-31,,6000,12,2025-03-31,\n"  # 90 days
    "D,D1,2024-04-01,,36000,12,2025-04-01,\n"  # 91 days
    "E,E1,2024-06-29,,18000,12,2025-06-29,\n"  # 180 days: the last day of the book
    "F,F1,2024-06-30,,12000,12,2025-06-30,\n"  # 181 days: not in it
    "M,M1,2024-01-01,,100,1,,\n"  # month to month: no renewal date
)
OPPS = (
    "account_id,opportunity_id,kind,arr_delta,stage,created_at,closed_at,won\n"
    "A,O1,renewal,0,commit,2024-12-10,,\n"  # open in commit: commits A
    "C,O2,renewal,0,commit,2025-01-05,,\n"  # created after ON: not seen on ON
    "E,O3,renewal,0,closed_won,2024-05-01,2024-06-01,true\n"  # won 213 days before ON: last term's
    "H,O4,renewal,0,closed_won,2024-12-01,2025-01-10,true\n"  # closed after ON: open then, stage unknown
    "D,O5,expansion,5000,commit,2024-12-01,,\n"  # an expansion deal commits no renewal
)
ACTS = (
    "account_id,date,type,outcome\n"
    "A,2024-11-15,qbr,completed\n"
    "A,2024-12-28,renewal_call,no_show\n"  # a no-show is no touch
    "B,2024-12-20,qbr,renewal_committed\n"
    "C,2025-01-02,renewal_call,renewal_committed\n"  # after ON
    "E,2024-12-30,renewal_call,completed\n"
)
NOTES = (
    "account_id,date,author,source,text\n"
    "D,2024-12-01,P2,call,Great call today. They confirmed they will renew for another two years.\n"
    "E,2024-12-15,P2,call,Our champion left the company last week and nobody owns the tool now.\n"
    "E,2025-01-05,P2,call,They confirmed they will renew for another two years.\n"  # after ON
)
OWNERS = "account_id,owner_id,role,start_date\nA,P1,csm,2024-01-01\nB,P1,csm,2024-01-01\n" + "".join(
    f"{a},P2,csm,2024-01-01\n" for a in "CDEF"
)


@pytest.fixture
def book(tmp_path):
    """Eight accounts read on 2024-12-31 (docs/renewals.md's worked example), the as-of date later."""
    d = tmp_path / "d"
    d.mkdir()
    w = Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF))
    w.load(
        {
            "accounts": write(d / "a.csv", "account_id,name\n" + "".join(f"{a},{a} Inc\n" for a in "ABHCDEFM")),
            "subscriptions": write(d / "s.csv", SUBS),
            "opportunities": write(d / "o.csv", OPPS),
            "activities": write(d / "act.csv", ACTS),
            "notes": write(d / "n.csv", NOTES),
            "owners": write(d / "ow.csv", OWNERS),
            "people": write(d / "p.csv", "owner_id,name,team\nP1,Ada,East\nP2,Bo,West\n"),
        }
    )
    yield w
    w.close()


def test_renewal_book_worked_example(book):
    rows = {r["account_id"]: r for r in renewal_book(book, on=ON).to_pylist()}
    assert list(rows) == ["A", "B", "H", "C", "D", "E"]  # soonest first; F is 181 days out, M has no renewal
    assert {a: (r["days_to_due"], r["bucket"], r["bucket_label"]) for a, r in rows.items()} == {
        "A": (30, 30, "1 to 30 days"),
        "B": (31, 60, "31 to 60 days"),
        "H": (46, 60, "31 to 60 days"),
        "C": (90, 90, "61 to 90 days"),
        "D": (91, 180, "91 to 180 days"),
        "E": (180, 180, "91 to 180 days"),
    }
    assert rows["A"]["due_date"] == dt.date(2025, 1, 30) and rows["E"]["due_date"] == dt.date(2025, 6, 29)
    assert {a: r["arr"] for a, r in rows.items()} == {
        "A": Decimal("12000.00"),
        "B": Decimal("24000.00"),
        "H": Decimal("9600.00"),
        "C": Decimal("6000.00"),
        "D": Decimal("36000.00"),
        "E": Decimal("18000.00"),
    }
    # committed: A by its open commit deal, B by a meeting's outcome, D by a note; C's deal and
    # activity come after ON, E's won deal is last term's, H's deal closed after ON
    assert {a: r["committed_by"] for a, r in rows.items()} == {
        "A": "opportunity",
        "B": "activity",
        "H": "",
        "C": "",
        "D": "note",
        "E": "",
    }
    assert [a for a, r in rows.items() if r["committed"]] == ["A", "B", "D"]
    assert rows["A"]["committed_on"] == dt.date(2024, 12, 10) and rows["D"]["committed_on"] == dt.date(2024, 12, 1)
    # risk reasons: B asked to cancel; E's note says its champion left
    assert rows["B"]["risk_reasons"].startswith("cancel requested; health red")
    assert "cancellation" not in rows["B"]["risk_reasons"]  # once, not again among the health drivers
    assert "notes: champion_left" in rows["E"]["risk_reasons"]
    assert rows["A"]["risk_reasons"] == ""
    # the last touch: A's no-show is not one; C's call comes after ON
    assert (rows["A"]["last_touch_on"], rows["A"]["last_touch_type"], rows["A"]["days_since_touch"]) == (
        dt.date(2024, 11, 15),
        "qbr",
        46,
    )
    assert rows["B"]["last_touch_type"] == "qbr" and rows["C"]["last_touch_on"] is None
    owners = {"A": "P1", "B": "P1", "H": None, "C": "P2", "D": "P2", "E": "P2"}
    assert {a: r["owner"] for a, r in rows.items()} == owners
    # eight accounts are too little history for the renewal outlook: no likelihood, no expected ARR
    assert all(r["likelihood"] is None and r["expected_arr"] is None for r in rows.values())


def test_a_later_date_sees_the_later_commitments(book):
    rows = {r["account_id"]: r for r in renewal_book(book, on="2025-01-10").to_pylist()}
    assert rows["C"]["committed_by"] == "opportunity, activity"
    assert rows["C"]["committed_on"] == dt.date(2025, 1, 5)
    assert rows["H"]["committed_by"] == "opportunity"  # won on 2025-01-10
    assert rows["E"]["committed_by"] == "note"
    assert rows["C"]["last_touch_on"] == dt.date(2025, 1, 2)
    assert rows["A"]["days_to_due"] == 20


def test_within_cuts_the_last_bucket_and_owner_filters(book):
    rows = renewal_book(book, on=ON, within=45).to_pylist()
    assert [(r["account_id"], r["bucket_label"]) for r in rows] == [("A", "1 to 30 days"), ("B", "31 to 45 days")]
    assert [r["account_id"] for r in renewal_book(book, on=ON, owner="P2").to_pylist()] == ["C", "D", "E"]
    assert renewal_book(book, on=ON, owner="nobody").to_pylist() == []
    with pytest.raises(ConfigError, match="within must be 1 to 3650"):
        renewal_book(book, on=ON, within=0)


def test_summary_by_bucket_worked_example(book):
    rows = renewal_summary(book, on=ON).to_pylist()
    got = [(r["bucket_label"], r["accounts"], r["arr_due"], r["committed_accounts"], r["committed_arr"]) for r in rows]
    assert got == [
        ("1 to 30 days", 1, Decimal("12000.00"), 1, Decimal("12000.00")),
        ("31 to 60 days", 2, Decimal("33600.00"), 1, Decimal("24000.00")),
        ("61 to 90 days", 1, Decimal("6000.00"), 0, Decimal("0.00")),
        ("91 to 180 days", 2, Decimal("54000.00"), 1, Decimal("36000.00")),
        ("all", 6, Decimal("105600.00"), 3, Decimal("72000.00")),
    ]
    assert all(r["expected_arr"] is None for r in rows)


def test_bucket_edges():
    edges = bucket_edges((30, 60, 90, 180), 180)
    assert edges == (30, 60, 90, 180)
    days = (1, 30, 31, 60, 61, 90, 91, 180, 181)
    assert [bucket_of(d, edges) for d in days] == [30, 30, 60, 60, 90, 90, 180, 180, None]
    assert bucket_edges((30, 60, 90, 180), 365) == (30, 60, 90, 180, 365)
    assert bucket_label(365, (30, 60, 90, 180, 365)) == "181 to 365 days"
    assert bucket_edges((30, 60, 90, 180), 30) == (30,)


def test_the_renewals_settings_are_checked(tmp_path):
    assert RenewalSettings.from_mapping({"buckets": [14, 45]}).buckets == (14, 45)
    for bad, message in (
        ({"buckets": [60, 30]}, "increasing"),
        ({"buckets": []}, "list of days"),
        ({"buckets": [0, 30]}, "1 to 3650"),
        ({"commit_days": 0}, "1 to 3650"),
        ({"commit_stages": "commit"}, "list of names"),
        ({"bucket": [30]}, "did you mean 'buckets'"),
    ):
        with pytest.raises(ConfigError, match=message):
            RenewalSettings.from_mapping(bad)
    toml = write(tmp_path / "revbook.toml", "[renewals]\nbuckets = [7, 30]\ncommit_days = 60\n")
    cfg = load_config(toml)
    assert cfg.renewals.buckets == (7, 30) and cfg.renewals.commit_days == 60


def test_buckets_from_the_settings(book):
    from dataclasses import replace

    book.config = replace(book.config, renewals=RenewalSettings(buckets=(45, 120)))
    rows = renewal_book(book, on=ON).to_pylist()
    # A (30 days) and B (31) share the first bucket now; H (46), C (90) and D (91) the second
    assert [r["bucket_label"] for r in rows] == ["1 to 45 days", "1 to 45 days", "46 to 120 days", "46 to 120 days",
                                                 "46 to 120 days", "121 to 180 days"]  # fmt: skip


# -- the renewal rate by cohort of due date -------------------------------------------------------

RATE_SUBS = (
    "account_id,subscription_id,start_date,end_date,amount,billing_period_months,contract_end_date\n"
    "P,P1,2023-08-15,2024-08-15,12000,12,2024-08-15\n"  # renews on the day, at more
    "P,P2,2024-08-15,,14400,12,2025-08-15\n"
    "Q,Q1,2023-09-10,2024-09-10,6000,12,2024-09-10\n"  # back 20 days later: within the 30-day grace
    "Q,Q2,2024-09-30,,6000,12,2025-09-30\n"
    "R,R1,2023-09-20,2024-09-20,24000,12,2024-09-20\n"  # leaves
    "S,S1,2023-11-01,2024-11-01,9600,12,2024-11-01\n"  # renews at half
    "S,S2,2024-11-01,,4800,12,2025-11-01\n"
    "U,U1,2023-12-10,2024-12-10,1200,12,2024-12-10\n"  # back 15 days later
    "U,U2,2024-12-25,,1200,12,2025-12-25\n"
    "T,T1,2023-12-20,2024-12-20,3600,12,2024-12-20\n"  # gone, its grace runs past the as-of date: pending
)


@pytest.fixture
def rated(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    w = Workspace(tmp_path / "r.duckdb", config=Config(as_of=dt.date(2024, 12, 31)))
    owners = "account_id,owner_id,role,start_date\n" + "".join(f"{a},P1,csm,2023-01-01\n" for a in "PQR")
    owners += "".join(f"{a},P2,csm,2023-01-01\n" for a in "STU")
    w.load({"subscriptions": write(d / "s.csv", RATE_SUBS), "owners": write(d / "o.csv", owners)})
    yield w
    w.close()


def test_renewal_rate_by_due_quarter_by_hand(rated):
    rows = {r["due_quarter"]: r for r in renewal_rate(rated, by="due_quarter").to_pylist()}
    q3, q4 = rows["2024-Q3"], rows["2024-Q4"]
    # 2024-Q3: P, Q and R come due (ARR 12,000 + 6,000 + 24,000); P and Q renew
    assert (q3["renewals_due"], q3["renewed"], q3["pending"]) == (3, 2, 0)
    assert q3["logo_renewal_rate"] == pytest.approx(2 / 3)
    assert (q3["arr_due"], q3["arr_renewed"], q3["net_arr_renewed"]) == (
        Decimal("42000.00"),
        Decimal("18000.00"),  # P capped at its 12,000 due, Q 6,000
        Decimal("20400.00"),  # P at 14,400
    )
    assert q3["dollar_renewal_rate"] == pytest.approx(18000 / 42000)
    assert q3["net_dollar_renewal_rate"] == pytest.approx(20400 / 42000)
    # 2024-Q4: S renews at 4,800 of 9,600, U comes back within the grace; T is pending
    assert (q4["renewals_due"], q4["renewed"], q4["pending"]) == (2, 2, 1)
    assert (q4["arr_due"], q4["arr_renewed"]) == (Decimal("10800.00"), Decimal("6000.00"))
    assert q4["dollar_renewal_rate"] == pytest.approx(6000 / 10800)


def test_renewal_rate_by_due_month_and_end(rated):
    months = {r["due_month"]: (r["renewals_due"], r["renewed"]) for r in renewal_rate(rated).to_pylist()}
    assert {m: v for m, v in months.items() if v != (0, 0)} == {
        "2024-08": (1, 1),
        "2024-09": (2, 1),
        "2024-11": (1, 1),
        "2024-12": (1, 1),
    }
    cut = renewal_rate(rated, by="due_quarter", end="2024-09-30").to_pylist()
    assert [r["due_quarter"] for r in cut][-1] == "2024-Q3"
    with pytest.raises(ConfigError, match="unknown renewal cohort"):
        renewal_rate(rated, by="due_week")


def test_renewal_rate_of_one_csm(rated):
    p1 = {r["due_quarter"]: r for r in renewal_rate(rated, by="due_quarter", owner="P1").to_pylist()}
    p2 = {r["due_quarter"]: r for r in renewal_rate(rated, by="due_quarter", owner="P2").to_pylist()}
    assert (p1["2024-Q3"]["renewals_due"], p1["2024-Q3"]["renewed"]) == (3, 2)  # P, Q and R are P1's
    assert "2024-Q4" not in p1 and "2024-Q3" not in p2
    assert (p2["2024-Q4"]["renewals_due"], p2["2024-Q4"]["renewed"], p2["2024-Q4"]["pending"]) == (2, 2, 1)
    assert p2["2024-Q4"]["arr_due"] == Decimal("10800.00")
    assert list(p1["2024-Q3"]) == list(renewal_rate(rated, by="due_quarter").to_pylist()[0])  # no owner column


def test_renewal_rate_grace_is_the_catalogues(rated):
    from dataclasses import replace

    rated.config = replace(rated.config, catalogue=replace(rated.config.catalogue, renewal_grace_days=10))
    rows = {r["due_quarter"]: r for r in renewal_rate(rated, by="due_quarter").to_pylist()}
    # Q (20 days late) no longer counts; U (15 days) neither, and T's grace is over by the as-of date
    assert (rows["2024-Q3"]["renewed"], rows["2024-Q4"]["renewed"], rows["2024-Q4"]["pending"]) == (1, 1, 0)


# -- the likelihood on the sample company --------------------------------------------------------


def test_likelihood_is_one_minus_the_rum_outlook(tmp_path):
    from revbook.rum import accounts
    from support import sample_workspace

    path = sample_workspace(tmp_path, as_of=dt.date(2026, 6, 30), accounts=300, seed=3)
    with Workspace(path, config=Config(as_of=dt.date(2026, 6, 30)), read_only=True) as ws:
        rows = renewal_book(ws, within=180).to_pylist()
        rum = {r["account_id"]: r for r in accounts(ws).to_pylist()}
    assert len(rows) > 20
    assert all(r["likelihood"] is not None and 0 <= r["likelihood"] <= 1 for r in rows)
    window = [r for r in rows if rum[r["account_id"]]["stage"] == "renewal window"]
    assert window and len(window) < len(rows)
    for r in window:
        assert r["likelihood"] == pytest.approx(1 - rum[r["account_id"]]["p_churn_or_contract"], abs=1e-4)
    for r in rows:
        assert r["expected_arr"] == (r["arr"] * Decimal(str(r["likelihood"]))).quantize(Decimal("0.01"))
        assert r["due_date"] - dt.date(2026, 6, 30) == dt.timedelta(days=r["days_to_due"])


# -- the command ----------------------------------------------------------------------------------


def test_the_command_prints_the_book_the_summary_and_the_rate(book):
    book.close()
    where = ["-w", str(book.path), "--as-of", ON.isoformat()]
    runner = CliRunner(env={"COLUMNS": "120"})
    out = runner.invoke(app, ["renewals", *where, "--within", "90", "--format", "csv"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["account_id"] for r in rows] == ["A", "B", "H", "C"]
    assert [r["committed_by"] for r in rows] == ["opportunity", "activity", "", ""]
    mine = runner.invoke(app, ["renewals", *where, "--owner", "P1", "--format", "csv"], catch_exceptions=False)
    assert [r["account_id"] for r in csv.DictReader(io.StringIO(mine.stdout))] == ["A", "B"]
    table = runner.invoke(app, ["renewals", *where], catch_exceptions=False)
    assert table.exit_code == 0 and "1 to 30 days" in table.stdout and "91 to 180 days" in table.stdout
    assert "105,600" in table.stdout  # the ARR due in the book, in the summary line
    rate = runner.invoke(app, ["renewals", *where, "--rate", "--format", "csv"], catch_exceptions=False)
    assert rate.exit_code == 0 and "due_month" in rate.stdout.splitlines()[0]
    bad = runner.invoke(app, ["renewals", *where, "--within", "0"])
    assert bad.exit_code == 2 and "within must be 1 to 3650" in bad.output
