"""The company's NRR, GRR and gross revenue churn beside their bands and the matching published median
(revbook.benchmarks), for every surface: the CLI headline, the dashboard and the HTML report.

The published medians are by annual contract value (ACV). revbook takes a book's ACV as the median ARR
(12 x MRR) of its paying accounts on the figure's snapshot (a mean would follow the largest accounts),
and a slice's as the median of the slice's own accounts; ``[benchmarks] acv_band`` sets the band
instead. The medians' ACV bands are in US dollars: a book in another currency is compared as it is,
and :attr:`Benchmarks.basis` says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..benchmarks import BENCHMARK_METRICS, GRAIN_MONTHS, Band, Median, acv_band, band, median_for, refusal

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Benchmarked", "Benchmarks", "acv_of", "benchmarks", "headline_benchmarks", "window_grain"]

#: the headline's keys of the figures that have bands, and the grain of each
HEADLINE_FIGURES = (
    ("nrr", "nrr_12m", "year"),
    ("grr", "grr_12m", "year"),
    ("gross_revenue_churn", "gross_revenue_churn_12m", "year"),
)


@dataclass(frozen=True)
class Benchmarked:
    """One figure beside its band and the published median of its ACV band."""

    metric: str
    value: float
    band: Band
    #: the published median of the ACV band (None: no source gives one for this metric)
    median: Median | None
    acv_band: str

    @property
    def label(self) -> str:
        return BENCHMARK_METRICS[self.metric]

    @property
    def median_text(self) -> str:
        """ "103% at ACV 25k-50k (SaaS Capital, 2023)", or what is missing."""
        if self.median is None:
            return "no published median shipped"
        return f"{self.median.median} at ACV {self.acv_band} ({self.median.cited})"


@dataclass(frozen=True)
class Benchmarks:
    """The benchmarked figures of one book or slice, and how its ACV band was chosen."""

    rows: list[Benchmarked] = field(default_factory=list)
    #: the median ARR per paying account (None when the band was set or nobody pays)
    acv: Decimal | None = None
    acv_band: str = ""
    #: how the ACV band was chosen, in words
    basis: str = ""
    #: the figures not compared, each with why (an NRR of a 3-month window: the bands are for 12)
    refused: list[str] = field(default_factory=list)

    def of(self, metric: str) -> Benchmarked | None:
        return next((r for r in self.rows if r.metric == metric), None)


def acv_of(store: Store, period_end: dt.date, *, by: str | None = None) -> dict[Any, tuple[Decimal, int]]:
    """The median ARR per paying account on the month snapshot ending ``period_end`` and how many
    accounts pay, per value of the slice ``by`` (the key None: the whole book). Read from the month
    states (an account's state holds from its row's period until its next row's), so only the two
    middle accounts of each group leave the database."""
    from .book import book_of
    from .states import states

    book = book_of(store)
    cal = book.calendar("month")
    p = cal.period_of(period_end)
    if cal.bounds(p, book.as_of)[1] != period_end:
        return {}  # not a month snapshot
    st = states(book, "month", [by] if by else [])
    key = by if by else "CAST(NULL AS VARCHAR)"
    rows = book.engine.arrow(
        f"""WITH a AS (
                SELECT {key} AS k, 12 * mrr AS arr FROM {st}
                WHERE period <= {p} AND (next_period IS NULL OR next_period > {p}) AND mrr > 0
            ),
            r AS (SELECT k, arr, row_number() OVER (PARTITION BY k ORDER BY arr) AS rn,
                         count(*) OVER (PARTITION BY k) AS n FROM a)
            SELECT k, n, arr FROM r WHERE rn = (n + 1) // 2 OR rn = n // 2 + 1 ORDER BY k, rn"""
    ).to_pylist()
    middles: dict[Any, list[int]] = {}
    counts: dict[Any, int] = {}
    for r in rows:
        middles.setdefault(r["k"], []).append(r["arr"])
        counts[r["k"]] = r["n"]
    mu = store.config.minor_units
    return {k: (sum((Decimal(v) for v in m), Decimal(0)).scaleb(-mu) / len(m), counts[k]) for k, m in middles.items()}


def benchmarks(
    store: Store,
    figures: Mapping[str, float | None],
    *,
    grain: str = "year",
    acv: tuple[Decimal, int] | None = None,
    segment: str | None = None,
) -> Benchmarks:
    """``figures`` (metric -> a share over one ``grain``; None: no figure) beside their bands and the
    published median of the ACV band: ``[benchmarks] acv_band`` if set, else the band of ``acv`` (the
    median ARR per paying account and the count of them). Empty when ``[benchmarks] show`` is false."""
    settings = store.config.benchmarks
    if not settings.show:
        return Benchmarks()
    cur = store.config.reporting_currency
    if settings.acv_band:
        chosen, median_acv = settings.acv_band, None
        basis = f"ACV band {chosen}, set in [benchmarks] acv_band"
    elif acv is not None:
        median_acv, count = acv
        chosen = acv_band(float(median_acv))
        basis = f"ACV band {chosen}: the median ARR of {count:,} paying accounts, {median_acv:,.0f} {cur}"
        if cur != "USD":
            basis += " (the bands are US dollars; no conversion)"
    else:
        chosen, median_acv, basis = "", None, "no paying account: no ACV band"
    rows, refused = [], []
    for metric, value in figures.items():
        if value is None:
            continue
        if why := refusal(metric, grain):  # a grain the bands refuse: say so, compare the rest
            refused.append(why)
            continue
        b = band(metric, float(value), grain=grain, segment=segment)
        rows.append(Benchmarked(metric, float(value), b, median_for(metric, chosen) if chosen else None, chosen))
    return Benchmarks(rows, median_acv, chosen, basis, refused)


def window_grain(window_months: int) -> str | None:
    """The grain a trailing window of ``window_months`` is (1: month, 3: quarter, 12: year), else None."""
    return {months: grain for grain, months in GRAIN_MONTHS.items()}.get(window_months)


def headline_benchmarks(store: Store, head: Mapping[str, Any] | None = None) -> Benchmarks:
    """The headline's 12-month NRR, GRR and gross revenue churn beside their bands and the medians of
    the book's ACV band (``head``: the headline, if the caller has it)."""
    from .tables import headline

    h = head if head is not None else headline(store)
    if not store.config.benchmarks.show:
        return Benchmarks()
    acv = acv_of(store, h["period_end"]).get(None) if h.get("period_end") else None
    return benchmarks(store, {metric: h.get(key) for metric, key, _ in HEADLINE_FIGURES}, grain="year", acv=acv)
