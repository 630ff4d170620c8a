"""[vip]: which accounts are VIP, the accounts that get an account plan (revbook.plans), checked.

An account is VIP on a date when any of the three rules holds (their union):

- ``min_arr`` / ``max_arr``: its ARR on the date is at least ``min_arr`` and at most ``max_arr``
  (reporting currency; either may be left out; neither set: no ARR rule);
- ``segments``: its segment on the date is one of these;
- ``accounts``: its id is in this list (named accounts, whatever their ARR or segment).

With none of them set no account is VIP (a plan can still be created with ``force``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ConfigError
from .keys import check_keys

__all__ = ["VipSettings"]


@dataclass(frozen=True)
class VipSettings:
    """The [vip] section of revbook.toml, checked."""

    #: the ARR band's lower end (inclusive, reporting currency); None: no lower end
    min_arr: Decimal | None = None
    #: the ARR band's upper end (inclusive); None: no upper end
    max_arr: Decimal | None = None
    #: segments whose accounts are all VIP
    segments: tuple[str, ...] = ()
    #: account ids that are VIP by name
    accounts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _checked({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> VipSettings:
        """The [vip] table of revbook.toml, checked."""
        check_keys("vip", raw, [f.name for f in fields(cls)])
        return cls(**_checked(raw))

    @property
    def has_rule(self) -> bool:
        return self.min_arr is not None or self.max_arr is not None or bool(self.segments) or bool(self.accounts)

    def describe(self) -> str:
        """The rule in words, e.g. 'ARR from 100,000; segment enterprise; 2 named accounts'."""
        parts = []
        if self.min_arr is not None and self.max_arr is not None:
            parts.append(f"ARR from {self.min_arr:,} to {self.max_arr:,}")
        elif self.min_arr is not None:
            parts.append(f"ARR from {self.min_arr:,}")
        elif self.max_arr is not None:
            parts.append(f"ARR up to {self.max_arr:,}")
        if self.segments:
            parts.append(("segment " if len(self.segments) == 1 else "segments ") + ", ".join(self.segments))
        if self.accounts:
            n = len(self.accounts)
            parts.append(f"{n} named account{'s' if n != 1 else ''}")
        return "; ".join(parts) if parts else "no rule set ([vip] in revbook.toml)"


def _amount(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ConfigError(f"[vip] {name} must be a number", value=value, hint="e.g. min_arr = 100000")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"[vip] {name} must be a number", value=value, hint="e.g. min_arr = 100000") from None
    if not number.is_finite() or number < 0:
        raise ConfigError(f"[vip] {name} must be a finite number of 0 or more", value=value)
    return number


def _names(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"[vip] {name} must be a list of strings", value=value, hint=f'e.g. {name} = ["..."]')
    out = []
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"[vip] {name} must hold non-empty strings", value=v)
        out.append(v.strip())
    return tuple(dict.fromkeys(out))


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [vip] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    for name in ("min_arr", "max_arr"):
        if name in values:
            out[name] = _amount(name, values[name])
    low, high = out.get("min_arr"), out.get("max_arr")
    if low is not None and high is not None and low > high:
        raise ConfigError(
            f"[vip] min_arr ({low}) is above max_arr ({high})", value=low, hint="swap them, or leave one out"
        )
    if "segments" in values:
        out["segments"] = tuple(s.lower() for s in _names("segments", values["segments"]))
    if "accounts" in values:
        out["accounts"] = _names("accounts", values["accounts"])
    return out
