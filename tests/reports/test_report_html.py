"""The one-file HTML report: offline, the library's figures, and it renders in Chromium with no network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from revbook import Config, Workspace, sample
from revbook.reports import write_report
from revbook.reports.charts import money, pct

AS_OF = sample.SampleConfig().as_of
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list, list, dict]:
    out = tmp_path_factory.mktemp("report")
    paths = sample.write(out / "data", accounts=300)
    with Workspace(out / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(dict(paths))
        path = write_report(ws, out / "report.html")
        impact = {
            "attribution": ws.attribution_summary(window=12).to_pylist()[0],
            "per_csm": ws.attribution_summary(window=12, by="csm").to_pylist(),
            "sentence": ws.concentration().to_pylist()[0]["sentence"],
            "alerts": [a.sentence for a in ws.concentration_alerts()],
            "csm": ws.csm_impact().to_pylist(),
            "book": ws.book_change().to_pylist(),
        }
        return path, ws.headline(), ws.retention(by="segment").to_pylist(), ws.check().to_pylist(), impact


def test_report_is_self_contained(report: tuple) -> None:
    html = report[0].read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", html, re.I)
    assert "<link" not in html  # the stylesheet is inline
    assert html.count("<script>") == 4  # vega, vega-lite, vega-embed, revbook.js
    assert "@media print" in html


def test_report_figures_are_the_library_figures(report: tuple) -> None:
    path, head, by_segment, findings, _ = report
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    assert f"{money(head['arr'], 2)} USD" in text
    for key in ("nrr_12m", "grr_12m", "logo_retention_12m"):
        assert pct(head[key]) in text
    end = max(r["period_end"] for r in by_segment)
    for r in by_segment:
        if r["period_end"] == end and r["window_months"] == 12 and r["nrr"] is not None:
            assert f"{r['segment']} " in text and pct(r["nrr"]) in text
    for f in findings:
        assert f["check"] in text
    assert "Definitions" in text and "Gross revenue retention" in text


def test_report_says_who_moved_the_number(report: tuple) -> None:
    path, *_, impact = report
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    assert "Who moved the number" in text and f"Over the trailing 12 months, {impact['sentence']}." in text
    assert impact["alerts"] and all(a in text for a in impact["alerts"])
    a = impact["attribution"]
    assert f"NRR without product-driven expansion {pct(a['nrr_without_product'])}" in text
    for c in ("csm", "ae", "product", "self_serve", "price", "ambiguous"):
        assert f"{c} {money(a[f'{c}_arr'])} {pct(a[f'{c}_share'])}" in text
    for r in impact["per_csm"]:
        name = r["csm_name"] or "unassigned"
        assert f"{name} {r['start_accounts']:,} {pct(r['nrr'])} {pct(r['nrr_without_product'])}" in text
    assert impact["csm"]
    for r in impact["csm"]:
        assert f"{r['owner_name']} {r['accounts']:,} {pct(r['actual_nrr'])} {pct(r['expected_nrr'])}" in text
    for b in impact["book"]:
        assert f"{money(b['start_arr'])} {money(b['new_arr'])} {money(b['transferred_in_arr'])}" in text


def test_report_warns_beside_its_headline_and_marks_the_partial_month(report: tuple) -> None:
    from revbook.quality import headline_findings

    path, _, _, findings, _ = report
    html = path.read_text(encoding="utf-8")
    aside = html[html.index('class="dq-warning"') : html.index("</aside>")]
    shown = dict(re.findall(r'<li data-check="([a-z_]+)">.*?data-rows="(\d+)"', aside, re.S))
    assert shown == {f["check"]: str(f["rows"]) for f in headline_findings(findings)} and shown
    assert html.index('data-figure="quick_ratio"') < html.index('class="dq-warning"') < html.index("spec-arr")
    assert "<td>2026-11 to date</td>" in html and "<td>2026-10</td>" in html


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report: tuple, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        requested: list[str] = []

        def abort(route: object) -> None:
            requested.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

        context.route("http://**", abort)
        context.route("https://**", abort)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report[0].as_uri())
        page.wait_for_selector(".vega svg", timeout=15_000)
        page.wait_for_function("document.querySelectorAll('.vega[data-rendered]').length >= 6", timeout=15_000)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        page.pdf(path=str(tmp_path / "report.pdf"))
        browser.close()
    assert errors == []
    assert requested == []
    assert (tmp_path / "report.pdf").stat().st_size > 10_000


def test_report_has_a_churn_reasons_section_when_they_are_loaded(tmp_path: Path) -> None:
    from revbook.insights import pareto

    paths = sample.write(tmp_path / "data", accounts=200, text=True)
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(dict(paths))
        html = write_report(ws, tmp_path / "report.html").read_text(encoding="utf-8")
        rows = pareto(ws).to_pylist()
    assert 'id="churn-reasons"' in html
    assert 'id="spec-pareto_arr"' in html and 'id="spec-pareto_count"' in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    top_arr = min(rows, key=lambda r: r["rank_arr"])
    top_count = min(rows, key=lambda r: r["rank_count"])
    assert f"by ARR lost, {top_arr['reason_label']} ({money(top_arr['arr_lost'])}" in text
    assert f"By logos, {top_count['reason_label']} leads" in text
    for r in rows:
        assert r["reason_label"] in text


def test_report_without_churn_reasons_has_no_such_section(report: tuple) -> None:
    assert 'id="churn-reasons"' not in report[0].read_text(encoding="utf-8")
