"""What the Overview says beside its figures: the data-quality findings that change them, a partial
period marked "to date", the waterfall of the last complete month, the accounts behind each
retention point, one word for an account without a CSM; and the 404 page's way back."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace, quality, sample
from revbook.definitions import NO_CSM, TO_DATE
from revbook.metrics.book import is_partial
from revbook.quality import headline_findings
from revbook.reports.charts import SMALL_COHORT, pct
from revbook.reports.html import last_complete
from support import RAVENSTACK, get, ravenstack_config, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of  # 2026-11-15: November is partial
MONTH_END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workspace(tmp_path_factory.mktemp("headline"), as_of=AS_OF, accounts=300, text=True)


@pytest.fixture(scope="module")
def ws(demo: Path):
    with Workspace(demo, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def app(demo: Path, ws: Workspace):
    return web.create_app(demo, config=Config(as_of=AS_OF), token="")


@pytest.fixture(scope="module")
def app_month_end(demo: Path, ws: Workspace):
    return web.create_app(demo, config=Config(as_of=MONTH_END), token="")


def spec(html: str, name: str) -> dict[str, Any]:
    m = re.search(rf'<script type="application/json" id="spec-{name}">(.*?)</script>', html, re.S)
    assert m, f"no spec {name}"
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def title(s: dict[str, Any]) -> str:
    t = s["title"]
    return str(t["text"] if isinstance(t, dict) else t)


def warning_rows(html: str) -> dict[str, int]:
    aside = re.search(r'<aside class="dq-warning".*?</aside>', html, re.S)
    if aside is None:
        return {}
    return {c: int(n) for c, n in re.findall(r'<li data-check="([a-z_]+)">.*?data-rows="(\d+)"', aside.group(0), re.S)}


# -- data-quality findings beside the headline ---------------------------------------------------


def test_the_rule_is_a_field_of_each_check() -> None:
    affecting = {c.name for c in quality.CHECKS if c.effect}
    assert {"overlapping_lines", "gap_reads_as_churn", "missing_fx_rate", "duplicate_rows"} <= affecting
    assert not {"no_owner", "zero_mrr", "future_dates", "unknown_owner"} & affecting
    errors = [{"severity": "error", "check": c.name, "rows": 1, "table": c.table} for c in quality.CHECKS
              if c.severity == "error"]  # fmt: skip
    assert len(headline_findings(errors)) == len(errors)  # every error is shown beside the headline


def test_headline_findings_keeps_the_checks_with_an_effect_and_any_other_error() -> None:
    rows = [
        {"severity": "warning", "check": "overlapping_lines", "rows": 3, "table": "subscriptions"},
        {"severity": "info", "check": "no_owner", "rows": 9, "table": "owners"},
        {"severity": "error", "check": "a_load_warning", "rows": 2, "table": "invoices"},
        {"severity": "warning", "check": "another_load_warning", "rows": 1, "table": "invoices"},
    ]
    kept = headline_findings(rows)
    assert [f["check"] for f in kept] == ["overlapping_lines", "a_load_warning"]
    assert "NRR read high" in kept[0]["effect"]


def test_overview_shows_the_findings_that_change_the_headline_with_their_counts(app: Any, ws: Workspace) -> None:
    findings = ws.check().to_pylist()
    expected = {f["check"]: f["rows"] for f in headline_findings(findings)}
    assert expected == {"gap_reads_as_churn": 5, "overlapping_lines": 21}  # the sample's seeded flaws
    html = get(app, "/").text
    assert warning_rows(html) == expected
    assert "no_owner" not in warning_rows(html)  # info: it changes no headline figure
    text = text_of(html)
    assert "2 data-quality findings change these figures" in text
    assert "MRR, ARR and NRR read high" in text
    assert 'href="/definitions#data_quality-overlapping_lines-subscriptions"' in html
    # the link leads to the finding's row
    assert 'id="data_quality-overlapping_lines-subscriptions"' in get(app, "/definitions").text
    # a slice's Overview carries the same warning (the findings are of the workspace)
    assert warning_rows(get(app, "/?by=segment&value=smb").text) == expected


def test_report_shows_the_same_findings_beside_its_headline(ws: Workspace) -> None:
    from revbook.reports.html import render_report

    html = render_report(ws)
    expected = {f["check"]: f["rows"] for f in headline_findings(ws.check().to_pylist())}
    assert warning_rows(html) == expected
    head = html.index('data-figure="nrr"')
    assert head < html.index('class="dq-warning"') < html.index('data-spec="spec-arr"')
    assert 'href="#data_quality-gap_reads_as_churn-subscriptions"' in html
    assert 'id="data_quality-gap_reads_as_churn-subscriptions"' in html


@pytest.mark.skipif(not RAVENSTACK.exists(), reason=f"dataset folder {RAVENSTACK} is not beside the repository")
def test_ravenstack_overview_warns_beside_its_nrr(tmp_path: Path) -> None:
    import revbook
    from revbook.config import load_config

    cfg = ravenstack_config(tmp_path)
    db = tmp_path / "ravenstack.duckdb"
    with revbook.open(config=cfg) as w:
        w.load()
        nrr = w.headline()["nrr_12m"]
        overlaps = next(f["rows"] for f in w.check().to_pylist() if f["check"] == "overlapping_lines")
    assert (pct(nrr), overlaps) == ("292.3%", 5694)
    app = web.create_app(db, config=load_config(cfg), token="")
    html = get(app, "/").text
    assert warning_rows(html)["overlapping_lines"] == 5694
    # beside the headline: right after the NRR tile's section, before the first chart
    kpi = html.index(">NRR 12m<")
    assert pct(nrr) in html[kpi : html.index("</section>", kpi)]
    assert html.index("</section>", kpi) < html.index('class="dq-warning"') < html.index('id="spec-arr"')
    assert "5,694" in text_of(html) and "MRR, ARR and NRR read high" in text_of(html)


# -- a partial period is "to date"; the waterfall's default is the last complete month -----------


def test_to_date_marks_only_a_period_the_as_of_date_cuts_short(app: Any, app_month_end: Any) -> None:
    h1 = re.compile(r"<h1>.*?</h1>", re.S)
    assert "2026-11 to date" in text_of(h1.search(get(app, "/").text).group(0))  # type: ignore[union-attr]
    assert TO_DATE not in text_of(h1.search(get(app, "/?period=2026-10").text).group(0))  # type: ignore[union-attr]
    # quarter: Q4 runs to 31 December
    assert "2026-Q4 to date" in text_of(get(app, "/?grain=quarter").text)
    # an as-of date on a month end: October is complete, nothing is "to date"
    page = get(app_month_end, "/").text
    assert "2026-10" in text_of(h1.search(page).group(0)) and TO_DATE not in text_of(page)  # type: ignore[union-attr]
    # the period menu names the partial period so, and only it
    options = re.findall(r'<option value="(\d{4}-\d\d)"[^>]*>([^<]+)</option>', get(app, "/").text)
    assert [label for value, label in options if label != value] == ["2026-11 to date"]


def test_waterfall_defaults_to_the_last_complete_month_on_both_surfaces(app: Any, ws: Workspace) -> None:
    from revbook.reports.html import report_context

    movements = ws.movements().to_pylist()
    complete = last_complete(movements, grain="month", fiscal_start=1)
    assert complete is not None and complete["period"] == "2026-10"
    assert is_partial(movements[-1]["period_end"]) and not is_partial(complete["period_end"])
    dashboard = spec(get(app, "/").text, "waterfall")
    report = report_context(ws)["specs"]["waterfall"]
    assert title(dashboard) == title(report) == "MRR movements, 2026-10"
    # its bars are that month's movements, and the movers are of that month too
    end = next(v for v in dashboard["data"]["values"] if v["kind"] == "end")
    assert end["hi"] == float(complete["end_mrr"])
    assert "Top movers, 2026-10" in text_of(get(app, "/").text)
    # chosen, the partial month is shown, marked
    chosen = spec(get(app, "/?period=2026-11").text, "waterfall")
    assert title(chosen) == "MRR movements, 2026-11 to date"
    # a bar leads to that month's accounts
    new = next(v for v in dashboard["data"]["values"] if v["kind"] == "new")
    assert "period=2026-10" in new["url"] and "movement=new" in new["url"]


def test_report_marks_the_partial_month_to_date(ws: Workspace) -> None:
    from revbook.reports.html import render_report

    text = text_of(render_report(ws))
    assert "2026-11 to date" in text
    assert "2026-10 to date" not in text
    assert "The waterfall shows 2026-10, the last complete month" in text


# -- the accounts behind each retention point ----------------------------------------------------


def test_retention_points_carry_their_accounts_and_small_ones_fade(app: Any, ws: Workspace) -> None:
    owner = "P0001"
    rows = [r for r in ws.retention(by="owner", window=12).to_pylist() if r["owner"] == owner and r["nrr"] is not None]
    values = spec(get(app, f"/book?by=owner&value={owner}").text, "retention")["data"]["values"]
    nrr = [v for v in values if v["measure"] == "NRR"]
    assert [v["accounts"] for v in nrr] == [r["start_accounts"] for r in rows]
    assert [v["small"] for v in nrr] == [r["start_accounts"] < SMALL_COHORT for r in rows]
    assert any(v["small"] for v in nrr) and not all(v["small"] for v in nrr)


def test_cohort_cells_carry_their_cohort_size(app: Any, ws: Workspace) -> None:
    cohorts = {(r["cohort"], r["months_since_start"]): r for r in ws.cohorts().to_pylist()}
    cells = spec(get(app, "/retention").text, "cohorts")["data"]["values"]
    assert cells
    for c in cells:
        r = cohorts[(c["c"], c["a"])]
        assert (c["s"], c["small"]) == (r["cohort_accounts"], r["cohort_accounts"] < SMALL_COHORT)


# -- one word for no CSM; labels; the 404 page ------------------------------------------------------


def test_no_csm_is_one_word_and_the_data_keep_theirs(app: Any, ws: Workspace) -> None:
    owners = {r["owner"] for r in ws.movements(by="owner").to_pylist()}
    assert "(none)" in owners  # the library's value is unchanged
    for url in ("/", "/accounts?status=all&sort=owner_name", "/book?by=owner", "/rum", "/signals"):
        text = text_of(get(app, url).text)
        assert "(none)" not in text and "unmanaged" not in text.lower(), url
    assert NO_CSM in text_of(get(app, "/book?by=owner").text)
    assert f"ARR {NO_CSM} (no CSM)" in text_of(get(app, "/rum").text)
    # the filter still takes the data's value
    assert get(app, "/book?by=owner&value=(none)").status_code == 200


def test_signal_lift_chart_shows_rule_labels(app: Any) -> None:
    values = spec(get(app, "/signals").text, "lift")["data"]["values"]
    assert values and not any("_" in v["rule"] for v in values)
    assert any(" " in v["rule"] for v in values)
    assert all("rule=champion_left" in v["url"] for v in values if v["rule"] == "champion left")


def test_the_404_page_leads_to_the_overview_not_to_itself(app: Any) -> None:
    r = get(app, "/accounts/NO-SUCH-ACCOUNT")
    assert r.status_code == 404
    assert 'href="/"' in r.text and 'href="/accounts/NO-SUCH-ACCOUNT"' not in r.text


def test_the_account_timeline_marks_the_partial_month(app: Any, ws: Workspace) -> None:
    paying = next(r["account_id"] for r in ws.mrr(accounts=True).to_pylist() if r["period_end"].month == 11)
    timeline = spec(get(app, f"/accounts/{paying}").text, "timeline")
    periods = [v["period"] for v in timeline["layer"][0]["data"]["values"]]
    assert periods[-1] == "2026-11 to date" and "2026-10" in periods
    assert all(p.endswith("to date") == (p == periods[-1]) for p in periods)
