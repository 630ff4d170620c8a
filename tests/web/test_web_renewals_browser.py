"""The Renewals page in the system's Chromium: it loads without errors, the CSM filter and the bucket
chips narrow the list and change the URL, an account leads to its page, and it fits a phone.
Screenshots go where tests/web/test_web_browser.py puts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, sample
from support import sample_workspace

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from test_web_browser import ARGS, CHROMIUM, serving, shoot  # noqa: E402

AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from revbook.web import create_app

    path = sample_workspace(tmp_path_factory.mktemp("renewalsbrowser"), as_of=AS_OF, accounts=300, text=True)
    app = create_app(path, config=Config(as_of=AS_OF), token="")
    with serving(app) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        pg.errors = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        yield pg
        browser.close()


def listed(page: Any) -> list[str]:
    return page.locator("#renewals tbody tr td:first-child a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )


def test_renewals_page_filters_and_leads_to_accounts(server: str, page: Any, tmp_path: Path) -> None:
    response = page.goto(server + "/renewals", timeout=120_000)
    assert response.status == 200
    assert page.locator(".kpis .kpi").count() == 5  # four buckets and every bucket
    every = listed(page)
    assert every and all(h.startswith("/accounts/") for h in every)
    shoot(page, tmp_path, "renewals")
    # the CSM filter: choosing in the form's select applies it (the dashboard's script submits it)
    options = page.locator("select[name=owner] option").evaluate_all("os => os.map(o => o.value)")
    owner = next(v for v in options if v)
    with page.expect_navigation():
        page.select_option("select[name=owner]", owner)
    assert f"owner={owner}" in page.url
    mine = listed(page)
    assert mine and set(mine) <= set(every)
    csm_cells = page.locator("#renewals tbody tr td:last-child").all_inner_texts()
    assert len(set(csm_cells)) == 1  # one CSM's accounts
    # a bucket chip keeps the CSM and narrows the list
    with page.expect_navigation():
        page.locator(".chips a", has_text="1 to 30 days").click()
    assert "bucket=30" in page.url and f"owner={owner}" in page.url
    days = [int(d) for d in page.locator("#renewals tbody tr td:nth-child(3)").all_inner_texts()]
    assert all(d <= 30 for d in days)
    shoot(page, tmp_path, "renewals-owner-bucket")
    # back to every renewal, then an account's page
    page.goto(server + "/renewals")
    first = page.locator("#renewals tbody tr td:first-child a").first
    with page.expect_navigation():
        first.click()
    assert page.url.startswith(server + "/accounts/")
    assert page.errors == []


def test_renewals_page_fits_a_phone(server: str, tmp_path: Path) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(server + "/renewals", timeout=120_000)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, tmp_path, "renewals-390")
        browser.close()
