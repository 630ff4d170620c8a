"""Trigger phrases in notes: rules, scope, a classifier's confidence, accuracy, lift, and
point-in-time features.

A rule is a set of regular expressions (RE2 syntax, which DuckDB runs; matched case-insensitively)
with a polarity: ``risk``, ``expansion`` or ``both``. A sentence is a candidate for a rule when one
pattern matches and none of its exclusions does; a candidate is a signal when its phrase is in scope
(:mod:`.scope`: not negated, not hypothetical, about this customer rather than a third party, the
news or us, not a resolved event, not a footer) and the classifier (:mod:`.model`) is confident
enough. Candidates are found in DuckDB over the whole column; scope and confidence run on the
candidates only. :mod:`.corpus` reads labelled notes, holds the fixed split of the cs-notes corpus,
measures per-family accuracy and trains the model.
"""

from __future__ import annotations

from .corpus import note_accuracy, read_labelled_notes, train_signal_model
from .evaluation import signal_accuracy, signal_lift
from .features import signal_features
from .model import SignalModel
from .rules import DEFAULT_RULES, SignalRule, signal_rules
from .scan import find_signals

__all__ = [
    "DEFAULT_RULES",
    "SignalModel",
    "SignalRule",
    "find_signals",
    "note_accuracy",
    "read_labelled_notes",
    "signal_accuracy",
    "signal_features",
    "signal_lift",
    "signal_rules",
    "train_signal_model",
]
