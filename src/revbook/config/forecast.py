"""[forecast]: horizons, draws, interval and backtest dates of the NRR/GRR forecast (revbook.rum.forecast), checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keys import Section, integer, number, parse_date

__all__ = ["ForecastSettings"]


@dataclass(frozen=True)
class ForecastSettings(Section):
    """The [forecast] section of revbook.toml, checked."""

    #: the forecast's horizons, in months after the date it is made on
    horizons: tuple[int, ...] = (3, 6, 12)
    #: Monte Carlo draws of every account's outcome
    draws: int = 2000
    #: the interval's level: 0.8 is the 10th to the 90th percentile of the draws
    interval: float = 0.8
    #: the seed of the draws (the same data and seed give the same forecast)
    seed: int = 15
    #: the backtest's forecast dates: the last ``backtest_months`` month ends whose shortest horizon has run out
    backtest_months: int = 12
    #: or these dates (month ends), when given
    backtest_dates: tuple[dt.date, ...] = ()

    SECTION = "forecast"

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [forecast] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "horizons" in values:
        raw = values["horizons"]
        items = [raw] if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if not isinstance(items, list | tuple) or not items:
            raise ConfigError("[forecast] horizons must be a list of months, e.g. [3, 6, 12]", value=raw)
        months = tuple(integer("forecast", "horizons", m) for m in items)
        if any(not 1 <= m <= 36 for m in months) or len(set(months)) != len(months):
            raise ConfigError(
                "[forecast] horizons must be distinct whole numbers of months from 1 to 36",
                value=raw,
                hint="e.g. horizons = [3, 6, 12]",
            )
        out["horizons"] = tuple(sorted(months))
    if "draws" in values:
        draws = integer("forecast", "draws", values["draws"])
        if not 100 <= draws <= 100_000:
            raise ConfigError(
                "[forecast] draws must be from 100 to 100,000",
                value=values["draws"],
                hint="2000 draws put the interval's ends within about a point",
            )
        out["draws"] = draws
    if "interval" in values:
        level = number("forecast", "interval", values["interval"])
        if not 0 < level < 1:
            raise ConfigError(
                "[forecast] interval must be between 0 and 1", value=values["interval"], hint="0.8 for 10th-90th"
            )
        out["interval"] = level
    if "seed" in values:
        out["seed"] = integer("forecast", "seed", values["seed"])
    if "backtest_months" in values:
        n = integer("forecast", "backtest_months", values["backtest_months"])
        if not 1 <= n <= 120:
            raise ConfigError("[forecast] backtest_months must be from 1 to 120", value=values["backtest_months"])
        out["backtest_months"] = n
    if "backtest_dates" in values:
        raw = values["backtest_dates"]
        if not isinstance(raw, list | tuple):
            raise ConfigError("[forecast] backtest_dates must be a list of dates", value=raw)
        days = tuple(sorted({d for d in (parse_date(v, "[forecast] backtest_dates") for v in raw) if d is not None}))
        for d in days:
            if (d + dt.timedelta(days=1)).day != 1:
                raise ConfigError(
                    f"[forecast] backtest_dates: {d} is not a month end",
                    value=raw,
                    hint="the backtest compares with month-end retention: give month ends such as 2025-06-30",
                )
        out["backtest_dates"] = days
    return out
