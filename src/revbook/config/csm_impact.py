"""[csm_impact]: risk-adjusted CSM impact and capacity (revbook.impact.csm, revbook.impact.capacity), checked.

Settings (docs/csm-impact.md has what each one does)::

    [csm_impact]
    window = 12                  # months from the cohort's start to its end
    folds = 5                    # k of the k-fold over accounts (out-of-fold expectations)
    draws = 1000                 # bootstrap draws per CSM
    confidence = 0.9             # the bootstrap interval's level
    min_accounts = 15            # below this many accounts at the start, no verdict
    seed = 0                     # the folds' and the bootstrap's seed
    segment_weights = { smb = 1.0, mid_market = 1.5, enterprise = 2.5 }
    other_segment_weight = 1.0   # a segment not listed, or none
    product_weight = 0.25        # per running product beyond the first
    risk_weight = 1.0            # an open risk: red health, a cancel request or an open escalated case
    renewal_weight = 0.5         # a renewal due in the next renewal_days
    renewal_days = 90
    escalation_weight = 0.25     # per escalated case opened in the last 90 days
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .keys import Section, as_table, integer, number

__all__ = ["DEFAULT_SEGMENT_WEIGHTS", "CsmImpactSettings"]

DEFAULT_SEGMENT_WEIGHTS: Mapping[str, float] = {"smb": 1.0, "mid_market": 1.5, "enterprise": 2.5}
_SECTION = "csm_impact"


@dataclass(frozen=True)
class CsmImpactSettings(Section):
    """The [csm_impact] section of revbook.toml, checked."""

    #: months from the cohort's start to its end
    window: int = 12
    #: k of the k-fold over accounts: an account's expectation comes from a model fitted without it
    folds: int = 5
    #: bootstrap draws per CSM (accounts resampled within the CSM's book)
    draws: int = 1000
    #: the bootstrap interval's level
    confidence: float = 0.9
    #: below this many accounts at the window's start a CSM gets no verdict
    min_accounts: int = 15
    #: the seed of the folds and of the bootstrap
    seed: int = 0
    #: a segment's weight in an account's complexity
    segment_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SEGMENT_WEIGHTS))
    #: the weight of an account whose segment is not in segment_weights (or has none)
    other_segment_weight: float = 1.0
    #: added per running product beyond the first
    product_weight: float = 0.25
    #: added for an open risk on the date (red health, a cancel request or an open escalated case)
    risk_weight: float = 1.0
    #: added for a renewal due in the next ``renewal_days``
    renewal_weight: float = 0.5
    renewal_days: int = 90
    #: added per escalated case opened in the last 90 days
    escalation_weight: float = 0.25

    SECTION = _SECTION

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _whole(name: str, value: object, low: int, high: int, hint: str | None = None) -> int:
    n = integer(_SECTION, name, value)
    if not low <= n <= high:
        raise ConfigError(f"[{_SECTION}] {name} must be from {low} to {high}, got {value}", value=value, hint=hint)
    return n


def _weight(name: str, value: object) -> float:
    w = number(_SECTION, name, value)
    if not 0 <= w <= 100:
        raise ConfigError(f"[{_SECTION}] {name} must be a weight from 0 to 100, got {value}", value=value)
    return w


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [csm_impact] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "window" in values:
        out["window"] = _whole("window", values["window"], 1, 120, "a number of months, e.g. 12")
    if "folds" in values:
        out["folds"] = _whole("folds", values["folds"], 2, 50, "5 or 10 folds are usual")
    if "draws" in values:
        out["draws"] = _whole("draws", values["draws"], 100, 100_000, "1000 draws give a stable 90% interval")
    if "min_accounts" in values:
        out["min_accounts"] = _whole("min_accounts", values["min_accounts"], 1, 100_000)
    if "seed" in values:
        out["seed"] = _whole("seed", values["seed"], 0, 2**32 - 1)
    if "renewal_days" in values:
        out["renewal_days"] = _whole("renewal_days", values["renewal_days"], 1, 730)
    if "confidence" in values:
        level = number(_SECTION, "confidence", values["confidence"])
        if not 0.5 <= level < 1:
            raise ConfigError(
                f"[{_SECTION}] confidence must be from 0.5 to below 1, got {values['confidence']}",
                value=values["confidence"],
                hint="0.9 for a 90% interval",
            )
        out["confidence"] = level
    for name in ("other_segment_weight", "product_weight", "risk_weight", "renewal_weight", "escalation_weight"):
        if name in values:
            out[name] = _weight(name, values[name])
    if "segment_weights" in values:
        table = as_table(f"{_SECTION}.segment_weights", values["segment_weights"])
        out["segment_weights"] = {str(k): _weight(f"segment_weights.{k}", v) for k, v in table.items()}
    return out
