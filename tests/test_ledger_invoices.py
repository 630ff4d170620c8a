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


MARCH_2024 = D(2024, 3, 31)


def _charges(tmp_path, name, rows, *, months=0, as_of=MARCH_2024, fx=None):
    """A workspace on invoices: rows of (account, invoice_date, service_start, service_end, amount[, currency])."""
    ws = Workspace(
        tmp_path / f"{name}.duckdb",
        config=Config(as_of=as_of, mrr_source="invoices", invoice_service_months=months),
    )
    tables = {
        "accounts": pa.table({"account_id": sorted({r[0] for r in rows})}),
        "invoices": pa.table(
            {
                "account_id": [r[0] for r in rows],
                "invoice_id": [f"I{i}" for i in range(len(rows))],
                "invoice_date": [r[1] for r in rows],
                "service_start": pa.array([r[2] for r in rows], pa.date32()),
                "service_end": pa.array([r[3] for r in rows], pa.date32()),
                "amount": [r[4] for r in rows],
                "currency": [r[5] if len(r) > 5 else "USD" for r in rows],
            }
        ),
    }
    if fx:
        tables["fx_rates"] = pa.table(
            {"date": [f[0] for f in fx], "currency": [f[1] for f in fx], "rate_to_reporting": [f[2] for f in fx]}
        )
    ws.load_frames(tables)
    return ws


#: docs/definitions.md "Invoice lines without a service period": A is billed 300.00 on the 1st of each
#: month with no service dates, and given a 50.00 goodwill credit on 2024-02-20; B has an annual line
#: with its service period
CHARGES = [
    ("A", D(2024, 1, 1), None, None, "300"),
    ("A", D(2024, 2, 1), None, None, "300"),
    ("A", D(2024, 2, 20), None, None, "-50"),
    ("A", D(2024, 3, 1), None, None, "300"),
    ("B", D(2024, 1, 1), D(2024, 1, 1), D(2024, 12, 31), "1200"),
]


def test_invoice_lines_without_a_service_period_are_revenue_on_the_invoice_date(tmp_path):
    with _charges(tmp_path, "off", CHARGES) as ws:
        mrr = {r["period"]: r["mrr"] for r in ws.mrr().to_pylist()}
        by_account = ws.revenue(accounts=True).to_pylist()
        revenue = {(r["period"], r["account_id"]): r["recognised_revenue"] for r in by_account}
        (finding,) = [f for f in ws.check().to_pylist() if f["check"] == "invoice_without_service_period"]
    # MRR: only B's annual line, 1,200.00 / 12
    assert mrr == {"2024-01": Decimal("100.00"), "2024-02": Decimal("100.00"), "2024-03": Decimal("100.00")}
    # revenue: each charge whole in its invoice month, the credit too; B's line day by day
    assert revenue == {
        ("2024-01", "A"): Decimal("300.00"),
        ("2024-01", "B"): Decimal("100.00"),
        ("2024-02", "A"): Decimal("250.00"),
        ("2024-02", "B"): Decimal("100.00"),
        ("2024-03", "A"): Decimal("300.00"),
        ("2024-03", "B"): Decimal("100.00"),
    }
    # 4 of the 5 lines have no service period: most, so a warning that names the setting
    assert finding["severity"] == "warning" and finding["rows"] == 4
    assert "most invoice lines have no service period (4 of 5" in finding["message"]
    assert "invoice_service_months" in finding["hint"]
    assert finding["example"].startswith("A: 300") and "row 1" in finding["example"]


def test_invoice_service_months_reads_a_charge_as_that_many_months_of_service(tmp_path):
    with _charges(tmp_path, "on", CHARGES, months=1) as ws:
        mrr = {r["period"]: r["mrr"] for r in ws.mrr().to_pylist()}
        moves = {r["period"]: r for r in ws.movements().to_pylist()}
        revenue = {r["period"]: r["recognised_revenue"] for r in ws.revenue().to_pylist()}
        ledger = ws.ledger().to_pylist()
        lines = sorted((r["account_id"], r["start_date"], r["end_date_recorded"], r["mrr"]) for r in ledger)
        (finding,) = [f for f in ws.check().to_pylist() if f["check"] == "invoice_without_service_period"]
    # each charge of A is one calendar month from its invoice date (2024-01-01 ... 2024-01-31): 300.00 MRR;
    # the goodwill credit has no service period and stays revenue only
    assert [line for line in lines if line[0] == "A"] == [
        ("A", D(2024, 1, 1), D(2024, 2, 1), Decimal("300.00")),
        ("A", D(2024, 2, 1), D(2024, 3, 1), Decimal("300.00")),
        ("A", D(2024, 3, 1), D(2024, 4, 1), Decimal("300.00")),
    ]
    assert mrr == {"2024-01": Decimal("400.00"), "2024-02": Decimal("400.00"), "2024-03": Decimal("400.00")}
    assert moves["2024-01"]["new_mrr"] == Decimal("400.00")
    assert moves["2024-02"]["contraction_mrr"] == Decimal("0.00")  # the credit is not MRR
    # revenue is the same billed amounts: 300 + 100, 300 - 50 + 100, 300 + 100
    assert revenue == {"2024-01": Decimal("400.00"), "2024-02": Decimal("350.00"), "2024-03": Decimal("400.00")}
    assert finding["severity"] == "info" and "read as 1 month of service" in finding["message"]


