"""The signal rules: :class:`SignalRule`, the :data:`DEFAULT_RULES` and their overrides from
``[signals]`` of revbook.toml (:func:`signal_rules`); the negation, hypothetical and sentence patterns
the scan applies to every rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...config.insights import signal_overrides
from ...errors import ConfigError

NEGATION = r"(?:\bnot|\bno|\bnever|\bwithout|\bnor|\bnone|\bcannot|n't)"
HYPOTHETICAL = r"(?:\bif|\bwhether|\bin case|\bsuppose|\bsupposing|\bhypothetically|\bunless|\bin the event)"
#: up to {} words between a negation / hypothetical and the phrase (no punctuation crossed)
WORDS = r"(?:\s+[\w']+){{0,{}}}?\s+"
#: sentences end at . ! ? ; followed by space or the end, or at a line break
SENTENCE_SPLIT = r"[.!?;]+(?:\s+|$)|[\r\n]+"
#: the longest sentence returned in a hit (longer ones are cut, with "...")
MAX_SENTENCE = 1000


@dataclass(frozen=True)
class SignalRule:
    name: str
    polarity: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    #: a negation inside the matched phrase also blocks it (off for phrases that are negative by
    #: nature, such as "not using all the functionality")
    negation_inside: bool = True
    description: str = ""

    @property
    def regex(self) -> str:
        return "(?i:" + "|".join(f"(?:{p})" for p in self.patterns) + ")"


_NAME = r"[a-z][\w&.-]+"
DEFAULT_RULES: tuple[SignalRule, ...] = (
    SignalRule(
        "acquisition",
        "risk",
        (
            r"\b(?:being|been|was|were|is|are|got|get|getting|gets) (?:acquired|bought)\b",
            r"\bacquired by\b",
            r"\bbought (?:out )?by\b",
            r"\bacquisition (?:by|of)\b",
            r"\bacquisit?ion\b",
            r"\bmerg(?:er|ing) with\b",
            r"\bmerger\b",
            r"\bnew parent company\b",
        ),
        exclude=(
            r"merger of (?:the |our |their )?(?:two )?(?:internal|teams|departments)",
            r"\binternal (?:team )?merger\b",
            r"merg\w* (?:the |two )?(?:teams|departments|branches|pull)",
        ),
        description="acquisition or merger of the customer",
    ),
    SignalRule(
        "champion_left",
        "risk",
        (
            r"\b(?:champion|main contact|sponsor|admin|point of contact)\b[^.;]{0,40}?"
            r"\b(?:is leaving|leaving|has left|left|resigned|quit|departed|moving on|moved on)\b",
            r"\bnew (?:vp|cto|cfo|ceo|coo|cio|head of|director|chief)\b",
            r"\b(?:resigned|has left the company|left the company)\b",
        ),
        description="new executive, or the champion / main contact left",
    ),
    SignalRule(
        "budget_cut",
        "risk",
        (
            r"\bbudget (?:cut|cuts|freeze|reductions?)\b",
            r"\bbudget (?:was |got |has been |is being )?(?:cut|slashed|reduced|frozen)\b",
            r"\bspending freeze\b",
            r"\bcut(?:ting)? costs\b",
            r"\bcost[- ]cutting\b",
        ),
        description="budget cut or spending freeze",
    ),
    SignalRule(
        "layoffs_reorg",
        "risk",
        (
            r"\blaid off\b",
            r"\blayoffs?\b",
            r"\breorgani[sz]ation\b",
            r"\breorg\b",
            r"\brestructur(?:ed|ing)\b",
            r"\bredundancies\b",
        ),
        description="layoffs or reorganisation",
    ),
    SignalRule(
        "competitor",
        "risk",
        (
            r"\b(?:evaluating|trial+ing|piloting|demo of|comparison with|comparing (?:us )?(?:with|to|against)"
            r"|switching to|moving to|in talks with)\s+" + _NAME,
            r"\b(?:evaluating|considering|looking at) (?:other|another|alternative) "
            r"(?:vendors?|tools?|solutions?|platforms?)\b",
            r"\bcompetitors?\b",
        ),
        exclude=(
            r"\b(?:evaluating|piloting|moving to|switching to) (?:the|our|a|an|their|it|this|that) "
            r"(?:new )?(?:dashboard|feature|plan|module|workflow|report|api)",
        ),
        description="a competitor named or being evaluated",
    ),
    SignalRule(
        "underuse",
        "both",
        (
            r"\b(?:not|n't|don'?t|dont|doesn'?t) (?:using|use|utili[sz]ing) (?:all|most|much|many|half|the)\b",
            r"\bonly using (?:about |around )?(?:half|a fraction|some|part)\b",
            r"\blow adoption\b",
            r"\bnot using all\b",
        ),
        negation_inside=False,
        description="not using all the functionality: a risk and a cross-sell / enablement opening",
    ),
    SignalRule(
        "new_team",
        "expansion",
        (
            r"\bnew (?:office|team|region|product line|business unit|subsidiary|location)\b",
            r"\bopening (?:a |an )?(?:new )?(?:office|site|location)\b",
            r"\bexpanding (?:into|to) (?:a |the )?(?:new )?\w+",
            r"\blaunching a new\b",
        ),
        description="a new team, office, region or product line",
    ),
    SignalRule(
        "expansion_intent",
        "expansion",
        (
            r"\b(?:add|adding|buy|more|additional|extra) (?:\d+ )?(?:more |additional |extra )?"
            r"(?:seats|licen[cs]es|users)\b",
            r"\banother (?:department|team|division|business unit)\b",
            r"\broll (?:it )?out (?:to|too)\b",
            r"\bupgrad(?:e|ing) to\b",
            r"\bwants? (?:access|to roll)\b",
        ),
        description="expansion intent: more seats, another department, an upgrade",
    ),
)


def signal_rules(overrides: Mapping[str, object] | None = None) -> tuple[SignalRule, ...]:
    """The rules: :data:`DEFAULT_RULES` with ``overrides`` (name -> fields, or ``False`` to drop).

    Fields: ``patterns`` (replace the defaults), ``add_patterns`` (added), ``polarity``,
    ``exclude``, ``negation_inside``, ``description``.
    """
    rules = {r.name: r for r in DEFAULT_RULES}
    for name, spec in signal_overrides(overrides).items():
        if spec is None:
            rules.pop(name, None)
            continue
        base = rules.get(name) or SignalRule(name, spec.polarity or "risk", ())
        patterns = (base.patterns if spec.patterns is None else spec.patterns) + spec.add_patterns
        if not patterns:
            raise ConfigError(f"[signals.{name}] needs at least one pattern")
        rules[name] = SignalRule(
            name,
            spec.polarity or base.polarity,
            patterns,
            base.exclude if spec.exclude is None else spec.exclude,
            base.negation_inside if spec.negation_inside is None else spec.negation_inside,
            base.description if spec.description is None else spec.description,
        )
    if not rules:
        raise ConfigError("no signal rules left", hint="keep at least one rule in [signals]")
    return tuple(rules.values())
