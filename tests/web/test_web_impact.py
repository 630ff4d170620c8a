"""The pages of who moved the number (Attribution, Impact), in-process over the ASGI app: each shows
the library's figures, validates its filters, and escapes what the data holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace, sample
from revbook.web.pages.impact import SAVES_SHOWN
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def money(v: Any) -> str:
    return f"{float(v):,.0f}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("impactweb"), as_of=AS_OF, accounts=300)


@pytest.fixture(scope="module")
def ws(demo: Path):
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def app(demo: Path, ws: Workspace):  # ws first: both are read-only connections to the same file
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


def test_attribution_page_shows_the_library_figures(app: Any, ws: Workspace) -> None:
    total = ws.attribution_summary(window=12).to_arrow().to_pylist()[0]
    r = get(app, "/attribution")
    assert r.status_code == 200
    page = text_of(r.text)
    assert f"NRR {pct(total['nrr'])}" in page
    assert f"NRR without product-driven expansion {pct(total['nrr_without_product'])}" in page
    assert money(total["gross_expansion_arr"]) in page
    # every class with its ARR; the rows in the window are counted per class in the chips
    for c in ("csm", "ae", "product", "self_serve", "price", "ambiguous"):
        assert money(total[f"{c}_arr"]) in page
    rows = ws.attribution().to_polars()
    in_window = rows.filter(rows["period_end"] > total["window_start"])
    assert f"The expansions {in_window.height:,} in the window" in page
    assert "The rules, in the order they decide" in page and "usage" in page


def test_attribution_of_one_csm_and_one_class(app: Any, ws: Workspace) -> None:
    per_csm = ws.attribution_summary(window=12, by="csm").to_arrow().to_pylist()
    best = max(per_csm, key=lambda r: r["gross_expansion_arr"] or 0)
    r = get(app, f"/attribution?csm={best['csm']}")
    assert r.status_code == 200
    page = text_of(r.text)
    assert f"{best['csm_name']}'s book" in page and f"NRR {pct(best['nrr'])}" in page
    rows = ws.attribution(owner=best["csm"]).to_polars()
    product = rows.filter((rows["attribution"] == "product") & (rows["period_end"] > best["window_start"]))
    r = get(app, f"/attribution?csm={best['csm']}&attribution=product")
    assert f"The expansions {product.height:,} in the window · product" in text_of(r.text)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("csm=NOPE", 404, "csm"),
        ("attribution=magic", 400, "attribution"),
        ("page=0", 400, "page"),
    ],
)
def test_attribution_filters_are_validated(app: Any, query: str, status: int, message: str) -> None:
    r = get(app, f"/attribution?{query}")
    assert r.status_code == status and message in text_of(r.text)


def test_overview_shows_the_concentration_alerts_and_the_masking_sentence(app: Any, ws: Workspace) -> None:
    sentence = ws.concentration().to_arrow().to_pylist()[0]["sentence"]
    alerts = ws.concentration_alerts()
    assert alerts  # the sample's NRR is carried by a few accounts
    page = text_of(get(app, "/").text)
    assert f"Over the trailing 12 months, {sentence}." in page
    for a in alerts:
        assert a.sentence in page
    sliced = text_of(get(app, "/?by=segment&value=smb").text)  # the book-wide sentence is not a slice's
    assert sentence not in sliced


def wait_for(app: Any, url: str, seconds: float = 120) -> Any:
    import time

    deadline = time.monotonic() + seconds
    while True:
        r = get(app, url)
        if "Computing the expected retention" not in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def test_impact_page_shows_the_risk_adjusted_figures_capacity_and_the_books_change(app: Any, ws: Workspace) -> None:
    impact = ws.csm_impact().to_pylist()
    capacity = ws.capacity().to_pylist()
    book = ws.book_change().to_pylist()
    r = wait_for(app, "/impact")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "Method. Each CSM is judged on the accounts paying at the start" in page
    for row in impact:
        # name, accounts, actual and expected NRR, points and interval, as the library computed them
        assert (
            f"{row['owner_name']} {row['accounts']:,} {pct(row['actual_nrr'])} {pct(row['expected_nrr'])} "
            f"{row['net_points']:+.1f} {row['net_low']:+.1f} … {row['net_high']:+.1f}"
        ) in page
    for c in capacity:
        assert f"{c['owner_name']} " in page and f"{c['load']:.1f} {c['load_vs_median']:.2f}×" in page
    for b in book:
        assert money(b["start_arr"]) in page and money(b["end_arr"]) in page


def test_one_csms_impact_in_words_with_the_arithmetic_of_their_book(app: Any, ws: Workspace) -> None:
    row = next(r for r in ws.csm_impact().to_pylist() if r["verdict"] != "no verdict")
    book = ws.book_change(owner=row["owner"]).to_pylist()[0]
    page = text_of(wait_for(app, f"/impact?csm={row['owner']}").text)
    assert f"{row['owner_name']} held {row['accounts']:,} accounts on {row['window_start']}" in page
    assert f"NRR {pct(row['actual_nrr'])} by {row['window_end']} against {pct(row['expected_nrr'])} expected" in page
    assert f"{book['arithmetic']}." in page
    assert get(app, "/impact?csm=NOPE").status_code == 404


def test_impact_page_verifies_the_claimed_saves(app: Any, ws: Workspace) -> None:
    from revbook.impact.saves import saves_summary

    frame = ws.saves()
    summary = {r["verdict"]: r for r in saves_summary(frame).to_pylist() if r["owner"] == "all"}
    deadline_page = wait_for(app, "/impact")
    import time

    end = time.monotonic() + 180
    while "Scoring every claimed save" in deadline_page.text and time.monotonic() < end:
        time.sleep(1)
        deadline_page = get(app, "/impact")
    page = text_of(deadline_page.text)
    assert "Saves, verified" in page and frame.to_arrow().num_rows > 0
    for verdict, label in (("credible", "credible"), ("never_at_risk", "never at risk"), ("uncertain", "uncertain")):
        r = summary[verdict]
        assert f"{label} {r['saves']:,} {money(r['arr'])} {money(r['expected_arr_saved'])}" in page
    newest = max(frame.to_pylist(), key=lambda r: r["flag_date"])
    assert f"{newest['flag_date']} {newest['account_id']}" in page
    newest_first = sorted(frame.to_pylist(), key=lambda r: r["flag_date"], reverse=True)[:SAVES_SHOWN]
    later = [r for r in newest_first if r["scored_on"] != r["flag_date"]]
    assert later, "some save shown reads a flag after its first"
    assert f"{later[0]['scored_on']} " in page  # the flag date its probability was read on
