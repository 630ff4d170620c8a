"""The dashboard in the system's Chromium: every page loads, charts render, filters and drill-downs work.

Screenshots go to the test output folder tests/output/screenshots/ (ignored by git; REVBOOK_SCREENSHOTS
names another folder).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace, sample

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AS_OF = sample.SampleConfig().as_of
SHOTS = Path(os.environ.get("REVBOOK_SCREENSHOTS") or Path(__file__).parents[1] / "output" / "screenshots")

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free port in a thread, as its address, until the block ends."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from revbook.web import create_app

    out = tmp_path_factory.mktemp("browser")
    paths = sample.write(out / "data", accounts=300, text=True)  # with churn reasons and notes
    with Workspace(out / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(dict(paths))
    app = create_app(out / "w.duckdb", config=Config(as_of=AS_OF), token="", warm=True)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.errors = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        yield pg
        browser.close()


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


#: the legend labels that end outside their chart's drawing (a legend of one long row is cut off)
LEGEND_CUT = """[...document.querySelectorAll('.vega svg')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('.role-legend-label text')]
    .filter(t => t.getBoundingClientRect().right > box.right + 1).map(t => t.textContent);
})"""


def charts_rendered(page: Any) -> int:
    page.wait_for_selector(".vega svg, .vega canvas", timeout=15_000)
    return int(page.evaluate("document.querySelectorAll('.vega svg, .vega canvas').length"))


@pytest.mark.parametrize(
    ("name", "path", "charts"),
    [
        ("overview", "/", 3),
        ("retention", "/retention", 2),
        ("accounts", "/accounts", 0),
        ("books", "/book", 0),
        ("book", "/book?by=owner&value=P0001", 4),
        ("definitions", "/definitions", 0),
        ("churn", "/churn", 2),
        ("churn-reason", "/churn?by=segment&reason=price", 2),
        ("signals", "/signals", 1),
        ("signals-risk", "/signals?polarity=risk", 1),
        ("rum", "/rum", 1),
        ("rum-team-cell", "/rum?team=Enterprise&stage=adoption&risk=medium#list", 1),
        ("health-red", "/health?band=red#worst", 2),
        ("attribution", "/attribution", 1),
        ("attribution-csm-product", "/attribution?csm=P0001&attribution=product#rows", 1),
    ],
)
def test_every_page_loads_without_errors(
    server: str, page: Any, tmp_path: Path, name: str, path: str, charts: int
) -> None:
    response = page.goto(server + path)
    assert response.status == 200
    if charts:
        assert charts_rendered(page) >= charts
        assert page.evaluate("document.querySelectorAll('[data-error]').length") == 0
    else:
        page.wait_for_load_state("networkidle")
    shoot(page, tmp_path, name)
    assert page.errors == []


def test_filters_change_the_url_and_figures_lead_to_accounts(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server + "/")
    charts_rendered(page)
    arr_before = page.locator(".kpi-value").first.inner_text()
    with page.expect_navigation():
        page.select_option("select[name=by]", "segment")
    assert "by=segment" in page.url
    with page.expect_navigation():
        page.select_option("select[name=value]", "smb")
    assert "value=smb" in page.url
    charts_rendered(page)
    assert page.locator(".kpi-value").first.inner_text() != arr_before
    shoot(page, tmp_path, "overview-smb")
    with page.expect_navigation():
        page.locator("table.compact a", has_text="Churn").first.click()
    assert "view=movement" in page.url and "movement=churn" in page.url and "value=smb" in page.url
    assert "Accounts with churn" in page.locator("h1").inner_text()
    shoot(page, tmp_path, "accounts-churn")
    # a waterfall bar is a link too (Vega's href channel)
    page.goto(server + "/")
    charts_rendered(page)
    with page.expect_navigation():
        page.locator("#spec-waterfall").locator("xpath=preceding-sibling::div[1]").locator(
            "path[role=graphics-symbol], a path"
        ).first.click(force=True)
    assert "/accounts" in page.url
    # and an account row opens the account, with its MRR timeline
    page.goto(server + "/accounts")
    with page.expect_navigation():
        page.locator("table.accounts tbody a").first.click()
    assert charts_rendered(page) == 1
    shoot(page, tmp_path, "account")
    assert page.errors == []


def test_grain_change_resets_the_period(server: str, page: Any) -> None:
    page.goto(server + "/?period=2026-10")
    charts_rendered(page)
    with page.expect_navigation():
        page.select_option("select[name=grain]", "quarter")
    assert "grain=quarter" in page.url and "period=" not in page.url
    assert page.locator("h1").inner_text().endswith("2026-Q4 to date")  # the as-of date, 15 November, is inside it
    charts_rendered(page)
    assert page.errors == []


def test_a_pareto_bar_leads_to_its_events_and_an_account(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server + "/churn")
    charts_rendered(page)
    with page.expect_navigation():
        page.locator("#spec-pareto_arr").locator("xpath=preceding-sibling::div[1]").locator(
            "path[role=graphics-symbol], a path"
        ).first.click(force=True)
    assert "reason=" in page.url
    assert "the events behind it" in page.locator("#events").inner_text()
    shoot(page, tmp_path, "churn-events")
    with page.expect_navigation():
        page.locator("table.events tbody a[href^='/accounts/']").first.click()
    assert page.locator("#signals").count() == 1
    shoot(page, tmp_path, "account-signals")
    # the signals feed: a filter keeps the URL, a row leads to its account
    page.goto(server + "/signals")
    with page.expect_navigation():
        page.select_option("select[name=polarity]", "expansion")
    assert "polarity=expansion" in page.url
    charts_rendered(page)
    shoot(page, tmp_path, "signals-expansion")
    with page.expect_navigation():
        page.locator("table.feed tbody a[href^='/accounts/']").first.click()
    assert "/accounts/" in page.url
    assert page.errors == []


def backtest_ready(page: Any, url: str, seconds: float = 120) -> None:
    """Open the Health page until its background backtest is done (it says "Computing" meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if page.locator(".callout.computing").count() == 0 or time.monotonic() > deadline:
            return
        time.sleep(1)


def test_rum_and_health_pages_draw_their_charts_and_lead_to_accounts(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server + "/rum")
    assert charts_rendered(page) == 1
    # a cell of the stage x potential x risk matrix lists its accounts; a row opens the account
    with page.expect_navigation():
        page.locator("table.matrix td.cell a").first.click()
    assert "stage=" in page.url and "risk=" in page.url
    assert "Accounts:" in page.locator("#list").inner_text()
    shoot(page, tmp_path, "rum-cell")
    with page.expect_navigation():
        page.locator("#list + table a[href^='/accounts/']").first.click()
    assert page.locator("#lifecycle").count() == 1
    charts_rendered(page)
    shoot(page, tmp_path, "account-lifecycle")
    # a bar of the stage flow lists the accounts that moved that way
    page.goto(server + "/rum")
    charts_rendered(page)
    with page.expect_navigation():
        page.locator("#spec-flow").locator("xpath=preceding-sibling::div[1]").locator(
            "path[role=graphics-symbol], a path"
        ).first.click(force=True)
    assert "moved_from=" in page.url and "moved_to=" in page.url
    assert page.locator("#moved + table tbody a[href^='/accounts/']").count() >= 1
    shoot(page, tmp_path, "rum-flow-pair")
    # the date picker keeps the URL
    page.goto(server + "/rum")
    with page.expect_navigation():
        page.fill("input[name=on]", "2026-05-31")
        page.locator("input[name=on]").dispatch_event("change")
    assert "on=2026-05-31" in page.url
    assert "on 2026-05-31" in page.locator("h1").inner_text()
    charts_rendered(page)
    # the health page: once the background backtest is done, three charts
    backtest_ready(page, server + "/health")
    assert charts_rendered(page) >= 2
    page.wait_for_function("document.querySelectorAll('.vega svg').length >= 3", timeout=15_000)
    assert "ROC AUC" in page.locator("#backtest ~ p.answer").inner_text()
    shoot(page, tmp_path, "health")
    backtest_ready(page, server + "/health?horizon=180")
    shoot(page, tmp_path, "health-180")
    page.wait_for_function("document.querySelectorAll('.vega svg').length >= 3", timeout=15_000)
    shoot(page, tmp_path, "health-180")
    assert page.errors == []


@pytest.mark.parametrize(
    ("name", "path", "charts"),
    [
        ("overview", "/", 3),
        ("overview-partial", "/?period=2026-11", 3),
        ("book", "/book?by=owner&value=P0001", 4),
        ("retention", "/retention", 2),
        ("definitions", "/definitions", 0),
        ("rum", "/rum", 1),
        ("signals", "/signals", 1),
        ("attribution", "/attribution", 1),
        ("impact", "/impact", 0),
        ("not-found", "/accounts/NO-SUCH-ACCOUNT", 0),
    ],
)
def test_pages_fit_a_phone(server: str, tmp_path: Path, name: str, path: str, charts: int) -> None:
    """At 390 px the page is no wider than the screen (wide tables scroll inside it), charts included."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(server + path)
        if charts:
            assert charts_rendered(page) >= charts
        else:
            page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # the charts' resize to their container
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate(LEGEND_CUT) == []  # every legend entry inside its chart, none cut off
        shoot(page, tmp_path, f"{name}-390")
        browser.close()


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_the_menu_is_one_line_on_a_laptop_and_a_desktop(server: str, tmp_path: Path, width: int) -> None:
    """Every page's link on one line from 1280 px up (below 1441 px under the brand, above it beside it)."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        page.goto(server + "/")
        page.wait_for_load_state("networkidle")
        tops = page.evaluate(
            "[...document.querySelectorAll('header.top nav a')].map(a => a.getBoundingClientRect().top)"
        )
        assert len(tops) >= 10 and max(tops) - min(tops) < 1, tops
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, tmp_path, f"menu-{width}")
        browser.close()


