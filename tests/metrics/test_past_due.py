"""past_due_churn_after_days = N: delinquent churn, ChartMogul's "Handling past-due subscriptions"
setting ("automatically cancel subscriptions that are N days past due"; the default keeps a past-due
subscription in MRR until it is cancelled, as revbook's default does). The worked example of
docs/definitions.md "Conventions where tools differ" (past-due row)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from revbook import Config, ConfigError, RevbookError, Workspace
from revbook.config import config_from_mapping

D = dt.date


def _company(*, with_dates: bool = True) -> dict[str, pa.Table]:
    subs = [("L", "100"), ("P", "100"), ("U", "50"), ("O", "30")]
    invoices = []
    for account, amount in subs:
        for month in range(1, 7):
            day = D(2024, month, 1)
            paid: dt.date | None = day
            if account == "L" and month in (3, 4):
                paid = D(2024, 5, 10)  # March's and April's invoices paid on May 10
            if account == "P" and month == 3:
                paid = D(2024, 3, 15)  # 14 days late: inside the 20 days
            if account == "U" and month >= 5:
                paid = None  # May's invoice (and June's) never paid
            due = day if account != "O" else None  # O's invoices carry no due date
            invoices.append((account, f"{account}{month}", day, day, _month_end(day), amount, due, paid))
    columns = {
        "account_id": [i[0] for i in invoices],
        "invoice_id": [i[1] for i in invoices],
        "invoice_date": [i[2] for i in invoices],
        "service_start": [i[3] for i in invoices],
        "service_end": [i[4] for i in invoices],
        "amount": [i[5] for i in invoices],
    }
    if with_dates:
        columns |= {"due_date": [i[6] for i in invoices], "paid_date": [i[7] for i in invoices]}
    return {
        "accounts": pa.table({"account_id": [s[0] for s in subs]}),
        "subscriptions": pa.table(
            {
                "account_id": [s[0] for s in subs],
                "subscription_id": [f"S{s[0]}" for s in subs],
                "start_date": [D(2024, 1, 1)] * len(subs),
                "mrr": [s[1] for s in subs],
            }
        ),
        "invoices": pa.table(columns),
    }


def _month_end(day: dt.date) -> dt.date:
    nxt = D(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def past_due_company(tmp_path_factory: pytest.TempPathFactory):
    p = tmp_path_factory.mktemp("pastdue") / "p.duckdb"
    with Workspace(p, config=Config(as_of=D(2024, 6, 30))) as ws:
        ws.load_frames(_company())
    return p


def _months(path, **settings) -> dict[str, dict]:
    with Workspace(path, config=Config(as_of=D(2024, 6, 30), **settings)) as ws:
        return {str(r["period"]): r for r in ws.movements().to_pylist()}


def _mrr_of(path, account: str, day: dt.date, **settings) -> Decimal:
    with Workspace(path, config=Config(as_of=day, **settings)) as ws:
        rows = [r for r in ws.mrr(accounts=True, account=account).to_pylist() if r["period_end"] == day]
    return rows[0]["mrr"] if rows else Decimal("0.00")


def test_off_by_default_an_unpaid_invoice_changes_no_mrr(past_due_company):
    """revbook's default, and ChartMogul's: a past-due subscription stays in MRR until cancelled."""
    months = _months(past_due_company)
    assert all(m["churn_mrr"] == 0 and m["reactivation_mrr"] == 0 for m in months.values())
    assert months["2024-06"]["end_mrr"] == Decimal("280.00")  # L 100 + P 100 + U 50 + O 30


def test_an_invoice_unpaid_n_days_past_due_churns_and_returns_when_paid(past_due_company):
    """N = 20. L's March invoice (due March 1) is unpaid on March 21: L churns 100 in March and,
    April's invoice being late too, is out until both are paid on May 10: a reactivation of 100 in May.
    P paid 14 days late, inside the 20: nothing. U's May invoice is unpaid on May 21: U churns 50 in
    May and is still out on June 30. O's invoices have no due date: never delinquent."""
    months = _months(past_due_company, past_due_churn_after_days=20)
    churn = {p: (m["churn_mrr"], m["churned_accounts"]) for p, m in months.items() if m["churn_mrr"]}
    assert churn == {"2024-03": (Decimal("100.00"), 1), "2024-05": (Decimal("50.00"), 1)}
    back = {p: m["reactivation_mrr"] for p, m in months.items() if m["reactivation_mrr"]}
    assert back == {"2024-05": Decimal("100.00")}
    assert [months[p]["end_mrr"] for p in sorted(months)] == [
        Decimal("280.00"),  # January
        Decimal("280.00"),
        Decimal("180.00"),  # March: L out from the 21st
        Decimal("180.00"),
        Decimal("230.00"),  # May: L back on the 10th, U out from the 21st
        Decimal("230.00"),
    ]
    for m in months.values():
        gains = m["new_mrr"] + m["reactivation_mrr"] + m["expansion_mrr"]
        assert m["start_mrr"] + gains - m["contraction_mrr"] - m["churn_mrr"] == m["end_mrr"]


