"""why_numbers_differ: a company with ONE planted difference of each cause, in March 2024.

The worked example of docs/reconciliation.md: the split explains every cent of March's
difference (unexplained = 0) and each cause names the one account behind it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from revbook import Config, ConfigError, Workspace, WorkspaceError
from revbook.metrics.reconcile import CAUSES

D = dt.date
MAR = (D(2024, 3, 1), D(2024, 3, 31))


def _company() -> dict[str, pa.Table]:
    subs = [
        # account, start, end, mrr, currency, discount %, cancel requested, trial
        ("T", D(2024, 1, 1), None, "100", "USD", None, None, False),  # annual invoice up front
        ("D", D(2024, 3, 1), None, "100", "USD", "10", None, False),  # 10% coupon (MRR at list)
        ("C", D(2024, 3, 1), D(2024, 5, 1), "50", "USD", None, D(2024, 3, 10), False),  # cancelled, in service
        ("F", D(2024, 3, 1), None, "80", "USD", None, None, False),  # a 20 refund
        ("X", D(2024, 1, 1), None, "100", "EUR", None, None, False),  # EUR, started at 1.10
        ("R", D(2024, 3, 1), D(2024, 4, 1), "100", "USD", None, None, True),  # invoiced while on trial
        ("O", D(2024, 3, 1), None, "60", "USD", None, None, False),  # a 500 one-time setup fee
        ("N", D(2024, 3, 1), None, "30", "USD", None, None, False),  # never invoiced
    ]
    invoices = [
        # account, invoice date, service start, service end, amount, currency
        ("T", D(2024, 1, 1), D(2024, 1, 1), D(2024, 12, 31), "1200", "USD"),
        ("D", *MAR[:1], *MAR, "90", "USD"),
        ("C", *MAR[:1], *MAR, "50", "USD"),
        ("F", *MAR[:1], *MAR, "80", "USD"),
        ("F", D(2024, 3, 15), None, None, "-20", "USD"),
        ("X", *MAR[:1], *MAR, "100", "EUR"),
        ("R", *MAR[:1], *MAR, "100", "USD"),
        ("O", *MAR[:1], *MAR, "60", "USD"),
        ("O", D(2024, 3, 2), None, None, "500", "USD"),
    ]
    return {
        "accounts": pa.table({"account_id": [s[0] for s in subs]}),
        "subscriptions": pa.table(
            {
                "account_id": [s[0] for s in subs],
                "subscription_id": [f"S{s[0]}" for s in subs],
                "start_date": [s[1] for s in subs],
                "end_date": [s[2] for s in subs],
                "mrr": [s[3] for s in subs],
                "currency": [s[4] for s in subs],
                "discount_percent": [s[5] for s in subs],
                "cancel_requested_at": [s[6] for s in subs],
                "is_trial": [s[7] for s in subs],
            }
        ),
        "invoices": pa.table(
            {
                "account_id": [i[0] for i in invoices],
                "invoice_id": [f"I{n}" for n in range(len(invoices))],
                "invoice_date": [i[1] for i in invoices],
                "service_start": [i[2] for i in invoices],
                "service_end": [i[3] for i in invoices],
                "amount": [i[4] for i in invoices],
                "currency": [i[5] for i in invoices],
            }
        ),
        "fx_rates": pa.table(
            {"currency": ["EUR", "EUR"], "date": [D(2024, 1, 1), D(2024, 3, 1)], "rate_to_reporting": ["1.10", "1.20"]}
        ),
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    cfg = Config(as_of=D(2024, 3, 31), churn_recognition="cancellation", mrr_price="list")
    with Workspace(tmp_path_factory.mktemp("rec") / "r.duckdb", config=cfg) as w:
        w.load_frames(_company())
        yield w


def test_every_cent_of_march_is_explained_by_its_planted_cause(ws):
    march = next(r for r in ws.why_numbers_differ().to_pylist() if r["period"] == "2024-03")
    # revbook (list price, churn at cancellation, MRR at line-start FX):
    # T 100 + D 100 + C 0 + F 80 + X 110 + R 0 + O 60 + N 30 = 480
    assert march["revbook_mrr"] == Decimal("480.00")
    # invoiced in March: 90 + 50 + 80 - 20 + 120 (EUR 100 at 1.20) + 100 + 60 + 500 = 980
    assert march["invoiced"] == Decimal("980.00")
    assert march["difference"] == Decimal("-500.00")
    assert {c: march[c] for c in CAUSES} == {
        "timing": Decimal("100.00"),  # T: 1200 billed in January, 100 a month of MRR
        "churn_timing": Decimal("-50.00"),  # C: cancelled on March 10, in service to April 30
        "delinquent_churn": Decimal("0.00"),  # past_due_churn_after_days is off
        "discounts": Decimal("10.00"),  # D: list 100, invoiced net 90
        "refunds_credits": Decimal("20.00"),  # F: the -20 credit
        "fx": Decimal("-10.00"),  # X: EUR 100 at 1.10 (line start) vs 1.20 (March)
        "trials": Decimal("-100.00"),  # R: invoiced 100 while revbook counts a trial at 0
        "one_time": Decimal("-500.00"),  # O: a setup fee without a service period
        "not_invoiced": Decimal("30.00"),  # N: no invoice at all
    }
    assert march["unexplained"] == Decimal("0.00")


def test_each_cause_names_the_account_behind_it(ws):
    rows = [r for r in ws.why_numbers_differ(accounts=True).to_pylist() if r["period"] == "2024-03"]
    behind = {c: {r["account_id"] for r in rows if r[c] != 0} for c in CAUSES}
    assert behind == {
        "timing": {"T"},
        "churn_timing": {"C"},
        "delinquent_churn": set(),
        "discounts": {"D"},
        "refunds_credits": {"F"},
        "fx": {"X"},
        "trials": {"R"},
        "one_time": {"O"},
        "not_invoiced": {"N"},
    }
    assert all(r["unexplained"] == 0 for r in rows)


def test_every_row_adds_up_to_the_cent(ws):
    for frame in (ws.why_numbers_differ(), ws.why_numbers_differ(accounts=True)):
        for r in frame.to_pylist():
            assert r["difference"] == r["revbook_mrr"] - r["invoiced"]
            assert r["difference"] == sum(r[c] for c in (*CAUSES, "unexplained"))
    # January: T's annual invoice is timing; X had MRR and no invoice at all: unexplained
    jan = next(r for r in ws.why_numbers_differ().to_pylist() if r["period"] == "2024-01")
    assert jan["timing"] == Decimal("-1100.00")
    assert jan["unexplained"] == Decimal("110.00")


def test_a_users_totals_beside_revbook(ws, tmp_path: Path):
    totals = tmp_path / "totals.csv"
    totals.write_text("period,total\n2024-03,500.00\n")
    (row,) = ws.why_numbers_differ(against=totals).to_pylist()
    assert (row["revbook_mrr"], row["total"], row["difference"]) == (
        Decimal("480.00"),
        Decimal("500.00"),
        Decimal("-20.00"),
    )
    # of the -20 only FX is revbook's own doing: X's EUR 100 at 1.10 (its start) vs 1.20 (March) is -10
    # (churn at cancellation, -50, and list price, +10, would move revbook further from 500)
    assert (row["churn_timing"], row["discounts"], row["fx"]) == (0, 0, Decimal("-10.00"))
    assert row["unexplained"] == Decimal("-10.00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("month,total\n2024-03,1\n", "row 1 has no column 'period'"),
        ("period,total\n2024-03,abc\n", "row 2, column 'total' is not a number"),
        ("period,total\n2024-03,1\n,2\n", "row 3, column 'period' is empty"),
        ("period,total\n2024-03,1\n2024-03,2\n", "row 3, column 'period' repeats 2024-03"),
    ],
)
def test_a_bad_totals_file_names_file_row_and_column(ws, tmp_path: Path, text: str, message: str):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        ws.why_numbers_differ(against=bad)
    assert str(bad) in str(err.value)


def test_against_stripe_tax_and_a_failed_payment_explain_the_collected_gap(tmp_path: Path):
    """P paid an invoice of 110 (10 of it tax); Q's invoice of 100 is open (its payment failed)."""
    import json

    subs = pa.table(
        {
            "account_id": ["P", "Q"],
            "subscription_id": ["SP", "SQ"],
            "start_date": [MAR[0]] * 2,
            "mrr": ["100", "100"],
        }
    )
    invoices = pa.table(
        {
            "account_id": ["P", "Q"],
            "invoice_id": ["in_P", "in_Q"],
            "invoice_date": [MAR[0]] * 2,
            "service_start": [MAR[0]] * 2,
            "service_end": [MAR[1]] * 2,
            "amount": ["100", "100"],
        }
    )
    created = int(dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC).timestamp())
    stripe = [
        {"id": "in_P", "customer": "P", "created": created, "status": "paid", "currency": "usd"}
        | {"total": 11000, "tax": 1000, "amount_paid": 11000},
        {"id": "in_Q", "customer": "Q", "created": created, "status": "open", "currency": "usd"}
        | {"total": 10000, "tax": 0, "amount_paid": 0},
        {"id": "in_V", "customer": "Q", "created": created, "status": "void", "currency": "usd"}
        | {"total": 5000, "tax": 0, "amount_paid": 0},
    ]
    with Workspace(tmp_path / "s.duckdb", config=Config(as_of=D(2024, 3, 31))) as w:
        w.load_frames({"accounts": pa.table({"account_id": ["P", "Q"]}), "subscriptions": subs, "invoices": invoices})
        with pytest.raises(WorkspaceError, match="no Stripe objects"):
            w.why_numbers_differ(against="stripe")
        w.con.execute("CREATE TABLE _revbook_stripe_objects (kind VARCHAR, id VARCHAR, created BIGINT, json VARCHAR)")
        for inv in stripe:
            w.con.execute(
                "INSERT INTO _revbook_stripe_objects VALUES ('invoices', ?, ?, ?)",
                [inv["id"], created, json.dumps(inv)],
            )
        (march,) = w.why_numbers_differ(against="stripe").to_pylist()
        rows = w.why_numbers_differ(against="stripe", accounts=True).to_pylist()
    assert (march["revbook_mrr"], march["invoiced"]) == (Decimal("200.00"), Decimal("200.00"))
    assert (march["stripe_invoiced"], march["stripe_collected"]) == (Decimal("210.00"), Decimal("110.00"))
    assert march["difference"] == Decimal("90.00")  # revbook's MRR minus what Stripe collected
    assert (march["tax"], march["past_due_failed"], march["unexplained"]) == (
        Decimal("-10.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )
    assert {r["account_id"] for r in rows if r["tax"]} == {"P"}
    assert {r["account_id"] for r in rows if r["past_due_failed"]} == {"Q"}


def trial_company() -> dict[str, pa.Table]:
    """V: a March trial converting to 100 a month on April 1, billed from April; W: a March trial at
    40, billed 40 while on trial, never converted."""
    return {
        "accounts": pa.table({"account_id": ["V", "W"]}),
        "subscriptions": pa.table(
            {
                "account_id": ["V", "V", "W"],
                "subscription_id": ["SV", "SV", "SW"],
                "start_date": [D(2024, 3, 1), D(2024, 4, 1), D(2024, 3, 1)],
                "end_date": [D(2024, 4, 1), None, D(2024, 4, 1)],
                "mrr": ["0", "100", "40"],
                "currency": ["USD"] * 3,
                "is_trial": [True, False, True],
            }
        ),
        "invoices": pa.table(
            {
                "account_id": ["V", "W"],
                "invoice_id": ["I1", "I2"],
                "invoice_date": [D(2024, 4, 1), D(2024, 3, 1)],
                "service_start": [D(2024, 4, 1), D(2024, 3, 1)],
                "service_end": [D(2024, 4, 30), D(2024, 3, 31)],
                "amount": ["100", "40"],
                "currency": ["USD", "USD"],
            }
        ),
    }


def test_a_trial_counted_from_its_start_is_the_trials_cause(tmp_path: Path):
    """trial_conversion = "trial_start": V's trial (March) converts to 100 a month on April 1, billed from
    April. revbook counts the 100 from March, the invoices from April: March's difference of 100 is
    the trials cause, to the cent; April agrees. W's trial, billed 40 in March while on trial and never
    converted, stays the trials cause it was (-40)."""
    tables = trial_company()
    cfg = Config(as_of=D(2024, 4, 30), trial_conversion="trial_start")
    with Workspace(tmp_path / "t.duckdb", config=cfg) as w:
        w.load_frames(tables)
        rows = {(r["period"], r["account_id"]): r for r in w.why_numbers_differ(accounts=True).to_pylist()}
    v_mar, w_mar, v_apr = rows[("2024-03", "V")], rows[("2024-03", "W")], rows.get(("2024-04", "V"))
    assert (v_mar["revbook_mrr"], v_mar["invoiced"], v_mar["trials"]) == (Decimal("100.00"), 0, Decimal("100.00"))
    assert (w_mar["revbook_mrr"], w_mar["invoiced"], w_mar["trials"]) == (0, Decimal("40.00"), Decimal("-40.00"))
    assert v_apr is None or (v_apr["difference"], v_apr["trials"]) == (0, 0)  # no difference: no row
    for r in rows.values():
        assert r["unexplained"] == 0 and r["difference"] == sum(r[c] for c in (*CAUSES, "unexplained"))
