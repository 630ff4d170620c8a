"""[saves]: what flags an account at risk and how a claimed save is verified (revbook.impact.saves), checked.

Settings (docs/saves.md says what each one does)::

    [saves]
    activity_types = ["save_play", "rescue_call", "escalation_call"]  # activities that flag a save attempt
    activity_outcomes = ["saved", "save_attempt"]                     # ... or whose outcome does
    opportunity_stages = ["save", "rescue", "at_risk"]                # opportunities in these stages flag one
    episode_days = 90          # flags of one account at most this many days apart are one episode
    lookback_days = 730        # the default window of flags: this many days before the as-of date
    renewal_share = 0.5        # renewed: paying at least this share of the pre-flag MRR at the renewal
    horizon_days = 180         # the check date without a contract end, and the model's horizon
    credible_ratio = 2.0       # credible save: probability >= base rate x this ...
    credible_min = 0.2         # ... and >= this
    min_segment_rows = 30      # fewer training rows in the segment: the base rate is too little data
    model = "logistic"         # the health model that scores the flag date: "logistic" or "boosting"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, names, number

__all__ = ["SAVE_MODELS", "SavesSettings"]

#: the health model kinds a save can be scored with (revbook.health.model.HealthModel)
SAVE_MODELS = ("logistic", "boosting")


@dataclass(frozen=True)
class SavesSettings(Section):
    """The [saves] section of revbook.toml, checked."""

    #: activity types that flag a save attempt (activities.type)
    activity_types: tuple[str, ...] = ("save_play", "rescue_call", "escalation_call")
    #: activity outcomes that flag one (activities.outcome)
    activity_outcomes: tuple[str, ...] = ("saved", "save_attempt")
    #: opportunity stages that flag one (opportunities.stage)
    opportunity_stages: tuple[str, ...] = ("save", "rescue", "at_risk")
    #: consecutive flags of an account at most this many days apart are one episode
    episode_days: int = 90
    #: without --start, flags from this many days before the as-of date
    lookback_days: int = 730
    #: renewed: MRR at the check date >= this share of the MRR on the flag date
    renewal_share: float = 0.5
    #: the check date when no renewal date is known, and the model's and base rate's horizon
    horizon_days: int = 180
    #: credible save: probability >= base rate x credible_ratio and >= credible_min
    credible_ratio: float = 2.0
    credible_min: float = 0.2
    #: a segment with fewer training rows than this has too little data for a base rate
    min_segment_rows: int = 30
    #: the health model kind
    model: str = "logistic"

    SECTION = "saves"

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _days(name: str, value: object, low: int, high: int) -> int:
    days = integer("saves", name, value)
    if not low <= days <= high:
        raise ConfigError(f"[saves] {name} must be {low} to {high} days, got {value}", value=value)
    return days


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [saves] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    for key in ("activity_types", "activity_outcomes", "opportunity_stages"):
        if key in values:
            out[key] = names("saves", key, values[key])
    if "episode_days" in values:
        out["episode_days"] = _days("episode_days", values["episode_days"], 0, 3650)
    if "lookback_days" in values:
        out["lookback_days"] = _days("lookback_days", values["lookback_days"], 1, 36500)
    if "horizon_days" in values:
        out["horizon_days"] = _days("horizon_days", values["horizon_days"], 7, 3650)
    if "renewal_share" in values:
        share = number("saves", "renewal_share", values["renewal_share"])
        if not 0 < share <= 1:
            raise ConfigError(
                f"[saves] renewal_share must be above 0 and at most 1, got {values['renewal_share']}",
                value=values["renewal_share"],
                hint="a share of the MRR on the flag date: 0.5 for half of it",
            )
        out["renewal_share"] = share
    if "credible_ratio" in values:
        ratio = number("saves", "credible_ratio", values["credible_ratio"])
        if ratio < 1:
            raise ConfigError(
                f"[saves] credible_ratio must be at least 1, got {values['credible_ratio']}",
                value=values["credible_ratio"],
                hint="a credible save's probability is at least the base rate times this (2: twice the base rate)",
            )
        out["credible_ratio"] = ratio
    if "credible_min" in values:
        low = number("saves", "credible_min", values["credible_min"])
        if not 0 <= low <= 1:
            raise ConfigError(
                f"[saves] credible_min must be a probability from 0 to 1, got {values['credible_min']}",
                value=values["credible_min"],
            )
        out["credible_min"] = low
    if "min_segment_rows" in values:
        rows = integer("saves", "min_segment_rows", values["min_segment_rows"])
        if rows < 1:
            raise ConfigError(f"[saves] min_segment_rows must be 1 or more, got {rows}", value=rows)
        out["min_segment_rows"] = rows
    if "model" in values:
        if values["model"] not in SAVE_MODELS:
            raise ConfigError(
                f"[saves] model must be 'logistic' or 'boosting', got {values['model']!r}",
                value=values["model"],
                hint="the health model that scores each flag date (docs/health.md)",
            )
        out["model"] = values["model"]
    return out
