"""[impact_statements]: verified impact statements (revbook.impact.statements), checked.

Settings (docs/impact-statements.md has what each one does)::

    [impact_statements]
    window = 12                  # months of the "after" window; "before" is the same length, just before it
    min_accounts = 10            # below this many accounts in either window a statement is refused
    min_change = 1.0             # a change smaller than this (points; or % of the level for counts) is no change
    confidence = 0.9             # the bootstrap interval's level; a change whose interval spans 0 is noise
    draws = 1000                 # bootstrap draws per statement
    seed = 0                     # the bootstrap's seed
    product_share = 0.5          # an NRR gain whose expansion is at least this share product / self-serve is refused
    cadence_ratio = 1.5          # a play's rate per account changed by this factor or more: its cadence changed
    renewal_high = 0.9           # a renewal rate at or above this reads as broad retention
    nrr_strong = 1.1             # an NRR at or above this reads as strong expansion (at or above 1: growing)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, number

__all__ = ["ImpactStatementsSettings"]

_SECTION = "impact_statements"


@dataclass(frozen=True)
class ImpactStatementsSettings(Section):
    """The [impact_statements] section of revbook.toml, checked."""

    #: months of the "after" window; the "before" window is as long and ends where "after" starts
    window: int = 12
    #: below this many accounts in either window a statement is refused (too_few_accounts)
    min_accounts: int = 10
    #: a change smaller than this is a level, not a change: points for rates and NPS, percent of the
    #: before level for counts (usage, tickets)
    min_change: float = 1.0
    #: the level of the change's bootstrap interval; a change whose interval spans 0 is in the noise
    confidence: float = 0.9
    #: bootstrap draws per statement (the accounts of each window resampled)
    draws: int = 1000
    #: the bootstrap's seed
    seed: int = 0
    #: an NRR gain is refused when product-driven and self-serve expansion make at least this share
    #: of the window's gross expansion (impact.attribution)
    product_share: float = 0.5
    #: a play (activities.type) whose rate per account and month changed by this factor or more
    #: between the windows changed cadence
    cadence_ratio: float = 1.5
    #: a renewal rate at or above this reads as broad retention
    renewal_high: float = 0.9
    #: an NRR at or above this reads as strong expansion (at or above 100%: growing)
    nrr_strong: float = 1.1

    SECTION = _SECTION

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _whole(name: str, value: object, low: int, high: int, hint: str | None = None) -> int:
    n = integer(_SECTION, name, value)
    if not low <= n <= high:
        raise ConfigError(f"[{_SECTION}] {name} must be from {low} to {high}, got {value}", value=value, hint=hint)
    return n


def _between(name: str, value: object, low: float, high: float, hint: str, *, open_high: bool = False) -> float:
    x = number(_SECTION, name, value)
    if not (low <= x < high if open_high else low <= x <= high):
        top = f"below {high:g}" if open_high else f"{high:g}"
        raise ConfigError(f"[{_SECTION}] {name} must be from {low:g} to {top}, got {value}", value=value, hint=hint)
    return x


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [impact_statements] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "window" in values:
        out["window"] = _whole("window", values["window"], 1, 60, "a number of months, e.g. 12")
    if "min_accounts" in values:
        out["min_accounts"] = _whole("min_accounts", values["min_accounts"], 1, 100_000)
    if "draws" in values:
        out["draws"] = _whole("draws", values["draws"], 100, 100_000, "1000 draws give a stable 90% interval")
    if "seed" in values:
        out["seed"] = _whole("seed", values["seed"], 0, 2**32 - 1)
    if "min_change" in values:
        out["min_change"] = _between("min_change", values["min_change"], 0, 100, "1.0 for one point")
    if "confidence" in values:
        out["confidence"] = _between(
            "confidence", values["confidence"], 0.5, 1, "0.9 for a 90% interval", open_high=True
        )
    if "product_share" in values:
        out["product_share"] = _between("product_share", values["product_share"], 0, 1, "0.5 for half")
    if "cadence_ratio" in values:
        ratio = number(_SECTION, "cadence_ratio", values["cadence_ratio"])
        if not 1 < ratio <= 100:
            raise ConfigError(
                f"[{_SECTION}] cadence_ratio must be above 1 and at most 100, got {values['cadence_ratio']}",
                value=values["cadence_ratio"],
                hint="1.5: half as many touches again per account",
            )
        out["cadence_ratio"] = ratio
    if "renewal_high" in values:
        out["renewal_high"] = _between("renewal_high", values["renewal_high"], 0, 1, "0.9 for 90%")
    if "nrr_strong" in values:
        out["nrr_strong"] = _between("nrr_strong", values["nrr_strong"], 1, 10, "1.1 for 110%")
    return out