def test_an_annual_charge_without_service_dates_with_invoice_service_months_12(tmp_path):
    rows = [("A", D(2024, 1, 15), None, None, "1200")]
    with _charges(tmp_path, "annual", rows, months=12, as_of=D(2025, 2, 28)) as ws:
        (line,) = ws.ledger().to_pylist()
        mrr = {r["period"]: r["mrr"] for r in ws.mrr().to_pylist()}
    # 2024-01-15 ... 2025-01-14 inclusive: twelve calendar months, 1,200.00 / 12
    assert (line["start_date"], line["end_date_recorded"], line["mrr"]) == (
        D(2024, 1, 15),
        D(2025, 1, 15),
        Decimal("100.00"),
    )
    assert mrr["2024-12"] == Decimal("100.00") and mrr["2025-01"] == Decimal("0.00")


def test_charges_without_service_periods_show_as_revenue_in_a_book_with_no_mrr(tmp_path):
    """The common export: one line per charge, no service dates, so no MRR at all; the revenue is all there,
    converted at the rate of the invoice date, and a charge after the as-of date is not read."""
    rows = [
        ("A", D(2023, 11, 5), None, None, "99.99"),
        ("A", D(2024, 1, 5), None, None, "100", "EUR"),
        ("B", D(2024, 3, 10), None, None, "45.5"),
        ("B", D(2024, 4, 2), None, None, "1000"),  # after the as-of date
    ]
    fx = [(D(2023, 1, 1), "EUR", "1.05"), (D(2024, 1, 1), "EUR", "1.10")]
    with _charges(tmp_path, "none", rows, fx=fx) as ws:
        revenue = {r["period"]: r["recognised_revenue"] for r in ws.revenue().to_pylist()}
        mrr = [r["mrr"] for r in ws.mrr().to_pylist()]
    assert set(mrr) <= {Decimal("0.00")}
    assert {k: v for k, v in revenue.items() if v} == {
        "2023-11": Decimal("99.99"),
        "2024-01": Decimal("110.00"),  # 100 EUR at 1.10, the rate on 2024-01-05
        "2024-03": Decimal("45.50"),
    }


def test_a_one_off_charge_in_a_currency_without_a_rate_names_its_row(tmp_path):
    from revbook import LedgerError

    rows = [("A", D(2024, 1, 5), None, None, "100", "GBP")]
    with _charges(tmp_path, "nofx", rows) as ws, pytest.raises(LedgerError) as info:
        ws.revenue()
    assert info.value.row == 1 and info.value.column == "currency" and "GBP" in str(info.value)


def test_invoice_service_months_is_checked(tmp_path):
    from revbook import ConfigError
    from revbook.config import config_from_mapping

    assert config_from_mapping({"workspace": {"invoice_service_months": 3}}, tmp_path).invoice_service_months == 3
    with pytest.raises(ConfigError, match="invoice_service_months"):
        Config(invoice_service_months=-1)


def test_beside_subscriptions_check_counts_the_charges_without_a_service_period(tmp_path):
    """With subscriptions as the MRR source, a charge without service dates reconciles with nothing and
    is reported; a credit without one is revenue only by definition and is not."""

    def findings(name, amounts):
        with Workspace(tmp_path / f"{name}.duckdb", config=Config(as_of=MARCH_2024)) as ws:
            ws.load_frames(
                {
                    "accounts": pa.table({"account_id": ["A"]}),
                    "subscriptions": pa.table(
                        {"account_id": ["A"], "subscription_id": ["S"], "start_date": [D(2024, 1, 1)], "mrr": ["100"]}
                    ),
                    "invoices": pa.table(
                        {
                            "account_id": ["A"] * len(amounts),
                            "invoice_date": [D(2024, 1, 1)] * len(amounts),
                            "service_start": pa.array([None] * len(amounts), pa.date32()),
                            "service_end": pa.array([None] * len(amounts), pa.date32()),
                            "amount": amounts,
                        }
                    ),
                }
            )
            return [f for f in ws.check().to_pylist() if f["check"] == "invoice_without_service_period"]

    assert findings("credit", ["-20"]) == []
    (finding,) = findings("charge", ["-20", "100", "100"])
    assert finding["severity"] == "info" and finding["rows"] == 2
    assert "2 of 3 invoice lines are charges with no service period" in finding["message"]
