"""Benchmarks beside the headline figures: performance bands and published medians, kept once.

The bands (NRR good >= 100%, great >= 115%, elite >= 130%; GRR; monthly gross revenue churn good
< 5%, great < 2%, elite < 1%) and a small, dated, cited table of published medians (SaaS Capital's
survey of NRR and GRR by annual contract value) live in ``benchmarks.toml`` beside this module; every
surface (the CLI headline, the dashboard, the HTML report, the definitions page) renders from here.

:func:`band` puts a figure in its band. A band's edges are stated for one grain: NRR and GRR for 12
months, gross revenue churn for a month. A churn figure of another grain is converted to a month,
compounded (``1 - (1 - c) ** (1 / months)``) and the band says so; an NRR or GRR of another window is
refused (a ConfigError), since a 3-month NRR is no 12-month one.

A median is the source's own text at its own precision ("100%", "about 100%", "90-93%"); its ACV band
is in US dollars, as the source states it.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .errors import ConfigError

__all__ = [
    "BELOW",
    "BENCHMARK_METRICS",
    "GRAIN_MONTHS",
    "Band",
    "Median",
    "Rule",
    "acv_band",
    "acv_bands",
    "band",
    "median_for",
    "medians",
    "percent",
    "refusal",
    "rules",
    "summary",
    "to_monthly",
]

DATA_FILE = "benchmarks.toml"
#: the metrics that have bands, with the name the surfaces print
BENCHMARK_METRICS = {"nrr": "NRR", "grr": "GRR", "gross_revenue_churn": "gross revenue churn"}
#: the band of a figure that reaches no band's edge
BELOW = "below good"
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_PER = {"month": "a month", "quarter": "a quarter", "year": "over 12 months"}


def percent(share: float) -> str:
    """An edge as the bands state it: 1.15 -> "115%", 0.005 -> "0.5%"."""
    return f"{round(share * 100, 6):g}%"


@dataclass(frozen=True)
class Rule:
    """One band of a metric: a figure is in it at or above ``at_least``, or below ``below``."""

    metric: str
    name: str
    #: the grain the edge is stated for
    grain: str
    at_least: float | None
    below: float | None
    #: the kind of book this band is the usual bar of ("SMB", "enterprise"; "" when the source names none)
    segment: str
    source: str
    url: str

    def holds(self, value: float) -> bool:
        if self.at_least is not None:
            return value >= self.at_least
        return self.below is not None and value < self.below

    @property
    def edge(self) -> str:
        """The edge in words: "≥ 115%", "< 2% a month"."""
        if self.at_least is not None:
            return f"≥ {percent(self.at_least)}"
        per = f" {_PER[self.grain]}" if self.grain != "year" else ""
        return f"< {percent(self.below or 0)}{per}"


@dataclass(frozen=True)
class Median:
    """One published median: the source's text, the ACV band it is for, where it was published."""

    metric: str
    #: the source's own text, at its precision: "100%", "about 100%", "90-93%"
    median: str
    #: the figure (or range) as shares, read from :attr:`median`
    low: float
    high: float
    #: the ACV band in US dollars, lower edge included, upper not (None: no edge)
    acv_min: int | None
    acv_max: int | None
    source: str
    year: int
    url: str
    #: what the source measured
    measured: str

    @property
    def acv_label(self) -> str:
        """The ACV band as the surfaces print it: "< 12k", "12k-25k", "250k+", "every ACV"."""
        lo, hi = self.acv_min or 0, self.acv_max
        if lo == 0 and hi is None:
            return "every ACV"
        if lo == 0:
            return f"< {_k(hi or 0)}"
        return f"{_k(lo)}+" if hi is None else f"{_k(lo)}-{_k(hi)}"

    @property
    def by_acv(self) -> bool:
        return self.acv_min not in (None, 0) or self.acv_max is not None

    def covers(self, acv: float) -> bool:
        return (self.acv_min or 0) <= acv and (self.acv_max is None or acv < self.acv_max)

    @property
    def cited(self) -> str:
        """Source and year: "SaaS Capital, 2023"."""
        return f"{self.source.split(',')[0]}, {self.year}"


def _k(v: int) -> str:
    return f"{v // 1000}k" if v % 1000 == 0 else f"{v:,}"


@dataclass(frozen=True)
class Band:
    """A figure in its band, and the words that say why."""

    metric: str
    #: "elite", "great", "good" or :data:`BELOW`
    name: str
    #: the figure as given, at ``grain``
    value: float
    grain: str
    #: the figure as compared with the edges (at the rule's grain: a converted churn figure)
    compared: float
    #: the band's edge and the next band's: "≥ 100%; great ≥ 115%"
    threshold: str
    #: how the figure was converted to the edges' grain ("" when it was not)
    conversion: str
    #: 0 for the best band, one more for each band below it
    rank: int
    #: the band that is the usual bar of the given segment ("" when the bands name none for it)
    expected: str = ""

    @property
    def text(self) -> str:
        """The band with its threshold: "good (≥ 100%; great ≥ 115%)"."""
        return f"{self.name} ({self.threshold})"


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def _shares(text: str) -> tuple[float, float]:
    found = [float(x) / 100 for x in _NUMBER.findall(text)]
    if not found or not text.strip().endswith("%") or len(found) > 2:
        raise ConfigError(f"{DATA_FILE}: a median must be a percentage or a range of two, not {text!r}")
    return found[0], found[-1]


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def rules(metric: str | None = None) -> tuple[Rule, ...]:
    """The bands (of ``metric``, or every metric), best first within a metric."""
    out = tuple(
        Rule(
            r["metric"],
            r["name"],
            r["grain"],
            r.get("at_least"),
            r.get("below"),
            r.get("segment", ""),
            r["source"],
            r.get("url", ""),
        )
        for r in _data()["band"]
    )
    return tuple(r for r in out if metric is None or r.metric == metric)


