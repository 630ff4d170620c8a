"""The Forecast panel in the system's Chromium: it fills in by itself once the background forecast
is done, the backtest runs from its link, no script error; screenshots to tests/output/screenshots/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from revbook import Config, Workspace, sample
from revbook.config import ForecastSettings

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from test_web_browser import CHROMIUM, serving  # noqa: E402

AS_OF = sample.SampleConfig().as_of
CONFIG = Config(as_of=AS_OF, forecast=ForecastSettings(draws=300, backtest_months=2))
SHOTS = Path(os.environ.get("REVBOOK_SCREENSHOTS") or Path(__file__).parents[1] / "output" / "screenshots")

if not Path(CHROMIUM).exists():
    pytest.skip("no system Chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from revbook.web import create_app

    out = tmp_path_factory.mktemp("forecastbrowser")
    paths = sample.write(out / "data", accounts=150)
    with Workspace(out / "w.duckdb", config=CONFIG) as ws:
        ws.load(dict(paths))
    app = create_app(out / "w.duckdb", config=CONFIG, token="")
    with serving(app) as url:
        yield url


def test_the_forecast_panel_fills_in_and_the_backtest_runs_from_its_link(server: str) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/rum", timeout=120_000)
        # the page reloads itself while the forecast is computed
        page.wait_for_selector("#forecast-table", timeout=180_000)
        rows = page.locator("#forecast-table tbody tr")
        assert rows.count() == 3
        assert rows.nth(0).inner_text().startswith("3 months")
        page.click("text=Run the backtest")
        deadline = time.monotonic() + 240
        while not page.locator("#forecast-backtest-table").count() and time.monotonic() < deadline:
            time.sleep(2)
            page.goto(server + "/rum", timeout=120_000)
        assert page.locator("#forecast-backtest-table tbody tr").count() >= 3
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#forecast").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "rum_forecast.png"), full_page=True)
        assert not errors, errors
        browser.close()
