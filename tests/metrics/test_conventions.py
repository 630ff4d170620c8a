"""Conventions where tools differ, each an option with a worked example naming the tool it matches
(docs/definitions.md, "Conventions where tools differ")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from revbook import Config, ConfigError
from test_metrics_properties import by_period, numbered, sub, workspace


def _lines(**extra_b: object) -> list[dict[str, object]]:
    none = {"cancel_requested_at": None, "discount_percent": None}
    return numbered(
        [
            # A asks to cancel on 2024-03-10; its paid service runs to 2024-06-01
            sub(
                "A",
                date(2024, 1, 1),
                date(2024, 6, 1),
                "100",
                cancel_requested_at=date(2024, 3, 10),
                discount_percent=None,
            ),
            # B pays 200 list at 25% off (150) until April, then the coupon ends: 200
            sub("B", date(2024, 1, 1), date(2024, 4, 1), "200", **{**none, "discount_percent": D(25)}),
            sub("B", date(2024, 4, 1), None, "200", **none),
            # C asks to cancel an open line on 2024-05-20 (service to the end of its term, unknown here)
            sub("C", date(2024, 1, 1), None, "10", **{**none, "cancel_requested_at": date(2024, 5, 20)}),
        ]
    )


def test_churn_at_end_of_service_by_default():
    """revbook's default (and ChartMogul's and ProfitWell's default setting): A churns in June, when
    its paid service ends, not in March when it asked; C's open line keeps paying."""
    with workspace({"subscriptions": _lines()}, as_of=date(2024, 7, 31)) as ws:
        m = by_period(ws.movements())
        assert (m["2024-03"]["churn_mrr"], m["2024-06"]["churn_mrr"]) == (D(0), D(100))
        assert m["2024-07"]["end_mrr"] == D(210)


def test_churn_recognised_at_cancellation():
    """churn_recognition = "cancellation" (ChartMogul's and ProfitWell's other setting): A's churn of
    100 is dated March, the month it asked; C's 10 May; nothing churns in June. The movement identity
    holds every month."""
    with workspace({"subscriptions": _lines()}, as_of=date(2024, 7, 31), churn_recognition="cancellation") as ws:
        m = by_period(ws.movements())
        assert (m["2024-03"]["churn_mrr"], m["2024-03"]["churned_accounts"]) == (D(100), 1)
        assert (m["2024-05"]["churn_mrr"], m["2024-06"]["churn_mrr"]) == (D(10), D(0))
        assert m["2024-07"]["end_mrr"] == D(200)
        for r in m.values():
            gains = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"]
            assert r["start_mrr"] + gains - r["contraction_mrr"] - r["churn_mrr"] == r["end_mrr"]


def test_list_price_ignores_discounts():
    """Net price (the default): B starts at 150 and the coupon's end is an expansion of 50 in April.
    mrr_price = "list" (a tool that reports MRR before discounts): B is 200 from the start, April
    shows no movement, and January's new MRR is 100 + 200 + 10 = 310 instead of 260."""
    with workspace({"subscriptions": _lines()}, as_of=date(2024, 7, 31)) as ws:
        net = by_period(ws.movements())
    with workspace({"subscriptions": _lines()}, as_of=date(2024, 7, 31), mrr_price="list") as ws:
        listed = by_period(ws.movements())
    assert (net["2024-01"]["new_mrr"], net["2024-04"]["expansion_mrr"]) == (D(260), D(50))
    assert (listed["2024-01"]["new_mrr"], listed["2024-04"]["expansion_mrr"]) == (D(310), D(0))
    assert net["2024-07"]["end_mrr"] == listed["2024-07"]["end_mrr"] == D(210)


@pytest.mark.parametrize(("key", "value"), [("churn_recognition", "request"), ("mrr_price", "gross")])
def test_unknown_convention_values_are_refused(key, value):
    with pytest.raises(ConfigError, match=key):
        Config(**{key: value})