def test_the_churn_is_dated_due_date_plus_n_and_a_later_payment_is_not_known_earlier(past_due_company):
    # L: out on March 21 (due March 1 + 20), in on March 20
    assert _mrr_of(past_due_company, "L", D(2024, 3, 20), past_due_churn_after_days=20) == Decimal("100.00")
    assert _mrr_of(past_due_company, "L", D(2024, 3, 21), past_due_churn_after_days=20) == Decimal("0.00")
    # as of May 5 the payment of May 10 has not happened: L is still out; back on May 10
    assert _mrr_of(past_due_company, "L", D(2024, 5, 5), past_due_churn_after_days=20) == Decimal("0.00")
    assert _mrr_of(past_due_company, "L", D(2024, 5, 10), past_due_churn_after_days=20) == Decimal("100.00")
    # a grace of 80 days: March's invoice, paid 70 days late, never churns L
    assert _mrr_of(past_due_company, "L", D(2024, 4, 30), past_due_churn_after_days=80) == Decimal("100.00")


def test_invoices_without_payment_dates_load_and_change_nothing(tmp_path):
    with Workspace(tmp_path / "n.duckdb", config=Config(as_of=D(2024, 6, 30), past_due_churn_after_days=20)) as ws:
        ws.load_frames(_company(with_dates=False))
        months = {str(r["period"]): r for r in ws.movements().to_pylist()}
    assert all(m["churn_mrr"] == 0 for m in months.values())


@pytest.mark.parametrize("value", [-1, 366, "30", 2.5, True])
def test_a_bad_value_is_an_error_naming_the_key(value):
    with pytest.raises(ConfigError, match="past_due_churn_after_days"):
        config_from_mapping({"workspace": {"past_due_churn_after_days": value}}, Path.cwd())


def test_the_setting_reads_from_revbook_toml():
    config = config_from_mapping({"workspace": {"past_due_churn_after_days": 30}}, Path.cwd())
    assert config.past_due_churn_after_days == 30


def test_the_reconciliation_names_delinquent_churn(past_due_company):
    """Against invoices: L's March invoice of 100 is billed while revbook has cut L: delinquent_churn
    -100 in March and April, U's -50 in May and June, nothing unexplained. Against a tool that keeps
    past-due accounts in MRR (ChartMogul's default: 280 every month) the same amounts explain it."""
    from revbook.metrics.reconcile import CAUSES, TOTAL_CAUSES

    config = Config(as_of=D(2024, 6, 30), past_due_churn_after_days=20)
    with Workspace(past_due_company, config=config) as ws:
        months = {r["period"]: r for r in ws.why_numbers_differ().to_pylist()}
        rows = ws.why_numbers_differ(accounts=True).to_pylist()
        totals = {
            r["period"]: r for r in ws.why_numbers_differ(against=dict.fromkeys(months, Decimal(280))).to_pylist()
        }
    delinquent = {p: m["delinquent_churn"] for p, m in months.items() if m["delinquent_churn"]}
    assert delinquent == {
        "2024-03": Decimal("-100.00"),
        "2024-04": Decimal("-100.00"),
        "2024-05": Decimal("-50.00"),
        "2024-06": Decimal("-50.00"),
    }
    assert all(m["unexplained"] == 0 and m["difference"] == m["delinquent_churn"] for m in months.values())
    assert {(r["period"], r["account_id"]) for r in rows if r["delinquent_churn"]} == {
        ("2024-03", "L"),
        ("2024-04", "L"),
        ("2024-05", "U"),
        ("2024-06", "U"),
    }
    assert {p: t["delinquent_churn"] for p, t in totals.items() if t["delinquent_churn"]} == delinquent
    for m in [*months.values(), *totals.values()]:
        causes = CAUSES if "invoiced" in m else TOTAL_CAUSES
        assert m["difference"] == sum(m[c] for c in (*causes, "unexplained"))


def test_a_payment_before_the_invoice_rejects_the_load(tmp_path):
    frames = _company()
    invoices = frames["invoices"].to_pylist()
    invoices[0]["paid_date"] = D(2023, 12, 31)
    frames["invoices"] = pa.Table.from_pylist(invoices, schema=frames["invoices"].schema)
    ws = Workspace(tmp_path / "b.duckdb", config=Config(as_of=D(2024, 6, 30)))
    with ws, pytest.raises(RevbookError, match="paid before its invoice date"):
        ws.load_frames(frames)
