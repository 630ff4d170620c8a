"""The Renewals page, in-process over the ASGI app: its figures are the library's, the CSM and bucket
filters narrow the list, each account links to its page, bad filters are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace, sample
from revbook.frame import Frame
from revbook.rum.renewals import bucket_edges, renewal_book, summary_of
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("renewalsweb"), as_of=AS_OF, accounts=200)


@pytest.fixture(scope="module")
def frame(demo: Path) -> Frame:
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as ws:
        return renewal_book(ws)


@pytest.fixture(scope="module")
def book(frame: Frame) -> list[dict[str, Any]]:
    return frame.to_pylist()


@pytest.fixture(scope="module")
def app(demo: Path, book: list[dict[str, Any]]) -> Any:
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


def money_compact(v: Any) -> str:
    from revbook.reports.charts import money_compact as compact

    return compact(v)


def rows_of(html: str) -> list[str]:
    """The account ids the list links to, in order."""
    table = html.split('id="renewals"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/accounts/([^"]+)"', table)


def test_the_page_shows_the_library_figures(app: Any, frame: Frame, book: list[dict[str, Any]]) -> None:
    r = get(app, "/renewals")
    assert r.status_code == 200
    assert book, "the sample has renewals due"
    text = text_of(r.text)
    summary = summary_of(frame, bucket_edges((30, 60, 90, 180), 180))
    for s in summary.to_pylist():
        label = "every bucket" if s["bucket"] is None else s["bucket_label"]
        assert f"{label} {money_compact(s['arr_due'])} {s['accounts']:,} accounts" in text
    assert rows_of(r.text) == [b["account_id"] for b in book]  # soonest first, as the library sorts
    assert "Renewal rate by quarter of due date" in text


def test_filters_by_csm_and_bucket(app: Any, book: list[dict[str, Any]]) -> None:
    owner = next(b["owner"] for b in book if b["owner"])
    r = get(app, "/renewals", params={"owner": owner})
    assert r.status_code == 200
    assert rows_of(r.text) == [b["account_id"] for b in book if b["owner"] == owner]
    r = get(app, "/renewals", params={"bucket": "30"})
    assert rows_of(r.text) == [b["account_id"] for b in book if b["days_to_due"] <= 30]
    r = get(app, "/renewals", params={"within": "60", "bucket": "60"})
    assert rows_of(r.text) == [b["account_id"] for b in book if 30 < b["days_to_due"] <= 60]


def test_each_account_links_to_its_page(app: Any, book: list[dict[str, Any]]) -> None:
    ids = rows_of(get(app, "/renewals").text)
    for account in ids[:3]:
        page = get(app, f"/accounts/{account}")
        assert page.status_code == 200 and account in page.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"bucket": "45"}, 400, "bucket: '45' is not a bucket of this book; use one of: 30, 60, 90, 180"),
        ({"owner": "nobody"}, 404, "owner: no CSM 'nobody' with renewals due"),
        ({"within": "0"}, 400, "within: '0' is not an allowed book's days ahead"),
    ],
)
def test_bad_filters_are_refused(app: Any, query: dict[str, str], status: int, message: str) -> None:
    import html

    r = get(app, "/renewals", params=query)
    assert r.status_code == status
    assert message in html.unescape(text_of(r.text))
