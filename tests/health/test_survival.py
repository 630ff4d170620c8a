"""Survival curves, lifetimes and CLTV (revbook.health.survival), checked against hand computations."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from revbook import Config, ConfigError, Workspace, WorkspaceError, load_config, sample
from revbook.cli import app
from revbook.config import SurvivalSettings
from revbook.health.survival import lifetimes, survival
from support import AS_OF, write

D = dt.date.fromisoformat

#: (account, start, end exclusive or None, mrr). As of 2024-12-31, month-end snapshots:
#: A pays Jan-Mar and churns on the April snapshot: 3 months, churned.
#: B pays Jan-Jun: 6 months, churned. C pays from January: censored at 11 (Jan -> Dec).
#: D pays Mar-May (3 months, churned), then again from September (a reactivation).
#: E pays from July: censored at 5. G starts and leaves inside February: never on a snapshot.
LINES = [
    ("A", "2024-01-01", "2024-04-01", 100),
    ("B", "2024-01-01", "2024-07-01", 200),
    ("C", "2024-01-01", None, 300),
    ("D", "2024-03-01", "2024-06-01", 100),
    ("D", "2024-09-01", None, 100),
    ("E", "2024-07-01", None, 500),
    ("G", "2024-02-05", "2024-02-20", 900),
]


def _load(w: Workspace) -> Workspace:
    accounts = pa.table(
        {
            "account_id": ["A", "B", "C", "D", "E", "G"],
            "segment": ["smb", "smb", "smb", "enterprise", "enterprise", "smb"],
        }
    )
    subs = pa.table(
        {
            "account_id": [r[0] for r in LINES],
            "subscription_id": [f"S{i}" for i in range(len(LINES))],
            "start_date": pa.array([D(r[1]) for r in LINES], pa.date32()),
            "end_date": pa.array([D(r[2]) if r[2] else None for r in LINES], pa.date32()),
            "mrr": pa.array([r[3] for r in LINES], pa.int64()),
        }
    )
    # D was smb when it started and has been enterprise since October
    history = pa.table(
        {
            "account_id": ["D", "D"],
            "attribute": ["segment", "segment"],
            "value": ["smb", "enterprise"],
            "valid_from": pa.array([D("2024-01-01"), D("2024-10-01")], pa.date32()),
        }
    )
    w.load_frames({"accounts": accounts, "subscriptions": subs, "account_history": history})
    return w


@pytest.fixture
def tiny(tmp_path: Path):
    with Workspace(tmp_path / "s.duckdb", config=Config(as_of=AS_OF)) as w:
        yield _load(w)


def _rows(frame) -> list[dict]:
    return frame.to_pylist()


def test_survival_kaplan_meier_by_hand(tiny):
    # durations (first spell): A 3 churned, B 6 churned, C 11 censored, D 3 churned, E 5 censored
    # month 3: 5 at risk, 2 churn -> S = 3/5; month 6: 2 at risk (B, C), 1 churns -> S = 3/5 * 1/2
    curve = {r["month"]: r for r in _rows(survival(tiny))}
    assert sorted(curve) == list(range(12))
    assert [curve[t]["survival"] for t in (0, 2, 3, 5, 6, 11)] == pytest.approx([1, 1, 0.6, 0.6, 0.3, 0.3])
    assert [curve[t]["at_risk"] for t in (0, 3, 4, 6, 7, 11)] == [5, 5, 3, 2, 1, 1]
    assert sum(r["events"] for r in curve.values()) == 3 and curve[3]["events"] == 2
    assert curve[5]["censored"] == 1 and curve[11]["censored"] == 1
    assert all(r["ci_lower"] <= r["survival"] <= r["ci_upper"] for r in curve.values())
    (row,) = _rows(lifetimes(tiny))
    assert row["accounts"] == 5  # G never paid on a snapshot
    assert row["churned"] == 3 and row["exposure_months"] == 3 + 6 + 11 + 3 + 5
    assert row["median_lifetime"] == 6  # the first month at or below 50%
    assert row["horizon_months"] == 11  # the longest follow-up, under the 60-month default
    assert row["restricted_mean_lifetime"] == pytest.approx(3 * 1 + 3 * 0.6 + 5 * 0.3)


def test_cltv_constant_hazard_and_curve(tiny):
    (row,) = _rows(lifetimes(tiny))
    assert row["monthly_churn_hazard"] == pytest.approx(3 / 28)
    assert row["paying_accounts"] == 3 and row["arpa"] == Decimal("300.00")  # (300 + 100 + 500) / 3
    assert row["gross_margin"] == 0.8
    assert row["cltv"] == Decimal("2240.00")  # 300 x 0.8 / (3 / 28)
    assert row["cltv_km"] == Decimal("1512.00")  # 300 x 0.8 x 6.3
    (half,) = _rows(lifetimes(tiny, gross_margin=0.5))
    assert half["cltv"] == Decimal("1400.00")


def test_survival_slices_fixed_at_the_start(tiny):
    # D is enterprise today but was smb when it started: it counts in smb, MRR on the as-of date included
    rows = {r["segment"]: r for r in _rows(lifetimes(tiny, by="segment"))}
    assert set(rows) == {"smb", "enterprise"}
    smb, ent = rows["smb"], rows["enterprise"]
    assert (smb["accounts"], smb["churned"], smb["exposure_months"]) == (4, 3, 23)
    assert smb["median_lifetime"] == 3  # 2 of 4 churn at month 3: S = 0.5
    assert smb["arpa"] == Decimal("200.00")  # C 300 and D 100
    assert smb["cltv"] == Decimal("1226.67")  # 200 x 0.8 x 23 / 3 = 1226.666..., rounded half-even once
    assert (ent["accounts"], ent["churned"]) == (1, 0)
    assert ent["median_lifetime"] is None and ent["cltv"] is None  # no churn: hazard 0, median not reached
    assert ent["horizon_months"] == 5 and ent["cltv_km"] == Decimal("2000.00")  # 500 x 0.8 x 5
    curve = _rows(survival(tiny, by="segment"))
    assert {r["segment"] for r in curve} == {"smb", "enterprise"}
    assert [r["survival"] for r in curve if r["segment"] == "smb" and r["month"] in (3, 6)] == pytest.approx(
        [0.5, 0.25]
    )


def test_survival_by_cohort(tmp_path):
    with Workspace(tmp_path / "q.duckdb", config=Config(as_of=AS_OF, cohort_slice="quarter")) as w:
        rows = {r["cohort"]: r for r in _rows(lifetimes(_load(w), by="cohort"))}
    assert {k: v["accounts"] for k, v in rows.items()} == {"2024-Q1": 4, "2024-Q3": 1}
    assert rows["2024-Q1"]["churned"] == 3


def test_reactivation_first_spell_and_whole_life(tiny):
    # first spell (default): D's life ends at its first churn, month 3.
    # whole life: D runs from March to the as-of date, gap included, censored at 9; only A and B churn:
    # month 3: 5 at risk, 1 churn -> 0.8; month 6: B, C, D at risk, B churns -> 0.8 x 2/3, above 50%.
    (first,) = _rows(lifetimes(tiny))
    (whole,) = _rows(lifetimes(tiny, spell="whole"))
    assert first["churned"] == 3 and whole["churned"] == 2
    assert whole["exposure_months"] == 3 + 6 + 11 + 9 + 5
    assert whole["median_lifetime"] is None  # not reached
    curve = {r["month"]: r["survival"] for r in _rows(survival(tiny, spell="whole"))}
    assert (curve[3], curve[6]) == pytest.approx((0.8, 0.8 * 2 / 3))
    spelled = Config(as_of=AS_OF, survival=SurvivalSettings(spell="whole"))
    with Workspace(tiny.path, config=spelled) as again:
        assert _rows(lifetimes(again))[0]["churned"] == 2


def test_censoring_at_as_of(tmp_path):
    # as of 2024-05-15: B (ends in July) is still paying, censored at 4 (Jan -> May); A churned at 3;
    # D pays March-May: censored at 2; C at 4; E starts after the as-of date and is not read.
    with Workspace(tmp_path / "c.duckdb", config=Config(as_of=dt.date(2024, 5, 15))) as w:
        _load(w)
        curve = {r["month"]: r for r in _rows(survival(w))}
        (row,) = _rows(lifetimes(w))
    assert row["accounts"] == 4 and row["churned"] == 1
    assert row["exposure_months"] == 3 + 4 + 4 + 2
    assert curve[3]["at_risk"] == 3 and curve[3]["survival"] == pytest.approx(2 / 3)
    assert row["paying_accounts"] == 3 and row["arpa"] == Decimal("200.00")  # B 200, C 300, D 100


def test_one_weighted_fit_equals_a_fit_per_account(tiny):
    """The fit on counts per duration gives lifelines' curve and band on one row per account."""
    from lifelines import KaplanMeierFitter

    durations = [3, 6, 11, 3, 5]
    churned = [True, True, False, True, False]
    kmf = KaplanMeierFitter().fit(durations, churned)
    curve = _rows(survival(tiny))
    months = [r["month"] for r in curve]
    expected = kmf.survival_function_at_times(months).to_numpy()
    band = kmf.confidence_interval_survival_function_.reindex(months, method="ffill").to_numpy()
    assert [r["survival"] for r in curve] == pytest.approx(list(expected))
    assert [r["ci_lower"] for r in curve] == pytest.approx(list(band[:, 0]))
    assert [r["ci_upper"] for r in curve] == pytest.approx(list(band[:, 1]))


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"gross_margin": 1.5}, "gross_margin"),
        ({"gross_margin": 0}, "gross_margin"),
        ({"gross_margin": "lots"}, "gross_margin"),
        ({"gross_margin": True}, "gross_margin"),
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": 2.5}, "horizon_months"),
        ({"spell": "all"}, "spell"),
        ({"confidence": 1}, "confidence"),
        ({"margin": 0.8}, "margin"),
    ],
)
def test_bad_survival_settings_are_clear_errors(tiny, settings, named):
    with pytest.raises(ConfigError, match=r"\[survival\].*" + named):
        SurvivalSettings.from_mapping(settings)
    options = {k: v for k, v in settings.items() if k in ("gross_margin", "horizon_months", "spell")}
    if options:
        with Workspace(tiny.path, config=Config(as_of=AS_OF)) as w, pytest.raises(ConfigError, match=named):
            lifetimes(w, **options)


