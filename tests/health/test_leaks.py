"""Current-state columns: renewal dates known on the scoring date, the leak guard, the check."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from revbook import Config, ConfigError, Workspace, sample
from revbook.config import HealthSettings, LifecycleSettings
from revbook.errors import ContractError
from revbook.health.backtest import backtest
from revbook.health.composite import score_table
from revbook.health.features import FEATURES, features
from support import write

SAMPLE_AS_OF = sample.SampleConfig().as_of


def _plant_leak(subs: pa.Table) -> pa.Table:
    """What a CRM export does: every row of an account carries the end of its latest term."""
    ce = subs["contract_end_date"]
    latest: dict[str, dt.date] = {}
    for a, d in zip(subs["account_id"].to_pylist(), ce.to_pylist(), strict=True):
        if d is not None and (a not in latest or d > latest[a]):
            latest[a] = d
    # a row that starts after the account's latest term ended keeps its own value (no term in force
    # at export can end before the row began)
    starts = subs["start_date"].to_pylist()
    leaked = pa.array(
        [
            latest[a] if a in latest and latest[a] >= s else c
            for a, s, c in zip(subs["account_id"].to_pylist(), starts, ce.to_pylist(), strict=True)
        ],
        pa.date32(),
    )
    return subs.set_column(subs.schema.get_field_index("contract_end_date"), "contract_end_date", leaked)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate(accounts=800, seed=5)


def _workspace(path, tables, *, contract_end: str = "own_term") -> Workspace:
    w = Workspace(path, config=Config(as_of=SAMPLE_AS_OF, lifecycle=LifecycleSettings(contract_end=contract_end)))
    w.load_frames(tables)
    return w


@pytest.fixture(scope="module")
def clean(tables, tmp_path_factory):
    w = _workspace(tmp_path_factory.mktemp("clean") / "w.duckdb", tables)
    yield w
    w.close()


@pytest.fixture(scope="module")
def leaked(tables, tmp_path_factory):
    w = _workspace(
        tmp_path_factory.mktemp("leaked") / "w.duckdb",
        {**tables, "subscriptions": _plant_leak(tables["subscriptions"])},
    )
    yield w
    w.close()


def test_the_planted_leak_changes_past_rows_only(tables):
    subs, leaked = tables["subscriptions"], _plant_leak(tables["subscriptions"])
    changed = pc.sum(pc.cast(pc.not_equal(subs["contract_end_date"], leaked["contract_end_date"]), pa.int64()))
    assert changed.as_py() > 300


def test_renewal_dates_ignore_the_leak(clean, leaked):
    """On the leaked export, features on a past date equal the honest company's (which
    test_health.py proves equal to the company cut at that date). days_to_renewal too, except
    where an ignored contract end falls back on a yearly billing cycle that is not the term (a
    renewal restarted a few days late, a multi-year contract billed yearly): at most 20% of rows."""
    for d in (dt.date(2024, 6, 30), dt.date(2025, 3, 31)):
        honest, got = features(clean, [d]), features(leaked, [d])
        assert honest.num_rows == got.num_rows > 150
        for name in ("account_id", *FEATURES):
            if name != "days_to_renewal":
                assert got[name].equals(honest[name]), name
        want = honest["days_to_renewal"].to_pylist()
        renew = got["days_to_renewal"].to_pylist()
        known = [i for i, v in enumerate(want) if v is not None]
        assert sum(1 for i, v in enumerate(want) if v is not None and v <= 90) > 10  # there to be leaked
        assert [v is None for v in renew] == [v is None for v in want]
        same = sum(renew[i] == want[i] for i in known)
        assert same >= 0.8 * len(known)


def test_the_guard_names_the_leaking_feature_when_the_rule_is_off(tables, tmp_path):
    """Trusting the exported value on every row (contract_end = 'as_exported'), the leak reaches
    the features and the guard names it; confirming or dropping it makes the result trustworthy."""
    data = {**tables, "subscriptions": _plant_leak(tables["subscriptions"])}
    with _workspace(tmp_path / "w.duckdb", data, contract_end="as_exported") as w:
        result = backtest(w, horizon_days=90)
        assert result.suspects == ["days_to_renewal"] and not result.trustworthy
        row = next(r for r in result.guard.to_pylist() if r["feature"] == "days_to_renewal")
        assert row["verdict"] == "suspect" and row["drift_auc"] >= 0.7 and "as of the export" in row["reason"]
        allowed = backtest(w, horizon_days=90, settings=HealthSettings(allow_features=("days_to_renewal",)))
        assert allowed.trustworthy and allowed.guard.to_pylist()[0]["verdict"] == "allowed"
        dropped = backtest(w, horizon_days=90, settings=HealthSettings(drop_features=("days_to_renewal",)))
        assert dropped.trustworthy and "days_to_renewal" not in dropped.models["logistic"].columns_


def test_a_clean_company_passes_the_guard(clean, leaked):
    result = backtest(clean, horizon_days=90)
    assert result.trustworthy and result.suspects == [] and result.warnings == []
    verdicts = {r["feature"]: r for r in result.guard.to_pylist()}
    assert {r["verdict"] for r in verdicts.values()} == {"ok"}
    assert all(r["roc_auc"] < 0.9 and r["drift_auc"] < 0.7 for r in verdicts.values())
    # the leaked export under the default rule: the same verdict, and a warning naming the column
    again = backtest(leaked, horizon_days=90)
    assert again.trustworthy
    assert len(again.warnings) == 1 and again.warnings[0].startswith("subscriptions.contract_end_date:")


def test_check_reports_current_state_columns(clean, leaked):
    found = {r["check"]: r for r in leaked.check().to_pylist()}
    assert "contract_end_date" in found["contract_end_not_own_term"]["example"]
    assert found["contract_end_not_own_term"]["rows"] > 300
    assert found["same_contract_end_every_term"]["rows"] > 50
    honest = {r["check"] for r in clean.check().to_pylist()}
    assert not honest & {"contract_end_not_own_term", "same_contract_end_every_term", "export_newer_than_history"}


def test_check_reports_an_export_newer_than_history(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id,segment\nA,enterprise\nB,smb\n"),
                "subscriptions": write(
                    data / "s.csv", "account_id,subscription_id,start_date,mrr\nA,S1,2024-01-01,9\n"
                ),
                "account_history": write(
                    data / "h.csv",
                    "account_id,attribute,value,valid_from\nA,segment,smb,2024-01-01\nB,segment,smb,2024-01-01\n",
                ),
            }
        )
        found = {r["check"]: r for r in w.check().to_pylist()}
    assert found["export_newer_than_history"]["rows"] == 1
    assert found["export_newer_than_history"]["example"].startswith("A: segment enterprise in accounts, smb in")


# ------------------------------------------------------------------------------------------
# the worked example of docs/health.md


RENEWALS = (
    "account_id,subscription_id,start_date,end_date,mrr,billing_period_months,contract_end_date,pricing_model\n"
    "A,A1,2023-01-01,2024-01-01,100,12,2026-01-01,flat\n"
    "A,A2,2024-01-01,2025-01-01,100,12,2026-01-01,flat\n"
    "A,A3,2025-01-01,,100,12,2026-01-01,flat\n"
    "B,B1,2024-03-15,,50,12,,flat\n"
    "C,C1,2023-01-01,,30,1,2026-01-01,flat\n"
    "D,D1,2023-01-01,,30,1,,flat\n"
)


def test_renewal_dates_worked_example(tmp_path):
    """A's export repeats its latest contract end (2026-01-01) on the rows of 2023 and 2024: on
    2023-06-30 that value is ignored (it is after row A1's own end) and A1's yearly cycle gives
    2024-01-01 (185 days); on 2025-06-30 the open row A3 ends its own term on 2026-01-01 (185 days).
    B has no contract end: its yearly line renews on 2025-03-15 (258 days from 2024-06-30). C's
    open monthly line keeps its contract end (2026-01-01); D is month-to-month (none)."""
    data = tmp_path / "d"
    data.mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2025, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\nB\nC\nD\n"),
                "subscriptions": write(data / "s.csv", RENEWALS),
            }
        )

        def renew(d: dt.date) -> dict[str, int | None]:
            t = features(w, [d])
            return dict(zip(t["account_id"].to_pylist(), t["days_to_renewal"].to_pylist(), strict=True))

        assert renew(dt.date(2023, 6, 30)) == {"A": 185, "C": 916, "D": None}
        assert renew(dt.date(2024, 6, 30)) == {"A": 185, "B": 258, "C": 550, "D": None}
        assert renew(dt.date(2025, 6, 30)) == {"A": 185, "B": 258, "C": 185, "D": None}


def test_renewal_dates_from_account_history_as_they_stood(tmp_path):
    """D is billed monthly, so only its CRM history gives it a renewal date. The CRM said 2024-09-30
    from 2024-01-01 and moved it to 2024-08-15 on 2024-07-01 (unknown on 2024-06-30: 92 days to
    2024-09-30, not 46); from 2024-10-01 it says 2025-09-30; on 2025-07-01 the field was cleared, so
    on 2025-06-30 D renews in 92 days and on 2025-07-31 it has no known renewal. On 2023-06-30
    nothing was recorded yet. A's and C's nearer line-based dates win over none."""
    data = tmp_path / "d"
    data.mkdir()
    history = (
        "account_id,attribute,value,valid_from\n"
        "D,renewal_date,2024-09-30,2024-01-01\nD,renewal_date,2024-08-15,2024-07-01\n"
        "D,renewal_date,2025-09-30,2024-10-01\nD,renewal_date,,2025-07-01\nD,segment,smb,2023-01-01\n"
    )
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2025, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\nB\nC\nD\n"),
                "subscriptions": write(data / "s.csv", RENEWALS),
                "account_history": write(data / "h.csv", history),
            }
        )

        def renew(d: dt.date) -> int | None:
            t = features(w, [d])
            return dict(zip(t["account_id"].to_pylist(), t["days_to_renewal"].to_pylist(), strict=True))["D"]

        assert renew(dt.date(2023, 6, 30)) is None
        assert renew(dt.date(2024, 6, 30)) == 92
        assert renew(dt.date(2024, 7, 31)) == 15
        assert renew(dt.date(2025, 6, 30)) == 92
        assert renew(dt.date(2025, 7, 31)) is None


def test_a_renewal_date_that_is_not_a_date_rejects_the_load(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2025, 12, 31))) as w:
        files = {
            "accounts": write(data / "a.csv", "account_id\nD\n"),
            "subscriptions": write(data / "s.csv", "account_id,subscription_id,start_date,mrr\nD,S1,2024-01-01,9\n"),
            "account_history": write(
                data / "h.csv", "account_id,attribute,value,valid_from\nD,renewal_date,30/09/2024,2024-01-01\n"
            ),
        }
        with pytest.raises(ContractError, match="renewal_date value in account_history is not a date") as err:
            w.load(files)
        text = str(err.value) + str(getattr(err.value, "hint", ""))
        assert "h.csv" in text and "YYYY-MM-DD" in text
        assert w.row_counts()["account_history"] == 0


# ------------------------------------------------------------------------------------------
# usage metrics, utilisation, the cancellation cap


def test_usage_metric_defaults_to_the_most_common_and_seats_are_licensed_seats(tmp_path):
    """No metric is called 'actions': the usage trend reads api_calls (the most common metric that
    is not the users metric); utilisation is 6 active users over 10 per-seat licences, not over the
    10 + 1000 units of every running line."""
    data = tmp_path / "d"
    data.mkdir()
    subs = (
        "account_id,subscription_id,start_date,unit_price,quantity,billing_period_months,pricing_model\n"
        "A,S1,2024-01-01,10,10,1,per_seat\nA,S2,2024-01-01,0.01,1000,1,usage\n"
    )
    usage = ["account_id,date,metric,value"]
    usage += [f"A,2024-0{m}-15,api_calls,{v}" for m, v in ((2, 100), (3, 100), (5, 50), (6, 50))]
    usage += ["A,2024-06-20,active_users,6"]
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load(
            {
                "accounts": write(data / "a.csv", "account_id\nA\n"),
                "subscriptions": write(data / "s.csv", subs),
                "usage": write(data / "u.csv", "\n".join(usage) + "\n"),
            }
        )
        t = features(w, [dt.date(2024, 6, 30)]).to_pylist()[0]
        assert t["usage_90d"] == 50 and t["usage_trend"] == -0.5
        assert t["utilisation"] == pytest.approx(0.6)
        named = features(w, [dt.date(2024, 6, 30)], settings=HealthSettings(usage_metrics=("active_users",)))
        assert named["usage_90d"][0].as_py() == 6 and named["usage_trend"][0].as_py() is None


def _row(**values: float | None) -> pa.Table:
    row = dict.fromkeys(FEATURES)
    row.update(values)
    cols = {"account_id": ["A"], "score_date": pa.array([dt.date(2024, 6, 30)], pa.date32()), "mrr": [10_000]}
    cols |= {k: pa.array([v], pa.float64()) for k, v in row.items()}
    return pa.table(cols)


def test_a_cancellation_request_caps_the_composite_in_the_red_band():
    good = dict(usage_trend=0.2, utilisation=1.0, escalations_90d=0, tickets_90d=0, open_tickets=0, nps=10)
    free = score_table(_row(**good, cancel_requested=0)).to_pylist()[0]
    assert free["score"] > 90 and free["band"] == "green"
    asked = score_table(_row(**good, cancel_requested=1)).to_pylist()[0]
    assert asked["score"] == 30.0 and asked["band"] == "red"
    assert asked["drivers"].startswith(f"cancellation requested (-{free['score'] - 30:.0f})")
    lower = score_table(_row(**good, cancel_requested=1), HealthSettings(cancel_cap=10)).to_pylist()[0]
    assert lower["score"] == 10.0


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: LifecycleSettings.from_mapping({"contract_end": "latest"}), "own_term, as_exported"),
        (lambda: HealthSettings.from_mapping({"cancel_cap": 70}), "red band"),
        (lambda: HealthSettings.from_mapping({"max_feature_auc": 0.4}), r"\(0.5, 1\]"),
        (lambda: HealthSettings.from_mapping({"drop_features": "nps"}), "list of names"),
    ],
)
def test_bad_leak_settings_are_clear(make, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make()


def test_an_unknown_feature_to_allow_is_an_error(clean):
    with pytest.raises(ConfigError, match="unknown model feature 'days_to_renwal'"):
        backtest(clean, settings=HealthSettings(allow_features=("days_to_renwal",)))
