"""why_numbers_differ(against=<a user's totals>): the difference split by the causes revbook can
compute alone (churn_timing, delinquent_churn, discounts, trials, fx), the rest unexplained, every month to the cent.

The worked example of docs/reconciliation.md "Against your own totals": the company of
test_reconcile_causes (churn at cancellation, list price) beside a tool that counts churn at the end
of service and MRR net of discounts."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pyarrow as pa
import pytest

from revbook import Config, Workspace
from revbook.metrics.reconcile import TOTAL_CAUSES
from revbook.metrics.reconcile_split import best_causes
from test_reconcile_causes import trial_company, ws  # noqa: F401  (the module's workspace fixture)


def test_a_tool_at_end_of_service_and_net_price_is_explained_to_the_cent(ws):  # noqa: F811
    jan, mar = ws.why_numbers_differ(against={"2024-01": Decimal("210"), "2024-03": Decimal("520")}).to_pylist()
    # January: T 100 + X 110 in both
    assert (jan["difference"], *(jan[c] for c in TOTAL_CAUSES), jan["unexplained"]) == (0,) * 7
    # March: revbook 480; the tool keeps C's 50 (cancelled March 10, in service to April 30) and
    # counts D at its net 90: 480 + 50 - 10 = 520
    assert (mar["revbook_mrr"], mar["total"], mar["difference"]) == (
        Decimal("480.00"),
        Decimal("520.00"),
        Decimal("-40.00"),
    )
    assert {c: mar[c] for c in TOTAL_CAUSES} == {
        "churn_timing": Decimal("-50.00"),
        "delinquent_churn": Decimal("0.00"),  # past_due_churn_after_days is off
        "discounts": Decimal("10.00"),
        "trials": Decimal("0.00"),  # R's trial never converts: the same under either trial_conversion
        "fx": Decimal("0.00"),  # X's -10 would leave 10 unexplained: the tool converts as revbook does
    }
    assert mar["unexplained"] == Decimal("0.00")
    behind = ws.why_numbers_differ(against={"2024-03": Decimal("520")}, accounts=True).to_pylist()
    assert [(r["account_id"], r["churn_timing"], r["discounts"]) for r in behind] == [
        ("C", Decimal("-50.00"), Decimal("0.00")),
        ("D", Decimal("0.00"), Decimal("10.00")),
    ]


@pytest.mark.parametrize("march", ["480", "500", "520", "530", "999.99", "0", "-12.345"])
def test_every_month_adds_up_and_the_accounts_add_up_to_their_cause(ws, march: str):  # noqa: F811
    totals = {"2024-01": Decimal("205.50"), "2024-02": Decimal("300"), "2024-03": Decimal(march)}
    months = ws.why_numbers_differ(against=totals).to_pylist()
    behind = ws.why_numbers_differ(against=totals, accounts=True).to_pylist()
    for m in months:
        assert m["difference"] == m["revbook_mrr"] - m["total"]
        assert m["difference"] == sum(m[c] for c in (*TOTAL_CAUSES, "unexplained"))
        assert abs(m["unexplained"]) <= abs(m["difference"])  # a cause never widens the gap
        for c in TOTAL_CAUSES:
            assert m[c] == sum(r[c] for r in behind if r["period"] == m["period"])


def test_a_tool_that_dates_a_conversion_at_the_trial_start_is_the_trials_cause(tmp_path):
    """V's March trial converts to 100 on April 1; P pays 50 from February. revbook (paid_start, the
    default) has 50 in March (P; W's trial counts 0); a tool dating V's conversion at its trial start
    reports 150: the difference of -100 is the trials cause, V behind it."""
    tables = trial_company()
    paying = pa.table({"account_id": ["P"], "subscription_id": ["SP"], "start_date": [dt.date(2024, 2, 1)],
                       "mrr": ["50"], "currency": ["USD"], "is_trial": [False]})  # fmt: skip
    tables["accounts"] = pa.table({"account_id": ["V", "W", "P"]})
    tables["subscriptions"] = pa.concat_tables([tables["subscriptions"], paying], promote_options="default")
    with Workspace(tmp_path / "t.duckdb", config=Config(as_of=dt.date(2024, 4, 30))) as w:
        w.load_frames(tables)
        (mar,) = w.why_numbers_differ(against={"2024-03": Decimal("150")}).to_pylist()
        behind = w.why_numbers_differ(against={"2024-03": Decimal("150")}, accounts=True).to_pylist()
    assert (mar["revbook_mrr"], mar["difference"], mar["trials"], mar["unexplained"]) == (50, -100, -100, 0)
    assert [(r["account_id"], r["trials"]) for r in behind] == [("V", Decimal("-100.00"))]


def test_the_best_combination_of_causes():
    assert best_causes(-40, {"a": -50, "b": 10, "c": -10}) == {"a": -50, "b": 10}
    assert best_causes(-50, {"a": -50, "b": 10, "c": -10}) == {"a": -50}  # fewer causes on a tie
    assert best_causes(5, {"a": -50, "b": 20}) == {}  # each would widen the gap
    for gap, a, b in itertools.product((-30, 0, 7), (-20, 0, 15), (-7, 9)):
        chosen = best_causes(gap, {"a": a, "b": b})
        assert abs(gap - sum(chosen.values())) <= abs(gap)
