"""The churn-reason taxonomy: each reason, the function that owns it, its aliases and keyword rules.

Defaults live here; a workspace overrides them with a mapping (revbook.toml ``[churn_reasons]``)::

    [churn_reasons.price]
    label = "Price / cost"
    owner = "pricing / finance"
    aliases = ["pricing", "too expensive"]
    keywords = ["too expensive", "price increase"]   # regular expressions, matched on lower-cased text

    [churn_reasons.data_residency]                   # a reason of your own
    label = "Data residency"
    owner = "legal"
    keywords = ["data residency", "gdpr"]

A reason given as ``false`` (``data_residency = false``) is removed. ``unknown`` always exists.

Picklist values are compared after :func:`normalise` (case, spacing and punctuation do not matter:
"Low-Adoption " is "low adoption"). An alias given in the configuration wins over a default alias
of another reason; two reasons given the same alias, or an alias that is another reason's code or
label, is a :class:`~revbook.errors.ConfigError`. A picklist value no reason knows is not a reason of
the taxonomy: :func:`unmapped_code` names it, and it stays a reason of its own (see
:mod:`.churn_reasons`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from ..config.insights import reason_overrides
from ..errors import ConfigError

__all__ = ["DEFAULT_REASONS", "UNKNOWN", "Reason", "Taxonomy", "normalise", "taxonomy", "unmapped_code"]

UNKNOWN = "unknown"


def normalise(value: object) -> str:
    """A picklist value as compared: Unicode-normalised, case-folded, every run of punctuation and
    whitespace one space, trimmed ("  Low-Adoption." -> "low adoption"). Not a string: ""."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def unmapped_code(value: object) -> str:
    """The code of a picklist value no reason knows: its normalised text with ``_`` for spaces
    ("Moved to in-house tool" -> "moved_to_in_house_tool"). Never a taxonomy code, since every
    code with spaces for ``_`` is an alias of its reason."""
    return normalise(value).replace(" ", "_")


@dataclass(frozen=True)
class Reason:
    """One reason of the taxonomy."""

    code: str
    label: str
    #: the function that owns fixing it (sales / solutions, product, support, ...)
    owner: str
    #: picklist spellings that mean this reason (matched after lower-casing and trimming)
    aliases: tuple[str, ...] = ()
    #: keyword rules on the free-text comment: regular expressions (RE2 / Python common subset)
    keywords: tuple[str, ...] = ()


def _r(code: str, label: str, owner: str, aliases: str, keywords: tuple[str, ...]) -> Reason:
    return Reason(code, label, owner, tuple(a for a in aliases.split("|") if a), keywords)


#: The default taxonomy, in reporting order. Keywords are deliberately precise: a comment no rule
#: matches goes to the trained text model, which handles paraphrase and misspelling.
DEFAULT_REASONS: tuple[Reason, ...] = (
    _r(
        "fit",
        "Poor fit",
        "sales / solutions",
        "fit|poor fit|bad fit|not a fit|wrong fit|icp|poor product fit|product fit|not a good fit",
        (
            r"\b(not|never|wasn'?t|was not) (a|the) (good |right )?fit\b",
            r"\bpoor (product )?fit\b",
            r"\bbad fit\b",
            r"\bwrong (tool|product|solution) for\b",
        ),
    ),
    _r(
        "adoption",
        "Low adoption / never onboarded",
        "customer success / onboarding",
        "adoption|low adoption|poor adoption|lack of adoption|no adoption|never onboarded|not onboarded"
        "|onboarding|failed onboarding|low usage|no usage|lack of usage|not used|unused|shelfware|low engagement",
        (
            r"\b(low|poor|weak|limited) (user )?(adoption|usage|engagement)\b",
            r"\bnever (fully )?(onboarded|went live|got going)\b",
            r"\bonboarding (was )?never (completed|finished)\b",
            r"\b(nobody|no one|hardly anyone) (really )?(used|uses|was using|logged in)\b",
            r"\bshelfware\b",
        ),
    ),
    _r(
        "missing_features",
        "Missing features / product gaps",
        "product",
        "features|missing features|product gaps|product gap|feature gap|missing feature|functionality",
        (
            r"\bmissing (feature|functionality|integration)s?\b",
            r"\bno (native )?integration with\b",
            r"\b(lacks?|lacking)\b",
            r"\bfeature (gap|request)s?\b",
            r"\broadmap\b",
        ),
    ),
    _r(
        "support",
        "Support",
        "support",
        "support|bad support|poor support|service|customer service",
        (
            r"\bsupport (was|is|team)\b",
            r"\bslow (support|response)s?\b",
            r"\btickets?\b",
            r"\bescalat",
        ),
    ),
    _r(
        "price",
        "Price / cost",
        "pricing / finance",
        "price|pricing|cost|too expensive|expensive|price / cost",
        (
            r"\btoo (expensive|pricey|costly)\b",
            r"\bprice (increase|hike|went up)\b",
            r"\bcheaper\b",
            r"\bcost(s)? (too much|more than)\b",
            r"\bcan'?t justify the (cost|price|spend)\b",
        ),
    ),
    _r(
        "change_in_needs",
        "Change in needs",
        "customer success",
        "change in needs|needs changed|no longer needed|change of needs",
        (
            r"\bno longer need",
            r"\bdon'?t need (it|this|the)\b",
            r"\bproject (ended|finished|was cancelled)\b",
            r"\bchanged (direction|strategy|focus)\b",
        ),
    ),
    _r(
        "financial_struggle",
        "Financial struggle",
        "finance / collections",
        "financial|financial struggle|bankruptcy|out of business|insolvency|went under",
        (
            r"\bbankrupt",
            r"\bout of business\b",
            r"\binsolven",
            r"\bcash ?flow\b",
            r"\bshut(ting)? down\b",
            r"\bclosed (the|their) (business|doors)\b",
        ),
    ),
    _r(
        "acquisition",
        "Acquisition / merger",
        "customer success / executive sponsor",
        "acquisition|merger|acquired|m&a|acquisition / merger",
        (
            r"\b(was|were|got|been|being) (acquired|bought)\b",
            r"\bacquisition\b",
            r"\bmerg(er|ed)\b",
            r"\bnew (parent|owner)s?\b",
        ),
    ),
    _r(
        "champion_left",
        "Champion left",
        "customer success",
        "champion left|champion|sponsor left|lost champion",
        (
            r"\bchampion\b",
            r"\b(our|the|main) (contact|sponsor|admin) (left|quit|departed)\b",
            r"\bnew (cto|cfo|ceo|vp|head of|director)\b",
        ),
    ),
    _r(
        "competitor",
        "Competitor",
        "product marketing / sales",
        "competitor|competition|switched|lost to competitor",
        (
            r"\bcompetitor\b",
            r"\bswitch(ed|ing) to\b",
            r"\bmoved to (a )?(competitor|another vendor)\b",
            r"\bwent with\b",
        ),
    ),
    _r(
        "budget_cut",
        "Budget cut",
        "customer success / executive sponsor",
        "budget|budget cut|budget cuts|budget freeze",
        (
            r"\bbudget (cut|freeze|was cut|got cut|reduction)s?\b",
            r"\bcost[- ]cutting\b",
            r"\bspending freeze\b",
        ),
    ),
    _r(UNKNOWN, "Unknown", "revops (ask for a reason)", "unknown|other|n/a|na|none|not given|-", ()),
)


