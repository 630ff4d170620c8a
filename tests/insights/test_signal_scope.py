"""Scope: each check with a worked pair, a sentence that must fire and its hard negative that must not."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from revbook.insights import find_signals, signal_rules
from revbook.insights.signals.scope import SCOPE_CHECKS, clause_around, out_of_scope

#: check -> (rule, a sentence that fires, the look-alike the check stops)
PAIRS: dict[str, tuple[str, str, str]] = {
    "negated": ("acquisition", "They are being acquired by Northstar Equity.", "They are not being acquired."),
    "negated_after": (
        "champion_left",
        "Paolo is leaving the company at the end of May.",
        "The rumour that Paolo was leaving the company turned out to be false.",
    ),
    "hypothetical": (
        "payment_issue",
        "Their payment is late again and the card was declined.",
        "Their new AP policy means they ask every vendor what happens if a payment is late.",
    ),
    "deferred": (
        "expansion_intent",
        "Asked for 20 more seats next month.",
        "Asked for 20 more seats someday, no timeline.",
    ),
    "third_party": (
        "hiring_growth",
        "They raised a Series B last week.",
        "Their competitor Ventnor Industries raised a Series B.",
    ),
    "news": ("layoffs_reorg", "They announced layoffs this week.", "Lots of tech layoffs in the news this week."),
    "own_company": (
        "layoffs_reorg",
        "Their reorg moved the analysts under Finance.",
        "Our CS team reorg means Marcus will cover them from next month.",
    ),
    "resolved": (
        "budget_cut",
        "They're under a spending freeze until further notice.",
        "The spend freeze is finally over.",
    ),
    "acquirer": (
        "acquisition",
        "Ember Bank is being acquired by Northstar Equity.",
        "We have completed the acquisition of Greystone Care.",
    ),
    "temporary": (
        "champion_left",
        "Our champion Ifeoma is leaving the company in May.",
        "Our champion Ifeoma is leaving for a three-week vacation.",
    ),
    "boilerplate": (
        "payment_issue",
        "Their invoice is 60 days overdue.",
        "Our offices are closed 24 Dec - 2 Jan and payments scheduled then may be late.",
    ),
}


def _hits(texts: list[str], **options: object) -> list[dict[str, object]]:
    notes = pa.table(
        {
            "account_id": [f"A{i}" for i in range(len(texts))],
            "date": [dt.date(2025, 3, 1)] * len(texts),
            "text": texts,
        }
    )
    return find_signals(notes, **options).to_pylist()  # type: ignore[arg-type]


@pytest.mark.parametrize("check", sorted(PAIRS))
def test_each_scope_check_lets_the_signal_through_and_stops_its_look_alike(check: str) -> None:
    rule, fires, stopped = PAIRS[check]
    for model in (None, False):  # the shipped model, and the rules and scope alone
        fired = {h["account_id"] for h in _hits([fires, stopped], model=model) if h["rule"] == rule}
        assert fired == {"A0"}, (check, model)


@pytest.mark.parametrize("check", sorted(PAIRS))
def test_the_look_alike_is_a_candidate_that_the_scope_names(check: str) -> None:
    rule, _, stopped = PAIRS[check]
    candidates = [h for h in _hits([stopped], scope=False) if h["rule"] == rule]
    assert candidates, "the rule's phrase must be there for the scope to stop it"
    expected = {"negated_after": "negated", "deferred": "hypothetical", "news": "third_party"}.get(check, check)
    assert {h["out_of_scope"] for h in candidates} == {expected}


def test_every_check_has_a_worked_pair() -> None:
    assert set(SCOPE_CHECKS) <= set(PAIRS)


def test_a_clause_ends_at_a_comma_a_dash_or_but() -> None:
    s = "No competitive threat here, but they aren't using most of what they pay for"
    start = s.index("aren't using")
    before, after = clause_around(s, start, start + len("aren't using most"))
    assert before == "they " and after == " of what they pay for"
    # the negation of the first clause does not reach the phrase in the second
    rule = next(r for r in signal_rules() if r.name == "underuse")
    assert out_of_scope("underuse", rule.regex, s, negation_inside=False)[0] is None


def test_a_conditional_threat_is_not_a_hypothetical() -> None:
    hits = _hits(["Wendy said if it isn't fixed by May, they won't renew."])
    assert [h["rule"] for h in hits] == ["cancel_intent"]
    assert hits[0]["phrase"] == "n't renew"


def test_news_stops_at_a_contrast() -> None:
    hits = _hits(["Layoffs all over the news, but they're hiring 29 people in Billing this half."])
    assert [h["rule"] for h in hits] == ["hiring_growth"]


def test_a_signature_block_is_not_read() -> None:
    email = "Hi Natalie,\n\nThe new filters are great.\n\nThanks,\nHugo\n\n--\nHugo Fischer\nWe are being acquired"
    assert _hits([email]) == []
    assert [h["rule"] for h in _hits([email.replace("--", "")])] == ["acquisition"]
