"""RUM: lifecycle stages with reasons (a worked example), expansion potential, the RUM table's
invariants, the stage flow's identity, settings and the CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from revbook import Config, ConfigError, Workspace, sample
from revbook.cli import app
from revbook.config import CatalogueSettings, LifecycleSettings, RumSettings
from revbook.rum import accounts, flow, rum
from support import write

ON = dt.date(2024, 12, 31)


@pytest.fixture
def book(tmp_path) -> Workspace:
    """Six accounts on 2024-12-31 (docs/rum.md's worked example):

    - R: annual contract ending 2025-02-15 (46 days): renewal window
    - O: started 2024-11-01, kickoff done, go_live not: onboarding
    - X: onboarded, 18 of 20 seats in use (90%): expansion window
    - D: onboarded, 10 of 20 seats in use: adoption
    - C: cancellation requested on 2024-12-01 of a line that runs on: overlay
    - G: stopped paying on 2024-11-30: churned (within 90 days)
    """
    data = tmp_path / "d"
    data.mkdir()
    subs = (
        "account_id,subscription_id,plan,product,start_date,end_date,unit_price,quantity,billing_period_months,"
        "pricing_model,contract_end_date,cancel_requested_at\n"
        "R,R1,team,Platform,2024-02-15,,1200,10,12,per_seat,2025-02-15,\n"
        "O,O1,team,Platform,2024-11-01,,100,10,1,per_seat,,\n"
        "X,X1,team,Platform,2024-01-01,,100,20,1,per_seat,,\n"
        "D,D1,team,Platform,2024-01-01,,100,20,1,per_seat,,\n"
        "C,C1,team,Platform,2024-01-01,,100,5,1,per_seat,,2024-12-01\n"
        "G,G1,team,Platform,2024-01-01,2024-11-30,100,5,1,per_seat,,\n"
    )
    usage = "account_id,date,metric,value\n" + "".join(
        f"{a},2024-12-31,active_users,{u}\n" for a, u in (("R", 8), ("O", 2), ("X", 18), ("D", 10), ("C", 4))
    )
    milestones = "account_id,milestone,achieved_at\n" + "".join(
        f"{a},{m},2024-03-01\n" for a in "RXDC" for m in ("kickoff", "go_live")
    )
    milestones += "O,kickoff,2024-11-05\n"
    owners = "account_id,owner_id,role,start_date\nR,P1,csm,2024-01-01\nO,P1,csm,2024-11-01\nX,P2,csm,2024-01-01\n"
    owners += "G,P2,csm,2024-01-01\n"
    w = Workspace(tmp_path / "w.duckdb", config=Config(as_of=ON))
    w.load(
        {
            "accounts": write(data / "a.csv", "account_id,segment\nR,mid\nO,mid\nX,mid\nD,mid\nC,mid\nG,mid\n"),
            "subscriptions": write(data / "s.csv", subs),
            "usage": write(data / "u.csv", usage),
            "milestones": write(data / "m.csv", milestones),
            "owners": write(data / "o.csv", owners),
            "people": write(data / "p.csv", "owner_id,name,team\nP1,Ada,Mid-Market\nP2,Bo,Mid-Market\n"),
        }
    )
    yield w
    w.close()


def test_stages_worked_example(book):
    rows = {r["account_id"]: r for r in accounts(book, ON, expected=False).to_pylist()}
    assert {a: r["stage"] for a, r in rows.items()} == {
        "R": "renewal window",
        "O": "onboarding",
        "X": "expansion window",
        "D": "adoption",
        "C": "adoption",
        "G": "churned",
    }
    assert rows["R"]["reason"] == "contract ends in 46 days"
    assert rows["O"]["reason"] == "1 of 2 onboarding milestones reached, 60 days in"
    assert "seat utilisation 90%" in rows["X"]["reason"]
    assert rows["C"]["overlay"] == "cancel requested" and rows["C"]["risk_band"] == "high"
    assert rows["G"]["overlay"] == "churned" and rows["G"]["reason"] == "stopped paying on 2024-11-30"
    # ARR is exact: 12 x MRR; R pays 1,200 per seat per year for 10 seats
    assert rows["R"]["arr"] == Decimal("12000.00")
    assert rows["G"]["arr"] == Decimal("6000.00")  # what it paid the day before it left
    assert rows["X"]["managed"] and rows["X"]["team"] == "Mid-Market"
    assert not rows["D"]["managed"] and rows["D"]["team"] == "unmanaged"


def test_seat_whitespace_worked_example(book):
    """X: 18 users on 20 seats (90% >= 85%); back to 75% needs ceil(18 / 0.75) = 24 seats: 4 more
    at its own seat price (100 a month): 4,800 ARR; potential 4,800 / 24,000 = 20%: medium."""
    x = next(r for r in accounts(book, ON, expected=False).to_pylist() if r["account_id"] == "X")
    assert x["seat_whitespace_arr"] == pytest.approx(4_800.0)
    assert x["potential_arr"] == pytest.approx(4_800.0)
    assert x["potential_band"] == "medium"


def test_rum_table_adds_up_and_flow_reconciles(book):
    acc = accounts(book, ON, expected=False).to_arrow()
    t = rum(book, ON, by="team", expected=False).to_pylist()
    managed = sum(r["arr"] for r in t if r["managed"])
    assert managed == Decimal("12000") + 12 * 1000 + 12 * 2000 + 0  # R, O, X (G churned: not in RUM)
    assert sum(r["arr"] for r in t) == sum(r["arr"] for r in acc.to_pylist() if r["stage"] != "churned")
    assert {r["team"] for r in t} == {"Mid-Market", "unmanaged"}
    with pytest.raises(ConfigError, match="team or owner"):
        rum(book, ON, by="segment")


def test_flow_identity_on_the_sample(tmp_path):
    """ARR at the end minus ARR at the start, over all flows, equals the change in total ARR."""
    tables = sample.generate(accounts=600, seed=5)
    as_of = sample.SampleConfig().as_of
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=as_of)) as w:
        w.load_frames(tables)
        d0, d1 = dt.date(2026, 5, 15), as_of
        f = flow(w, d0, d1).to_pylist()

        def total(d: dt.date) -> Decimal:
            return sum(
                (r["arr"] for r in accounts(w, d, expected=False).to_pylist() if r["stage"] != "churned"),
                Decimal(0),
            )

        start, end = total(d0), total(d1)
        assert sum(r["arr_start"] for r in f) == start
        assert sum(r["arr_end"] for r in f) == end
        assert sum(r["arr_change"] for r in f) == end - start
        assert any(r["from_stage"] == "new" for r in f) and any(r["to_stage"] == "churned" for r in f)
        # the expected renewal outlook exists for accounts in the renewal window only
        acc = accounts(w, as_of).to_pylist()
        window = [r for r in acc if r["stage"] == "renewal window"]
        assert window and all(r["expected_renewal_arr"] is not None for r in window)
        assert all(r["expected_renewal_arr"] is None for r in acc if r["stage"] != "renewal window")
        assert {r["renewal_trend"] for r in window} <= {"growth", "flat", "contraction"}
        assert all(0 <= r["p_churn_or_contract"] <= 1 for r in window)


@pytest.mark.parametrize(
    ("section", "raw", "fragment"),
    [
        ("lifecycle", {"renewal_window": 30}, r"unknown key 'renewal_window' in \[lifecycle\]; did you mean"),
        ("lifecycle", {"onboarding_days": 0}, "at least 1"),
        ("lifecycle", {"expansion_utilisation": "high"}, "invalid"),
        ("rum", {"potential_bands": [0.1, 0.3]}, "high >= medium"),
        ("rum", {"target_utilisation": 1.5}, "shares"),
    ],
)
def test_bad_settings_are_clear(section, raw, fragment):
    cls = LifecycleSettings if section == "lifecycle" else RumSettings
    with pytest.raises(ConfigError, match=fragment):
        cls.from_mapping(raw)


def test_dates_after_as_of_are_refused(book):
    with pytest.raises(Exception, match="after the as-of date"):
        accounts(book, "2025-06-30")
    with pytest.raises(ConfigError, match="not a date"):
        accounts(book, "last tuesday")


def test_cli_rum_health_model(tmp_path):
    runner = CliRunner()
    out = tmp_path / "demo"
    data = out / "data"
    paths = sample.write(data, accounts=500, seed=2)
    toml = out / "revbook.toml"
    lines = ["[workspace]", 'path = "w.duckdb"', f'as_of = "{sample.SampleConfig().as_of}"', ""]
    for name, p in paths.items():
        lines += [f"[sources.{name}]", f'path = "data/{p.name}"', ""]
    toml.write_text("\n".join(lines))
    assert runner.invoke(app, ["load", "-c", str(toml)]).exit_code == 0
    r = runner.invoke(app, ["rum", "-c", str(toml), "--by", "team", "--format", "csv"])
    assert r.exit_code == 0, r.output
    head = r.output.splitlines()[0].replace('"', "")
    assert head.startswith("managed,team,stage,potential_band,risk_band,accounts,arr")
    r = runner.invoke(app, ["health", "-c", str(toml), "--band", "red", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = r.output.replace('"', "").splitlines()
    assert all(",red," in line for line in rows[1:])
    r = runner.invoke(app, ["health", "-c", str(toml), "--band", "purple"])
    assert r.exit_code == 2 and "unknown band" in r.output
    r = runner.invoke(app, ["model", "-c", str(toml), "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "composite health score" in r.output and "model (logistic)" in r.output
    r = runner.invoke(app, ["rum", "-c", str(toml), "--on", "2030-01-01"])
    assert r.exit_code == 2 and "after the as-of date" in r.output


def test_renewal_outlook_against_what_happened(tmp_path):
    """The outlook on a past date against what happened in the 90 days after it: accounts it calls
    "contraction" did churn or contract far more often than those it calls "growth" (measured on
    this sample: 74-100% against 20-23% on three dates), and the model's mean probability is near
    the window's event rate. (The aggregate expected ARR is not asserted: one whale's renewal can
    move it by 20%; docs/rum.md has the measured errors.)"""
    from revbook.health.features import labels

    tables = sample.generate(accounts=1500, seed=11)
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=sample.SampleConfig().as_of)) as w:
        w.load_frames(tables)
        d = dt.date(2026, 6, 30)
        window = [r for r in accounts(w, d).to_pylist() if r["stage"] == "renewal window"]
        assert len(window) > 40
        lab = {r["account_id"]: r for r in labels(w, [d], horizon_days=90).to_pylist()}

        def rate(trend: str) -> float:
            hits = [lab[r["account_id"]]["event"] for r in window if r["renewal_trend"] == trend]
            assert len(hits) >= 5, trend
            return sum(hits) / len(hits)

        assert rate("contraction") > rate("growth") + 0.3
        p = sum(r["p_churn_or_contract"] for r in window) / len(window)
        events = sum(lab[r["account_id"]]["event"] for r in window) / len(window)
        assert abs(p - events) < 0.15


def test_flow_names_renewals_and_splits_expansion(book):
    """Between 2024-06-30 and 2024-12-31 on the worked example: O is new, G churned, R moved into its
    renewal window; changes of those who stayed are split into expansion and contraction."""
    f = {(r["from_stage"], r["to_stage"]): r for r in flow(book, "2024-06-30", ON).to_pylist()}
    assert f[("new", "onboarding")]["movement"] == "new"
    assert f[("new", "onboarding")]["arr_end"] == Decimal("12000.00")
    churned = [r for r in f.values() if r["to_stage"] == "churned"]
    assert [r["movement"] for r in churned] == ["churned"] and churned[0]["arr_change"] == Decimal("-6000.00")
    for r in f.values():
        assert r["arr_change"] == r["arr_end"] - r["arr_start"]
        if r["movement"] not in ("new", "churned"):
            assert r["arr_expanded"] + r["arr_contracted"] == r["arr_change"]


def test_credit_lines_give_one_mrr_in_the_catalogue_health_and_rum(tmp_path):
    """docs/definitions.md "MRR of an account on a date", read on 2024-03-15 by every caller:

    - A: 12,000.00 for 2024 (1,000.00 a month) and a -200.00 credit for March: 800.00;
    - B: 1,200.00 for 2024 (100.00), 600.00 for January-February (300.00 a month, ends March 1)
      and a -150.00 credit for March: 100.00 - 150.00 is below zero, so 0; on the eve of March 1
      it paid 100.00 + 300.00 = 400.00;
    - C: 2,400.00 for 2024: 200.00.
    """
    import pyarrow as pa

    from revbook.health.features import features
    from revbook.metrics.book import book_of
    from revbook.metrics.catalogue.context import Context

    on = dt.date(2024, 3, 15)
    rows = [
        ("A", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "12000"),
        ("A", dt.date(2024, 3, 1), dt.date(2024, 3, 31), "-200"),
        ("B", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "1200"),
        ("B", dt.date(2024, 1, 1), dt.date(2024, 2, 29), "600"),
        ("B", dt.date(2024, 3, 1), dt.date(2024, 3, 31), "-150"),
        ("C", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "2400"),
    ]
    config = Config(
        as_of=dt.date(2024, 6, 30),
        mrr_source="invoices",
        catalogue=CatalogueSettings.from_mapping({"nps_churn_days": 30}),
    )
    with Workspace(tmp_path / "credit.duckdb", config=config) as ws:
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": ["A", "B", "C"]}),
                "invoices": pa.table(
                    {
                        "account_id": [r[0] for r in rows],
                        "invoice_id": [f"I{i}" for i in range(len(rows))],
                        "invoice_date": [r[1] for r in rows],
                        "service_start": [r[1] for r in rows],
                        "service_end": [r[2] for r in rows],
                        "amount": [r[3] for r in rows],
                    }
                ),
                "surveys": pa.table(
                    {
                        "account_id": ["A", "B", "C"],
                        "date": [on - dt.timedelta(days=30)] * 3,
                        "kind": ["nps"] * 3,
                        "score": [9, 9, 9],
                    }
                ),
            }
        )
        book = book_of(ws)
        periods, first, last = book.spine("month")
        ctx = Context(book, book.calendar("month"), CatalogueSettings(), periods, first, last)
        book.engine.register("rb_test_days", pa.table({"account_id": ["A", "B", "C"], "day": [on] * 3}))
        catalogue_mrr = {
            r["account_id"]: r["mrr"]
            for r in book.engine.arrow(f"SELECT * FROM {ctx.mrr_on('rb_test_days', 'day')}").to_pylist()
        }
        left = {r["account_id"]: r["left_after"] for r in ws.catalogue("nps_csat", accounts=True).to_pylist()}
        health_mrr = {r["account_id"]: r["mrr"] for r in features(ws, [on]).to_pylist()}
        rum_rows = {r["account_id"]: r for r in accounts(ws, on, expected=False).to_pylist()}

    assert catalogue_mrr == {"A": 80000, "B": 0, "C": 20000}
    assert left == {"A": False, "B": True, "C": False}  # B pays nothing 30 days after its answer
    assert health_mrr == {"A": 80000, "C": 20000}  # the paying accounts: B counts as 0
    assert {a: r["arr"] for a, r in rum_rows.items()} == {
        "A": Decimal("9600.00"),
        "B": Decimal("4800.00"),  # the ARR it had the day before it stopped paying
        "C": Decimal("2400.00"),
    }
    assert rum_rows["B"]["stage"] == "churned"


def test_the_renewal_outlook_leaves_out_the_dropped_features(tmp_path, monkeypatch):
    """A feature the user dropped from the health models ([health] drop_features, e.g. one the leak
    guard named) is left out of RUM's renewal outlook too."""
    from dataclasses import replace

    from revbook.health import model as health_model

    seen: list[tuple[str, ...]] = []
    fit = health_model.HealthModel.fit

    def recording_fit(self, *args, **kwargs):
        seen.append(self.exclude)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(health_model.HealthModel, "fit", recording_fit)
    base = Config(as_of=sample.SampleConfig().as_of)
    config = replace(base, health=replace(base.health, drop_features=("days_to_renewal",)))
    with Workspace(tmp_path / "w.duckdb", config=config) as w:
        w.load_frames(sample.generate(accounts=300, seed=4))
        acc = accounts(w).to_pylist()
    assert seen and all(e == ("days_to_renewal",) for e in seen)
    assert any(r["expected_renewal_arr"] is not None for r in acc)
