"""The dashboard's benchmarks: a band badge and the published median beside NRR, GRR and gross revenue
churn on the Overview and the Retention page, the same as the library's; none where they do not apply."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest

from revbook import Config, Workspace, sample
from revbook.benchmarks import medians
from revbook.config import BenchmarkSettings
from revbook.metrics.benchmarks import acv_of, benchmarks, headline_benchmarks
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("bench"), as_of=AS_OF, accounts=300)


@pytest.fixture(scope="module")
def app(demo: Path):
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


def badges(html: str) -> list[str]:
    return re.findall(r'<span class="band band-[a-z-]+" data-band="([a-z ]+)"', html)


def page(app, url: str) -> str:
    r = get(app, url)
    assert r.status_code == 200, r.text[:2000]
    return str(r.text)


def test_the_overview_shows_each_figures_band_and_median(app, demo: Path) -> None:
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as ws:
        found = headline_benchmarks(ws)
    html = page(app, "/")
    assert badges(html) == [r.band.name for r in found.rows]
    text = htmllib.unescape(text_of(html))
    for r in found.rows:
        assert r.median is None or f"median {r.median.median} at ACV {r.acv_band} · SaaS Capital, 2023" in text
    churn = found.of("gross_revenue_churn")
    assert churn and churn.band.conversion in text
    assert f"Benchmarks: {found.basis}." in text
    # the badge says its edge on hover
    nrr = found.of("nrr")
    assert nrr and f'title="NRR: {htmllib.escape(nrr.band.threshold, quote=True)}"' in html


def test_a_three_month_window_bands_only_the_churn_and_says_why(app) -> None:
    html = page(app, "/?window=3")
    assert len(badges(html)) == 1 and 'data-median="gross_revenue_churn"' in html
    assert 'data-median="nrr"' not in html
    text = htmllib.unescape(text_of(html))
    assert "NRR bands are for 12 months; a quarter's figure is not compared with them." in text


def test_a_segment_is_compared_with_the_median_of_its_own_acv_band(app, demo: Path) -> None:
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as ws:
        acv = acv_of(ws, AS_OF, by="segment")
        rows = [
            r
            for r in ws.retention(window=12, by="segment").to_pylist()
            if r["period_end"] == AS_OF and r["segment"] == "enterprise"
        ]
        found = benchmarks(ws, {"nrr": rows[0]["nrr"]}, acv=acv["enterprise"], segment="enterprise")
        book = headline_benchmarks(ws)
    assert found.acv_band != book.acv_band  # enterprise accounts are larger than the book's median
    text = htmllib.unescape(text_of(page(app, "/?by=segment&value=enterprise")))
    nrr = found.of("nrr")
    assert nrr and nrr.median and f"median {nrr.median.median} at ACV {found.acv_band}" in text
    assert f"ACV band {found.acv_band}: the median ARR of {acv['enterprise'][1]:,} paying accounts" in text


def test_retention_bands_each_rows_twelve_month_figures(app, demo: Path) -> None:
    html = page(app, "/retention?by=segment")
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as ws:
        acv = acv_of(ws, AS_OF, by="segment")
        rows = [r for r in ws.retention(window=12, by="segment").to_pylist() if r["period_end"] == AS_OF]
        expected = {
            r["segment"]: benchmarks(
                ws, {"nrr": r["nrr"], "grr": r["grr"]}, acv=acv[r["segment"]], segment=r["segment"]
            )
            for r in rows
        }
    body = html[html.index('<table class="retention">') :]
    for segment, found in expected.items():
        row = body[body.index(f"<td>{segment}</td>") :]
        row = row[: row.index("</tr>")]
        assert badges(row) == [found.of("nrr").band.name, found.of("grr").band.name], segment  # type: ignore[union-attr]
        n, g = found.of("nrr").median, found.of("grr").median  # type: ignore[union-attr]
        assert n and g and f"{n.median} / {g.median}<br>at ACV {htmllib.escape(found.acv_band)}" in row
    assert len(badges(body)) == 2 * len(expected)  # the 1- and 3-month columns carry none


def test_definitions_list_every_band_and_median_with_source_and_year(app) -> None:
    text = htmllib.unescape(text_of(page(app, "/definitions")))
    assert "Benchmark bands and published medians" in text
    for m in medians():
        assert f"{m.acv_label} {m.median} {m.source} {m.year}" in text, m


def test_show_false_leaves_no_badge(demo: Path) -> None:
    off = web.create_app(demo, config=Config(as_of=AS_OF, benchmarks=BenchmarkSettings(show=False)), token="")
    for url in ("/", "/retention?by=segment"):
        html = page(off, url)
        assert badges(html) == [] and "Benchmarks:" not in html
