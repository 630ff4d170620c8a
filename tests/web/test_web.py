"""The dashboard, in-process through httpx over the ASGI app: figures, filters, escaping, the token rule."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from revbook import Config, ConfigError, Workspace, sample
from revbook.reports.charts import money, pct
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("webdemo"), as_of=AS_OF, accounts=300)


@pytest.fixture(scope="module")
def ws(demo: Path):
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def app(demo: Path, ws: Workspace):  # ws first: both are read-only connections to the same file
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/retention",
        "/accounts",
        "/book",
        "/definitions",
        "/?grain=quarter",
        "/?grain=year&window=3",
        "/retention?by=owner&window=1",
        "/accounts?status=all&sort=name&dir=asc&page=2",
        "/book?by=team",
    ],
)
def test_every_page_answers(app: Any, url: str) -> None:
    r = get(app, url)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in r.headers


def test_overview_figures_are_the_library_figures(app: Any, ws: Workspace) -> None:
    head = ws.headline()
    page = text_of(get(app, "/").text)
    assert f"{money(head['arr'], 2)} USD" in page
    assert f"{head['accounts']:,}" in page
    for key in ("nrr_12m", "grr_12m", "logo_retention_12m"):
        assert pct(head[key]) in page
    # the waterfall is of the last complete month by default (the as-of date, 15 November, cuts November short)
    *_, complete, partial = ws.movements().to_pylist()
    assert (complete["period"], partial["period"]) == ("2026-10", "2026-11")
    assert money(complete["end_mrr"]) in page and money(complete["churn_mrr"]) in page
    chosen = text_of(get(app, "/?period=2026-11").text)
    assert money(partial["end_mrr"]) in chosen and money(partial["churn_mrr"]) in chosen


def test_slice_filter_lives_in_the_url(app: Any, ws: Workspace) -> None:
    rows = [r for r in ws.mrr(by="segment").to_pylist() if r["segment"] == "smb"]
    page = text_of(get(app, "/?by=segment&value=smb").text)
    assert f"{money(rows[-1]['arr'], 2)} USD" in page
    assert "Segment smb" in page
    quarter = ws.mrr(grain="quarter").to_pylist()[-2]["period"]
    assert f"Overview {quarter}" in text_of(get(app, f"/?grain=quarter&period={quarter}").text)


def test_a_waterfall_bar_leads_to_its_accounts(app: Any, ws: Workspace) -> None:
    m = ws.movements().to_pylist()[-2]
    html = get(app, "/?period=" + m["period"]).text
    assert f"/accounts?grain=month&amp;period={m['period']}&amp;window=12&amp;view=movement&amp;movement=churn" in html
    page = text_of(get(app, f"/accounts?period={m['period']}&view=movement&movement=churn").text)
    assert f"{m['churned_accounts']:,} accounts" in page
    assert f"−{money(m['churn_mrr'])} MRR change" in page


def test_retention_figures_expand_into_their_cohort(app: Any, ws: Workspace) -> None:
    r = next(x for x in ws.retention(window=12).to_pylist()[::-1] if x["nrr"] is not None)
    page = text_of(get(app, f"/accounts?view=cohort&period={r['period']}&window=12").text)
    assert f"{r['start_accounts']:,} accounts" in page
    assert money(r["start_mrr"]) in page and money(r["end_mrr"]) in page and money(r["retained_mrr"]) in page
    assert pct(r["nrr"]) in page and pct(r["grr"]) in page


def test_retention_page_shows_each_slice_and_window(app: Any, ws: Workspace) -> None:
    end = ws.mrr().to_pylist()[-1]["period_end"]
    rows = [r for r in ws.retention(by="segment").to_pylist() if r["period_end"] == end and r["nrr"] is not None]
    page = text_of(get(app, "/retention").text)
    for r in rows:
        assert pct(r["nrr"]) in page and pct(r["grr"]) in page


def test_book_page_is_the_owner_slice(app: Any, ws: Workspace) -> None:
    rows = ws.mrr(by="owner").to_pylist()
    last = max(r["period_end"] for r in rows)
    top = max((r for r in rows if r["period_end"] == last and r["owner"] != "(none)"), key=lambda r: r["arr"])
    page = text_of(get(app, f"/book?by=owner&value={top['owner']}").text)
    assert f"{top['owner_name']}'s book" in page
    assert f"{money(top['arr'], 2)} USD" in page
    assert get(app, "/book?by=owner&value=nobody").status_code == 404
    assert get(app, "/book?by=segment&value=smb").status_code == 400


def test_account_page(app: Any, ws: Workspace) -> None:
    acc = ws.mrr(accounts=True, start=AS_OF).to_pylist()[0]
    page = text_of(get(app, f"/accounts/{acc['account_id']}").text)
    assert money(acc["arr"]) in page
    for line in ws.ledger(account=acc["account_id"]).to_pylist():
        assert money(line["mrr"], 2) in page
    assert get(app, "/accounts/NOPE").status_code == 404


def test_accounts_list_is_sorted_filtered_and_paged(app: Any, ws: Workspace) -> None:
    paying = ws.mrr(accounts=True, start=AS_OF).to_pylist()
    page = text_of(get(app, "/accounts?size=10").text)
    assert f"{len(paying):,} accounts" in page
    top = max(paying, key=lambda r: r["arr"])
    assert top["account_id"] in page
    assert f"page 1 of {-(-len(paying) // 10)}" in page
    smb = [r for r in ws.mrr(accounts=True, by="segment", start=AS_OF).to_pylist() if r["segment"] == "smb"]
    assert f"{len(smb):,} accounts" in text_of(get(app, "/accounts?by=segment&value=smb").text)
    assert "No accounts match" in get(app, "/accounts?q=zzzzzz").text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/?grain=week", 400),
        ("/?by=shoe_size", 400),
        ("/?window=6", 400),
        ("/?period=2099-01", 400),
        ("/?period=1%27%3B%20DROP%20TABLE%20accounts", 400),
        ("/accounts?sort=evil", 400),
        ("/accounts?page=0", 400),
        ("/accounts?view=movement", 400),
        ("/?value=smb", 400),
        ("/accounts?size=100000", 400),
    ],
)
def test_invalid_query_parameters_are_refused(app: Any, url: str, status: int) -> None:
    r = get(app, url)
    assert r.status_code == status
    assert "<script" not in r.text.split("</head>")[1]


def test_read_only(app: Any) -> None:
    assert get(app, "/", method="POST").status_code == 405


def test_everything_is_served_from_the_package(app: Any) -> None:
    html = get(app, "/").text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        r = get(app, f"/static/vendor/{name}")
        assert r.status_code == 200 and len(r.content) > 50_000


def test_data_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    path = tmp_path / "evil.duckdb"
    with Workspace(path, config=Config(as_of=dt.date(2024, 6, 30))) as w:
        w.load_frames(
            {
                "accounts": pa.table({"account_id": ["A1", "A2"], "name": [evil, "Fine"], "segment": [evil, "smb"]}),
                "subscriptions": pa.table(
                    {
                        "account_id": ["A1", "A2"],
                        "subscription_id": ["S1", "S2"],
                        "start_date": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
                        "mrr": [Decimal("100.00"), Decimal("50.00")],
                    }
                ),
            }
        )
    app = web.create_app(path, config=Config(as_of=dt.date(2024, 6, 30)), token="")
    for url in ("/accounts", "/accounts/A1", "/retention", "/?by=segment", "/accounts?by=segment&value=" + evil):
        html = get(app, url).text
        assert evil not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get(app, "/accounts").text
    # in a chart's data the name is JSON with < escaped, so it cannot close the script element
    assert "\\u003cscript\\u003e" in get(app, "/retention?by=segment&window=1").text


def test_non_loopback_requests_need_a_token(demo: Path) -> None:
    open_app = web.create_app(demo, config=Config(as_of=AS_OF), token="")
    assert get(open_app, "/", client=("10.1.2.3", 4000), host="10.0.0.1").status_code == 403
    assert get(open_app, "/", host="evil.example").status_code == 403  # DNS rebinding
    assert get(open_app, "/").status_code == 200

    app = web.create_app(demo, config=Config(as_of=AS_OF), token="s3cret")
    remote = {"client": ("10.1.2.3", 4000), "host": "10.0.0.1"}
    assert get(app, "/", **remote).status_code == 401
    assert get(app, "/?token=wrong", **remote).status_code == 401
    first = get(app, "/retention?token=s3cret&window=3", **remote, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/retention?window=3"
    assert "revbook_token=s3cret" in first.headers["set-cookie"] and "HttpOnly" in first.headers["set-cookie"]
    assert get(app, "/", cookies={"revbook_token": "s3cret"}, **remote).status_code == 200
    assert get(app, "/", headers={"Authorization": "Bearer s3cret"}, **remote).status_code == 200


def test_serving_beyond_loopback_without_a_token_is_refused(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVBOOK_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="token"):
        web.serve(demo, config=Config(as_of=AS_OF), host="0.0.0.0")


def test_a_churned_accounts_tenure_stops_at_its_last_paid_snapshot(ws: Workspace) -> None:
    from revbook.web.data import Store

    store = Store(ws)
    period = store.periods("month")[-1]
    listed = {r["account_id"]: r for r in store.account_list("month", period).to_dicts()}
    moves = ws.account_movements().to_pylist()
    first: dict[str, dt.date] = {}
    churned_on: dict[str, dt.date] = {}
    for r in moves:  # in period order
        if r["end_mrr"] > 0:
            first.setdefault(r["account_id"], r["period_end"])
        churned_on[r["account_id"]] = r["period_end"] if r["movement"] == "churn" else churned_on.get(r["account_id"])
    gone = [a for a, row in listed.items() if row["status"] == "churned" and churned_on.get(a)]
    assert gone, "the sample has churned accounts"
    for a in gone:
        last_paid = churned_on[a].year * 12 + churned_on[a].month - 1
        assert listed[a]["tenure_months"] == last_paid - (first[a].year * 12 + first[a].month), a
