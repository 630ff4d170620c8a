"""The Forecast panel of the RUM page: the library's forecast and its backtest beside the naive
forecast, computed in the background, in process over the ASGI app."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from revbook import Config, Workspace, sample
from revbook.config import ForecastSettings
from revbook.frame import Frame
from revbook.reports.charts.common import pct
from revbook.rum.forecast import forecast
from revbook.rum.forecast_backtest import backtest_dates, forecast_backtest, summary
from support import get, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = sample.SampleConfig().as_of
#: small and quick: 300 draws, a backtest of two month ends
CONFIG = Config(as_of=AS_OF, forecast=ForecastSettings(draws=300, backtest_months=2))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forecastweb")
    paths = dict(sample.write(out / "data", accounts=150))
    with Workspace(out / "w.duckdb", config=CONFIG) as ws:
        ws.load(paths)
    return out / "w.duckdb"


def ready(app: Any, url: str, done: str, seconds: float = 240) -> str:
    """The page's text once ``done`` is on it (the background jobs finished)."""
    deadline = time.monotonic() + seconds
    while True:
        text = text_of(get(app, url).text)
        if done in text or time.monotonic() > deadline:
            return text
        time.sleep(1)


def test_the_panel_shows_the_forecast_and_the_backtest_beside_the_naive(demo: Path) -> None:
    app = web.create_app(demo, config=CONFIG, token="")
    first = text_of(get(app, "/rum").text)
    assert "Forecast NRR, GRR and logo retention of the accounts paying on" in first
    # the backtest (a forecast per past month end) runs when asked for, then on every visit
    text = ready(app, "/rum", "3 months")
    assert "Run the backtest" in text and "error (MAE)" not in text
    assert 'href="/rum?backtest=yes#forecast-backtest"' in get(app, "/rum").text
    assert "past month ends from what was known on each" in text_of(get(app, "/rum?backtest=yes").text)
    text = ready(app, "/rum", "error (MAE)")
    with Workspace(demo, config=CONFIG, read_only=True) as ws:
        rows = forecast(ws).to_pylist()
        dates = backtest_dates(ws)
        bt = summary(Frame("forecast_backtest", pa.concat_tables(
            [forecast_backtest(ws, dates=[d]).to_arrow() for d in dates]))).to_pylist()  # fmt: skip
    assert [r["horizon_months"] for r in rows] == [3, 6, 12]
    for r in rows:
        line = (
            f"{r['horizon_months']} months {r['through']} {pct(r['nrr'])} {pct(r['nrr_low'])} – {pct(r['nrr_high'])} "
            f"{pct(r['grr'])} {pct(r['grr_low'])} – {pct(r['grr_high'])} {pct(r['logo_retention'])}"
        )
        assert line in text, line
    assert f"central {pct(0.8)} of the draws" in text
    assert f"Forecasts made on 2 past month ends ({dates[0]} to {dates[1]})" in text
    names = {"nrr": "NRR", "grr": "GRR", "logo_retention": "logo retention"}
    for r in bt:
        line = (
            f"{r['horizon_months']} months {names[r['metric']]} {r['forecasts']} {r['mae_points']:.1f} "
            f"{r['naive_mae_points']:.1f} {r['bias_points']:+.1f} {r['naive_bias_points']:+.1f} {pct(r['coverage'])}"
        )
        assert line in text, line


def test_a_team_sees_its_own_forecast_and_no_backtest(demo: Path) -> None:
    app = web.create_app(demo, config=CONFIG, token="")
    with Workspace(demo, config=CONFIG, read_only=True) as ws:
        rows = forecast(ws, by="team", horizons=[3]).to_pylist()
    team = next(r["team"] for r in rows if r["team"] != "unmanaged")
    mine = next(r for r in rows if r["team"] == team)
    text = ready(app, f"/rum?team={team}", "3 months")
    assert f"in team {team}" in text
    assert f"{mine['accounts']:,} accounts" in text
    assert f"3 months {mine['through']} {pct(mine['nrr'])}" in text
    assert "The backtest" not in text
    assert get(app, "/rum?backtest=no").status_code == 400
