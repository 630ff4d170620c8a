"""revbook.benchmarks: the bands at their edges, monthly against annual churn, and the integrity of the
shipped table of bands and published medians (every row sourced, dated and addressed)."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from revbook import benchmarks as bm
from revbook.benchmarks import BELOW, acv_band, acv_bands, band, median_for, medians, rules, to_monthly
from revbook.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (0.9999, BELOW),
        (1.0, "good"),
        (1.1499, "good"),
        (1.15, "great"),
        (1.2999, "great"),
        (1.30, "elite"),
        (2.0, "elite"),
    ],
)
def test_nrr_bands_at_their_edges(value: float, name: str) -> None:
    assert band("nrr", value).name == name


def test_an_edge_missed_by_float_noise_is_the_edge() -> None:
    noisy = math.nextafter(1.15, 0)  # 1.1499999999999997, the float just under 1.15
    assert noisy < 1.15 and band("nrr", noisy).name == "great"
    assert band("nrr", 1.15 - 1e-6).name == "good"  # a real shortfall is not rounded away


def test_the_threshold_says_the_band_and_the_next() -> None:
    assert band("nrr", 0.9999).text == "below good (good ≥ 100%)"
    assert band("nrr", 1.0).text == "good (≥ 100%; great ≥ 115%)"
    assert band("nrr", 1.4).text == "elite (≥ 130%, the top band)"
    assert band("grr", 0.9).text == "great (≥ 90%; elite ≥ 95%)"


@pytest.mark.parametrize(
    ("value", "name"),
    [(0.05, BELOW), (0.0499, "good"), (0.02, "good"), (0.0199, "great"), (0.01, "great"), (0.0099, "elite")],
)
def test_monthly_churn_bands_at_their_edges(value: float, name: str) -> None:
    b = band("gross_revenue_churn", value, grain="month")
    assert b.name == name and b.conversion == "" and b.compared == value


def test_an_annual_churn_is_converted_to_a_month_never_compared_as_it_is() -> None:
    # 12% a year is 1.06% a month compounded: great, though 12% against a monthly band would read "below good"
    b = band("gross_revenue_churn", 0.12, grain="year")
    assert b.compared == pytest.approx(1 - 0.88 ** (1 / 12)) and round(b.compared, 4) == 0.0106
    assert b.name == "great" and b.conversion == "1.06% a month from 12.0% over 12 months, compounded"
    # the conversion keeps the edges: 1 - 0.95 ** 12 a year is exactly the 5% monthly edge
    assert band("gross_revenue_churn", 1 - 0.95**12, grain="year").name == BELOW
    assert band("gross_revenue_churn", 1 - 0.9501**12, grain="year").name == "good"
    # a quarter: 1 - 0.98 ** 3 is 2% a month
    assert band("gross_revenue_churn", 1 - 0.98**3, grain="quarter").name == "good"
    assert to_monthly(0.0, "year") == 0.0 and to_monthly(1.2, "year") == 1.0
    over = band("gross_revenue_churn", 1.2, grain="year")
    assert over.name == BELOW and over.conversion == "120% over 12 months has no monthly equivalent"


def test_nrr_and_grr_of_another_window_are_refused() -> None:
    for metric, grain in itertools.product(("nrr", "grr"), ("month", "quarter")):
        with pytest.raises(ConfigError, match="bands are for 12 months"):
            band(metric, 1.0, grain=grain)
    with pytest.raises(ConfigError, match="unknown grain"):
        band("gross_revenue_churn", 0.01, grain="week")
    with pytest.raises(ConfigError, match="no benchmark bands for 'logo_retention'"):
        band("logo_retention", 0.9)


def test_a_segment_names_its_usual_bar() -> None:
    assert band("gross_revenue_churn", 0.03, grain="month", segment="SMB").expected == "good"
    assert band("gross_revenue_churn", 0.03, grain="month", segment="Enterprise").expected == "great"
    assert band("gross_revenue_churn", 0.03, grain="month", segment="mid_market").expected == ""
    assert band("nrr", 1.1, segment="enterprise").expected == ""  # the NRR bands name no segment


def test_every_band_is_sourced_and_ordered_best_first() -> None:
    assert {r.metric for r in rules()} == set(bm.BENCHMARK_METRICS)
    for metric in bm.BENCHMARK_METRICS:
        rs = rules(metric)
        assert [r.name for r in rs] == ["elite", "great", "good"]
        assert len({r.grain for r in rs}) == 1
        for r in rs:
            assert r.source.strip() and (r.url == "" or r.url.startswith("https://"))
            assert (r.at_least is None) != (r.below is None)
            # a band from no published source says so
            assert r.url or "not checked against a published source" in r.source
        edges = [r.at_least if r.at_least is not None else r.below for r in rs]
        assert edges == sorted(edges, reverse=rs[0].at_least is not None)


def test_every_median_has_a_source_a_year_and_a_url() -> None:
    assert medians()
    for m in medians():
        assert m.source.strip() and m.measured.strip(), m
        assert 2000 <= m.year <= 2100, m
        assert re.fullmatch(r"https://[^\s]+", m.url), m
        assert m.metric in bm.BENCHMARK_METRICS
        assert 0 < m.low <= m.high <= 2  # shares, read from the source's text
        assert m.median.endswith("%")


def test_the_acv_bands_tile_the_line_once_per_metric_and_source() -> None:
    assert acv_bands() == ("< 12k", "12k-25k", "25k-50k", "50k-100k", "100k-250k", "250k+")
    for (metric, source), rows in itertools.groupby(
        sorted((m for m in medians() if m.by_acv), key=lambda m: (m.metric, m.source, m.acv_min or 0)),
        key=lambda m: (m.metric, m.source),
    ):
        rows = list(rows)
        assert (rows[0].acv_min or 0) == 0 and rows[-1].acv_max is None, (metric, source)
        assert all(a.acv_max == b.acv_min for a, b in itertools.pairwise(rows)), (metric, source)
    assert [acv_band(v) for v in (0, 11999.99, 12000, 249999, 250000, 5e6)] == [
        "< 12k",
        "< 12k",
        "12k-25k",
        "100k-250k",
        "250k+",
        "250k+",
    ]


def test_the_medians_are_the_sources_figures() -> None:
    """SaaS Capital's 2023 Figure 1, as printed: NRR rises with ACV, GRR stays at 90-93%."""
    nrr = [median_for("nrr", b).median for b in acv_bands()]  # type: ignore[union-attr]
    grr = [median_for("grr", b).median for b in acv_bands()]  # type: ignore[union-attr]
    assert nrr == ["100%", "102%", "103%", "105%", "107%", "110%"]
    assert grr == ["90%", "90%", "92%", "93%", "93%", "93%"]
    assert median_for("nrr", None).median == "102%"  # type: ignore[union-attr]
    assert median_for("gross_revenue_churn", "< 12k") is None


def test_docs_state_every_band_and_median() -> None:
    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert bm.summary() in text
    for m in medians():
        assert f"| {bm.BENCHMARK_METRICS[m.metric]} | {m.acv_label} | {m.median} |" in text, m
