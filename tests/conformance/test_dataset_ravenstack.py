"""A third-party dataset loaded as a user would: RavenStack (synthetic, by River @ Rivalytics).

Its subscription lines overlap heavily and are mostly open-ended, its files have CRLF line
endings, and its columns are named its own way: all mapped in a revbook.toml. The expected
figures are computed here from the raw CSV with the standard library, independently of revbook.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest

import revbook
from support import RAVENSTACK, ravenstack_config

DATA = RAVENSTACK
AS_OF = dt.date(2024, 12, 31)

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"dataset folder {DATA} is not beside the repository")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ravenstack")
    cfg = ravenstack_config(tmp)
    with revbook.open(config=cfg) as w:
        w.load()
        yield w


def raw_lines() -> list[dict[str, str]]:
    with open(DATA / "ravenstack_subscriptions.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def mrr_on(day: dt.date) -> Decimal:
    total = Decimal(0)
    for r in raw_lines():
        start = dt.date.fromisoformat(r["start_date"])
        end = dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None
        if r["is_trial"] == "True" or start > AS_OF:
            continue
        if start <= day and (end is None or day < end):
            total += Decimal(r["mrr_amount"])
    return total


def test_loads_every_row(ws):
    counts = ws.row_counts()
    assert counts["accounts"] == 500
    assert counts["subscriptions"] == 5000


def test_mrr_is_the_sum_of_overlapping_lines(ws):
    by_period = {r["period_end"]: r["mrr"] for r in ws.mrr().to_pylist()}
    for day in (dt.date(2023, 6, 30), dt.date(2024, 1, 31), dt.date(2024, 12, 31)):
        assert by_period[day] == mrr_on(day), day


def test_movements_reconcile_every_month(ws):
    rows = ws.movements().to_pylist()
    assert len(rows) == 24  # 2023-01 .. 2024-12
    previous_end = Decimal(0)
    for r in rows:
        assert r["start_mrr"] == previous_end
        moved = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"] - r["contraction_mrr"] - r["churn_mrr"]
        assert r["start_mrr"] + moved == r["end_mrr"]
        previous_end = r["end_mrr"]


def test_retention_invariants_by_plan(ws):
    rows = [r for r in ws.retention(window=12, by="plan").to_pylist() if r["nrr"] is not None]
    assert rows, "a 12-month window exists in 2024"
    for r in rows:
        assert 0 <= r["grr"] <= min(r["nrr"], 1.0) + 1e-12
        assert 0 <= r["logo_retention"] <= 1


def test_check_sees_the_overlaps_and_zero_length_lines(ws):
    findings = {f["check"]: f for f in ws.check().to_pylist()}
    assert findings["overlapping_lines"]["rows"] > 1000
    assert findings["empty_lines"]["rows"] == 13  # the dataset's README counts 13 zero-length lines
    assert "unknown_account" not in findings
