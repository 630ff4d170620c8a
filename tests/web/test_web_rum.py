"""The RUM and Health pages (and the lifecycle on the account page), in-process over the ASGI app."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from revbook import Config, Workspace, rum, sample
from revbook.health.composite import composite
from support import get, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of
EVIL = "<script>alert(1)</script> & Co"


def money(v: float) -> str:
    return f"{v:,.0f}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 accounts with the customer-success tables; the first account paying at the as-of date
    (one with an open line) has HTML in its name."""
    out = tmp_path_factory.mktemp("rumweb")
    paths = dict(sample.write(out / "data", accounts=300))
    accounts = pq.read_table(paths["accounts"])
    subs = pq.read_table(paths["subscriptions"]).to_pylist()
    paying = {r["account_id"] for r in subs if r["end_date"] is None and not r["is_trial"]}
    names = accounts["name"].to_pylist()
    first = next(i for i, a in enumerate(accounts["account_id"].to_pylist()) if a in paying)
    names[first] = EVIL
    import pyarrow as pa

    accounts = accounts.set_column(accounts.schema.get_field_index("name"), "name", pa.array(names, pa.string()))
    pq.write_table(accounts, paths["accounts"])
    with Workspace(out / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(paths)
    return out / "w.duckdb"


@pytest.fixture(scope="module")
def ws(demo: Path):
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def app(demo: Path, ws: Workspace):  # ws first: both are read-only connections to the same file
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


@pytest.fixture(scope="module")
def acc(ws: Workspace) -> list[dict[str, Any]]:
    return rum.accounts(ws).to_arrow().to_pylist()  # type: ignore[no-any-return]


def wait_for_backtest(app: Any, url: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        r = get(app, url)
        if "Computing the" not in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def test_rum_page_renders_the_library_figures(app: Any, ws: Workspace) -> None:
    r = get(app, "/rum")
    assert r.status_code == 200
    assert 'href="/rum"' in r.text  # in the navigation
    rows = rum.rum(ws).to_arrow().to_pylist()
    managed = sum(x["arr"] for x in rows if x["managed"])
    unmanaged = sum(x["arr"] for x in rows if not x["managed"])
    text = text_of(r.text)
    assert f"{money(managed)} {ws.config.reporting_currency}" in text
    assert f"{money(unmanaged)} {ws.config.reporting_currency}" in text
    # each stage's ARR under its row of the matrix
    for stage in ("onboarding", "adoption", "expansion window", "renewal window"):
        arr = sum(x["arr"] for x in rows if x["stage"] == stage)
        assert f"{stage} {money(arr)} " in text
    # the flow table is the library's, 6 months back by default
    from revbook.web.pages.rum import months_before

    start = months_before(AS_OF, 6)
    flow = rum.flow(ws, start, AS_OF).to_arrow().to_pylist()
    assert f"Stage flow {start} → {AS_OF}" in text
    for f in flow:
        assert f"{f['from_stage']} {f['to_stage']} {f['accounts']:,} {money(f['arr_start'])}" in text
    assert r.text.count('class="vega"') == 1


def test_a_flow_pair_lists_the_accounts_the_library_counts(app: Any, ws: Workspace) -> None:
    from revbook.web.pages.rum import months_before

    start = months_before(AS_OF, 6)
    flow = rum.flow(ws, start, AS_OF).to_arrow().to_pylist()
    for f in flow:
        r = get(app, f"/rum?moved_from={f['from_stage']}&moved_to={f['to_stage']}")
        assert r.status_code == 200
        text = text_of(r.text)
        head = f"Accounts from {f['from_stage']} to {f['to_stage']} {f['accounts']:,} accounts, "
        assert head + f"{money(f['arr_start'])} → {money(f['arr_end'])}" in text, f
    assert get(app, "/rum?moved_from=churned").status_code == 400
    r = get(app, "/definitions")
    assert 'id="rum"' in r.text and 'id="expected_renewal"' in r.text and 'id="backtest"' in r.text


def test_a_team_and_a_cell_list_their_accounts(app: Any, acc: list[dict[str, Any]]) -> None:
    teams = sorted({a["team"] for a in acc if a["managed"]})
    team = teams[0]
    r = get(app, f"/rum?team={team}&stage=adoption&risk=high")
    assert r.status_code == 200
    mine = [a for a in acc if a["team"] == team and a["stage"] == "adoption" and a["risk_band"] == "high"]
    text = text_of(r.text)
    assert f"Accounts: stage adoption, risk high {len(mine):,} accounts, {money(sum(a['arr'] for a in mine))}" in text
    for a in mine[:5]:
        assert f'href="/accounts/{a["account_id"]}"' in r.text
    # a CSM's book: its renewal outlook only has its accounts
    owner = next(a["owner"] for a in acc if a["managed"] and a["stage"] == "renewal window")
    r = get(app, f"/rum?owner={owner}")
    assert r.status_code == 200
    renewals = [a for a in acc if a["owner"] == owner and a["stage"] == "renewal window"]
    assert f"{len(renewals)} accounts in the renewal window" in text_of(r.text)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("on=2026-13-01", 400, "on: &#39;2026-13-01&#39; is not a date; use YYYY-MM-DD"),
        ("on=yesterday", 400, "is not a date"),
        ("on=2099-01-01", 400, "is after the as-of date"),
        ("from=2026-12-31", 400, "is after the as-of date"),
        (f"from={AS_OF}", 400, "must be before its end"),
        ("team=nope", 404, "no team &#39;nope&#39;"),
        ("owner=P9999", 404, "no CSM &#39;P9999&#39;"),
        ("stage=bogus", 400, "stage"),
        ("risk=extreme", 400, "risk"),
    ],
)
def test_rum_filters_are_validated(app: Any, query: str, status: int, message: str) -> None:
    r = get(app, f"/rum?{query}")
    assert r.status_code == status
    assert message in r.text


