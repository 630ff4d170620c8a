"""Trigger phrases in notes: rules, hits, accuracy, lift, and point-in-time features.

A rule is a set of regular expressions (RE2 syntax, which DuckDB runs; matched case-insensitively)
with a polarity: ``risk``, ``expansion`` or ``both``. A sentence fires a rule when one pattern
matches and none of these holds:

- a negation up to three words before the phrase ("we are **not** being acquired", "**no** budget
  cuts", "they **won't** add another department"), or inside it ("our champion is **not** leaving");
- a hypothetical up to six words before it ("**if** we were acquired", "**whether** they get
  acquired", "**in case** of layoffs");
- one of the rule's exclusions ("the merger of two internal teams").

Everything runs in DuckDB over the whole column (a prefilter on any rule, then sentences of the
candidate notes, then one regular-expression pass per rule): no Python loop over notes.
"""

from __future__ import annotations

from .evaluation import signal_accuracy, signal_lift
from .features import signal_features
from .rules import DEFAULT_RULES, SignalRule, signal_rules
from .scan import find_signals

__all__ = [
    "DEFAULT_RULES",
    "SignalRule",
    "find_signals",
    "signal_accuracy",
    "signal_features",
    "signal_lift",
    "signal_rules",
]
