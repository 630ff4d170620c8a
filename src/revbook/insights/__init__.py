"""Why customers leave: churn reasons (taxonomy, classification, corrections, accuracy, Pareto,
upstream gaps) and trigger signals in notes (rules, accuracy, lift, point-in-time features).

Heavy libraries (scikit-learn) are imported inside the functions that need them.
"""

from __future__ import annotations

from .accuracy import reason_accuracy
from .churn_reasons import (
    CORRECTIONS_TABLE,
    classify_reasons,
    correct_reason,
    pareto,
    reason_events,
    unmapped_reasons,
)
from .model import ReasonModel
from .signals import (
    DEFAULT_RULES,
    SignalRule,
    find_signals,
    signal_accuracy,
    signal_features,
    signal_lift,
    signal_rules,
)
from .taxonomy import DEFAULT_REASONS, Reason, Taxonomy, taxonomy
from .upstream import upstream

__all__ = [
    "CORRECTIONS_TABLE",
    "DEFAULT_REASONS",
    "DEFAULT_RULES",
    "Reason",
    "ReasonModel",
    "SignalRule",
    "Taxonomy",
    "classify_reasons",
    "correct_reason",
    "find_signals",
    "pareto",
    "reason_accuracy",
    "reason_events",
    "signal_accuracy",
    "signal_features",
    "signal_lift",
    "signal_rules",
    "taxonomy",
    "unmapped_reasons",
    "upstream",
]
