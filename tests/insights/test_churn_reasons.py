"""Churn reasons on the sample company: taxonomy, classification, corrections, accuracy, Pareto."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from revbook import Config, Workspace, sample
from revbook.errors import ConfigError
from revbook.insights import (
    classify_reasons,
    correct_reason,
    pareto,
    reason_accuracy,
    reason_events,
    taxonomy,
    unmapped_reasons,
    upstream,
)

ACCOUNTS = 1500
AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("reasons")
    paths = sample.write(tmp / "data", accounts=ACCOUNTS, text=True, activity=False)
    w = Workspace(tmp / "w.duckdb", config=Config(as_of=AS_OF))
    w.load(paths)
    yield w
    w.close()


@pytest.fixture(scope="module")
def labels() -> dict[str, pa.Table]:
    return sample.labels(accounts=ACCOUNTS)


@pytest.fixture(scope="module")
def classified(ws: Workspace):
    return classify_reasons(ws)


def test_taxonomy_defaults_and_overrides() -> None:
    tax = taxonomy()
    assert tax.codes[-1] == "unknown" and "champion_left" in tax.codes
    assert tax.owner("missing_features") == "product" and tax.owner("support") == "support"
    assert tax.owner("adoption") == "customer success / onboarding"
    assert tax.lookup("Never onboarded") == "adoption" and tax.lookup("Poor product fit") == "fit"
    custom = taxonomy({"data_residency": {"owner": "legal", "keywords": ["data residency"]}, "fit": False})
    assert "data_residency" in custom.codes and "fit" not in custom.codes
    assert custom.owner("data_residency") == "legal"
    with pytest.raises(ConfigError, match="unknown key"):
        taxonomy({"price": {"colour": "red"}})
    with pytest.raises(ConfigError, match="regular expression"):
        taxonomy({"price": {"keywords": ["(unclosed"]}})
    with pytest.raises(ConfigError):
        taxonomy({"unknown": False})


def test_every_row_classified_with_confidence_and_evidence(classified, ws: Workspace) -> None:
    t = classified.to_arrow()
    assert t.num_rows == ws.row_counts()["churn_reasons"] > 300
    assert set(t["source"].to_pylist()) >= {"primary_reason", "rule", "model"}
    rows = t.to_pylist()
    assert all(r["reason"] in taxonomy().codes for r in rows)
    assert all(0 <= r["confidence"] <= 1 for r in rows)
    assert all(r["evidence"] for r in rows if r["source"] in ("rule", "model"))


def test_every_sample_picklist_value_maps(ws: Workspace, classified) -> None:
    assert unmapped_reasons(ws).to_pylist() == []
    assert {r["reason"] for r in classified.to_pylist()} <= set(taxonomy().codes) - {"adoption"}


def test_classification_agrees_with_the_labels(classified, labels) -> None:
    truth = {(r["account_id"], r["date"]): r["reason"] for r in labels["labels_churn_reasons"].to_pylist()}
    rows = classified.to_pylist()
    agree = sum(truth[(r["account_id"], r["date"])] == r["reason"] for r in rows)
    assert agree / len(rows) > 0.9


def test_accuracy_is_cross_validated_per_class(ws: Workspace, labels) -> None:
    acc = reason_accuracy({"churn_reasons": ws.table("churn_reasons"), **labels}, folds=3)
    rows = {r["reason"]: r for r in acc.to_pylist()}
    assert {"price", "champion_left", "(macro average)", "(accuracy)"} <= set(rows)
    assert rows["(macro average)"]["f1"] > 0.8
    assert all(0 <= r["precision"] <= 1 for r in rows.values() if r["precision"] is not None)
    with pytest.raises(ConfigError, match="too few"):
        reason_accuracy({"churn_reasons": ws.table("churn_reasons").to_arrow().slice(0, 3)})


def _truth_ranking(ws: Workspace, labels) -> tuple[list[str], list[str]]:
    """The planted reasons ranked by count and by ARR lost, valued on the ledger like pareto does."""
    lab = labels["labels_churn_reasons"]
    mv = ws.account_movements().to_arrow()
    con = ws.con.cursor()
    con.register("lab", lab)
    con.register("mv", mv)
    rows = con.execute(
        """SELECT l.reason, count(*) AS n, sum(coalesce(12 * (m.start_mrr - m.end_mrr), 0)) AS arr FROM lab l
           LEFT JOIN mv m ON m.account_id = l.account_id AND m.period = strftime(l.date, '%Y-%m')
                AND m.movement IN ('churn', 'contraction') GROUP BY 1"""
    ).fetchall()
    con.close()
    by_n = [r[0] for r in sorted(rows, key=lambda r: (-r[1], r[0]))]
    by_arr = [r[0] for r in sorted(rows, key=lambda r: (-r[2], r[0]))]
    return by_n, by_arr


def test_pareto_ranks_the_planted_reasons(ws: Workspace, classified, labels) -> None:
    p = pareto(ws, classified=classified).to_pylist()
    by_count = [r["reason"] for r in sorted(p, key=lambda r: r["rank_count"])]
    by_arr = [r["reason"] for r in sorted(p, key=lambda r: r["rank_arr"])]
    truth_n, truth_arr = _truth_ranking(ws, labels)
    # as planted: many small accounts leave for price, a few large ones for champion-left / acquisition
    assert by_count[0] == truth_n[0] == "price"
    assert set(by_arr[:2]) == set(truth_arr[:2]) == {"champion_left", "acquisition"}
    assert by_arr.index("price") == truth_arr.index("price") == 2
    # every reason matched to a ledger movement; shares add up; the vital few reach 80%
    assert sum(r["unmatched"] for r in p) == 0
    assert abs(sum(r["share_count"] for r in p) - 1) < 1e-9
    assert abs(sum(r["share_arr"] for r in p) - 1) < 1e-9
    vital = [r for r in p if r["vital_few_arr"]]
    assert (
        sum(r["share_arr"] for r in vital)
        >= 0.8
        > sum(r["share_arr"] for r in vital) - min(r["share_arr"] for r in vital)
    )


def test_pareto_slices_and_window(ws: Workspace, classified) -> None:
    whole = pareto(ws, classified=classified).to_pylist()
    seg = pareto(ws, by="segment", classified=classified).to_pylist()
    assert sum(r["events"] for r in seg) == sum(r["events"] for r in whole)
    assert {r["segment"] for r in seg} <= {"smb", "mid_market", "enterprise"}
    per = pareto(ws, by=["period", "owner"], grain="year", classified=classified)
    assert {"period", "owner", "owner_name"} <= set(per.columns)
    recent = pareto(ws, start="2026-01-01", end=dt.date(2026, 6, 30), classified=classified).to_pylist()
    assert 0 < sum(r["events"] for r in recent) < sum(r["events"] for r in whole)
    with pytest.raises(ConfigError, match="unknown slice"):
        pareto(ws, by="colour", classified=classified)


def test_a_correction_wins(ws: Workspace, classified) -> None:
    row = next(r for r in classified.to_pylist() if r["source"] == "primary_reason" and r["reason"] != "support")
    correct_reason(ws, row["account_id"], row["date"], "Support", by="ana@example.com")
    again = {(r["account_id"], r["date"]): r for r in classify_reasons(ws).to_pylist()}
    fixed = again[(row["account_id"], row["date"])]
    assert (fixed["reason"], fixed["source"], fixed["confidence"]) == ("support", "correction", 1.0)
    # the latest correction of a row wins
    correct_reason(ws, row["account_id"], row["date"].isoformat(), "fit", by="bo")
    again = {(r["account_id"], r["date"]): r for r in classify_reasons(ws).to_pylist()}
    assert again[(row["account_id"], row["date"])]["reason"] == "fit"
    with pytest.raises(ConfigError, match="unknown churn reason"):
        correct_reason(ws, row["account_id"], row["date"], "aliens", by="bo")
    with pytest.raises(ConfigError, match="no churn reason"):
        correct_reason(ws, "NOPE", row["date"], "fit", by="bo")


def test_upstream_gaps_with_intervals(ws: Workspace) -> None:
    up = upstream(ws, top=2, resamples=200).to_pylist()
    reasons = {r["reason"] for r in up}
    assert reasons == {"champion_left", "acquisition"}
    measured = [r for r in up if r["status"] == "measured"]
    assert measured and all(r["gap_low"] <= r["gap"] <= r["gap_high"] for r in measured)
    assert {r["feature"] for r in up if r["status"] == "not loaded"} >= {"tickets_180d", "last_nps"}
    assert all(r["gap"] is None for r in up if r["status"] == "not loaded")
    # seeded: the same intervals again
    assert upstream(ws, top=2, resamples=200).to_pylist() == up


def test_bad_comments_are_kept_as_text(tmp_path: Path) -> None:
    big = "too expensive " + "x" * 1_000_000
    rows = pa.table(
        {
            "account_id": ["A", "B", "C", "D"],
            "date": [dt.date(2024, 1, 31)] * 4,
            "primary_reason": [None, None, None, "Pricing"],
            "comment": ["<script>alert(1)</script> price increase was too much", big, "tab\there\x01", None],
        }
    )
    accounts = pa.table({"account_id": ["A", "B", "C", "D"]})
    subs = pa.table(
        {
            "account_id": ["A"],
            "subscription_id": ["S"],
            "start_date": [dt.date(2023, 1, 1)],
            "mrr": pa.array([100], pa.decimal128(18, 4)),
        }
    )
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load_frames({"accounts": accounts, "subscriptions": subs, "churn_reasons": rows})
        out = {r["account_id"]: r for r in classify_reasons(w).to_pylist()}
    assert out["A"]["comment"].startswith("<script>")  # kept as data
    assert out["A"]["reason"] == "price" and out["A"]["source"] == "rule"
    assert out["B"]["reason"] == "price" and len(out["B"]["comment"]) > 1_000_000
    assert out["C"]["comment"] == "tab\there\x01" and out["C"]["reason"] == "unknown"
    assert out["D"]["reason"] == "price" and out["D"]["source"] == "primary_reason"


def test_upstream_uses_tickets_and_nps_when_loaded(tmp_path: Path) -> None:
    """Support load and NPS before leaving (inserted directly, on a sample without its own activity tables)."""
    paths = sample.write(tmp_path / "data", accounts=400, text=True, activity=False)
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(dict(paths))
        left = reason_events(w).to_pylist()
        leavers = {r["account_id"]: r["date"] for r in left if r["reason"] == "support"}
        assert leavers, "the sample has accounts that left for support"
        # every support leaver opened 3 tickets (one escalated) in the 60 days before, and answered NPS 2;
        # every other account answered NPS 9 at the start and opened no ticket
        rows = []
        for i, (account, day) in enumerate(sorted(leavers.items())):
            for k in range(3):
                opened = day - dt.timedelta(days=20 * (k + 1))
                rows.append((account, f"T{i}-{k}", opened, k == 0))
        w.con.executemany(
            "INSERT INTO tickets (account_id, ticket_id, opened_at, escalated, _file, _row)"
            " VALUES (?, ?, ?, ?, 'x', 1)",
            rows,
        )
        w.con.execute(
            "INSERT INTO surveys (account_id, date, kind, score, _file, _row) "
            "SELECT account_id, DATE '2021-12-15', 'nps', CASE WHEN account_id IN (SELECT unnest(?)) THEN 2 ELSE 9 END,"
            " 'x', 1 FROM accounts",
            [list(leavers)],
        )
        up = {(r["reason"], r["feature"]): r for r in upstream(w, top=11, resamples=200).to_pylist()}
    tickets = up[("support", "tickets_180d")]
    # an account that left twice for support has its earlier event before some of its tickets: mean <= 3
    assert tickets["status"] == "measured" and 2.0 < tickets["left_mean"] <= 3.0 and tickets["stayed_mean"] < 0.1
    assert tickets["gap_low"] > 1.5
    assert 0.5 < up[("support", "escalations_180d")]["left_mean"] <= 1.0
    nps = up[("support", "last_nps")]
    assert nps["status"] == "measured" and nps["gap"] < -6 and nps["gap_high"] < 0
