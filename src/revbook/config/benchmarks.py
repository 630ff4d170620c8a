"""[benchmarks]: whether the surfaces show the bands and published medians beside the headline
figures, and which ACV band's median they show (revbook.benchmarks), checked.

    [benchmarks]
    show = true                 # false: no band and no published median on any surface
    acv_band = ""               # the published medians' ACV band to compare with ("< 12k", "12k-25k",
                                # "25k-50k", "50k-100k", "100k-250k", "250k+"); "": the band of the
                                # median ARR of the paying accounts (each slice's own on a slice's row)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..benchmarks import acv_bands
from ..errors import ConfigError
from .keys import Section

__all__ = ["BenchmarkSettings"]

SECTION = "benchmarks"


@dataclass(frozen=True)
class BenchmarkSettings(Section):
    """The [benchmarks] section of revbook.toml, checked."""

    #: show the bands and the published medians beside NRR, GRR and gross revenue churn
    show: bool = True
    #: the ACV band of the published medians; "": the band of the median ARR per paying account
    acv_band: str = ""

    SECTION = SECTION

    @staticmethod
    def _check(values: Mapping[str, Any]) -> dict[str, Any]:
        return _checked(values)


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "show" in values:
        if not isinstance(values["show"], bool):
            raise ConfigError(f"[{SECTION}] show must be true or false", value=values["show"])
        out["show"] = values["show"]
    if "acv_band" in values:
        band = values["acv_band"]
        if not isinstance(band, str) or (band and band not in acv_bands()):
            raise ConfigError(
                f"[{SECTION}] acv_band must be one of the published medians' ACV bands, not {band!r}",
                value=band,
                hint=f'use one of {", ".join(repr(b) for b in acv_bands())}, or "" for the band of the '
                "median ARR per paying account",
            )
        out["acv_band"] = band
    return out
