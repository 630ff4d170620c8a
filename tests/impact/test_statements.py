"""Verified impact statements (revbook.impact.statements): worked examples on a hand-built company, one
CSM per rule, every figure computed by hand (docs/impact-statements.md holds the same examples).

The windows: as of 2024-12-31 with 6-month windows, "after" is 2024-06-30 .. 2024-12-31 and "before"
2023-12-31 .. 2024-06-30. Every account pays 100 a month unless said otherwise.

- P1 Ada (enterprise): A1-A5 stay, B1-B5 churn on 2024-03-01, C1-C5 start on 2024-06-01; a QBR with
  each A on 2024-08-15 and none before. Before: A+B, 5 of 10 kept (GRR 50%); after: A+C, all kept.
- P2 Bo: D1-D19 stay, E1 churns on 2024-02-01, F1 runs 2024-05-01 .. 2024-09-01: 95% -> 95%.
- P3 Cy: G1-G9 stay, H1 churns on 2024-03-01, I1 starts on 2024-06-01: 90% -> 100%, inside the noise.
- P4 Di: J1-J10 on usage-priced lines double from 100 to 200 on 2024-08-01: NRR 100% -> 200%, product-driven.
- P5 Ed: K1-K10 stay; each answered NPS 3 on 2024-03-01 and 10 on 2024-10-01: NPS -100 -> +100, GRR flat.
- P6 Fy: L1-L3 stay: too few accounts.
- P7 Gu: M1-M10 on yearly terms from 2023-09-01 (1,200 a year); M1-M9 renew on 2024-09-01 at 1,560, M10
  leaves; M1 had a save play on 2024-07-15.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace
from revbook.config import ImpactStatementsSettings
from revbook.errors import ConfigError, NotFoundError, WorkspaceError
from revbook.impact.statement_rules import READINGS, RULES, reading, readings_markdown, rules_markdown
from revbook.impact.statements import provenance, statements
from support import IMPACT_OWNERS as OWNERS
from support import impact_company

AS_OF = dt.date(2024, 12, 31)
SETTINGS = ImpactStatementsSettings(window=6, min_accounts=5, draws=500)
CONFIG = Config(as_of=AS_OF, impact_statements=SETTINGS)
DOC = Path(__file__).resolve().parents[2] / "docs" / "impact-statements.md"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("statements")
    files = impact_company(folder)
    with Workspace(folder / "w.duckdb", config=CONFIG) as w:
        w.load(files)
    w = Workspace(folder / "w.duckdb", config=CONFIG, read_only=True)
    yield w
    w.close()


@pytest.fixture(scope="module")
def rows(ws: Any) -> list[dict[str, Any]]:
    return ws.impact_statements().to_pylist()


def _of(rows: list[dict[str, Any]], owner: str, metric: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["scope_value"] == owner and r["metric"] == metric]


def _one(rows: list[dict[str, Any]], owner: str, metric: str) -> dict[str, Any]:
    got = _of(rows, owner, metric)
    assert len(got) == 1, got
    return got[0]


def test_verified_gross_churn_with_method(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P1", "gross_revenue_churn")
    assert r["status"] == "verified" and r["rule"] is None and r["reason"] is None
    assert (r["before"], r["after"], r["change"]) == (0.5, 0.0, -50.0)
    assert (r["accounts_before"], r["accounts"]) == (10, 10)
    assert r["high"] < 0  # every draw of "after" keeps all 10, a draw of "before" keeps 5 of 10 on average
    assert (r["before_start"], r["window_start"], r["window_end"]) == (
        dt.date(2023, 12, 31),
        dt.date(2024, 6, 30),
        AS_OF,
    )
    assert r["method"] == "qbr began (first on 2024-08-15)"
    assert r["text"] == (
        "Reduced gross revenue churn from 50.0% to 0.0% (owner P1 Ada, 10 accounts; the 6 months to 2024-12-31 "
        "against the 6 before) after qbr began (first on 2024-08-15)"
    )
    assert "50.0% -> 0.0%" in provenance(r) and "10 accounts before, 10 after" in provenance(r)
    for metric, before, after in (("grr", 0.5, 1.0), ("nrr", 0.5, 1.0), ("logo_retention", 0.5, 1.0)):
        m = _one(rows, "P1", metric)
        assert (m["status"], m["before"], m["after"]) == ("verified", before, after)


def test_activity_only_claim_is_refused(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P1", "activities")
    assert (r["status"], r["rule"]) == ("refused", "activity_only")
    assert r["text"].startswith("Ran 5 qbr touchpoints (owner P1 Ada;")
    assert (r["before"], r["after"]) == (0.0, 5.0)


def test_level_without_a_change_is_refused(rows: list[dict[str, Any]]) -> None:
    for metric in ("grr", "logo_retention", "nrr", "gross_revenue_churn"):
        r = _one(rows, "P2", metric)
        assert (r["status"], r["rule"], r["change"]) == ("refused", "no_change", 0.0), r
        assert (r["accounts_before"], r["accounts"]) == (20, 20)
    grr = _one(rows, "P2", "grr")
    assert grr["reason"] == "95.0% -> 95.0%: a level, not a change"
    assert grr["text"].startswith("GRR went from 95.0% to 95.0% (owner P2 Bo, 20 accounts;")


def test_change_inside_the_noise_is_refused(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P3", "grr")
    # before keeps 9 of 10; 0.9 ** 10 = 35% of the draws of "before" keep all 10, a change of 0
    assert (r["status"], r["rule"], r["before"], r["after"], r["change"]) == ("refused", "inside_noise", 0.9, 1.0, 10.0)
    assert r["low"] == 0.0 and r["high"] > 10
    assert "spans 0" in r["reason"]
    assert r["method"] == "not recorded" and r["text"].endswith("; method: not recorded")


def test_product_driven_nrr_gain_is_refused(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P4", "nrr")
    assert (r["before"], r["after"], r["change"], r["low"], r["high"]) == (1.0, 2.0, 100.0, 100.0, 100.0)
    assert (r["status"], r["rule"]) == ("refused", "product_driven")
    assert r["reason"].startswith("100% of the window's gross expansion was product-driven or self-serve")
    assert _one(rows, "P4", "grr")["rule"] == "no_change"


def test_satisfaction_without_retention_is_refused(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P5", "nps")
    assert (r["before"], r["after"], r["change"], r["low"], r["high"]) == (-100.0, 100.0, 200.0, 200.0, 200.0)
    assert (r["status"], r["rule"]) == ("refused", "satisfaction_without_retention")
    assert r["reason"] == "NPS rose +200 but GRR did not rise (+0.0 points)"
    assert _of(rows, "P1", "nps") == []  # no answers, no NPS statement


def test_too_few_accounts_is_refused(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P6", "grr")
    assert (r["status"], r["rule"]) == ("refused", "too_few_accounts")
    assert r["reason"] == "3 accounts before and 3 after; fewer than 5"


def test_renewal_rate_beside_nrr(rows: list[dict[str, Any]]) -> None:
    r = _one(rows, "P7", "renewal_rate")
    # due on 2024-09-01 (yearly cycle known on 2024-06-30): 10 x 1,200 ARR; M1-M9 renewed (capped at the
    # ARR due), M10 left: 10,800 / 12,000; NRR 9 x 130 / (10 x 100) = 117%
    assert (r["status"], r["after"], r["accounts"], r["before"]) == ("verified", 0.9, 10, None)
    assert r["text"].startswith("90% renewal + 117% NRR: broad retention and strong expansion (owner P7 Gu;")
    assert _one(rows, "P7", "nrr")["after"] == 1.17
    assert provenance(r).startswith("metric renewal_rate; 90.0%; 10 after;")
    assert _of(rows, "P1", "renewal_rate") == []  # month to month: nothing due


def test_save_never_credibly_at_risk_is_refused(ws: Any, rows: list[dict[str, Any]]) -> None:
    claimed = ws.saves(start="2024-07-01", end="2024-12-31").to_pylist()
    assert [(s["account_id"], s["verdict"]) for s in claimed] == [("M1", "uncertain")]
    r = _one(rows, "P7", "saves")
    assert (r["status"], r["rule"], r["after"]) == ("refused", "save_not_credible", 1.0)
    assert r["reason"] == "0 never at risk and 1 uncertain"


def test_segment_and_team_scopes(ws: Any) -> None:
    seg = {r["metric"]: r for r in ws.impact_statements(segment="enterprise").to_pylist()}
    assert seg["gross_revenue_churn"]["text"].startswith("Reduced enterprise gross revenue churn from 50.0% to 0.0%")
    east = {r["metric"]: r for r in ws.impact_statements(team="East").to_pylist()}
    # before: A, B, D, E = 30 accounts, B1-B5 and E1 lost (80%); after: A, C, D, F = 30, F1 lost
    assert (east["grr"]["before"], east["grr"]["after"], east["grr"]["accounts"]) == (0.8, 0.9667, 30)
    assert {r["scope_value"] for r in ws.impact_statements(owner="P3").to_pylist()} == {"P3"}


def test_every_row_is_verified_or_refused_with_a_known_rule(rows: list[dict[str, Any]]) -> None:
    codes = {r.code for r in RULES}
    assert {r["scope_value"] for r in rows} == set(OWNERS)
    for r in rows:
        assert (r["status"] == "verified") == (r["rule"] is None)
        assert r["rule"] is None or (r["rule"] in codes and r["reason"])


def test_same_statements_every_time(ws: Any, rows: list[dict[str, Any]]) -> None:
    assert ws.impact_statements(owner="P1").to_pylist() == [r for r in rows if r["scope_value"] == "P1"]


def test_bad_options(ws: Any) -> None:
    with pytest.raises(ConfigError):
        statements(ws, owner="P1", team="East")
    with pytest.raises(ConfigError):
        statements(ws, window=0)
    with pytest.raises(NotFoundError, match="no account was in owner nobody"):
        statements(ws, owner="nobody")
    with pytest.raises(WorkspaceError, match="two windows"):
        statements(ws, window=12)  # the data begin in 2023-06: no 12 months before 2023-12-31


def test_readings_cover_the_quadrants() -> None:
    assert reading(0.95, 1.15, SETTINGS) == "broad retention and strong expansion"
    assert reading(0.85, 1.05, SETTINGS) == "churn offset by upsells"
    assert reading(0.95, 0.97, SETTINGS).startswith("renewals kept but accounts shrank")
    assert reading(0.80, 0.90, SETTINGS).startswith("losing at renewal")
    assert {(x.renewal, x.nrr) for x in READINGS} == {
        (a, b) for a in ("high", "low") for b in ("strong", "growing", "shrinking")
    }


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        ImpactStatementsSettings.from_mapping({"min_acounts": 5})
    with pytest.raises(ConfigError):
        ImpactStatementsSettings.from_mapping({"product_share": 1.5})
    with pytest.raises(ConfigError):
        ImpactStatementsSettings.from_mapping({"cadence_ratio": 1})
    assert ImpactStatementsSettings.from_mapping({"window": 6}).window == 6


def test_doc_renders_the_tables() -> None:
    text = DOC.read_text("utf-8")
    assert rules_markdown() in text
    assert readings_markdown() in text
