"""Picklist values the taxonomy does not know stay reasons of their own, on a company built by hand.

The company (every figure below is hand-computed from it): 15 accounts that churn in March-May
2024, each dated on a churn_reasons row of that month, and 10 that stay. Truth, by the picklist:

| reason (picklist)                          | churns | MRR each | ARR lost | comments (what keywords would say) |
|--------------------------------------------|--------|----------|----------|------------------------------------|
| "Moved to in-house tool" (5 spellings)     | 5      | 100      | 6,000    | 4 say price, 1 none                |
| "Price" / "Pricing" (+1 free text only)    | 4      | 50       | 2,400    | the free-text one says price       |
| "Low adoption" (3 spellings)               | 3      | 1,000    | 36,000   | budget cut, competitor, none       |
| "Data residency" (2 spellings)             | 2      | 2,000    | 48,000   | competitor, competitor             |
| competitor (free text only)                | 1      | 300      | 3,600    | competitor                         |

Reading the comments instead of an unknown picklist value (what revbook did before) gives price 8,
competitor 4, budget cut 1, unknown 2: the ranking by count against the truth has Spearman -0.11.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from scipy.stats import spearmanr

from revbook import Config, Workspace
from revbook.errors import ConfigError
from revbook.insights import classify_reasons, pareto, taxonomy, unmapped_reasons, upstream
from revbook.insights.taxonomy import normalise, unmapped_code

D = dt.date
IN_HOUSE = "moved_to_in_house_tool"

#: account, segment, MRR, churn day (the service's exclusive end, the reason's date), picklist, comment
LEAVERS: list[tuple[str, str, int, dt.date, str | None, str | None]] = [
    ("I1", "Startup", 100, D(2024, 3, 5), "Moved to in-house tool", "said it was too expensive"),
    ("I2", "Startup", 100, D(2024, 3, 20), "moved to in-house tool", "cheaper to build it themselves"),
    ("I3", "Startup", 100, D(2024, 4, 10), "  Moved to In-House  Tool ", None),
    ("I4", "Growth", 100, D(2024, 4, 20), "Moved to in house tool.", "too pricey"),
    ("I5", "Growth", 100, D(2024, 5, 10), "MOVED TO IN-HOUSE TOOL", "price increase was the trigger"),
    ("P1", "Growth", 50, D(2024, 3, 8), "Price", None),
    ("P2", "Growth", 50, D(2024, 4, 8), "Price", None),
    ("P3", "Growth", 50, D(2024, 5, 8), "Pricing", None),
    ("P4", "Growth", 50, D(2024, 5, 9), None, "too expensive"),
    ("A1", "Key accounts", 1000, D(2024, 3, 12), "Low adoption", "budget was cut"),
    ("A2", "Key accounts", 1000, D(2024, 4, 12), "low  adoption", "switched to Acme"),
    ("A3", "Key accounts", 1000, D(2024, 5, 12), "LOW-ADOPTION", None),
    ("D1", "Key accounts", 2000, D(2024, 3, 25), "Data residency", "a competitor offered EU hosting"),
    ("D2", "Key accounts", 2000, D(2024, 4, 25), "data-residency", "went with a local vendor"),
    ("C1", "Startup", 300, D(2024, 5, 20), None, "Switched to Acme"),
]
STAYERS = [(f"S{i}", "Startup" if i <= 4 else "Key accounts", 500) for i in range(1, 11)]


def _tables(primary: list[str | None] | None = None) -> dict[str, pa.Table]:
    everyone = [(a, s, m) for a, s, m, *_ in LEAVERS] + STAYERS
    ends = {a: day for a, _, _, day, _, _ in LEAVERS}
    return {
        "accounts": pa.table({"account_id": [a for a, _, _ in everyone], "segment": [s for _, s, _ in everyone]}),
        "subscriptions": pa.table(
            {
                "account_id": [a for a, _, _ in everyone],
                "subscription_id": [f"sub-{a}" for a, _, _ in everyone],
                "start_date": [D(2023, 1, 1)] * len(everyone),
                "end_date": pa.array([ends.get(a) for a, _, _ in everyone], pa.date32()),
                "mrr": pa.array([Decimal(m) for _, _, m in everyone], pa.decimal128(18, 4)),
            }
        ),
        "churn_reasons": pa.table(
            {
                "account_id": [r[0] for r in LEAVERS],
                "date": [r[3] for r in LEAVERS],
                "primary_reason": pa.array(primary or [r[4] for r in LEAVERS], pa.string()),
                "comment": pa.array([r[5] for r in LEAVERS], pa.string()),
            }
        ),
    }


def _workspace(path: Path, tables: dict[str, pa.Table]) -> Workspace:
    w = Workspace(path, config=Config(as_of=D(2024, 12, 31)))
    w.load_frames(tables)
    return w


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    w = _workspace(tmp_path_factory.mktemp("unmapped") / "w.duckdb", _tables())
    yield w
    w.close()


def _ranking(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {r["reason"]: r[key] for r in rows}


def test_normalised_spellings() -> None:
    assert normalise("  Moved to In-House  Tool. ") == normalise("moved to in house tool") == "moved to in house tool"
    assert unmapped_code("MOVED TO IN-HOUSE TOOL") == IN_HOUSE
    assert normalise(None) == normalise(" - ") == ""
    tax = taxonomy()
    assert tax.lookup("LOW-ADOPTION") == tax.lookup("low adoption") == "adoption"
    assert tax.lookup("Price / Cost") == "price" and tax.lookup("M&A") == "acquisition"
    assert tax.lookup("Moved to in-house tool") is None


def test_unknown_picklist_values_stay_their_own_reason(ws: Workspace) -> None:
    rows = {r["account_id"]: r for r in classify_reasons(ws).to_pylist()}
    for a in ("I1", "I2", "I3", "I4", "I5"):
        r = rows[a]
        # the comments say price: the picklist value is never reassigned by keywords
        assert (r["reason"], r["source"], r["confidence"]) == (IN_HOUSE, "primary_reason", 1.0)
        assert r["reason_label"] == "Moved to in-house tool"  # the first-seen spelling (earliest date)
        assert r["owner_function"] == "unassigned"
    assert {rows[a]["reason"] for a in ("D1", "D2")} == {"data_residency"}
    assert rows["D2"]["reason_label"] == "Data residency"
    assert {rows[a]["reason"] for a in ("A1", "A2", "A3")} == {"adoption"}  # in the default taxonomy
    assert rows["A1"]["owner_function"] == "customer success / onboarding"
    # only free text with no picklist value goes through the keyword rules
    assert (rows["P4"]["reason"], rows["P4"]["source"]) == ("price", "rule")
    assert (rows["C1"]["reason"], rows["C1"]["source"]) == ("competitor", "rule")


def test_pareto_counts_them_by_logos_and_arr(ws: Workspace) -> None:
    p = pareto(ws).to_pylist()
    got = {r["reason"]: (r["events"], r["churned_logos"], r["arr_lost"], r["reason_label"]) for r in p}
    assert got == {
        IN_HOUSE: (5, 5, Decimal("6000.00"), "Moved to in-house tool"),
        "price": (4, 4, Decimal("2400.00"), "Price / cost"),
        "adoption": (3, 3, Decimal("36000.00"), "Low adoption / never onboarded"),
        "data_residency": (2, 2, Decimal("48000.00"), "Data residency"),
        "competitor": (1, 1, Decimal("3600.00"), "Competitor"),
    }
    assert _ranking(p, "rank_count") == {IN_HOUSE: 1, "price": 2, "adoption": 3, "data_residency": 4, "competitor": 5}
    assert _ranking(p, "rank_arr") == {"data_residency": 1, "adoption": 2, IN_HOUSE: 3, "competitor": 4, "price": 5}
    assert sum(r["unmatched"] for r in p) == 0


def test_ranking_matches_the_truth_where_keywords_broke_it(ws: Workspace, tmp_path: Path) -> None:
    truth_count = {IN_HOUSE: 5, "price": 4, "adoption": 3, "data_residency": 2, "competitor": 1}
    truth_arr = {IN_HOUSE: 6000, "price": 2400, "adoption": 36000, "data_residency": 48000, "competitor": 3600}
    order = sorted(truth_count)

    def rho(got: dict[str, Any], truth: dict[str, int]) -> float:
        return float(spearmanr([float(got.get(c, 0)) for c in order], [truth[c] for c in order]).statistic)

    now = {r["reason"]: r for r in pareto(ws).to_pylist()}
    assert rho({c: r["events"] for c, r in now.items()}, truth_count) == pytest.approx(1.0)
    assert rho({c: r["arr_lost"] for c, r in now.items()}, truth_arr) == pytest.approx(1.0)
    # the old behaviour: a value the taxonomy did not know (adoption was not in it) was read as
    # no value, and the comment's keywords decided
    old_tax = {"adoption": False}
    known = taxonomy(old_tax)
    blank = [r[4] if known.lookup(r[4]) else None for r in LEAVERS]
    with _workspace(tmp_path / "old.duckdb", _tables(blank)) as old:
        before = {r["reason"]: r for r in pareto(old, reasons=old_tax).to_pylist()}
    assert {c: r["events"] for c, r in before.items()} == {"price": 8, "competitor": 4, "budget_cut": 1, "unknown": 2}
    # hand-computed: ranks (5, 4, 3, 2, 1) against (2, 5, 2, 2, 4): -1 / sqrt(10 * 8)
    assert rho({c: r["events"] for c, r in before.items()}, truth_count) == pytest.approx(-1 / 80**0.5)


def test_unmapped_values_are_listed_with_the_config_that_maps_them(ws: Workspace) -> None:
    listed = unmapped_reasons(ws).to_pylist()
    assert [(r["reason"], r["label"], r["rows"], r["suggested"]) for r in listed] == [
        (IN_HOUSE, "Moved to in-house tool", 5, None),
        ("data_residency", "Data residency", 2, None),
    ]
    assert listed[0]["spellings"].split(" | ") == [
        "Moved to in-house tool",
        "moved to in-house tool",
        "Moved to In-House  Tool",
        "Moved to in house tool.",
        "MOVED TO IN-HOUSE TOOL",
    ]
    assert listed[0]["config"] == '[churn_reasons.moved_to_in_house_tool]\naliases = ["Moved to in-house tool"]'
    # the printed config, as revbook.toml reads it, maps the value: it leaves the list
    for row in listed:
        overrides = tomllib.loads(row["config"])["churn_reasons"]
        assert row["reason"] not in {r["reason"] for r in unmapped_reasons(ws, reasons=overrides).to_pylist()}


def test_an_alias_maps_them_once_configured(ws: Workspace) -> None:
    overrides = {
        "change_in_needs": {"aliases": ["Moved to in-house tool"]},
        "data_residency": {"label": "Data residency", "owner": "legal"},  # a reason of the user's own
    }
    rows = {r["account_id"]: r for r in classify_reasons(ws, reasons=overrides).to_pylist()}
    assert {rows[a]["reason"] for a in ("I1", "I2", "I3", "I4", "I5")} == {"change_in_needs"}
    assert rows["D1"]["owner_function"] == "legal"
    assert unmapped_reasons(ws, reasons=overrides).to_pylist() == []
    p = {r["reason"]: (r["events"], r["arr_lost"]) for r in pareto(ws, reasons=overrides).to_pylist()}
    assert p["change_in_needs"] == (5, Decimal("6000.00")) and p["data_residency"] == (2, Decimal("48000.00"))


def test_a_suggestion_from_the_value_text_is_only_a_hint(tmp_path: Path) -> None:
    tables = _tables([r[4] if r[0] != "P1" else "Too expensive for us" for r in LEAVERS])
    with _workspace(tmp_path / "w.duckdb", tables) as w:
        row = next(r for r in unmapped_reasons(w).to_pylist() if r["label"] == "Too expensive for us")
        cls = {r["account_id"]: r["reason"] for r in classify_reasons(w).to_pylist()}
    assert row["suggested"] == "price" and row["config"].startswith("[churn_reasons.price]\n")
    assert cls["P1"] == "too_expensive_for_us"  # kept as it is until the user maps it


def test_configured_aliases_win_and_clashes_are_errors() -> None:
    assert taxonomy().lookup("budget") == "budget_cut"
    assert taxonomy({"price": {"aliases": ["Budget"]}}).lookup("budget") == "price"
    with pytest.raises(ConfigError, match="two churn reasons"):
        taxonomy({"price": {"aliases": ["x y"]}, "support": {"aliases": ["X-Y"]}})
    with pytest.raises(ConfigError, match="code or label of the reason 'support'"):
        taxonomy({"price": {"aliases": ["Support"]}})
    with pytest.raises(ConfigError, match="no letters or digits"):
        taxonomy({"price": {"aliases": ["--"]}})


def test_upstream_segments_are_the_data_own(ws: Workspace) -> None:
    up = {(r["reason"], r["feature"]): r for r in upstream(ws, top=5, resamples=100).to_pylist()}
    segments = {f for _, f in up if f.startswith("segment=")}
    assert segments == {"segment=Startup", "segment=Growth", "segment=Key accounts"}
    startup = up[(IN_HOUSE, "segment=Startup")]
    # 3 of the 5 in-house leavers are Startup; the 10 stayers (4 Startup), once per event month (3)
    assert (startup["n_left"], startup["n_stayed"], startup["status"]) == (5, 30, "measured")
    assert startup["left_mean"] == pytest.approx(0.6) and startup["stayed_mean"] == pytest.approx(0.4)
    assert up[(IN_HOUSE, "segment=Key accounts")]["stayed_mean"] == pytest.approx(0.6)
    assert up[(IN_HOUSE, "segment=Growth")]["left_mean"] == pytest.approx(0.4)
    assert startup["metric_owner"] == "sales (ideal customer profile)"
