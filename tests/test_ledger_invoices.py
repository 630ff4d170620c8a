"""MRR from invoices: an amount over its service period in calendar months, fractional by days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from revbook import Config, Workspace

D = dt.date
JUNE_2025 = D(2025, 6, 30)


@pytest.fixture
def invoiced(tmp_path):
    def build(rows, as_of=JUNE_2025):
        ws = Workspace(tmp_path / "inv.duckdb", config=Config(as_of=as_of, mrr_source="invoices"))
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": sorted({r[0] for r in rows})}),
                "invoices": pa.table(
                    {
                        "account_id": [r[0] for r in rows],
                        "invoice_id": [f"I{i}" for i in range(len(rows))],
                        "invoice_date": [r[1] or D(2024, 1, 1) for r in rows],
                        "service_start": [r[1] for r in rows],
                        "service_end": [r[2] for r in rows],
                        "amount": [r[3] for r in rows],
                    }
                ),
            }
        )
        return ws

    return build


@pytest.mark.parametrize(
    ("start", "end", "amount", "mrr"),
    [
        (D(2024, 1, 1), D(2024, 12, 31), "12000", "1000.00"),  # 12 whole months
        (D(2024, 1, 15), D(2024, 2, 14), "300", "300.00"),  # one month, not 31 days
        (D(2024, 1, 1), D(2024, 1, 15), "150", "310.00"),  # 15/31 of a month: 150 * 31 / 15
        (D(2024, 1, 31), D(2024, 2, 28), "99", "99.00"),  # to the day before Jan 31 + 1 month = Feb 29: one month
        (D(2024, 1, 31), D(2024, 2, 29), "99", "95.91"),  # one month and a day of March's 31: 99 / (1 + 1/31)
        (D(2024, 3, 1), D(2024, 4, 15), "100", "66.67"),  # 1 + 15/30 months: 100 / 1.5 = 66.666…
        (D(2024, 1, 1), D(2026, 12, 31), "100000", "2777.78"),  # 36 months
    ],
)
def test_invoice_mrr(invoiced, start, end, amount, mrr):
    with invoiced([("A", start, end, amount)]) as ws:
        (line,) = ws.ledger().to_pylist()
    assert line["mrr"] == Decimal(mrr)
    assert line["end_date_recorded"] == end + dt.timedelta(days=1)  # service_end is inclusive


def test_credit_with_a_service_period_lowers_mrr_and_one_without_does_not(invoiced):
    rows = [
        ("A", D(2024, 1, 1), D(2024, 12, 31), "12000"),
        ("A", D(2024, 3, 1), D(2024, 3, 31), "-200"),  # a credit for March's service
        ("A", None, None, "-50"),  # a goodwill credit with no service period: revenue only
    ]
    with invoiced(rows) as ws:
        mrr = {r["period"]: r["mrr"] for r in ws.mrr().to_pylist()}
        moves = {r["period"]: r for r in ws.movements().to_pylist()}
    assert mrr["2024-02"] == Decimal("1000.00")
    assert mrr["2024-03"] == Decimal("800.00")
    assert mrr["2024-04"] == Decimal("1000.00")
    assert moves["2024-03"]["contraction_mrr"] == Decimal("200.00")
    assert moves["2024-04"]["expansion_mrr"] == Decimal("200.00")
    assert mrr["2025-01"] == Decimal("0.00")


def test_recognised_revenue_is_exact_where_mrr_is_rounded(invoiced):
    with invoiced([("A", D(2024, 1, 1), D(2026, 12, 31), "100000")], as_of=D(2027, 1, 31)) as ws:
        years = {r["period"]: r["recognised_revenue"] for r in ws.revenue(grain="year").to_pylist()}
        (line,) = ws.ledger().to_pylist()
    assert line["mrr"] * 36 == Decimal("100000.08")  # MRR is rounded once and held constant
    assert sum(years.values()) == Decimal("100000.00")  # revenue is the exact amount
    # 2024 is a leap year but revenue accrues by month: each month 1/36 of the amount
    assert years["2024"] == Decimal("33333.33")


def test_reconcile_shows_where_invoices_and_subscriptions_disagree(tmp_path):
    with Workspace(tmp_path / "r.duckdb", config=Config(as_of=D(2024, 4, 30))) as ws:
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": ["A", "B"]}),
                "subscriptions": pa.table(
                    {
                        "account_id": ["A", "B"],
                        "subscription_id": ["S1", "S2"],
                        "start_date": [D(2024, 1, 1), D(2024, 1, 1)],
                        "mrr": ["100", "70"],
                    }
                ),
                # A is invoiced every month but March was billed at 90; B has no invoices at all
                "invoices": pa.table(
                    {
                        "account_id": ["A"] * 4,
                        "invoice_date": [D(2024, m, 1) for m in (1, 2, 3, 4)],
                        "service_start": [D(2024, m, 1) for m in (1, 2, 3, 4)],
                        "service_end": [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)],
                        "amount": ["100", "100", "90", "100"],
                    }
                ),
            }
        )
        rows = ws.reconcile().to_pylist()
    assert {r["account_id"] for r in rows} == {"A"}  # only accounts in both sources
    diffs = {r["period"]: r["difference"] for r in rows}
    assert diffs == {
        "2024-01": Decimal("0.00"),
        "2024-02": Decimal("0.00"),
        "2024-03": Decimal("10.00"),
        "2024-04": Decimal("0.00"),  # service_end is inclusive: April's invoice covers the as-of date
    }


def test_a_price_too_large_to_hold_exactly_is_a_clear_error(tmp_path):
    from revbook import LedgerError

    with Workspace(tmp_path / "big.duckdb", config=Config(as_of=D(2024, 6, 30), reporting_currency="IDR")) as ws:
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": ["A"]}),
                "subscriptions": pa.table(
                    {"account_id": ["A"], "subscription_id": ["S"], "start_date": [D(2024, 1, 1)], "mrr": ["1e13"]}
                ),
            }
        )
        with pytest.raises(LedgerError) as info:
            ws.movements()
    assert info.value.row == 1 and "15 digits" in str(info.value)
