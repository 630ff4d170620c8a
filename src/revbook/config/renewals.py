"""[renewals]: the renewal book's buckets and what commits a renewal (revbook.rum.renewals), checked.

Settings (docs/renewals.md says what each one does)::

    [renewals]
    buckets = [30, 60, 90, 180]             # days to the due date: 1-30, 31-60, 61-90, 91-180
    commit_stages = ["commit", "closed_won"] # renewal opportunities in these stages commit the renewal
    commit_days = 120                        # a won deal, an activity or a note commits it for this many days
    signal_days = 90                         # risk signals from notes in this many days are risk reasons

The grace after a due date within which a renewal still counts as renewed is the one of the renewal
rate, ``[catalogue] renewal_grace_days`` (30): one definition of "renewed" (docs/definitions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, names

__all__ = ["RenewalSettings"]


@dataclass(frozen=True)
class RenewalSettings(Section):
    """The [renewals] section of revbook.toml, checked."""

    #: the buckets' upper edges in days to the due date, increasing (a renewal in 31-60 days is bucket 60)
    buckets: tuple[int, ...] = (30, 60, 90, 180)
    #: renewal opportunities in these stages (opportunities.stage) commit the renewal
    commit_stages: tuple[str, ...] = ("commit", "closed_won")
    #: a won renewal deal, a committing activity or a note commits the renewal for this many days
    commit_days: int = 120
    #: notes' risk signals dated in this many days up to the date are risk reasons
    signal_days: int = 90

    SECTION = "renewals"

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _days(name: str, value: object) -> int:
    days = integer("renewals", name, value)
    if not 1 <= days <= 3650:
        raise ConfigError(f"[renewals] {name} must be 1 to 3650 days, got {value}", value=value)
    return days


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [renewals] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "buckets" in values:
        raw = values["buckets"]
        if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple) or not raw:
            raise ConfigError("[renewals] buckets must be a list of days", value=raw, hint="e.g. [30, 60, 90, 180]")
        edges = tuple(_days("buckets", v) for v in raw)
        if list(edges) != sorted(set(edges)):
            raise ConfigError(
                f"[renewals] buckets must be increasing days, got {list(raw)}",
                value=raw,
                hint="each is a bucket's last day: [30, 60, 90, 180]",
            )
        out["buckets"] = edges
    if "commit_stages" in values:
        out["commit_stages"] = names("renewals", "commit_stages", values["commit_stages"])
    for key in ("commit_days", "signal_days"):
        if key in values:
            out[key] = _days(key, values[key])
    return out
