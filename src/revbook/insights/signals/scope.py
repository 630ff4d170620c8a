"""Scope: whether a rule's phrase, found in a sentence, speaks of this customer, now, as a fact.

A phrase is **out of scope** (the hit is dropped) when, inside its clause (the words between
commas, colons, dashes, brackets, quotes or "but / though / while / whereas"):

- ``negated``: a negation comes up to four words before it ("**no** plans to cut budget", "they
  are **not** being acquired") or follows it ("the rumour ... turned out to be **false**");
- ``hypothetical``: a condition or a question comes before it ("**if** a payment is late",
  "**whether** our contract has a change-of-control clause", "**what happens if**", "someday");
- ``third_party``: the sentence is about someone else or the news ("**their competitor** raised a
  round", "layoffs **in the news**", "**their own customers** are cutting costs", "the industry");
- ``own_company``: the phrase is about us, the vendor ("**our** reorg", "**our** Starter tier price cut");
- ``resolved``: the event is over ("the spend freeze **is finally over**", "the invoice **was paid**");
- ``acquirer`` (acquisition only): the customer, or a third party, is the one acquiring ("they're
  **acquiring** a small business", "completed **the acquisition of** Greystone");
- ``boilerplate``: a footer, a disclaimer or an out-of-office line ("Invoices must quote a valid PO
  number", "This email and any attachments are confidential").

Each check is a list of regular expressions below, so a worked sentence per check is a test.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["SCOPE_CHECKS", "clause_around", "compiled", "out_of_scope"]

_F = re.IGNORECASE

#: where a clause ends
CLAUSE_BREAK = re.compile(
    r"[,:;()\[\]\"\u201c\u201d\u2013\u2014\u2022*]|\s-\s|\s+(?:but|though|although|however|whereas|while|yet)\s+",
    _F,
)

NEGATORS = re.compile(
    r"\b(?:not|no|never|without|nor|none|cannot|nothing|neither|zero)\b|n't\b|\bdont\b|\bwont\b|\bisnt\b|\barent\b",
    _F,
)
NEGATED_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,12}?(?:turned out (?:to be )?(?:false|wrong|untrue)|(?:was|were|is|are) (?:false|untrue"
    r"|unfounded)"
    r"|(?:is|are|was|were) not (?:happening|planned|true)|(?:isn|aren|wasn|weren)'?t (?:happening|planned|true)"
    r"|won'?t happen|never happened|didn'?t happen|fell through"
    r"|(?:are|is|were|was) (?:unaffected|untouched|not affected))",
    _F,
)
HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|in case|suppose|supposing|hypothetically|unless|in the event|what happens|what if"
    r"|someday|some day|one day|in theory|would it|would we|would you|how to|how do|how would|asked how"
    r"|asked (?:about|what|whether))\b",
    _F,
)
DEFERRED = re.compile(r"\b(?:someday|some day|one day|eventually|at some point|in the future|next year maybe)\b", _F)
THIRD_PARTY = re.compile(
    r"\b(?:sister company|rumou?rs? about|their sector|(?:the|their) market"
    r"|their (?:own )?(?:customers?|clients?|prospects?|competitors?|rivals?|suppliers?|partners?|subscribers?)"
    r"|(?:other|many) (?:companies|customers|firms)|a (?:friend|peer) (?:at|of)|former (?:champion|contact)"
    r"|(?:at|for) (?:his|her|their) (?:new|previous|old) (?:company|employer|job))\b",
    _F,
)
OWN_COMPANY = re.compile(
    r"\bour (?:own )?(?:\w+ ){0,2}(?:reorg\w*|restructur\w*|layoffs?)\b"
    r"|\bour (?:own )?(?:company|side|pricing|prices?|price (?:cut|change|increase)s?"
    r"|starter|tier|plans?|acquisition of|merger with|ceo'?s?|team'?s? (?:reorg|restructur)|renewed|soc)\b"
    r"|\bwe (?:were|got|have been|'ve been) acquired\b(?=.*\b(?:our|we) (?:customers|clients)\b)",
    _F,
)
RESOLVED = re.compile(
    r"\b(?:is|are|was|were|has been|have been|'s) (?:now |finally |long |all )?(?:over|resolved|lifted|sorted|settled"
    r"|fixed|done|behind (?:us|them)|history|paid|cleared|reversed|back to normal|complete|closed)\b"
    r"|\bafter the (?:reorg\w*|restructur\w*|merger|acquisition|freeze)\b|\blast year\b"
    r"|\b(?:from|since) last year\b|\blast year'?s\b|\bback in (?:19|20)\d\d\b|\bin 20(?:1\d|2[0-3])\b"
    r"|\bno longer (?:an issue|a problem|relevant|frozen)\b|\ball square\b|\bpaid (?:on|in full)\b|\bended\b"
    r"|\balready (?:handled|resolved|paid|replaced)\b",
    _F,
)
#: what follows "until", "once", "pending" is not yet so ("withholding payment until it is resolved")
PENDING = re.compile(r"\b(?:until|till|unless|once|pending|before|when)\b", _F)
ACQUIRER = re.compile(
    r"\b(?:acquiring|acquisition of|bought|buying|to buy|purchase of|snapped up)\s+(?:a|an|two|three|several|another"
    r"|some|small|the|[A-Z]\w+)\b|\bacquired (?!by\b)(?:a|an|two|several|another|small|[A-Z]\w+)\b"
    r"|\bacquisitions?\b.{0,30}\bspree\b",
)
NEWS = re.compile(
    r"\b(?:in the news|all over the news|news about|newsletter|headlines?|article|press coverage|linkedin"
    r"|(?:the|their|our) industry|industry-wide|everyone in)\b",
    _F,
)
#: a contrast word ends the stretch a piece of news covers ("layoffs in the news, but they are hiring")
CONTRAST = re.compile(r"\s+(?:but|though|although|however|whereas|yet)\s+|;", _F)
TEMPORARY = re.compile(
    r"\b(?:vacation|holiday|parental leave|maternity|paternity|sabbatical|sick leave|off sick|out sick|on leave"
    r"|back (?:on|in|mid|next|from)|covering (?:for|while)|out of (?:the )?office)\b",
    _F,
)
BOILERPLATE = re.compile(
    r"\b(?:confidential|intended solely|intended only|the addressee|must quote|will be returned unpaid|send invoices to"
    r"|offices? (?:are|is|will be) closed|payments scheduled|sent from my|out of (?:the )?office"
    r"|unsubscribe|disclaimer|registered office|privacy notice|brand refresh)\b",
    _F,
)

#: check name -> the rules it applies to (None: every rule)
SCOPE_CHECKS: dict[str, frozenset[str] | None] = {
    "negated": None,
    "hypothetical": None,
    "third_party": frozenset(
        {
            "acquisition",
            "budget_cut",
            "layoffs_reorg",
            "competitor",
            "champion_left",
            "payment_issue",
            "hiring_growth",
            "cancel_intent",
        }
    ),
    "own_company": frozenset({"acquisition", "budget_cut", "layoffs_reorg", "cancel_intent", "renewal_commit"}),
    "resolved": frozenset(
        {
            "acquisition",
            "budget_cut",
            "layoffs_reorg",
            "competitor",
            "champion_left",
            "payment_issue",
            "cancel_intent",
            "exec_escalation",
            "underuse",
        }
    ),
    "acquirer": frozenset({"acquisition"}),
    "temporary": frozenset({"champion_left"}),
    "boilerplate": None,
}


def clause_around(sentence: str, start: int, end: int) -> tuple[str, str]:
    """The clause's words before the phrase and after it (the phrase itself left out)."""
    before = sentence[:start]
    after = sentence[end:]
    cut = None
    for m in CLAUSE_BREAK.finditer(before):
        cut = m.end()
    if cut is not None:
        before = before[cut:]
    m2 = CLAUSE_BREAK.search(after)
    if m2 is not None:
        after = after[: m2.start()]
    return before, after


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled by Python (case-insensitive), or None for an RE2 construct Python lacks."""
    try:
        return re.compile(pattern, _F)
    except re.error:  # an RE2 construct Python lacks: the whole sentence is the phrase
        return None


def _span(sentence: str, start: int, end: int) -> str:
    """The stretch of the sentence around the phrase between contrast words."""
    lo = 0
    for m in CONTRAST.finditer(sentence[:start]):
        lo = m.end()
    m2 = CONTRAST.search(sentence, end)
    return sentence[lo : m2.start() if m2 else len(sentence)]


def _last_words(text: str, n: int) -> str:
    words = re.findall(r"[\w'&]+", text)
    return " ".join(words[-n:])


def _check(name: str, rule: str, negation_inside: bool, sentence: str, start: int, end: int) -> bool:
    before, after = clause_around(sentence, start, end)
    phrase = sentence[start:end]
    if name == "negated":
        if NEGATORS.search(_last_words(before, 4)):
            return True
        if negation_inside and NEGATORS.search(phrase):
            return True
        return bool(NEGATED_AFTER.search(after))
    if name == "hypothetical":
        return bool(HYPOTHETICAL.search(_last_words(before, 10)) or DEFERRED.search(after))
    if name == "third_party":
        return bool(THIRD_PARTY.search(before + phrase + after) or NEWS.search(_span(sentence, start, end)))
    if name == "own_company":
        return bool(OWN_COMPANY.search(before + phrase))
    if name == "resolved":
        pending = PENDING.search(after)
        return bool(RESOLVED.search(before + phrase + (after[: pending.start()] if pending else after)))
    if name == "acquirer":
        return bool(ACQUIRER.search(before + phrase + after))
    if name == "temporary":
        return bool(TEMPORARY.search(sentence))
    if name == "boilerplate":
        return bool(BOILERPLATE.search(sentence))
    raise ValueError(name)


def out_of_scope(rule: str, pattern: str, sentence: str, *, negation_inside: bool = True) -> tuple[str | None, str]:
    """(None and the phrase) when one match of ``pattern`` in ``sentence`` is in scope; else (the
    first failed check, the first phrase). ``pattern`` is the rule's combined regular expression."""
    rx = compiled(pattern)
    spans = [(m.start(), m.end()) for m in rx.finditer(sentence) if m.end() > m.start()] if rx is not None else []
    if not spans:
        spans = [(0, len(sentence))]
    first_reason: str | None = None
    for start, end in spans:
        reason = next(
            (
                name
                for name, rules in SCOPE_CHECKS.items()
                if (rules is None or rule in rules) and _check(name, rule, negation_inside, sentence, start, end)
            ),
            None,
        )
        if reason is None:
            return None, sentence[start:end]
        first_reason = first_reason or reason
    return first_reason, sentence[spans[0][0] : spans[0][1]]
