"""Tidemill's test cases where revbook's default differs by convention, each with the option that
reproduces Tidemill's figure, or, where none does, revbook's figure beside Tidemill's
(docs/definitions.md, "Conventions where tools differ", the paragraph after the table).

Tidemill (github.com/ondraz/tidemill) books a movement per subscription event. Its tests use the
event times T0 = 2026-01-15, T1 = 2026-02-15, T2 = 2026-03-15 and amounts in cents (2000 = 20.00);
each scenario here is the test's, transcribed as subscription lines, with revbook's month-end
snapshots. Only the scenarios and the expected figures are taken, none of Tidemill's code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from test_metrics_properties import by_period, ledger_mrr, numbered, sub, workspace

T0, T1, T2 = date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)


def _identity(m: dict[str, dict[str, object]]) -> None:
    for r in m.values():
        gains = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"]  # type: ignore[operator]
        assert r["start_mrr"] + gains - r["contraction_mrr"] - r["churn_mrr"] == r["end_mrr"]  # type: ignore[operator]


# -- reproduced: movement_grain = "subscription" ---------------------------------------------------
def test_tidemill_concurrent_subscription_stays_new():
    """Tidemill tests/test_metrics/test_mrr.py::TestMrrHandler::test_concurrent_sub_stays_new: cus_1
    activates sub_1 at 20.00 on T0 and a second, concurrent sub_2 at 30.00 on T1; Tidemill's movements
    are ["new", "new"]. revbook's default (account grain) reads February as an expansion of 30 (cus_1
    goes 20 -> 50); movement_grain = "subscription" reproduces Tidemill: January new 20, February new 30
    (1 subscription), no expansion; end 50 either way.

    The same setting does not reproduce the neighbouring case, test_activated_after_churn_is_reactivation:
    sub_1 (20.00) activated on T0 and churned on T1, then sub_2 (20.00) activated on T2 for the same
    customer is a *reactivation* in Tidemill (its customer had MRR before and none on the eve). revbook's
    default agrees (March reactivation 20); at subscription grain sub_2 is a subscription of its own, so
    March reads new 20. Tidemill classifies per subscription but decides new vs reactivation by the
    customer; no revbook setting mixes the two, so the pair needs both settings."""
    rows = [
        sub("cus_1", T0, None, "20", subscription_id="sub_1"),
        sub("cus_1", T1, None, "30", subscription_id="sub_2"),
    ]
    with workspace({"subscriptions": rows}, as_of=date(2026, 2, 28)) as ws:
        account = by_period(ws.movements())
    with workspace({"subscriptions": rows}, as_of=date(2026, 2, 28), movement_grain="subscription") as ws:
        m = by_period(ws.movements())
    assert (account["2026-02"]["new_mrr"], account["2026-02"]["expansion_mrr"]) == (D(0), D(30))
    assert (m["2026-01"]["new_mrr"], m["2026-01"]["new_accounts"]) == (D(20), 1)
    assert (m["2026-02"]["new_mrr"], m["2026-02"]["expansion_mrr"], m["2026-02"]["new_accounts"]) == (D(30), D(0), 1)
    assert account["2026-02"]["end_mrr"] == m["2026-02"]["end_mrr"] == D(50)
    _identity(m)

    returning = [
        sub("cus_1", T0, T1, "20", subscription_id="sub_1"),
        sub("cus_1", T2, None, "20", subscription_id="sub_2"),
    ]
    with workspace({"subscriptions": returning}, as_of=date(2026, 3, 31)) as ws:
        account = by_period(ws.movements())
    with workspace({"subscriptions": returning}, as_of=date(2026, 3, 31), movement_grain="subscription") as ws:
        per_subscription = by_period(ws.movements())
    assert (account["2026-03"]["reactivation_mrr"], account["2026-03"]["new_mrr"]) == (D(20), D(0))
    assert (per_subscription["2026-03"]["reactivation_mrr"], per_subscription["2026-03"]["new_mrr"]) == (D(0), D(20))


def test_tidemill_revenue_churn_per_subscription_logo_churn_per_customer():
    """Tidemill tests/test_metrics/test_churn_pg.py::TestChurnPg::test_customer_state_tracking: cus_1
    has sub_1 (50.00) and sub_2 (30.00); sub_1 churns on T1, sub_2 on T2. Tidemill: after T1 one
    subscription is active and no logo churn; after T2 one logo churn; two revenue-churn events (one per
    subscription). revbook's default reads February as a contraction of 50 (cus_1 still pays) and only
    March's 30 as churn. movement_grain = "subscription" reproduces the revenue churn: February churn 50
    and March churn 30, one churned subscription each (1 + 1 = Tidemill's 2 events). The logo churn stays
    the customer's at that grain too: end_accounts is 1 at the end of February and 0 at the end of March
    (the one logo lost, in March), and the account grain's churned_accounts (February 0, March 1) is
    Tidemill's logo count."""
    rows = [
        sub("cus_1", T0, T1, "50", subscription_id="sub_1"),
        sub("cus_1", T0, T2, "30", subscription_id="sub_2"),
    ]
    with workspace({"subscriptions": rows}, as_of=date(2026, 3, 31)) as ws:
        account = by_period(ws.movements())
    with workspace({"subscriptions": rows}, as_of=date(2026, 3, 31), movement_grain="subscription") as ws:
        m = by_period(ws.movements())
    assert (account["2026-02"]["contraction_mrr"], account["2026-02"]["churn_mrr"]) == (D(50), D(0))
    assert (account["2026-02"]["churned_accounts"], account["2026-03"]["churned_accounts"]) == (0, 1)
    assert (m["2026-02"]["churn_mrr"], m["2026-02"]["contraction_mrr"], m["2026-02"]["churned_accounts"]) == (
        D(50),
        D(0),
        1,
    )
    assert (m["2026-03"]["churn_mrr"], m["2026-03"]["churned_accounts"]) == (D(30), 1)
    assert m["2026-02"]["churned_accounts"] + m["2026-03"]["churned_accounts"] == 2
    assert (m["2026-02"]["end_accounts"], m["2026-03"]["end_accounts"]) == (1, 0)
    _identity(m)


# -- reproduced: churn_recognition = "cancellation" -------------------------------------------------
def test_tidemill_churn_dated_at_the_cancellation_when_no_end_is_known():
    """Tidemill tests/test_connectors/test_stripe.py::TestSubOccurred::test_canceled_at_takes_priority: a
    subscription created 2023-09-01, status canceled, canceled_at 2023-12-01 and no ended_at: its event
    is dated December 2023. (When the source gives ended_at, Tidemill dates the churn there, as revbook's
    default does: test_updated_cancel_at_period_end and Chargebee's non_renewing keep the MRR until the
    subscription is deleted.) As revbook lines: an open line of 50.00 from 2023-09-01 with
    cancel_requested_at 2023-12-01. revbook's default keeps an open line paying (no churn; 50 at the end of
    January 2024); churn_recognition = "cancellation" reproduces Tidemill: December churn 50 (1 account),
    0 from then on."""
    rows = numbered([sub("cus_1", date(2023, 9, 1), None, "50", cancel_requested_at=date(2023, 12, 1))])
    with workspace({"subscriptions": rows}, as_of=date(2024, 1, 31)) as ws:
        default = by_period(ws.movements())
    with workspace({"subscriptions": rows}, as_of=date(2024, 1, 31), churn_recognition="cancellation") as ws:
        m = by_period(ws.movements())
    assert default["2023-12"]["churn_mrr"] == D(0)
    assert default["2024-01"]["end_mrr"] == D(50)
    assert (m["2023-12"]["churn_mrr"], m["2023-12"]["churned_accounts"]) == (D(50), 1)
    assert m["2023-12"]["end_mrr"] == D(0)
    _identity(m)


# -- not reproduced: revbook's figures beside Tidemill's ---------------------------------------------
def test_tidemill_changes_inside_a_month_are_not_split_by_gross():
    """Tidemill tests/test_metrics/test_mrr_waterfall.py::TestMrrWaterfall::test_waterfall_with_churn_and_
    expansion: cus_1's sub_1 is activated at 50.00 on 2026-01-05 and changed to 90.00 on 2026-01-15; cus_2's
    sub_2 is activated at 20.00 on 2026-01-15 and churned on 2026-01-25. Tidemill's January: new 70
    (50 + 20), expansion 40, churn 20, ending 90; February quiet at 90.

    revbook's default nets at the snapshot: January new 90 (cus_1's MRR at January's end), no churn
    (cus_2's spell is seen by no snapshot). intra_month = "gross" reproduces the churn: cus_2's spell is a
    new 20 and a churn 20, so January is new 110, churn 20, ending 90. It does not reproduce the split of
    cus_1's 90 into new 50 and expansion 40: gross shows spells, not the changes of an account's MRR
    between two snapshots (its first snapshot reads 90, all new). Gains agree (110 = 70 + 40); the kinds do
    not, and no option splits them."""
    rows = [
        sub("cus_1", date(2026, 1, 5), date(2026, 1, 15), "50", subscription_id="sub_1"),
        sub("cus_1", date(2026, 1, 15), None, "90", subscription_id="sub_1"),
        sub("cus_2", date(2026, 1, 15), date(2026, 1, 25), "20", subscription_id="sub_2"),
    ]
    with workspace({"subscriptions": rows}, as_of=date(2026, 2, 28)) as ws:
        net = by_period(ws.movements())
    with workspace({"subscriptions": rows}, as_of=date(2026, 2, 28), intra_month="gross") as ws:
        gross = by_period(ws.movements())
    assert (net["2026-01"]["new_mrr"], net["2026-01"]["churn_mrr"], net["2026-01"]["end_mrr"]) == (D(90), D(0), D(90))
    jan = gross["2026-01"]
    assert (jan["churn_mrr"], jan["end_mrr"]) == (D(20), D(90))  # Tidemill's churn and ending
    assert (jan["new_mrr"], jan["expansion_mrr"]) == (D(110), D(0))  # Tidemill: new 70, expansion 40
    assert jan["new_mrr"] + jan["expansion_mrr"] == D(70) + D(40)
    assert (gross["2026-02"]["start_mrr"], gross["2026-02"]["end_mrr"]) == (D(90), D(90))
    _identity(gross)


def test_tidemill_normalisation_floors_to_the_cent_revbook_rounds_half_even():
    """Tidemill tests/test_connectors/test_stripe.py::TestComputeMrr::test_yearly: a yearly price of
    599.00 is 59900 // 12 = 4991 cents, 49.91 a month (floored; test_daily likewise floors 100 x 365 / 12 =
    3041.67 cents to 30.41). revbook rounds each line once, half-even, to the currency's minor unit:
    599.00 / 12 = 49.9166... -> 49.92. No option changes the rounding. Where the division leaves less
    than half a cent the two agree: 790.00 a year is 65.83 in both (test_base.py::TestComputeMrrCents::
    test_yearly_divides_by_twelve: 6583 cents), and so is a weekly 10.00 (test_weekly: 1000 x 52 / 12 =
    4333.33 cents, 43.33). revbook has no week or day interval (billing_period_months is months), so a
    daily or weekly price comes as the source's monthly `mrr`, which revbook rounds the same way:
    1.00 a day x 365 / 12 = 30.41666... -> 30.42 (Tidemill 30.41), 10.00 a week -> 43.33."""
    rows = numbered(
        [
            sub("yearly", T0, None, amount=D("599.00"), billing_period_months=D(12)),
            sub("yearly_790", T0, None, amount=D("790.00"), billing_period_months=D(12)),
            sub("daily", T0, None, "30.4167"),  # 1.00 x 365 / 12, to 4 places
            sub("weekly", T0, None, "43.3333"),  # 10.00 x 52 / 12
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2026, 1, 31)) as ws:
        mrr = ledger_mrr(ws)
    # Tidemill: 49.91, 65.83, 30.41, 43.33
    assert mrr == {"yearly": D("49.92"), "yearly_790": D("65.83"), "daily": D("30.42"), "weekly": D("43.33")}


def test_tidemill_trial_funnel_by_start_cohort_is_not_revbooks():
    """Tidemill tests/test_metrics/test_trials.py::TestTrialsHandler::test_cohort_funnel_attributes_late_
    conversion_to_start_period and ::test_cohort_funnel_excludes_prior_cohort_conversion: a trial started
    on T0 (January) converts on T1 (February); Tidemill's January funnel is started 1, converted 1, rate
    1.0, and its February funnel started 0, converted 0 (the cohort is the trial's start). revbook's
    trial_to_paid counts a trial in the period it ends: January no trial ended, February 1 ended and 1
    converted (rate 1.0), with either trial_conversion setting; trial_conversion = "trial_start" moves the
    conversion's new MRR (100) to January, not the funnel. (Tidemill's MRR books that new at the trial's
    end, test_trial_conversion_uses_trial_end: revbook's default.)"""
    rows = numbered(
        [
            sub("cus_1", T0, T1, "0", is_trial=True),
            sub("cus_1", T1, None, "100", is_trial=False),
        ]
    )
    for setting in ("paid_start", "trial_start"):
        with workspace({"subscriptions": rows}, as_of=date(2026, 3, 31), trial_conversion=setting) as ws:
            funnel = {r["period"]: r for r in ws.catalogue("trial_to_paid", grain="month").to_pylist()}
            m = by_period(ws.movements())
        assert funnel.get("2026-01", {"trials_ended": 0})["trials_ended"] == 0
        feb = funnel["2026-02"]
        assert (feb["trials_ended"], feb["converted"], feb["conversion_rate"]) == (1, 1, 1.0)
        new_in = "2026-01" if setting == "trial_start" else "2026-02"
        assert m[new_in]["new_mrr"] == D(100)
