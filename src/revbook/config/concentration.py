"""[concentration]: the window, the top-N counts and the alert thresholds of concentration and masking
(revbook.impact.concentration), checked.

    [concentration]
    window_months = 12          # the trailing window of the cohort (months)
    tops = [1, 5, 10]           # NRR without the top N expanding accounts, for each N
    logo_divergence = 0.10      # alert when logo retention and GRR differ by more than this (0.10 = 10 points)
    top_share_accounts = 5      # the N of "the top N accounts' share of gross expansion"
    top_share_max = 0.5         # alert when that share is above this
    min_accounts = 10           # no alert for a cohort of fewer accounts (a slice of 3 says little)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, number

__all__ = ["ConcentrationSettings"]

SECTION = "concentration"


@dataclass(frozen=True)
class ConcentrationSettings(Section):
    """The [concentration] section of revbook.toml, checked."""

    #: the trailing window of the cohort, in months
    window_months: int = 12
    #: NRR without the top N expanding accounts, for each N
    tops: tuple[int, ...] = (1, 5, 10)
    #: the largest gap between logo retention and GRR (a share: 0.10 = 10 points) before an alert
    logo_divergence: float = 0.10
    #: the N of the top-N share of gross expansion that :attr:`top_share_max` holds
    top_share_accounts: int = 5
    #: the largest share of gross expansion the top :attr:`top_share_accounts` may hold before an alert
    top_share_max: float = 0.5
    #: the fewest accounts in a cohort for an alert on it
    min_accounts: int = 10

    SECTION = SECTION

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def window_months(value: object) -> int:
    """A window of 1 to 120 whole months."""
    months = integer(SECTION, "window_months", value)
    if not 1 <= months <= 120:
        raise ConfigError(
            f"[{SECTION}] window_months must be 1 to 120 months, got {value}",
            value=value,
            hint="12 for the trailing year",
        )
    return months


def tops(value: object) -> tuple[int, ...]:
    """Top-N counts: whole numbers of 1 or more, increasing, at least one."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"[{SECTION}] tops must be a list of whole numbers such as [1, 5, 10]", value=value)
    counts = tuple(integer(SECTION, "tops", v) for v in value)
    if any(n < 1 for n in counts) or list(counts) != sorted(set(counts)):
        raise ConfigError(
            f"[{SECTION}] tops must be increasing whole numbers of 1 or more, got {list(value)}",
            value=value,
            hint="for example [1, 5, 10]",
        )
    return counts


def _share(name: str, value: object) -> float:
    share = number(SECTION, name, value)
    if not 0 < share < 1:
        raise ConfigError(
            f"[{SECTION}] {name} must be a share between 0 and 1, got {value}", value=value, hint="0.10 for 10%"
        )
    return share


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [concentration] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "window_months" in values:
        out["window_months"] = window_months(values["window_months"])
    if "tops" in values:
        out["tops"] = tops(values["tops"])
    for name in ("logo_divergence", "top_share_max"):
        if name in values:
            out[name] = _share(name, values[name])
    for name in ("top_share_accounts", "min_accounts"):
        if name in values:
            n = integer(SECTION, name, values[name])
            if n < 1:
                raise ConfigError(f"[{SECTION}] {name} must be 1 or more, got {values[name]}", value=values[name])
            out[name] = n
    return out
