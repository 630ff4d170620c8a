"""[catalogue]: the settings of the CS metric catalogue (revbook.metrics.catalogue), parsed and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError
from .keys import check_keys, names

__all__ = ["CatalogueSettings"]


@dataclass(frozen=True)
class CatalogueSettings:
    """The [catalogue] section of revbook.toml, every key with its default (docs/definitions.md)."""

    #: the milestone that marks first value (time to value)
    value_milestone: str = "first_value"
    #: the milestones onboarding needs; onboarding is done on the last of them
    onboarding_milestones: tuple[str, ...] = ("kickoff", "go_live")
    #: onboarding slower than this many days from the first paid day is "slow"
    onboarding_target_days: int = 60
    #: usage metrics that are key features; empty: every usage metric named feature_*
    key_features: tuple[str, ...] = ()
    #: product adoption: usage of the feature in the trailing N days before the period end
    adoption_window_days: int = 30
    #: feature activation: usage within N days of the first paid day
    activation_days: int = 30
    #: the activity types that count as a QBR
    qbr_types: tuple[str, ...] = ("qbr",)
    #: QBR conversion: an expansion or renewal commitment within N days of the QBR
    qbr_window_days: int = 90
    #: activity outcomes of a meeting that did not happen (not counted as held)
    missed_outcomes: tuple[str, ...] = ("no_show", "cancelled", "canceled", "rescheduled")
    #: activity outcomes that record a renewal commitment
    renewal_commitment_outcomes: tuple[str, ...] = ("renewal_committed",)
    #: a contract is renewed when the account pays on its end date or starts paying again within N days
    renewal_grace_days: int = 30
    #: a contract of at least N months (by its contract_end_date or billing period) is multi-year
    multi_year_months: int = 24
    #: a trial converts when a paid line starts within N days after the trial ends
    trial_conversion_days: int = 30
    #: opportunity sources that count as self-serve (no CSM or AE)
    self_serve_sources: tuple[str, ...] = ("product", "self_serve")
    #: the activity types that count as an executive sponsor meeting
    exec_sponsor_types: tuple[str, ...] = ("exec_sponsor_meeting",)
    #: exec sponsor engagement: a meeting in the trailing N days
    exec_sponsor_days: int = 180
    #: the segments exec sponsor engagement is measured on; empty: every segment
    exec_sponsor_segments: tuple[str, ...] = ("enterprise",)
    #: NPS of leavers: a response whose account pays nothing N days later
    nps_churn_days: int = 180

    def __post_init__(self) -> None:
        if not self.onboarding_milestones:
            raise ConfigError("[catalogue] onboarding_milestones must name at least one milestone")
        if self.activation_days < 1 or self.adoption_window_days < 1 or self.exec_sponsor_days < 1:
            raise ConfigError("[catalogue] windows of days must be 1 or more")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> CatalogueSettings:
        """Parse and check the [catalogue] section; unknown keys and wrong types are ConfigErrors."""
        check_keys("catalogue", raw, [f.name for f in fields(cls)])
        defaults = cls()
        values: dict[str, Any] = {}
        for name, value in raw.items():
            default = getattr(defaults, name)
            if isinstance(default, tuple):
                values[name] = names("catalogue", name, value)
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ConfigError(f"[catalogue] {name} must be a whole number of 0 or more", value=value)
                values[name] = value
            else:
                if not isinstance(value, str) or not value:
                    raise ConfigError(f"[catalogue] {name} must be a name", value=value)
                values[name] = value
        return cls(**values)
