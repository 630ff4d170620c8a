"""The checks every section of revbook.toml shares: a table, known keys, values of the right type."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any, ClassVar, Self, cast

from ..errors import ConfigError

__all__ = ["Section", "as_table", "check_keys", "integer", "names", "number", "parse_date"]


class Section:
    """What the settings of one ``[section]`` of revbook.toml share, as a frozen dataclass that
    names its ``SECTION`` and checks and converts a mapping of its settings in ``_check``: checked
    when made, read from its table (an unknown key refused, naming the nearest), and overridden by
    keyword options (None = not given)."""

    SECTION: ClassVar[str]

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        """The settings in ``values``, each checked and converted."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        self._check({f.name: getattr(self, f.name) for f in fields(cast(Any, self))})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Self:
        """The section's table of revbook.toml, checked."""
        check_keys(cls.SECTION, raw, [f.name for f in fields(cast(Any, cls))])
        return cast(Self, cast(Any, cls)(**cls._check(raw)))

    def override(self, **options: Any) -> Self:
        """These settings with keyword options (None = not given) in place of the file's, checked."""
        given = {k: v for k, v in options.items() if v is not None}
        check_keys(self.SECTION, given, [f.name for f in fields(cast(Any, self))])
        return cast(Self, replace(cast(Any, self), **self._check(given)))


def as_table(section: str, value: object) -> Mapping[str, Any]:
    """``value`` as the table ``[section]``; anything else is a ConfigError."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{section}] must be a table of settings", value=value)
    return value


def check_keys(section: str, raw: Mapping[str, Any], known: Iterable[str], *, what: str = "key") -> None:
    """An unknown key is a ConfigError naming it, its section and the nearest known key."""
    valid = list(known)
    for key in sorted(set(raw) - set(valid), key=str):
        where = "revbook.toml" if not section else f"[{section}]"
        near = difflib.get_close_matches(str(key), valid, n=1)
        hint = f"did you mean '{near[0]}'?" if near else f"the {what}s of {where} are: {', '.join(valid)}"
        raise ConfigError(f"unknown {what} '{key}' in {where}", hint=hint)


def number(section: str, name: str, value: object) -> float:
    """A TOML number (an integer or a float, not a boolean) as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"invalid [{section}] setting: {name} must be a number", value=value)
    return float(value)


def integer(section: str, name: str, value: object) -> int:
    """A whole number (an integer, or a float with no fraction) as an int."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError(f"invalid [{section}] setting: {name} must be a whole number", value=value)
    return int(value)


def names(section: str, name: str, value: object) -> tuple[str, ...]:
    """A list of strings as a tuple."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[{section}] {name} must be a list of names", value=value)
    return tuple(value)


def parse_date(value: object, name: str) -> dt.date | None:
    """``value`` as a date: a date as itself, an ISO text read; None as None. Anything else is a
    ConfigError naming ``name`` (the one reading of a date a user gives: settings and options)."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{name} must be a date like 2026-11-15", value=value) from None
