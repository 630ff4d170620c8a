"""Periods: months, calendar and fiscal quarters and years, and the as-of period's snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from revbook import Config, Workspace
from revbook.metrics.book import band_labels, is_partial, period_label
from revbook.metrics.periods import Calendar


def test_calendar_quarters_and_years():
    q = Calendar("quarter", 1)
    p = q.period_of(dt.date(2024, 5, 10))
    assert q.label(p) == "2024-Q2"
    assert q.bounds(p, dt.date(2030, 1, 1)) == (dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert Calendar("year", 1).label(Calendar("year", 1).period_of(dt.date(2024, 12, 31))) == "2024"


def test_fiscal_year_from_february_is_named_by_the_year_it_ends():
    y = Calendar("year", 2)
    p = y.period_of(dt.date(2024, 2, 1))
    assert y.label(p) == "FY2025"
    assert y.bounds(p, dt.date(2030, 1, 1)) == (dt.date(2024, 2, 1), dt.date(2025, 1, 31))
    assert y.period_of(dt.date(2024, 1, 31)) == p - 1
    q = Calendar("quarter", 2)
    assert q.label(q.period_of(dt.date(2024, 2, 1))) == "FY2025-Q1"
    assert q.label(q.period_of(dt.date(2025, 1, 15))) == "FY2025-Q4"
    assert q.bounds(q.period_of(dt.date(2025, 1, 15)), dt.date(2030, 1, 1)) == (
        dt.date(2024, 11, 1),
        dt.date(2025, 1, 31),
    )


def test_as_of_inside_a_period_is_its_snapshot():
    m = Calendar("month", 1)
    p = m.period_of(dt.date(2026, 11, 15))
    assert m.bounds(p, dt.date(2026, 11, 15)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 15))


def test_arr_band_labels():
    assert band_labels((10_000, 50_000, 250_000)) == ["< 10k", "10k-50k", "50k-250k", "250k+"]


def test_fiscal_quarter_movements_compare_quarter_end_snapshots(tmp_path):
    # A: 100 from 2024-01-10; B: 50 from 2024-02-05 to 2024-03-20 (inside fiscal Q1 from Feb: no movement);
    # C: 70 from 2024-04-15 to 2024-06-01.
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 7, 31), fiscal_year_start_month=2)) as ws:
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": ["A", "B", "C"]}),
                "subscriptions": pa.table(
                    {
                        "account_id": ["A", "B", "C"],
                        "subscription_id": ["S1", "S2", "S3"],
                        "start_date": [dt.date(2024, 1, 10), dt.date(2024, 2, 5), dt.date(2024, 4, 15)],
                        "end_date": [None, dt.date(2024, 3, 20), dt.date(2024, 6, 1)],
                        "mrr": ["100", "50", "70"],
                    }
                ),
            }
        )
        rows = {r["period"]: r for r in ws.movements(grain="quarter").to_pylist()}
    # FY2024-Q4 = Nov 2023 - Jan 2024: A is new. FY2025-Q1 = Feb-Apr: B came and went (nothing),
    # C is new by 2024-04-30. FY2025-Q2 = May-Jul (to the as-of date): C churned.
    assert list(rows) == ["FY2024-Q4", "FY2025-Q1", "FY2025-Q2"]
    assert rows["FY2024-Q4"]["new_mrr"] == Decimal("100.00")
    assert rows["FY2025-Q1"]["new_mrr"] == Decimal("70.00")
    assert rows["FY2025-Q1"]["new_accounts"] == 1
    assert rows["FY2025-Q2"]["churn_mrr"] == Decimal("70.00")
    assert rows["FY2025-Q2"]["period_end"] == dt.date(2024, 7, 31)
    assert rows["FY2025-Q2"]["end_mrr"] == Decimal("100.00")


def test_cohort_triangle(tmp_path):
    # A and B start in January (A leaves at the end of February), C starts in February.
    with Workspace(tmp_path / "c.duckdb", config=Config(as_of=dt.date(2024, 3, 31))) as ws:
        ws.load_frames(
            {
                "accounts": pa.table({"account_id": ["A", "B", "C"]}),
                "subscriptions": pa.table(
                    {
                        "account_id": ["A", "B", "C"],
                        "subscription_id": ["S1", "S2", "S3"],
                        "start_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
                        "end_date": [dt.date(2024, 3, 1), None, None],
                        "mrr": ["100", "300", "50"],
                    }
                ),
            }
        )
        logo = ws.cohorts(triangle="logo_retention").to_pylist()
        nrr = ws.cohorts(triangle="nrr").to_pylist()
    assert logo == [
        {"cohort": "2024-01", "cohort_accounts": 2, "m0": 1.0, "m1": 1.0, "m2": 0.5},
        {"cohort": "2024-02", "cohort_accounts": 1, "m0": 1.0, "m1": 1.0, "m2": None},
    ]
    assert [r["m2"] for r in nrr] == [0.75, None]  # 300 / 400


def test_a_period_the_as_of_date_cuts_short_is_to_date():
    # every metric row's period_end is the earlier of the period's end and the as-of date
    assert period_label("2026-11", dt.date(2026, 11, 15)) == "2026-11 to date"
    assert period_label("2026-10", dt.date(2026, 10, 31)) == "2026-10"
    assert is_partial(dt.date(2024, 2, 28)) and not is_partial(dt.date(2024, 2, 29))  # a leap year
    # a month end inside a quarter or a year is still partial at that grain
    assert period_label("2026-Q4", dt.date(2026, 11, 30), grain="quarter") == "2026-Q4 to date"
    assert period_label("2026-Q4", dt.date(2026, 12, 31), grain="quarter") == "2026-Q4"
    # a fiscal year from April ends on 31 March
    assert period_label("FY2027", dt.date(2026, 12, 31), grain="year", fiscal_start=4) == "FY2027 to date"
    assert period_label("FY2027", dt.date(2027, 3, 31), grain="year", fiscal_start=4) == "FY2027"
