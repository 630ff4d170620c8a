"""The NRR/GRR forecast from RUM (revbook.rum.forecast) and its backtest: worked examples whose
expectation is computed by hand, the invariants of every draw, the point-in-time rule (rows planted
after the date change nothing), the same cohort as metrics.retention, settings and the CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from revbook import Config, Workspace, sample
from revbook.config import ForecastSettings
from revbook.errors import ConfigError
from revbook.rum.forecast import Pools, calibrate, event_probability, forecast, months_after, simulate
from revbook.rum.forecast_backtest import backtest_dates, forecast_backtest, summary

AS_OF = sample.SampleConfig().as_of
ON = dt.date(2026, 4, 30)


# -- worked examples: the simulation's expectation by hand -------------------------------------
def _ratios(arr, prob, pools, **kw):
    end, kept, logos = simulate(np.asarray(arr, float), np.asarray(prob, float), pools, **kw)
    base = float(np.sum(arr))
    return end[0] / base, kept[0] / base, logos[0] / len(arr)


def test_two_accounts_churn_only_expected_grr_by_hand():
    # A: 100 ARR, churns with probability 0.5; B: 300 ARR, with 0.25; an event is a churn, no expansion.
    # E[GRR] = (100 x 0.5 + 300 x 0.75) / 400 = 0.6875; E[logo retention] = (0.5 + 0.75) / 2 = 0.625
    nrr, grr, logo = _ratios([100, 300], [0.5, 0.25], Pools.of([-1.0], [0.0]), draws=40_000, seed=1)
    assert grr.mean() == pytest.approx(0.6875, abs=0.004)
    assert logo.mean() == pytest.approx(0.625, abs=0.004)
    assert np.array_equal(nrr, grr)  # no expansion: NRR is GRR in every draw
    # the four outcomes only: both stay, A leaves, B leaves, both leave
    assert set(np.round(grr, 6)) <= {1.0, 0.75, 0.25, 0.0}


def test_certain_outcomes_are_exact():
    # p = 1 and p = 0: every draw is the same, GRR = 300 / 400
    nrr, grr, logo = _ratios([100, 300], [1.0, 0.0], Pools.of([-1.0], [0.0]), draws=500)
    assert set(grr) == {0.75} and set(nrr) == {0.75} and set(logo) == {0.5}


def test_contraction_and_expansion_by_hand():
    # one account of 100: with p = 0.5 it halves, else it grows 20%.
    # E[NRR] = 0.5 x 50 + 0.5 x 120 = 85 -> 0.85; E[GRR] = 0.5 x 50 + 0.5 x 100 = 75 -> 0.75; logo 1
    nrr, grr, logo = _ratios([100], [0.5], Pools.of([-0.5], [0.2]), draws=40_000, seed=2)
    assert nrr.mean() == pytest.approx(0.85, abs=0.004)
    assert grr.mean() == pytest.approx(0.75, abs=0.004)
    assert set(logo) == {1.0}


def test_open_deal_won_at_the_win_rate_and_not_added_on_top_of_history():
    # no event; history's change 0; a deal of 50 on 100 ARR won at 40%: E[NRR] = 1 + 0.4 x 0.5 = 1.2
    nrr, grr, _ = _ratios([100], [0.0], Pools.of([-1.0], [0.0]), deal_arr=np.array([50.0]), win=0.4, draws=40_000)
    assert nrr.mean() == pytest.approx(1.2, abs=0.005)
    assert set(grr) == {1.0}  # expansion never lifts GRR
    # history already grew it by 60%: the smaller deal adds nothing (the larger of the two)
    nrr, _, _ = _ratios([100], [0.0], Pools.of([-1.0], [0.6]), deal_arr=np.array([50.0]), win=1.0, draws=200)
    assert set(np.round(nrr, 9)) == {1.6}


def test_grr_never_above_nrr_or_one_in_any_draw():
    rng = np.random.default_rng(3)
    arr = rng.uniform(10, 1000, 200)
    prob = rng.uniform(0, 0.6, 200)
    pools = Pools.of([-1.0, -0.4, -0.2, 0.1], [-0.05, 0.0, 0.3, 2.0])
    groups = rng.integers(0, 4, 200)
    end, kept, logos = simulate(arr, prob, pools, groups=groups, draws=300, deal_arr=arr * 0.5, win=0.5)
    assert end.shape == (4, 300)
    assert (kept <= end + 1e-9).all()
    base = np.array([arr[groups == g].sum() for g in range(4)])
    assert (kept <= base[:, None] + 1e-9).all()
    assert (logos <= np.bincount(groups)[:, None]).all()


def test_the_probability_scaled_to_the_horizon():
    # 1 - (1 - p) ^ e: p = 0.2 over the outlook's 90 days, e = 2 -> 0.36; e = 1 keeps p
    assert event_probability(np.array([0.2]), 2.0)[0] == pytest.approx(0.36)
    assert event_probability(np.array([0.2, 0.5]), np.array([1.0, 1.0])).tolist() == pytest.approx([0.2, 0.5])
    # calibrated: two rows of p = 0.2, one had the event (rate 0.5): 1 - 0.8 ^ e = 0.5 -> e = ln 0.5 / ln 0.8
    e = calibrate(np.array([0.2, 0.2]), np.array([True, False]))
    assert e == pytest.approx(np.log(0.5) / np.log(0.8), rel=1e-6)
    assert np.mean(event_probability(np.array([0.2, 0.2]), e)) == pytest.approx(0.5)


def test_months_after():
    assert months_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert months_after(dt.date(2026, 2, 28), 3) == dt.date(2026, 5, 31)  # a month end gives a month end
    assert months_after(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert months_after(dt.date(2026, 10, 31), -3) == dt.date(2026, 7, 31)


# -- on the sample company ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("forecast")
    paths = dict(sample.write(folder / "data", accounts=150))
    with Workspace(folder / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(paths)
    return folder / "w.duckdb", paths


@pytest.fixture(scope="module")
def ws(company):
    with Workspace(company[0], config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def on_date(ws):
    return forecast(ws, on=ON, draws=500).to_pylist()


def test_forecast_rows_hold_the_mean_inside_the_interval(on_date):
    assert [r["horizon_months"] for r in on_date] == [3, 6, 12]
    for r in on_date:
        for m in ("nrr", "grr", "logo_retention"):
            assert r[f"{m}_low"] <= r[m] <= r[f"{m}_high"], (m, r)
        assert r["grr"] <= r["nrr"] and r["grr"] <= 1 and r["logo_retention"] <= 1
        assert r["through"] == months_after(ON, r["horizon_months"])
        assert r["interval"] == 0.8 and isinstance(r["start_arr"], Decimal)
    # the same cohort at every horizon
    assert len({(r["accounts"], r["start_arr"]) for r in on_date}) == 1


def test_the_cohort_is_metrics_retention_cohort(ws, on_date):
    # the accounts paying on a month end, as metrics.retention's window opening on it: same ARR, same count
    ret = {(r["window_months"], r["period_end"]): r for r in ws.retention(window=[3, 6]).to_pylist()}
    for r in on_date[:2]:
        after = ret[(r["horizon_months"], r["through"])]
        assert r["start_arr"] == after["start_mrr"] * 12
        assert r["accounts"] == after["start_accounts"]


def test_slices_add_up_to_the_whole(ws, on_date):
    seg = forecast(ws, on=ON, by="segment", draws=200, horizons=[3]).to_pylist()
    assert len(seg) >= 2 and {r["horizon_months"] for r in seg} == {3}
    assert sum(r["accounts"] for r in seg) == on_date[0]["accounts"]
    assert sum(r["start_arr"] for r in seg) == on_date[0]["start_arr"]
    owners = forecast(ws, on=ON, by="owner", draws=200, horizons=[3]).to_pylist()
    assert sum(r["accounts"] for r in owners) == on_date[0]["accounts"]
    assert all(r["owner"] and r["owner_name"] for r in owners)
    with pytest.raises(ConfigError, match="slices by segment, owner, team"):
        forecast(ws, on=ON, by="region")


def test_same_seed_same_forecast(ws, on_date):
    again = forecast(ws, on=ON, draws=500).to_pylist()
    assert again == on_date


def test_nothing_dated_after_the_date_is_read(company, tmp_path, on_date):
    """Plant rows after ON (a large new account, a line added to a paying account, a huge open
    deal, usage and tickets) and load them: the forecast on ON is the same to the last digit."""
    _, paths = company
    planted = dict(paths)
    after = ON + dt.timedelta(days=10)
    subs = pq.read_table(paths["subscriptions"])
    rows = subs.to_pylist()
    paying = next(r for r in rows if r["end_date"] is None and not r["is_trial"] and r["start_date"] < ON)
    new_line = {**paying, "subscription_id": "S-PLANT-1", "line_id": "1", "start_date": after,
                "quantity": Decimal("500.0000"), "cancel_requested_at": None}  # fmt: skip
    stranger = {**new_line, "account_id": "A999999", "subscription_id": "S-PLANT-2"}
    early_end = [
        {**r, "end_date": ON + dt.timedelta(days=20)} if r is paying else r for r in rows
    ]  # the account stops paying soon after ON (unknown on ON)
    planted["subscriptions"] = _write(tmp_path, "subscriptions", [*early_end, new_line, stranger], subs.schema)
    acc = pq.read_table(paths["accounts"])
    first = acc.slice(0, 1).to_pylist()[0]
    planted["accounts"] = _write(tmp_path, "accounts", [*acc.to_pylist(), {**first, "account_id": "A999999",
                                 "created_at": after}], acc.schema)  # fmt: skip
    opp = pq.read_table(paths["opportunities"])
    deal = {
        **opp.slice(0, 1).to_pylist()[0],
        "account_id": paying["account_id"],
        "opportunity_id": "O-PLANT",
        "arr_delta": Decimal("9000000"),
        "stage": "open",
        "created_at": after,
        "closed_at": None,
        "won": None,
    }
    won = {**deal, "opportunity_id": "O-PLANT-2", "stage": "closed_lost", "closed_at": after, "won": False}
    planted["opportunities"] = _write(tmp_path, "opportunities", [*opp.to_pylist(), deal, won], opp.schema)
    use = pq.read_table(paths["usage"])
    u = use.slice(0, 1).to_pylist()[0]
    planted["usage"] = _write(tmp_path, "usage", [*use.to_pylist(), {**u, "account_id": paying["account_id"],
                              "date": after, "value": Decimal("99999")}], use.schema)  # fmt: skip
    with Workspace(tmp_path / "planted.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(planted)
        assert forecast(w, on=ON, draws=500).to_pylist() == on_date


def _write(folder: Path, name: str, rows: list[dict], schema: pa.Schema) -> Path:
    path = folder / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_backtest_against_metrics_retention_and_the_naive_forecast(ws):
    dates = [dt.date(2026, 5, 31), dt.date(2026, 7, 31)]
    bt = forecast_backtest(ws, dates=dates, horizons=[3], draws=300)
    rows = bt.to_pylist()
    ret = {(r["period_end"]): r for r in ws.retention(window=3).to_pylist()}
    assert {r["on"] for r in rows} == set(dates) and {r["metric"] for r in rows} == {"nrr", "grr", "logo_retention"}
    for r in rows:
        assert r["realised"] == ret[r["through"]][r["metric"]]  # what followed, by metrics.retention
        assert r["naive"] == ret[r["on"]][r["metric"]]  # the trailing 3 months known on the date
        assert r["error_points"] == pytest.approx((r["forecast"] - r["realised"]) * 100)
        assert r["covered"] == (r["low"] <= r["realised"] <= r["high"])
    # each forecast is the forecast made on its date
    one = forecast(ws, on=dates[0], horizons=[3], draws=300).to_pylist()[0]
    assert [r["forecast"] for r in rows if r["on"] == dates[0] and r["metric"] == "grr"] == [one["grr"]]
    s = {(r["horizon_months"], r["metric"]): r for r in summary(bt).to_pylist()}
    grr = [r for r in rows if r["metric"] == "grr"]
    assert s[(3, "grr")]["forecasts"] == 2
    assert s[(3, "grr")]["mae_points"] == pytest.approx(sum(abs(r["error_points"]) for r in grr) / 2)
    assert s[(3, "grr")]["naive_mae_points"] == pytest.approx(sum(abs(r["naive_error_points"]) for r in grr) / 2)
    assert s[(3, "grr")]["coverage"] == sum(r["covered"] for r in grr) / 2


def test_backtest_dates_only_those_with_a_known_outcome(ws):
    # as of 2026-11-15 the last month end is 2026-10-31: the 3-month forecasts of 2026-07-31 and before
    days = backtest_dates(ws, [3, 6], months=4)
    assert days == [dt.date(2026, 4, 30), dt.date(2026, 5, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 31)]
    bt = forecast_backtest(ws, dates=[dt.date(2026, 7, 31)], horizons=[3, 6], draws=200).to_pylist()
    assert {r["horizon_months"] for r in bt} == {3}  # the 6-month outcome is not known yet


def test_settings_are_checked():
    assert ForecastSettings.from_mapping({"horizons": [12, 3], "draws": 500}).horizons == (3, 12)
    with pytest.raises(ConfigError, match="unknown key 'horizon'"):
        ForecastSettings.from_mapping({"horizon": [3]})
    with pytest.raises(ConfigError, match="horizons"):
        ForecastSettings.from_mapping({"horizons": [0]})
    with pytest.raises(ConfigError, match="interval"):
        ForecastSettings.from_mapping({"interval": 1.5})
    with pytest.raises(ConfigError, match="not a month end"):
        ForecastSettings.from_mapping({"backtest_dates": ["2026-05-15"]})
    assert ForecastSettings.from_mapping({"backtest_dates": ["2026-05-31"]}).backtest_dates == (dt.date(2026, 5, 31),)


def test_cli_forecast_and_its_errors(company, tmp_path):
    from revbook.cli import app

    toml = tmp_path / "revbook.toml"
    toml.write_text(f'[workspace]\npath = "{company[0]}"\nas_of = "{AS_OF}"\n[forecast]\ndraws = 200\n')
    runner = CliRunner(env={"COLUMNS": "160"})
    out = runner.invoke(app, ["forecast", "-c", str(toml), "--on", str(ON), "--horizons", "3"])
    assert out.exit_code == 0, out.output
    assert "forecast on 2026-04-30" in out.stdout and "200 draws" in out.stdout
    data = runner.invoke(app, ["forecast", "-c", str(toml), "--on", str(ON), "--horizons", "3", "--format", "json"])
    import json

    (row,) = json.loads(data.stdout)
    assert row["horizon_months"] == 3 and row["grr"] <= row["nrr"]
    bad = runner.invoke(app, ["forecast", "-c", str(toml), "--by", "region"])
    assert bad.exit_code == 2 and "slices by segment" in bad.output
    bad = runner.invoke(app, ["forecast", "-c", str(toml), "--horizons", "three"])
    assert bad.exit_code == 2 and "--horizons" in bad.output


def test_docs_name_real_tests_and_the_real_defaults():
    import re

    from revbook.rum.forecast import MIN_CELL_ROWS

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "forecast.md").read_text(encoding="utf-8")
    here = Path(__file__).read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:tests/rum/test_forecast.py::)?(test_\w+)`", doc))
    assert len(named) >= 5 and all(f"def {n}(" in here for n in named), named
    table = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", doc, flags=re.M))
    d = ForecastSettings()
    assert table == {
        "horizons": str(list(d.horizons)),
        "draws": str(d.draws),
        "interval": str(d.interval),
        "seed": str(d.seed),
        "backtest_months": str(d.backtest_months),
        "backtest_dates": "[]",
    }
    assert f"fewer than {MIN_CELL_ROWS} rows" in doc
