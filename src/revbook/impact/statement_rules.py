"""The refusal rules of the impact statements and the readings of renewal rate beside NRR, each in one
table that docs/impact-statements.md renders from (a test keeps the two the same).

A candidate statement is verified when no rule refuses it; the first rule that applies (in the order
of :data:`RULES`) refuses it and its reason says why, with the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import ImpactStatementsSettings

__all__ = ["READINGS", "RULES", "RULE_BY_CODE", "Reading", "Rule", "reading", "readings_markdown", "rules_markdown"]


@dataclass(frozen=True)
class Rule:
    """One refusal: its code, what it applies to, when it refuses, and the setting it reads."""

    code: str
    applies: str
    text: str
    setting: str = ""


#: the refusals, in the order they are tried on a candidate
RULES: tuple[Rule, ...] = (
    Rule(
        "activity_only",
        "an activity count",
        'a count of touchpoints without an outcome ("ran 50 QBRs"): activity is the method, not the result',
    ),
    Rule(
        "too_few_accounts",
        "every change",
        "fewer than min_accounts accounts in either window: too few to say the book changed",
        "min_accounts",
    ),
    Rule(
        "no_change",
        "every change",
        "a level without a change (95% -> 95%): the change is smaller than min_change points (for counts: "
        "min_change percent of the before level)",
        "min_change",
    ),
    Rule(
        "wrong_way",
        "every change",
        "the measure moved the wrong way (churn up, retention down): not an improvement to claim",
    ),
    Rule(
        "inside_noise",
        "every change",
        "the change's bootstrap interval (confidence, over the accounts of both windows) spans 0",
        "confidence",
    ),
    Rule(
        "product_driven",
        "an NRR gain",
        "product-driven and self-serve expansion (impact.attribution) make at least product_share of the "
        "window's gross expansion: the product, not the CSM, grew the book",
        "product_share",
    ),
    Rule(
        "satisfaction_without_retention",
        "an NPS gain",
        "NPS rose but GRR did not (flat or down): satisfaction without retention",
        "min_change",
    ),
    Rule(
        "save_not_credible",
        "a save claim",
        "the claimed saves were never credibly at risk (impact.saves: never_at_risk or uncertain); a save "
        "counts only when credible",
    ),
)
RULE_BY_CODE = {r.code: r for r in RULES}


@dataclass(frozen=True)
class Reading:
    """How a renewal rate and an NRR read together."""

    renewal: str
    nrr: str
    text: str


#: the readings of the pair: renewal "high" at or above renewal_high; NRR "strong" at or above
#: nrr_strong, "growing" at or above 100%, "shrinking" below
READINGS: tuple[Reading, ...] = (
    Reading("high", "strong", "broad retention and strong expansion"),
    Reading("high", "growing", "broad retention, modest expansion"),
    Reading("high", "shrinking", "renewals kept but accounts shrank: contraction at or between renewals"),
    Reading("low", "strong", "churn offset by upsells: growth rests on the accounts that stayed"),
    Reading("low", "growing", "churn offset by upsells"),
    Reading("low", "shrinking", "losing at renewal and not making it up: the book is shrinking"),
)


def reading(renewal_rate: float, nrr: float, settings: ImpactStatementsSettings) -> str:
    """The reading of a renewal rate beside an NRR (shares, 0.95 and 1.15)."""
    r = "high" if renewal_rate >= settings.renewal_high else "low"
    n = "strong" if nrr >= settings.nrr_strong else "growing" if nrr >= 1 else "shrinking"
    return next(x.text for x in READINGS if x.renewal == r and x.nrr == n)


def rules_markdown() -> str:
    """The rules as the Markdown table docs/impact-statements.md holds."""
    lines = ["| order | rule | applies to | refuses when | setting |", "|---|---|---|---|---|"]
    lines += [
        f"| {i} | `{r.code}` | {r.applies} | {r.text} | {f'`{r.setting}`' if r.setting else ''} |"
        for i, r in enumerate(RULES, 1)
    ]
    return "\n".join(lines)


def readings_markdown() -> str:
    """The readings as the Markdown table docs/impact-statements.md holds."""
    lines = ["| renewal rate | NRR | reading |", "|---|---|---|"]
    words = {
        "high": "at or above `renewal_high`",
        "low": "below `renewal_high`",
        "strong": "at or above `nrr_strong`",
        "growing": "100% up to `nrr_strong`",
        "shrinking": "below 100%",
    }
    lines += [f"| {words[x.renewal]} | {words[x.nrr]} | {x.text} |" for x in READINGS]
    return "\n".join(lines)
