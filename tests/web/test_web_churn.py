"""The Churn and Signals pages (and the signals on the account and book pages), in-process over the ASGI app."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revbook import Config, Workspace, sample
from revbook.insights import find_signals, pareto
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of
NOTE = "<script>alert(1)</script> we are being acquired"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("churnweb"), as_of=AS_OF, accounts=300, text=True)


@pytest.fixture(scope="module")
def ws(demo: Path):
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def app(demo: Path, ws: Workspace):  # ws first: both are read-only connections to the same file
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory):
    """A workspace without churn_reasons or notes."""
    out = tmp_path_factory.mktemp("plainweb")
    paths = sample.write(out / "data", accounts=60)
    with Workspace(out / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(dict(paths))
    return web.create_app(out / "w.duckdb", config=Config(as_of=AS_OF), token="")


@pytest.fixture(scope="module")
def note_app(tmp_path_factory: pytest.TempPathFactory):
    """A small workspace whose one account has a note with HTML in it."""
    out = tmp_path_factory.mktemp("noteweb")
    paths = dict(sample.write(out / "data", accounts=40))
    accounts = pq.read_table(paths["accounts"])
    first = accounts["account_id"][0].as_py()
    notes = pa.table(
        {
            "account_id": [first],
            "date": [AS_OF - dt.timedelta(days=30)],
            "author": ["<b>Eve</b>"],
            "source": ["note"],
            "text": [NOTE],
        }
    )
    pq.write_table(notes, out / "data" / "notes.parquet")
    paths["notes"] = out / "data" / "notes.parquet"
    with Workspace(out / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(paths)
    return web.create_app(out / "w.duckdb", config=Config(as_of=AS_OF), token=""), first


@pytest.mark.parametrize(
    "url",
    [
        "/churn",
        "/churn?by=segment",
        "/churn?by=owner",
        "/churn?by=segment&value=smb",
        "/churn?grain=month&start=2025-01&period=2025-12",
        "/churn?grain=year&start=2025-03",  # a month label after the grain changed: the year containing it
        "/churn?reason=price",
        "/churn?reason=price&page=2",
        "/signals",
        "/signals?polarity=risk",
        "/signals?polarity=both&page=2",
        "/signals?rule=acquisition",
        "/signals?since=2025-01-01&until=2025-06-30",
    ],
)
def test_pages_answer(app: Any, url: str) -> None:
    r = get(app, url)
    assert r.status_code == 200, r.text[:800]
    assert "Content-Security-Policy" in r.headers


def test_nav_has_both_pages(app: Any) -> None:
    html = get(app, "/").text
    assert 'href="/churn"' in html and 'href="/signals"' in html


def test_pareto_top_reasons_are_the_library_s(app: Any, ws: Workspace) -> None:
    rows = pareto(ws).to_pylist()
    top_arr = min(rows, key=lambda r: r["rank_arr"])
    top_count = min(rows, key=lambda r: r["rank_count"])
    html = get(app, "/churn").text
    assert f'data-top-arr="{top_arr["reason"]}"' in html
    assert f'data-top-count="{top_count["reason"]}"' in html
    # the table lists the reasons by ARR lost, as the library ranks them, with their exact figures
    table = html.split('class="compact pareto"')[1].split("</table>")[0]
    order = re.findall(r"reason=([a-z_]+)", table)
    assert order[0] == top_arr["reason"]
    assert list(dict.fromkeys(order)) == [r["reason"] for r in sorted(rows, key=lambda r: r["rank_arr"])]
    from revbook.reports.charts import money

    assert money(top_arr["arr_lost"]) in table
    # both charts are there
    assert 'id="spec-pareto_arr"' in html and 'id="spec-pareto_count"' in html


def test_filters_reach_the_library_call(app: Any, ws: Workspace) -> None:
    rows = [r for r in pareto(ws, by="segment").to_pylist() if r["segment"] == "smb"]
    top = min(rows, key=lambda r: r["rank_arr"])
    html = get(app, "/churn?by=segment&value=smb").text
    assert f'data-top-arr="{top["reason"]}"' in html
    assert "value=smb" in html  # links keep the filter
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    rows = pareto(ws, start=start, end=end).to_pylist()
    html = get(app, "/churn?grain=month&start=2025-01&period=2025-12").text
    if rows:
        top = min(rows, key=lambda r: r["rank_arr"])
        assert f'data-top-arr="{top["reason"]}"' in html
        assert f"{sum(r['events'] for r in rows):,}" in text_of(html)


def test_a_reason_links_to_its_accounts(app: Any, ws: Workspace) -> None:
    from revbook.insights import reason_events

    ev = [e for e in reason_events(ws).to_pylist() if e["reason"] == "price"]
    html = get(app, "/churn?reason=price").text
    events = html.split('id="events"')[1].split("</table>")[0]
    assert f"{len(ev):,} events" in text_of(events)
    biggest = max(ev, key=lambda e: (e["arr_lost"], e["date"]))
    assert f'href="/accounts/{biggest["account_id"]}"' in events
    assert get(app, "/churn?reason=no_such_reason").status_code == 404


def test_signals_feed_is_newest_first_and_filtered(app: Any, ws: Workspace) -> None:
    hits = find_signals(ws).to_pylist()
    html = get(app, "/signals").text
    dates = re.findall(r'<td class="date">(\d{4}-\d{2}-\d{2})</td>', html)
    assert dates and dates == sorted(dates, reverse=True)
    assert dates[0] == max(h["date"] for h in hits).isoformat()
    assert f"{len(hits):,} hits" in text_of(html)
    risk = [h for h in hits if h["polarity"] in ("risk", "both")]
    assert f"{len(risk):,} hits" in text_of(get(app, "/signals?polarity=risk").text)
    acq = [h for h in hits if h["rule"] == "acquisition"]
    html = get(app, "/signals?rule=acquisition").text
    assert f"{len(acq):,} hit" in text_of(html)
    assert 'href="/accounts/' in html  # each row links to its account
    assert "risk lift" in html and "expansion lift" in html


def test_bad_params_are_rejected(app: Any) -> None:
    for url in (
        "/signals?rule=<script>",
        "/signals?polarity=neutral",
        "/signals?since=yesterday",
        "/signals?page=0",
        "/churn?start=2025-13",
        "/churn?reason=<x>",
        "/churn?by=planet",
        "/churn?page=-1",
    ):
        assert get(app, url).status_code == 400, url
    assert get(app, "/churn?grain=month&start=2026-10&period=2025-01").status_code == 400
    assert get(app, "/signals?since=2026-01-01&until=2025-01-01").status_code == 400
    assert get(app, "/signals?csm=NOBODY").status_code == 404
    assert get(app, "/signals?rule=bogus").status_code == 404


def test_account_and_book_show_their_signals(app: Any, ws: Workspace) -> None:
    hits = find_signals(ws).to_pylist()
    acct = max(hits, key=lambda h: h["date"])["account_id"]
    html = get(app, f"/accounts/{acct}").text
    section = html.split('id="signals"')[1]
    dates = re.findall(r'<td class="date">(\d{4}-\d{2}-\d{2})</td>', section.split("</table>")[0])
    mine = sorted({h["date"].isoformat() for h in hits if h["account_id"] == acct}, reverse=True)
    assert dates and dates[0] == mine[0] and dates == sorted(dates, reverse=True)
    book = get(app, "/book?by=owner&value=P0001").text
    assert 'id="signals"' in book and "/signals?csm=P0001" in book
    assert book.split('id="signals"')[1].split("</table>")[0].count("<tr>") <= 21


def test_note_html_shows_as_text(note_app: Any) -> None:
    app, account = note_app
    for url in ("/signals", f"/accounts/{account}"):
        html = get(app, url).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; we are being acquired" in html
        assert "<b>Eve</b>" not in html


def test_empty_workspace_says_how_to_load(plain_app: Any) -> None:
    r = get(plain_app, "/churn")
    assert r.status_code == 200
    assert "No churn reasons are loaded" in r.text and "revbook load churn_reasons=" in r.text
    r = get(plain_app, "/signals")
    assert r.status_code == 200
    assert "No notes are loaded" in r.text and "revbook load notes=" in r.text
    assert get(plain_app, "/book?by=owner&value=P0001").status_code in (200, 404)
    r = get(plain_app, "/accounts/" + re.findall(r'href="/accounts/([^"?]+)"', get(plain_app, "/accounts").text)[0])
    assert r.status_code == 200 and "No notes are loaded" in r.text


def test_second_visit_is_cached(app: Any) -> None:
    import time

    get(app, "/churn")
    get(app, "/signals")
    t = time.perf_counter()
    get(app, "/churn")
    get(app, "/signals")
    assert time.perf_counter() - t < 2.0
