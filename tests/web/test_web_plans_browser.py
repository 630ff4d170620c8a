"""An account plan created and edited through the dashboard's form in the system's Chromium, with
screenshots of the VIP list, the plan page and the printable page (tests/output/screenshots/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace, sample
from revbook.config import VipSettings

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from test_web_browser import ARGS, CHROMIUM, serving  # noqa: E402

AS_OF = sample.SampleConfig().as_of
CONFIG = Config(as_of=AS_OF, vip=VipSettings(min_arr=250000))
SHOTS = Path(os.environ.get("REVBOOK_SCREENSHOTS") or Path(__file__).parents[1] / "output" / "screenshots")

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from revbook.web import create_app

    out = tmp_path_factory.mktemp("plansbrowser")
    paths = sample.write(out / "data", accounts=300)
    with Workspace(out / "w.duckdb", config=CONFIG) as ws:
        ws.load(dict(paths))
    app = create_app(out / "w.duckdb", config=CONFIG, token="")
    with serving(app) as url:
        yield url, out / "w.duckdb"


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def test_create_and_edit_a_plan_through_the_form(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/plans", timeout=120_000)
        rows = page.locator("#vip tbody tr")
        assert rows.count() >= 3
        shoot(page, tmp_path, "plans")
        rows.first.locator("a").click()
        page.wait_for_url("**/plans/A*")
        assert "has no plan yet" in page.content()

        # create: lists, a KPI, a stage
        page.fill("#f-challenges", "New CFO reviews every tool\nRenewal in March")
        page.fill("#f-goals", "Roll out to the EMEA team")
        page.select_option("select[aria-label='KPI 1 metric']", "arr")
        page.fill("input[aria-label='KPI 1 target']", "2000000")
        page.fill("input[aria-label='KPI 1 due']", "2027-06-30")
        page.select_option("select[aria-label='KPI 2 metric']", "health_score")
        page.fill("input[aria-label='KPI 2 target']", "80")
        page.fill("input[aria-label='KPI 2 due']", "2027-03-31")
        stage = page.locator("select[name=stage]").first
        stage.select_option("awareness")
        page.fill("#f-author", "Ana Ruiz")
        page.fill("#f-note", "kick-off")
        page.click("form.plan button[type=submit]")
        page.wait_for_url("**saved=1")
        assert "Saved: version 1 of the plan." in page.inner_text("main")
        assert page.locator("#kpis tbody tr").count() == 2

        # a mistake is shown on the form and kept there
        page.fill("input[aria-label='KPI 1 due']", "next spring")
        page.fill("#f-author", "Bo Chen")
        page.click("form.plan button[type=submit]")
        assert "Not saved." in page.inner_text("#errors") and "must be a date" in page.inner_text("#errors")
        assert page.input_value("input[aria-label='KPI 1 due']") == "next spring"

        # edit: fix it, add a play, move the offering on
        page.fill("input[aria-label='KPI 1 due']", "2027-09-30")
        page.fill("#f-plays", "Executive sponsor QBR in January")
        page.locator("select[name=stage]").first.select_option("consideration")
        page.fill("#f-note", "after the QBR")
        page.click("form.plan button[type=submit]")
        page.wait_for_url("**saved=2")
        main = page.inner_text("main")
        assert "Executive sponsor QBR in January" in main and "2027-09-30" in main
        assert page.locator("#history tbody tr").count() == 2
        journey = page.inner_text("#journey")
        assert "awareness" in journey and "consideration" in journey
        shoot(page, tmp_path, "plan")

        url = page.url.split("?")[0]
        page.set_viewport_size({"width": 390, "height": 800})  # a phone: the page and its form fit
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, tmp_path, "plan_phone")
        page.set_viewport_size({"width": 1300, "height": 900})
        page.goto(url)

        page.click("text=printable page")
        page.wait_for_url("**/print")
        assert "Account plan:" in page.inner_text("h1")
        shoot(page, tmp_path, "plan_print")
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        assert pdf[:4] == b"%PDF" and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one sheet
        page.goto(url + "/print?paper=letter")
        letter = page.pdf(prefer_css_page_size=True)
        assert letter.count(b"/Type /Page") - letter.count(b"/Type /Pages") == 1
        assert b"/MediaBox [0 0 612 792]" in letter  # US Letter, 8.5 x 11 in
        assert not errors, errors
        browser.close()