@dataclass(frozen=True)
class Taxonomy:
    """The reasons in use: defaults merged with the caller's overrides."""

    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def get(self, code: str) -> Reason:
        for r in self.reasons:
            if r.code == code:
                return r
        raise ConfigError(f"unknown churn reason '{code}'", hint=f"use one of: {', '.join(self.codes)}")

    def owner(self, code: str) -> str:
        return self.get(code).owner

    def aliases(self) -> dict[str, str]:
        """Normalised picklist spelling (:func:`normalise`) -> code (codes and labels included)."""
        out: dict[str, str] = {}
        for r in self.reasons:
            for a in (r.code, r.label, *r.aliases):
                key = normalise(a)
                if key:
                    out.setdefault(key, r.code)
        return out

    def lookup(self, value: object) -> str | None:
        """The code a picklist value names (by code, label or alias, after :func:`normalise`), or None."""
        return self.aliases().get(normalise(value))


def taxonomy(overrides: Mapping[str, object] | None = None) -> Taxonomy:
    """The taxonomy: :data:`DEFAULT_REASONS` with ``overrides`` (code -> fields, or ``False`` to drop).

    Fields of an override: ``label``, ``owner``, ``aliases``, ``keywords`` (regular expressions),
    and ``replace_keywords`` (default false: keywords are added to the default ones). The
    workspace's [churn_reasons] (``config.churn_reasons``) are such overrides, already checked.
    An alias given here is taken from any other reason's default aliases (the configuration wins).
    """
    reasons = {r.code: r for r in DEFAULT_REASONS}
    claimed: dict[str, str] = {}  # normalised alias given in the overrides -> its reason
    for code, spec in reason_overrides(overrides).items():
        if spec is None:
            reasons.pop(code, None)
            continue
        for a in spec.aliases:
            key = normalise(a)
            if claimed.get(key, code) != code:
                raise ConfigError(
                    f"the alias '{a}' is given to two churn reasons: {claimed[key]} and {code}",
                    hint="keep it under one [churn_reasons.<code>] only",
                )
            claimed[key] = code
        base = reasons.get(code) or Reason(code, code.replace("_", " ").capitalize(), "unassigned")
        reasons[code] = Reason(
            code,
            base.label if spec.label is None else spec.label,
            base.owner if spec.owner is None else spec.owner,
            base.aliases + spec.aliases,
            spec.keywords if spec.replace_keywords else base.keywords + spec.keywords,
        )
    for key, owner in claimed.items():
        for r in reasons.values():
            if r.code != owner and key in (normalise(r.code), normalise(r.label)):
                raise ConfigError(
                    f"the alias '{key}' of [churn_reasons.{owner}] is the code or label of the reason '{r.code}'",
                    hint=f"drop it, or drop the reason ([churn_reasons] {r.code} = false)",
                )
    reasons = {
        c: Reason(c, r.label, r.owner, tuple(a for a in r.aliases if claimed.get(normalise(a), c) == c), r.keywords)
        for c, r in reasons.items()
    }
    ordered = [r for c, r in reasons.items() if c != UNKNOWN] + [reasons[UNKNOWN]]
    return Taxonomy(tuple(ordered))