def test_overview_warning_and_partial_month_in_the_browser(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server + "/")
    charts_rendered(page)
    warning = page.locator(".dq-warning")
    assert warning.count() == 1 and "overlapping lines" in warning.inner_text()
    assert page.locator("h1").inner_text().endswith("2026-11 to date")
    box = page.locator(".kpis").bounding_box()
    assert warning.bounding_box()["y"] >= box["y"] + box["height"]  # right under the tiles
    shoot(page, tmp_path, "overview-warning")
    with page.expect_navigation():
        warning.locator("a", has_text="overlapping lines").click()
    assert page.url.endswith("#data_quality-overlapping_lines-subscriptions")
    assert page.locator("#data_quality-overlapping_lines-subscriptions").is_visible()
    assert page.errors == []


def test_impact_page_in_the_browser(server: str, page: Any, tmp_path: Path) -> None:
    """The Impact page says it is computing, reloads by itself, then draws each CSM's interval."""
    page.goto(server + "/impact")
    deadline = time.monotonic() + 180
    while page.locator("text=Computing the expected retention").count() and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.goto(server + "/impact")
    assert charts_rendered(page) >= 1
    assert page.locator("table").first.locator("tbody tr").count() >= 3
    assert page.errors == []
    shoot(page, tmp_path, "impact")


def test_benchmark_badges_sit_in_their_tiles_and_rows(server: str, page: Any, tmp_path: Path) -> None:
    """Each band badge and published median is drawn inside its tile (Overview) or its 12-month cell
    (Retention), and neither page grows wider than the window."""
    page.goto(server + "/")
    charts_rendered(page)
    tiles = page.locator("a.kpi:has(.band)")
    assert tiles.count() == 3  # NRR, GRR, gross revenue churn
    for i in range(tiles.count()):
        tile = tiles.nth(i).bounding_box()
        for part in (tiles.nth(i).locator(".band"), tiles.nth(i).locator(".bench-median")):
            box = part.bounding_box()
            assert (
                part.is_visible() and box["x"] >= tile["x"] and box["x"] + box["width"] <= tile["x"] + tile["width"] + 1
            )
    assert page.locator(".bench-basis").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    shoot(page, tmp_path, "overview-benchmarks")
    page.goto(server + "/retention?by=segment")
    charts_rendered(page)
    cells = page.locator("table.retention td:has(.band)")
    assert cells.count() >= 2 and all(cells.nth(i).locator(".band").is_visible() for i in range(cells.count()))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    shoot(page, tmp_path, "retention-benchmarks")
    assert page.errors == []
