"""[attribution]: the windows and touch types of expansion attribution (revbook.impact.attribution), checked.

    [attribution]
    deal_days_before = 45      # a won expansion deal closed up to this many days before a line's change ...
    deal_days_after = 15       # ... or up to this many days after it explains the change
    touch_days = 60            # a CSM touch (activity) this many days before a change, up to its day
    touch_types = ["qbr", "ebr", "exec_sponsor_meeting", "renewal_call", "onboarding_call",
                   "check_in", "success_plan", "expansion_call"]   # the activity types that are CSM touches
    missed_outcomes = ["no_show", "cancelled", "canceled", "rescheduled"]  # an activity so ended is no touch

docs/attribution.md says how each is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, names

__all__ = ["AttributionSettings"]

SECTION = "attribution"
#: the most days a window may reach (a little over two years)
MAX_DAYS = 800


@dataclass(frozen=True)
class AttributionSettings(Section):
    """The [attribution] section of revbook.toml, checked."""

    #: a won expansion deal closed at most this many days before a line's change explains it
    deal_days_before: int = 45
    #: ... or at most this many days after it (a deal booked once the seats are live)
    deal_days_after: int = 15
    #: a touch counts when it is at most this many days before the change (or on its day)
    touch_days: int = 60
    #: the activity types that are touches of the CSM (lower case, as loaded)
    touch_types: tuple[str, ...] = (
        "qbr",
        "ebr",
        "exec_sponsor_meeting",
        "renewal_call",
        "onboarding_call",
        "check_in",
        "success_plan",
        "expansion_call",
    )
    #: an activity with one of these outcomes did not happen: no touch
    missed_outcomes: tuple[str, ...] = ("no_show", "cancelled", "canceled", "rescheduled")

    SECTION = SECTION

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [attribution] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    for name in ("deal_days_before", "deal_days_after", "touch_days"):
        if name in values:
            days = integer(SECTION, name, values[name])
            if not 0 <= days <= MAX_DAYS:
                raise ConfigError(
                    f"[attribution] {name} must be a whole number of days from 0 to {MAX_DAYS}, got {values[name]}",
                    value=values[name],
                    hint="the defaults are deal_days_before = 45, deal_days_after = 15, touch_days = 60",
                )
            out[name] = days
    for name in ("touch_types", "missed_outcomes"):
        if name in values:
            given = names(SECTION, name, values[name])
            cleaned = tuple(v.strip().lower() for v in given)
            if any(not v for v in cleaned):
                raise ConfigError(f"[attribution] {name} holds an empty name", value=values[name])
            out[name] = cleaned
    if "touch_types" in out and not out["touch_types"]:
        raise ConfigError(
            "[attribution] touch_types is empty: no activity would count as a touch",
            hint='list the activity types your CSMs log, e.g. touch_types = ["qbr", "check_in"]',
        )
    return out
