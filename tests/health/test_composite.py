"""The composite's components: each one's anchors (what 0, 50 and 100 mean, docs/health.md),
monotonicity, the explanation summing to 100 - score, the band rule, and key-feature breadth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from revbook import Config, Workspace
from revbook.errors import WorkspaceError
from revbook.health.bands import band_edges, band_frame, bands_on
from revbook.health.composite import COMPONENTS, component_scores, score_table
from revbook.health.features import FEATURES, features
from support import write


def _rows(**columns: list[float | None]) -> pa.Table:
    n = len(next(iter(columns.values())))
    cols: dict[str, pa.Array] = {
        "account_id": pa.array([f"A{i}" for i in range(n)]),
        "score_date": pa.array([dt.date(2024, 6, 30)] * n, pa.date32()),
    }
    for name in FEATURES:
        cols[name] = pa.array(columns.get(name, [None] * n), pa.float64())
    return pa.table(cols)


@pytest.mark.parametrize(
    ("component", "columns", "expected"),
    [
        # usage trend: down 25% or more 0, flat 50, up 25% or more 100
        ("usage", {"usage_trend": [-0.5, -0.25, 0.0, 0.25, 0.6]}, [0, 0, 50, 100, 100]),
        # usage breadth: share of the key features used
        ("usage", {"feature_breadth": [0.0, 0.5, 1.0]}, [0, 50, 100]),
        # both known: their mean (flat usage, every key feature: 75)
        ("usage", {"usage_trend": [0.0, -0.25], "feature_breadth": [1.0, 0.5]}, [75, 25]),
        # utilisation: 20% or less 0, 60% 50, every seat 100 (more than the licence stays 100)
        ("utilisation", {"utilisation": [0.1, 0.2, 0.6, 1.0, 1.3]}, [0, 0, 50, 100, 100]),
        # engagement: 7 days or fewer 100, the geometric middle of 7 and 365 days 50, a year 0
        ("engagement", {"days_since_activity": [0, 7, (7 * 365) ** 0.5, 365, 900]}, [100, 100, 50, 0, 0]),
        # an executive sponsor meeting adds 20, capped at 100
        ("engagement", {"days_since_activity": [365, 7], "exec_meeting_180d": [1, 1]}, [20, 100]),
        # support: no case 100; four cases, or one escalated case still open, 50; eight cases 0
        (
            "support",
            {"tickets_90d": [0, 4, 1, 8], "escalations_90d": [0, 0, 1, 0], "open_tickets": [0, 0, 1, 0]},
            [100, 50, 50, 0],
        ),
        # sentiment: NPS 4 or less 0, 7 50, 10 100; CSAT 3 or less 0, 4 50, 5 100; both: the mean
        ("sentiment", {"nps": [2, 4, 7, 10]}, [0, 0, 50, 100]),
        ("sentiment", {"csat": [1, 3, 4, 5]}, [0, 0, 50, 100]),
        ("sentiment", {"nps": [10, None], "csat": [4, 5]}, [75, 100]),
        # milestones while onboarding: the share reached, -50 when overdue
        ("milestones", {"milestone_progress": [0.0, 0.5, 0.5], "onboarding_overdue": [0, 0, 1]}, [0, 50, 0]),
    ],
)
def test_component_anchors(component, columns, expected):
    got = component_scores(_rows(**columns))[component]
    assert got == pytest.approx(np.array(expected, float), abs=1e-9)


def test_missing_data_is_no_component_and_a_finished_onboarding_is_none():
    """An account without the data has no component (NaN: the weights re-normalise over the rest);
    once every onboarding milestone is reached the milestones component is gone, not a free 100."""
    comps = component_scores(_rows(milestone_progress=[1.0, None], onboarding_overdue=[0, 0]))
    for name in COMPONENTS:
        assert np.isnan(comps[name]).all(), name
    scored = score_table(_rows(milestone_progress=[1.0, 0.5], utilisation=[0.6, 0.6])).to_pylist()
    assert scored[0]["score"] == 50.0 and scored[0]["milestones"] is None and scored[0]["lost_milestones"] == 0
    assert scored[1]["score"] == 50.0 and scored[1]["milestones"] == 50.0


# each feature and the direction in which it is better for the account
BETTER = {
    "usage_trend": (-0.6, 0.6, +1),
    "feature_breadth": (0.0, 1.0, +1),
    "utilisation": (0.0, 1.3, +1),
    "days_since_activity": (0.0, 800.0, -1),
    "exec_meeting_180d": (0.0, 1.0, +1),
    "tickets_90d": (0.0, 10.0, -1),
    "escalations_90d": (0.0, 4.0, -1),
    "open_tickets": (0.0, 4.0, -1),
    "nps": (0.0, 10.0, +1),
    "csat": (1.0, 5.0, +1),
    "onboarding_overdue": (0.0, 1.0, -1),
}


@pytest.mark.parametrize("feature", sorted(BETTER))
def test_a_better_value_never_lowers_the_score(feature):
    """Monotonicity: with every other feature at random fixed values, moving one feature in its
    better direction never lowers the score; the points lost always sum to 100 - score."""
    rng = np.random.default_rng(3)
    n = 200
    base = {name: rng.uniform(lo, hi, n) for name, (lo, hi, _) in BETTER.items()}
    base["exec_meeting_180d"] = rng.integers(0, 2, n).astype(float)
    base["onboarding_overdue"] = rng.integers(0, 2, n).astype(float)
    base["milestone_progress"] = rng.choice([0.0, 0.5, 1.0], n)
    lo, hi, sign = BETTER[feature]
    previous = None
    for value in np.linspace(lo, hi, 9)[:: sign if sign > 0 else -1]:
        cols = {k: list(v) for k, v in base.items()}
        cols[feature] = [float(value)] * n
        t = score_table(_rows(**cols))
        score = np.asarray(t["score"].to_numpy(zero_copy_only=False), float)
        lost = sum(np.asarray(t[f"lost_{c}"].to_numpy(zero_copy_only=False), float) for c in COMPONENTS)
        assert lost == pytest.approx(100 - score, abs=0.4)
        if previous is not None:
            assert (score >= previous - 0.05).all()
        previous = score


def test_band_rule_worked_example():
    """10 rows, 3 churned (base 30%). Red: the highest whole edge below which the churn rate is at
    least 3 x base (90%): below 30 are the rows scored 10 and 20, both churned (below 31 it is 2 of 3,
    67%): yellow edge 30. Green: the lowest edge at and above which the rate is at most base / 3
    (10%): from 51 up, 0 of 5 churned (from 50 up, 1 of 6, 17%): green edge 51."""
    scores = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 95], float)
    churned = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], bool)
    edges = band_edges(scores, churned)
    assert (edges.yellow, edges.green) == (30.0, 51.0)
    assert edges.share == {"red": 0.2, "yellow": 0.3, "green": 0.5}
    assert edges.churn_rate["red"] == 1.0 and edges.churn_rate["green"] == 0.0
    assert edges.churn_rate["yellow"] == pytest.approx(1 / 3)
    looser = band_edges(scores, churned, red_ratio=2, green_ratio=0.5)
    # at 2 x base (60%) the rows below 60 qualify (3 of 5); green (51) never falls below yellow
    assert (looser.yellow, looser.green, looser.share["yellow"]) == (60.0, 60.0, 0.0)
    with pytest.raises(WorkspaceError, match="with and without churn"):
        band_edges(scores, np.zeros(10, bool))
    # the configured edges on the same rows: yellow 65, green 75 -> red is the 6 rows below 65 (3 churned)
    given = bands_on(scores, churned, green=75, yellow=65)
    assert given.share == {"red": 0.6, "yellow": 0.1, "green": 0.3} and given.churn_rate["red"] == 0.5
    frame = band_frame(suggested=edges, configured=given).to_pylist()
    assert [(r["edges"], r["band"], r["scores"], r["from_score"]) for r in frame] == [
        ("suggested", "red", "below 30", 0.0), ("suggested", "yellow", "30 to below 51", 30.0),
        ("suggested", "green", "51 and above", 51.0), ("configured", "red", "below 65", 0.0),
        ("configured", "yellow", "65 to below 75", 65.0), ("configured", "green", "75 and above", 75.0),
    ]  # fmt: skip
    # the churn rate against the base (30%): red 100% -> 3.33x, configured red 50% -> 1.67x
    assert [r["x_base"] for r in frame if r["band"] == "red"] == [3.33, 1.67]
    assert frame[2]["churn_rate"] == 0.0 and frame[2]["x_base"] == 0.0


def test_feature_breadth_counts_the_key_features_known_by_the_date(tmp_path):
    """Key features are the feature_ metrics seen in usage on or before the date (any account): A
    used 1 of the 2 known on 2024-06-30 (feature_c first appears later): 0.5; B used none: 0."""
    data = tmp_path / "d"
    data.mkdir()
    usage = (
        "account_id,date,metric,value\n"
        "A,2024-06-01,feature_a,3\nB,2024-01-10,feature_b,1\nA,2024-06-01,actions,5\n"
        "B,2024-06-01,actions,5\nA,2024-08-01,feature_c,1\n"
    )
    subs = "account_id,subscription_id,start_date,mrr\nA,S1,2024-01-01,100\nB,S2,2024-01-01,100\n"
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\nB\n"),
                "subscriptions": write(data / "s.csv", subs),
                "usage": write(data / "u.csv", usage),
            }
        )
        t = features(w, [dt.date(2024, 6, 30)]).to_pylist()
    got = {r["account_id"]: (r["features_used"], r["feature_breadth"]) for r in t}
    assert got == {"A": (1, 0.5), "B": (0, 0.0)}
