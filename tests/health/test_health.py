"""Health: point-in-time features, labels, the composite (worked example), the models and the backtest."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from revbook import Config, ConfigError, SourceError, Workspace, sample
from revbook.config import HealthSettings
from revbook.health.backtest import backtest, month_ends
from revbook.health.composite import COMPONENTS, score_table
from revbook.health.features import FEATURES, features, labels
from revbook.health.model import HealthModel
from support import write

SAMPLE_AS_OF = sample.SampleConfig().as_of


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate(accounts=1200, seed=3)


@pytest.fixture(scope="module")
def company(tables, tmp_path_factory) -> Workspace:
    path = tmp_path_factory.mktemp("health") / "w.duckdb"
    w = Workspace(path, config=Config(as_of=SAMPLE_AS_OF))
    w.load_frames(tables)
    yield w
    w.close()


# ------------------------------------------------------------------------------------------
# the point-in-time rule


def _cut(tables: dict[str, pa.Table], d: dt.date) -> dict[str, pa.Table]:
    """The company as it was known on ``d``: nothing dated after it; what ended after it still open."""
    day = pa.scalar(d, pa.date32())

    def on_or_before(t: pa.Table, col: str) -> pa.Table:
        return t.filter(pc.less_equal(t[col], day))

    def open_after(t: pa.Table, col: str) -> pa.Table:
        i = t.schema.get_field_index(col)
        return t.set_column(i, col, pc.if_else(pc.greater(t[col], day), pa.scalar(None, t[col].type), t[col]))

    out = dict(tables)
    subs = on_or_before(tables["subscriptions"], "start_date")
    subs = open_after(open_after(subs, "end_date"), "cancel_requested_at")
    out["subscriptions"] = subs
    out["owners"] = open_after(on_or_before(tables["owners"], "start_date"), "end_date")
    out["account_history"] = on_or_before(tables["account_history"], "valid_from")
    out["invoices"] = on_or_before(tables["invoices"], "invoice_date")
    for name, col in (("usage", "date"), ("activities", "date"), ("surveys", "date"), ("milestones", "achieved_at")):
        out[name] = on_or_before(tables[name], col)
    out["tickets"] = open_after(on_or_before(tables["tickets"], "opened_at"), "closed_at")
    opp = on_or_before(tables["opportunities"], "created_at")
    later = pc.greater(opp["closed_at"], day)
    opp = open_after(opp, "closed_at")
    opp = opp.set_column(
        opp.schema.get_field_index("won"), "won", pc.if_else(later, pa.scalar(None, pa.bool_()), opp["won"])
    )
    out["opportunities"] = opp
    return out


def test_no_later_data_leaks_into_features(tables, company, tmp_path):
    d = dt.date(2025, 3, 31)
    full = features(company, [d])
    with Workspace(tmp_path / "cut.duckdb", config=Config(as_of=d)) as cut:
        cut.load_frames(_cut(tables, d))
        known = features(cut, [d])
    assert full.num_rows == known.num_rows > 300
    for name in full.column_names:
        assert full[name].equals(known[name]), name


def test_features_change_when_earlier_data_changes(tables, company, tmp_path):
    """The same comparison can fail: an escalation dated before the scoring date shows."""
    d = dt.date(2025, 3, 31)
    full = features(company, [d])
    acct = full["account_id"][0].as_py()
    extra = pa.table(
        {
            "account_id": [acct],
            "ticket_id": ["T-NEW"],
            "opened_at": pa.array([d - dt.timedelta(days=3)], pa.date32()),
            "escalated": [True],
        }
    )
    changed = dict(tables)
    changed["tickets"] = pa.concat_tables([tables["tickets"], extra], promote_options="default")
    with Workspace(tmp_path / "more.duckdb", config=Config(as_of=SAMPLE_AS_OF)) as other:
        other.load_frames(changed)
        again = features(other, [d])
    i = full["account_id"].to_pylist().index(acct)
    assert again["escalations_90d"][i].as_py() == full["escalations_90d"][i].as_py() + 1
    assert again["open_tickets"][i].as_py() == full["open_tickets"][i].as_py() + 1


def test_every_feature_is_described_and_missing_tables_give_nulls(tmp_path):
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        data = tmp_path / "d"
        data.mkdir()
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\n"),
                "subscriptions": write(
                    data / "s.csv", "account_id,subscription_id,start_date,mrr\nA,S1,2024-01-01,100\n"
                ),
            }
        )
        t = features(w, [dt.date(2024, 6, 30)])
    assert t.column_names == ["account_id", "score_date", "mrr", *FEATURES]
    assert t.num_rows == 1
    assert t["mrr"][0].as_py() == 10_000
    assert t["tenure_days"][0].as_py() == 181
    for name in ("usage_trend", "utilisation", "nps", "milestone_progress", "escalations_90d"):
        assert t[name][0].as_py() is None, name
    # the composite of an account with no activity data at all is unknown, not bad
    scored = score_table(t)
    assert scored["band"][0].as_py() == "unknown"


# ------------------------------------------------------------------------------------------
# labels: a worked example


def test_labels_worked_example(tmp_path):
    """Scoring on 2024-03-31, horizon 90 days: A contracts 100 -> 80 (20%: an event), B 100 -> 95
    (5%: not one), C churns (an event, 100 lost), D churns after the horizon (not one)."""
    data = tmp_path / "d"
    data.mkdir()
    subs = (
        "account_id,subscription_id,start_date,end_date,mrr\n"
        "A,A1,2024-01-01,2024-05-01,100\nA,A2,2024-05-01,,80\n"
        "B,B1,2024-01-01,2024-05-01,100\nB,B2,2024-05-01,,95\n"
        "C,C1,2024-01-01,2024-06-15,100\n"
        "D,D1,2024-01-01,2024-08-01,100\n"
    )
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\nB\nC\nD\n"),
                "subscriptions": write(data / "s.csv", subs),
            }
        )
        lab = labels(w, [dt.date(2024, 3, 31)], horizon_days=90).to_pylist()
    got = {r["account_id"]: (r["event"], r["lost_mrr"], r["mrr_end"], r["known"]) for r in lab}
    assert got == {
        "A": (True, 2_000, 8_000, True),
        "B": (False, 500, 9_500, True),
        "C": (True, 10_000, 0, True),
        "D": (False, 0, 10_000, True),
    }


# ------------------------------------------------------------------------------------------
# the composite: a worked example (docs/health.md)


def _feature_row(**values: float | None) -> pa.Table:
    row = dict.fromkeys(FEATURES)
    row.update(values)
    cols = {"account_id": ["A"], "score_date": pa.array([dt.date(2024, 6, 30)], pa.date32()), "mrr": [10_000]}
    cols |= {k: pa.array([v], pa.float64()) for k, v in row.items()}
    return pa.table(cols)


def test_composite_worked_example():
    """usage down 10% -> 30 and half the key features -> 50: usage 40; utilisation 50% -> 37.5; last
    touchpoint 30 days ago -> 63.2 (log scale, 7 days 100, a year 0); two cases, one open -> 62.5;
    NPS 8 -> 66.7 and CSAT 4 -> 50: 58.3; half the milestones -> 50. Weighted (0.25, 0.2, 0.15,
    0.15, 0.15, 0.1): 50.1, yellow (>= 47); points lost sum to 100 - score."""
    feats = _feature_row(
        usage_trend=-0.1, feature_breadth=0.5, utilisation=0.5, days_since_activity=30, activities_90d=1,
        exec_meeting_180d=0, escalations_90d=0, tickets_90d=2, open_tickets=1, nps=8, csat=4,
        milestone_progress=0.5, onboarding_overdue=0,
    )  # fmt: skip
    t = score_table(feats).to_pylist()[0]
    assert [t[c] for c in COMPONENTS] == [40.0, 37.5, 63.2, 62.5, 58.3, 50.0]
    engagement = 100 * (1 - math.log(30 / 7) / math.log(365 / 7))
    expected = 0.25 * 40 + 0.2 * 37.5 + 0.15 * engagement + 0.15 * 62.5 + 0.15 * 175 / 3 + 0.1 * 50
    assert t["score"] == round(expected, 1) == 50.1
    assert t["band"] == "yellow"
    lost = sum(t[f"lost_{c}"] for c in COMPONENTS)
    assert lost == pytest.approx(100 - expected, abs=0.06)
    assert t["drivers"] == "usage (-15), utilisation (-13), sentiment (-6)"


def test_composite_renormalises_over_known_components_and_reads_weights():
    feats = _feature_row(usage_trend=0.0, utilisation=0.4)  # usage 50, utilisation 25
    t = score_table(feats).to_pylist()[0]
    assert t["score"] == pytest.approx((0.25 * 50 + 0.2 * 25) / 0.45, abs=0.05)
    only_usage = HealthSettings.from_mapping({"weights": {"utilisation": 0}})
    assert score_table(feats, only_usage).to_pylist()[0]["score"] == 50.0
    red = HealthSettings.from_mapping({"bands": {"green": 90, "yellow": 80}})
    assert score_table(feats, red).to_pylist()[0]["band"] == "red"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"weigths": {}}, r"unknown key 'weigths' in \[health\]; did you mean 'weights'"),
        ({"weights": {"vibes": 1}}, "unknown component 'vibes'"),
        ({"weights": {"usage": -1}}, ">= 0"),
        ({"bands": {"green": 50, "yellow": 60}}, "yellow <= green"),
        ({"horizons": [3]}, "at least 7"),
    ],
)
def test_bad_health_settings_are_clear(raw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        HealthSettings.from_mapping(raw)


# ------------------------------------------------------------------------------------------
# the models and the backtest on the sample company


def test_model_is_sklearn_style_and_explains():
    rng = np.random.default_rng(0)
    n = 400
    trend = rng.normal(0, 0.3, n)
    y = rng.random(n) < 1 / (1 + np.exp(3 + 6 * trend))
    cols = {"account_id": [f"A{i}" for i in range(n)], "score_date": pa.array([dt.date(2024, 1, 31)] * n)}
    cols |= {"mrr": [100] * n}
    cols |= {name: pa.nulls(n, pa.float64()) for name in FEATURES}
    cols["usage_trend"] = pa.array(trend)
    feats = pa.table(cols)
    for kind in ("logistic", "boosting"):
        m = HealthModel(kind)  # type: ignore[arg-type]
        assert m.fit(feats, y) is m
        p = m.predict_proba(feats)
        assert p.shape == (n,) and ((p >= 0) & (p <= 1)).all()
        assert np.corrcoef(p, -trend)[0, 1] > 0.5
        assert m.drivers(feats.slice(int(np.argmax(p)), 1))[0].startswith("usage_trend")
    coef = dict(HealthModel("logistic").fit(feats, y).coefficients())
    assert coef["usage_trend"] < 0
    with pytest.raises(ConfigError, match="not fitted"):
        HealthModel().predict_proba(feats)
    with pytest.raises(ConfigError, match="only one outcome"):
        HealthModel().fit(feats, np.zeros(n, bool))


@pytest.fixture(scope="module")
def result(company):
    return backtest(company, horizon_days=90)


def test_backtest_trains_before_it_tests(result):
    assert result.train_dates == sorted(result.train_dates)
    assert max(result.train_dates) + dt.timedelta(days=90) <= min(result.test_dates)
    assert max(result.test_dates) + dt.timedelta(days=90) <= SAMPLE_AS_OF
    assert result.test_dates == month_ends(SAMPLE_AS_OF - dt.timedelta(days=90), 6)


def test_backtest_finds_the_planted_signals(result):
    m = {r["scorer"]: r for r in result.metrics.to_pylist()}
    logistic, boosting, comp = m["model (logistic)"], m["model (boosting)"], m["composite health score"]
    for r in (logistic, boosting, comp):
        assert 0 < r["base_rate"] < 0.5
        assert r["roc_auc"] > 0.7
        assert r["lift_top_decile"] > 2
        assert 0 < r["brier"] < r["base_rate"]
    # the model knows more than the composite (renewal dates, requested cancellations)
    assert logistic["roc_auc"] > comp["roc_auc"]
    coef = dict(result.coefficients)
    assert coef["usage_trend"] < 0  # usage falls before a churn
    assert coef["escalations_90d"] > 0  # escalations come before contractions
    assert coef["cancel_requested"] > 0
    top = [name for name, _ in result.coefficients[:8]]
    assert "usage_trend" in top and "days_to_renewal" in top
    curve = result.reliability.to_pylist()
    assert {r["scorer"] for r in curve} == set(m)
    assert sum(r["rows"] for r in curve if r["scorer"] == "model (logistic)") == logistic["rows"]


def test_backtest_needs_history(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\n"),
                "subscriptions": write(
                    data / "s.csv", "account_id,subscription_id,start_date,mrr\nA,S1,2024-06-01,100\n"
                ),
            }
        )
        with pytest.raises(Exception, match="too little history"):
            backtest(w)


# ------------------------------------------------------------------------------------------
# bad input in the new tables: a clear error naming file, row and column; nothing loaded


@pytest.mark.parametrize(
    ("table", "text", "row", "column", "fragment"),  # row: the data row, the header not counted
    [
        (
            "usage",
            "account_id,date,metric,value\nA,2024-01-31,actions,5\nA,2024-02-30,actions,7\n",
            2,
            "date",
            "2024-02-30",
        ),
        ("usage", "account_id,date,metric,value\nA,2024-01-31,actions,-5\n", 1, "value", "-5"),
        ("tickets", "account_id,ticket_id,opened_at,closed_at\nA,T1,2024-03-01,2024-02-01\n", 1, "closed_at", "before"),
        ("activities", "account_id,date,type\nA,,qbr\n", 1, "date", "is empty"),
        ("milestones", "account_id,milestone,achieved_at\nA,go_live,soon\n", 1, "achieved_at", "soon"),
        ("surveys", "account_id,date,kind,score\nA,2024-01-05,ces,3\n", 1, "kind", "ces"),
        ("opportunities", "account_id,opportunity_id,kind,arr_delta\nA,O1,upsell,100\n", 1, "kind", "upsell"),
        (
            "opportunities",
            "account_id,opportunity_id,kind,source\nA,O1,expansion,marketing\n",
            1,
            "source",
            "marketing",
        ),
    ],
)
def test_bad_rows_in_activity_tables(tmp_path: Path, table, text, row, column, fragment):
    data = tmp_path / "d"
    data.mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load({"accounts": write(data / "a.csv", "account_id\nA\n")})
        with pytest.raises(SourceError) as info:
            w.load({"accounts": write(data / "a2.csv", "account_id\nB\n"), table: write(data / f"{table}.csv", text)})
        err = info.value
        assert err.file and err.file.endswith(f"{table}.csv")
        assert (err.row, err.column) == (row, column)
        assert fragment in str(err).lower() or fragment in str(err)
        assert w.row_counts()["accounts"] == 1 and w.row_counts()[table] == 0


# ------------------------------------------------------------------------------------------
# the tables for people: health beside owner and stage, the models' scores


def test_health_scores_join_owner_and_stage_and_filter(company):
    from revbook import rum
    from revbook.health.composite import composite
    from revbook.rum.health_scores import band_totals, health_scores

    everyone = health_scores(company)
    rows = everyone.to_pylist()
    scored = {r["account_id"]: r["score"] for r in composite(company).to_pylist()}
    assert {r["account_id"]: r["score"] for r in rows} == scored
    acc = {r["account_id"]: (r["owner"], r["stage"]) for r in rum.accounts(company, expected=False).to_pylist()}
    assert all((r["owner"], r["stage"]) == acc[r["account_id"]] for r in rows)
    assert [(r["score"], -r["arr"]) for r in rows] == sorted((r["score"], -r["arr"]) for r in rows)
    red = health_scores(company, band="red").to_pylist()
    assert red == [r for r in rows if r["band"] == "red"] and red
    owners = [r["owner"] for r in rows if r["owner"] is not None]
    owner = max(set(owners), key=owners.count)
    assert health_scores(company, owner=owner).to_pylist() == [r for r in rows if r["owner"] == owner]
    totals = band_totals(everyone)
    assert list(totals) == ["green", "yellow", "red", "unknown"]
    assert sum(n for n, _ in totals.values()) == len(rows) and totals["red"][0] == len(red)
    assert totals["red"][1] == pytest.approx(sum(r["arr"] or 0 for r in red))
    with pytest.raises(ConfigError, match="unknown band 'purple'"):
        health_scores(company, band="purple")


def test_model_scores_rank_the_paying_accounts(company, result):
    from revbook.health.scores import model_scores

    scores = model_scores(company, result.models).to_pylist()
    feats = features(company, [SAMPLE_AS_OF])
    assert sorted(r["account_id"] for r in scores) == sorted(feats["account_id"].to_pylist())
    p = [r["p_logistic"] for r in scores]
    assert p == sorted(p, reverse=True) and 0 <= p[-1] <= p[0] <= 1
    logistic = dict(zip(feats["account_id"].to_pylist(), result.models["logistic"].predict_proba(feats), strict=True))
    boosting = dict(zip(feats["account_id"].to_pylist(), result.models["boosting"].predict_proba(feats), strict=True))
    for r in scores[:20]:
        assert r["p_logistic"] == round(float(logistic[r["account_id"]]), 4)
        assert r["p_boosting"] == round(float(boosting[r["account_id"]]), 4)
        assert r["drivers"]


def test_a_score_shown_on_a_band_edge_is_in_that_band():
    """The score is published to one decimal and its band is the published score's: usage down
    1.52% gives 46.96, shown as 47.0, which is yellow (47 is yellow's edge), never "47.0 red"."""
    only_usage = HealthSettings.from_mapping({"weights": {"utilisation": 0}})
    feats = _feature_row(usage_trend=-0.0152, utilisation=0.4)
    t = score_table(feats, only_usage).to_pylist()[0]
    assert (t["score"], t["band"]) == (47.0, "yellow")
    below = score_table(_feature_row(usage_trend=-0.0153, utilisation=0.4), only_usage).to_pylist()[0]
    assert (below["score"], below["band"]) == (46.9, "red")