@cache
def medians(metric: str | None = None) -> tuple[Median, ...]:
    """The published medians (of ``metric``, or every metric), in the file's order."""
    out = []
    for r in _data()["median"]:
        low, high = _shares(r["median"])
        out.append(
            Median(
                r["metric"],
                r["median"],
                low,
                high,
                r.get("acv_min"),
                r.get("acv_max"),
                r["source"],
                int(r["year"]),
                r["url"],
                r["measured"],
            )
        )
    return tuple(m for m in out if metric is None or m.metric == metric)


def acv_bands() -> tuple[str, ...]:
    """The ACV bands of the published medians, lowest first: "< 12k", "12k-25k", ... "250k+"."""
    seen: dict[str, int] = {}
    for m in medians():
        if m.by_acv:
            seen.setdefault(m.acv_label, m.acv_min or 0)
    return tuple(sorted(seen, key=seen.__getitem__))


def acv_band(acv: float) -> str:
    """The ACV band of the published medians that ``acv`` (US dollars a year) falls in."""
    for m in medians():
        if m.by_acv and m.covers(acv):
            return m.acv_label
    raise ConfigError(f"no ACV band of the published medians holds {acv!r}")


def median_for(metric: str, acv_band: str | None) -> Median | None:
    """The published median of ``metric`` for the ACV band ``acv_band`` (None: the every-ACV median),
    the newest when several sources give one; None when no source gives one."""
    _check_metric(metric)
    found = [m for m in medians(metric) if (m.acv_label if m.by_acv else None) == acv_band]
    return max(found, key=lambda m: m.year) if found else None


def _check_metric(metric: str) -> None:
    if metric not in BENCHMARK_METRICS:
        raise ConfigError(f"no benchmark bands for {metric!r}", hint=f"use one of {', '.join(BENCHMARK_METRICS)}")


def to_monthly(value: float, grain: str) -> float:
    """A churn rate over one ``grain`` as the compounded rate a month: ``1 - (1 - c) ** (1 / months)``
    (12% over 12 months is 1.06% a month); 1.0 for a rate of 100% or more, which no month equals."""
    months = _months(grain)
    if value >= 1:
        return 1.0
    return 1 - math.pow(1 - value, 1 / months)


def _months(grain: str) -> int:
    if grain not in GRAIN_MONTHS:
        raise ConfigError(f"unknown grain {grain!r} for a benchmark", hint="use month, quarter or year")
    return GRAIN_MONTHS[grain]


#: the metrics whose figures of another grain are converted to the bands' grain (the others are refused)
CONVERTED = ("gross_revenue_churn",)


def refusal(metric: str, grain: str) -> str:
    """Why a figure of ``metric`` over one ``grain`` is not compared with the bands ("" when it is):
    NRR and GRR bands are for 12 months, and a 3-month NRR is no 12-month one."""
    _check_metric(metric)
    _months(grain)
    at = rules(metric)[0].grain
    if grain == at or metric in CONVERTED:
        return ""
    return f"{BENCHMARK_METRICS[metric]} bands are for 12 months; a {grain}'s figure is not compared with them"


def band(metric: str, value: float, *, grain: str = "year", segment: str | None = None) -> Band:
    """``value`` (a share: 1.0 = 100%) of ``metric`` over one ``grain`` in its band.

    NRR and GRR bands are for 12 months (``grain="year"``): another grain is refused. Churn bands are
    for a month: a quarter's or a year's churn is converted to a month, compounded, and the band's
    :attr:`Band.conversion` says so. A figure exactly at an edge is in the band the edge opens ("≥" and
    "<" as written); float noise below 1e-9 is rounded away first. ``segment`` (e.g. "enterprise")
    fills :attr:`Band.expected` with the band that is that kind of book's usual bar.
    """
    _check_metric(metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"no {BENCHMARK_METRICS[metric]} figure to band")
    if why := refusal(metric, grain):
        raise ConfigError(why, hint="band the 12-month (window 12) figure")
    bands = rules(metric)
    compared = float(value)
    conversion = ""
    if grain != bands[0].grain:
        compared = to_monthly(compared, grain)
        if value >= 1:
            conversion = f"{percent(value)} {_PER[grain]} has no monthly equivalent"
        else:
            conversion = f"{compared * 100:.2f}% a month from {value * 100:.1f}% {_PER[grain]}, compounded"
    r = round(compared, 9)
    rank = next((i for i, rule in enumerate(bands) if rule.holds(r)), len(bands))
    if rank < len(bands):
        here = bands[rank]
        nxt = f"; {bands[rank - 1].name} {bands[rank - 1].edge}" if rank > 0 else ", the top band"
        name, threshold = here.name, f"{here.edge}{nxt}"
    else:
        good = bands[-1]
        name, threshold = BELOW, f"{good.name} {good.edge}"
    expected = ""
    if segment:
        expected = next((b.name for b in bands if b.segment and b.segment.lower() == segment.strip().lower()), "")
    return Band(metric, name, float(value), grain, compared, threshold, conversion, rank, expected)


def summary() -> str:
    """Every metric's bands in one line, lowest band first: "NRR good ≥ 100%, great ≥ 115%, elite ≥ 130%; ..."."""
    parts = []
    for metric, label in BENCHMARK_METRICS.items():
        edges = ", ".join(f"{r.name} {r.edge}" for r in reversed(rules(metric)))
        parts.append(f"{label} {edges}")
    return "; ".join(parts)
