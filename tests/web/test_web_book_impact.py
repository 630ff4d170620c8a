"""The Impact section of a CSM's book page: the verified statements with their provenance, the refusals
folded away, computed in the background (the hand-built company of tests/impact/test_statements.py)."""

from __future__ import annotations

import datetime as dt
import html as markup
import time
from typing import Any

import pytest

from revbook import Config, Workspace
from revbook.config import ImpactStatementsSettings
from support import get, impact_company, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

CONFIG = Config(as_of=dt.date(2024, 12, 31), impact_statements=ImpactStatementsSettings(window=6, min_accounts=5))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("book_impact")
    with Workspace(folder / "w.duckdb", config=CONFIG) as ws:
        ws.load(impact_company(folder))
    return web.create_app(folder / "w.duckdb", config=CONFIG, token="")


def ready(app: Any, url: str, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while True:
        r = get(app, url)
        assert r.status_code == 200
        if "Computing this book's impact statements" not in r.text or time.monotonic() > deadline:
            return r.text
        time.sleep(0.5)


def test_book_page_shows_the_verified_statements_and_folds_the_refusals(app: Any) -> None:
    html = ready(app, "/book?by=owner&value=P1")
    page = markup.unescape(text_of(html))
    assert "Impact statements verified from the data" in page
    assert (
        "Reduced gross revenue churn from 50.0% to 0.0% (owner P1 Ada, 10 accounts; the 6 months to 2024-12-31 "
        "against the 6 before) after qbr began (first on 2024-08-15)" in page
    )
    assert "metric gross_revenue_churn; 50.0% -> 0.0%; change -50.0 points" in page
    folded = html.split('<details class="refused">')[1].split("</details>")[0]
    assert "Refused (1)" in folded and "Ran 5 qbr touchpoints" in folded and "activity_only" in folded
    assert "Ran 5 qbr touchpoints" not in html.split('<details class="refused">')[0]


def test_a_book_with_nothing_verified_says_so(app: Any) -> None:
    page = text_of(ready(app, "/book?by=owner&value=P6"))
    assert "No statement passed the checks for this book." in page
    assert "too_few_accounts" in page


def test_team_books_have_the_section(app: Any) -> None:
    page = text_of(ready(app, "/book?by=team&value=East"))
    assert "Impact statements verified from the data" in page and "(team East," in page
