"""`revbook forecast`: expected NRR, GRR and logo retention from RUM, and its backtest."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LimitOpt,
    OnOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import emit, say

#: the forecast's columns in the terminal, most important first
FORECAST_COLUMNS = (
    "horizon_months",
    "through",
    "segment",
    "owner",
    "team",
    "accounts",
    "start_arr",
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "grr_low",
    "grr_high",
    "logo_retention",
    "logo_retention_low",
    "logo_retention_high",
    "owner_name",
    "event_probability",
)
FORECAST_RATIOS = (
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "grr_low",
    "grr_high",
    "logo_retention",
    "logo_retention_low",
    "logo_retention_high",
    "event_probability",
)
#: the backtest's summary columns in the terminal
SUMMARY_COLUMNS = (
    "horizon_months",
    "metric",
    "forecasts",
    "mae_points",
    "naive_mae_points",
    "bias_points",
    "naive_bias_points",
    "coverage",
    "model_better",
)


def _horizons(text: str | None) -> list[int] | None:
    from ..errors import ConfigError

    if text is None:
        return None
    try:
        return [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise ConfigError(f"--horizons must be months, comma-separated (e.g. 3,6,12), not '{text}'") from None


@app.command(cls=RevbookCommand)
def forecast(
    on: OnOpt = None,
    by: Annotated[str | None, typer.Option(help="slice: segment, owner or team")] = None,
    horizons: Annotated[str | None, typer.Option(help="months, comma-separated (default [forecast] horizons)")] = None,
    draws: Annotated[int | None, typer.Option(help="Monte Carlo draws (default [forecast] draws)")] = None,
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest", help="forecasts made on past month ends against what happened, beside the naive forecast"
        ),
    ] = False,
    months: Annotated[
        int | None, typer.Option(help="with --backtest: this many month ends (default [forecast] backtest_months)")
    ] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """NRR, GRR and logo retention forecast for the next 3, 6 and 12 months from RUM (each account's
    churn probability, renewal date, size and open deals), with an interval; --backtest measures it."""
    from ..rum.forecast import forecast as forecast_of
    from ..rum.forecast_backtest import forecast_backtest, summary

    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    backtest_months, spans = months, _horizons(horizons)
    with open_workspace(cfg, read_only=True) as ws:
        if backtest:
            frame = forecast_backtest(ws, horizons=spans, months=backtest_months, draws=draws)
            table = summary(frame)
            if format is Format.table and out is None:
                level = cfg.forecast.interval
                say(
                    f"{len({r['on'] for r in frame.to_pylist()})} forecast dates; error in points of the ratio "
                    f"(forecast - what happened); coverage: share inside the {level:.0%} interval"
                )
                emit(table, "forecast backtest: model against the naive forecast", format, out, view=view,
                     columns=SUMMARY_COLUMNS, ratios=("coverage",))  # fmt: skip
                return
            emit(frame, "forecast backtest", format, out, view=view)
            return
        frame = forecast_of(ws, on=on, horizons=spans, by=by, draws=draws)
        if format is Format.table and out is None and len(frame):
            first = frame.to_pylist()[0]
            say(
                f"forecast on {first['on']}: accounts paying then; interval {first['interval']:.0%} of "
                f"{draws or cfg.forecast.draws:,} draws; open deals won at {first['win_rate']:.0%} "
                f"({first['deals_closed']:,} closed)"
            )
        emit(frame, "forecast: expected NRR, GRR and logo retention", format, out, view=view,
             columns=FORECAST_COLUMNS, ratios=FORECAST_RATIOS, order="by horizon")  # fmt: skip