def test_survival_settings_from_revbook_toml(tmp_path):
    cfg = load_config(
        write(tmp_path / "revbook.toml", "[survival]\ngross_margin = 0.72\nhorizon_months = 36\nspell = 'whole'\n")
    )
    s = cfg.survival
    assert (s.gross_margin, s.horizon_months, s.spell, s.confidence) == (Decimal("0.72"), 36, "whole", 0.95)
    with pytest.raises(ConfigError, match="gross_margin must be above 0 and at most 1, got 80"):
        load_config(write(tmp_path / "bad.toml", "[survival]\ngross_margin = 80\n"))


def test_survival_needs_an_mrr_source(ws):
    with pytest.raises(WorkspaceError, match="no subscriptions loaded"):
        lifetimes(ws)
    with pytest.raises(WorkspaceError, match="revbook load"):
        survival(ws)


def test_survival_command(tiny):
    path = str(tiny.path)
    tiny.close()
    runner = CliRunner(env={"COLUMNS": "220"})
    opts = ["--workspace", path, "--as-of", AS_OF.isoformat()]
    table = runner.invoke(app, ["survival", "--by", "segment", *opts], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert "Customer lifetimes and CLTV" in table.output and "not reached" in table.output
    assert "1,226.67" not in table.output and "1,227" in table.output  # CLTV in whole units on screen
    curve = runner.invoke(app, ["survival", "--curve", "--format", "csv", *opts], catch_exceptions=False)
    assert curve.output.splitlines()[0] == '"month","at_risk","events","censored","survival","ci_lower","ci_upper"'
    bad = runner.invoke(app, ["survival", "--spell", "every", *opts])
    assert bad.exit_code == 2 and "spell must be 'first' or 'whole'" in bad.output


def test_no_follow_up_yet(tmp_path):
    # as of 2024-01-31, A, B and C were seen in their first paid month only: censored at 0
    with Workspace(tmp_path / "n.duckdb", config=Config(as_of=dt.date(2024, 1, 31))) as w:
        (row,) = _rows(lifetimes(_load(w)))
        assert _rows(survival(w)) == [
            {"month": 0, "at_risk": 3, "events": 0, "censored": 3, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0}
        ]
    assert (row["accounts"], row["exposure_months"], row["horizon_months"]) == (3, 0, 0)
    assert row["monthly_churn_hazard"] is None and row["cltv"] is None and row["restricted_mean_lifetime"] is None
    assert row["arpa"] == Decimal("200.00")
    with Workspace(tmp_path / "early.duckdb", config=Config(as_of=dt.date(2023, 6, 30))) as w:
        assert len(lifetimes(_load(w))) == 0 and len(survival(w)) == 0  # nothing paid yet


def test_lifelines_is_imported_only_when_a_curve_is_fitted():
    code = "import sys, revbook.cli, revbook.health.survival; print('lifelines' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


# -- the sample company: what it plants, survival must find -----------------------------------


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    tables = sample.generate(accounts=1500, activity=False)
    path = tmp_path_factory.mktemp("survival") / "sample.duckdb"
    with Workspace(path, config=Config(as_of=sample.SampleConfig().as_of)) as w:
        w.load_frames({name: tables[name] for name in ("accounts", "subscriptions", "fx_rates", "account_history")})
        yield w


def test_sample_enterprise_outlives_smb(company):
    rows = {r["segment"]: r for r in _rows(lifetimes(company, by="segment"))}
    smb, mid, ent = rows["smb"], rows["mid_market"], rows["enterprise"]
    # the sample plants about 4% monthly logo churn on smb monthly contracts, rare enterprise churn
    assert 0.02 <= smb["monthly_churn_hazard"] <= 0.06
    assert ent["monthly_churn_hazard"] < mid["monthly_churn_hazard"] < smb["monthly_churn_hazard"]
    assert ent["survival_12m"] > smb["survival_12m"] + 0.2
    assert ent["restricted_mean_lifetime"] > smb["restricted_mean_lifetime"]
    assert smb["median_lifetime"] is not None and 10 <= smb["median_lifetime"] <= 40
    assert ent["arpa"] > mid["arpa"] > smb["arpa"] > 0
    assert ent["cltv"] > smb["cltv"] > 0
    curve = _rows(survival(company, by="segment"))
    s24 = {r["segment"]: r["survival"] for r in curve if r["month"] == 24}
    assert s24["enterprise"] > s24["smb"]
    total = _rows(lifetimes(company))[0]
    assert total["accounts"] == sum(r["accounts"] for r in rows.values())
    assert total["churned"] == sum(r["churned"] for r in rows.values())
