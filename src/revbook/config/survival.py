"""[survival]: gross margin and curve settings for survival and CLTV (revbook.health.survival), checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ConfigError
from .keys import Section

__all__ = ["SPELLS", "SurvivalSettings"]

SPELLS = ("first", "whole")


@dataclass(frozen=True)
class SurvivalSettings(Section):
    """The [survival] section of revbook.toml, checked."""

    #: share of revenue kept after the cost of serving it; CLTV is margin, not revenue
    gross_margin: Decimal = Decimal("0.8")
    #: the restricted mean lifetime's horizon (months); shorter when a group's follow-up is
    horizon_months: int = 60
    #: "first": a life ends at the first churn; "whole": first payment to the last churn
    spell: str = "first"
    #: the Kaplan-Meier confidence band's level
    confidence: float = 0.95

    SECTION = "survival"

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _number(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ConfigError(f"[survival] {name} must be a number", value=value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"[survival] {name} must be a number", value=value) from None
    if not number.is_finite():
        raise ConfigError(f"[survival] {name} must be a finite number", value=value)
    return number


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The [survival] settings in ``values``, each checked and converted."""
    out: dict[str, Any] = {}
    if "gross_margin" in values:
        margin = _number("gross_margin", values["gross_margin"])
        if not 0 < margin <= 1:
            raise ConfigError(
                f"[survival] gross_margin must be above 0 and at most 1, got {values['gross_margin']}",
                value=values["gross_margin"],
                hint="give it as a share: 0.8 for 80%",
            )
        out["gross_margin"] = margin
    if "horizon_months" in values:
        horizon = _number("horizon_months", values["horizon_months"])
        if horizon != horizon.to_integral_value() or not 1 <= horizon <= 1200:
            raise ConfigError(
                f"[survival] horizon_months must be a whole number of months from 1 to 1200, "
                f"got {values['horizon_months']}",
                value=values["horizon_months"],
            )
        out["horizon_months"] = int(horizon)
    if "spell" in values:
        if values["spell"] not in SPELLS:
            raise ConfigError(
                f"[survival] spell must be 'first' or 'whole', got {values['spell']!r}",
                value=values["spell"],
                hint="'first' ends a life at the first churn; 'whole' runs to the last churn",
            )
        out["spell"] = values["spell"]
    if "confidence" in values:
        level = _number("confidence", values["confidence"])
        if not 0 < level < 1:
            raise ConfigError(
                f"[survival] confidence must be between 0 and 1, got {values['confidence']}",
                value=values["confidence"],
                hint="0.95 for a 95% band",
            )
        out["confidence"] = float(level)
    return out