def test_rum_on_an_earlier_date(app: Any, ws: Workspace) -> None:
    day = AS_OF - dt.timedelta(days=200)
    r = get(app, f"/rum?on={day}")
    assert r.status_code == 200
    rows = rum.rum(ws, day).to_arrow().to_pylist()
    managed = sum(x["arr"] for x in rows if x["managed"])
    assert f"{money(managed)} {ws.config.reporting_currency}" in text_of(r.text)


def test_health_page_and_its_backtest(app: Any, ws: Workspace) -> None:
    r = get(app, "/health")
    assert r.status_code == 200
    table = composite(ws).to_pylist()
    text = text_of(r.text)
    assert f"{len(table):,} paying accounts" in text
    red = [x for x in table if x["band"] == "red"]
    assert f"red {len(red):,} {money(sum(x['arr'] for x in red))}" in text
    # the backtest runs in the background: the first visit says so and reloads itself
    assert "Computing the 90-day backtest" in text and 'http-equiv="refresh"' in r.text
    r = wait_for_backtest(app, "/health")
    text = text_of(r.text)
    assert 'http-equiv="refresh"' not in r.text
    assert "Does our composite health score predict churn?" in text
    assert "No 90-day backtest" not in text
    assert "ROC AUC" in text and "composite health score" in text and "model (logistic)" in text
    assert r.text.count('class="vega"') == 3  # histogram, components, reliability
    assert "What the logistic model weighs most" in text
    # the worst accounts, lowest score first, each a link
    lowest = min(x["score"] for x in table if x["score"] is not None)
    shown = re.findall(r'href="/accounts/([^"]+)"', r.text[r.text.index("The worst accounts") :])
    by_id = {x["account_id"]: x for x in table}
    assert by_id[shown[0]]["score"] == lowest
    assert [by_id[a]["score"] for a in shown[:50]] == sorted(by_id[a]["score"] for a in shown[:50])
    r = get(app, "/health?band=red")
    assert r.status_code == 200
    for x in red[:3]:
        assert f'href="/accounts/{x["account_id"]}"' in r.text
    assert get(app, "/health?horizon=30").status_code == 400
    r = wait_for_backtest(app, "/health?horizon=180")
    assert r.status_code == 200 and "within 180 days (base rate" in text_of(r.text)
    assert get(app, "/health?band=blue").status_code == 400


def test_account_page_shows_stage_health_and_potential(app: Any, acc: list[dict[str, Any]]) -> None:
    a = next(x for x in acc if x["stage"] == "renewal window" and x["expected_renewal_arr"] is not None)
    r = get(app, f"/accounts/{a['account_id']}")
    assert r.status_code == 200
    text = text_of(r.text)
    assert "Lifecycle and health on" in text
    assert f"renewal window stage: {a['reason']}" in text
    assert "Renewal outlook" in text and money(a["expected_renewal_arr"]) in text
    assert "seat whitespace" in text and money(a["potential_arr"]) in text
    gone = next((x for x in acc if x["stage"] == "churned"), None)
    if gone is not None:
        r = get(app, f"/accounts/{gone['account_id']}")
        assert "stopped paying on" in text_of(r.text)


def test_too_little_history_is_said_clearly(tmp_path: Path) -> None:
    paths = sample.write(tmp_path / "data", accounts=40, start=dt.date(2025, 11, 1))
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(dict(paths))
    app = web.create_app(tmp_path / "w.duckdb", config=Config(as_of=AS_OF), token="")
    r = wait_for_backtest(app, "/health")
    assert r.status_code == 200
    assert "No 90-day backtest for this workspace" in r.text and "too little history" in r.text
    assert get(app, "/rum").status_code == 200


def test_names_are_escaped(app: Any, ws: Workspace, acc: list[dict[str, Any]]) -> None:
    evil = next(a["account_id"] for a in ws.table("accounts").to_arrow().to_pylist() if a["name"] == EVIL)
    mine = next(a for a in acc if a["account_id"] == evil)
    urls = [f"/rum?stage={mine['stage']}", f"/accounts/{evil}", "/health"]
    if mine["stage"] == "renewal window":
        urls.append("/rum")
    for url in urls:
        r = get(app, url)
        assert r.status_code == 200, url
        assert "<script>alert(1)</script>" not in r.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in get(app, urls[0]).text


def test_a_workspace_without_the_customer_success_tables(tmp_path: Path) -> None:
    """Only subscriptions and accounts: the pages still render, and the backtest ends in an answer or a message."""
    paths = sample.write(tmp_path / "data", accounts=60, activity=False)
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(dict(paths))
    app = web.create_app(tmp_path / "w.duckdb", config=Config(as_of=AS_OF), token="")
    for url in ("/rum", "/rum?risk=medium", "/health", "/accounts/A000001"):
        assert get(app, url).status_code == 200, url
    r = wait_for_backtest(app, "/health")
    assert "Computing the" not in r.text
    assert 'class="answer"' in r.text or 'class="callout failed"' in r.text
