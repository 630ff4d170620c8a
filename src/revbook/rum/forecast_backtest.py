"""The forecast's backtest: forecasts made on past month ends, each from what was known then,
against the NRR, GRR and logo retention that followed (:mod:`revbook.metrics.retention`, the same
cohort: the accounts paying on the forecast date), beside the naive forecast (the trailing ratio of
the same horizon known on the date).

Each forecast is :func:`revbook.rum.forecast.forecast` with ``on`` = the past date: it reads nothing
dated after it (tests/rum/test_forecast.py plants rows after the date and finds the same forecast).
Only the comparison reads what followed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import WorkspaceError
from ..frame import Frame
from .forecast import forecast, months_after

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["METRICS", "backtest_dates", "forecast_backtest", "summary"]

#: the forecast's ratios, as metrics.retention names them
METRICS = ("nrr", "grr", "logo_retention")


def backtest_dates(store: Store, horizons: Sequence[int] | None = None, months: int | None = None) -> list[dt.date]:
    """``[forecast] backtest_dates``, else the last ``backtest_months`` (``months``) month ends whose
    shortest horizon has run out by the last month end on or before the as-of date, oldest first."""
    from ..health.backtest import month_ends

    fs = store.config.forecast.override(horizons=horizons, backtest_months=months)
    if fs.backtest_dates and months is None:
        return list(fs.backtest_dates)
    last = month_ends(store.config.snapshot_date(), 1)[0]
    return month_ends(months_after(last, -min(fs.horizons)), fs.backtest_months)


def forecast_backtest(
    store: Store,
    *,
    dates: Sequence[dt.date] | None = None,
    horizons: Sequence[int] | None = None,
    months: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> Frame:
    """One row per forecast date (``dates``, else :func:`backtest_dates` with ``months``), horizon and
    metric whose outcome is known by the last month end: the forecast and its interval, what
    happened, the naive forecast, the errors in points and whether the interval held what happened."""
    from ..health.backtest import month_ends
    from ..metrics.tables import retention

    fs = store.config.forecast.override(horizons=horizons, draws=draws, seed=seed)
    last = month_ends(store.config.snapshot_date(), 1)[0]
    days = list(dates) if dates is not None else backtest_dates(store, fs.horizons, months)
    ret = retention(store, window=list(fs.horizons)).to_pylist()
    realised = {(r["window_months"], r["period_end"]): r for r in ret if r["start_accounts"]}
    rows: list[dict[str, Any]] = []
    for day in days:
        due = [h for h in fs.horizons if months_after(day, h) <= last]
        if not due:
            continue
        for f in forecast(store, on=day, horizons=due, draws=fs.draws, seed=fs.seed).to_pylist():
            h = f["horizon_months"]
            after = realised.get((h, f["through"]))
            if after is None:
                continue
            naive = realised.get((h, day))
            for m in METRICS:
                actual = after[m]
                naive_value = naive[m] if naive else None
                rows.append(
                    {
                        "on": day,
                        "horizon_months": h,
                        "through": f["through"],
                        "metric": m,
                        "accounts": f["accounts"],
                        "start_arr": f["start_arr"],
                        "forecast": f[m],
                        "low": f[f"{m}_low"],
                        "high": f[f"{m}_high"],
                        "realised": actual,
                        "naive": naive_value,
                        "error_points": (f[m] - actual) * 100,
                        "naive_error_points": None if naive_value is None else (naive_value - actual) * 100,
                        "covered": f[f"{m}_low"] <= actual <= f[f"{m}_high"],
                        "interval": f["interval"],
                    }
                )
    if not rows:
        raise WorkspaceError(
            "no forecast date of the backtest has a known outcome",
            hint="set [forecast] backtest_dates to month ends at least one horizon before the as-of date",
        )
    schema = pa.schema(
        [
            pa.field("on", pa.date32()),
            pa.field("horizon_months", pa.int64()),
            pa.field("through", pa.date32()),
            pa.field("metric", pa.string()),
            pa.field("accounts", pa.int64()),
            pa.field("start_arr", pa.decimal128(18, store.config.minor_units)),
            *(pa.field(c, pa.float64()) for c in ("forecast", "low", "high", "realised", "naive")),
            pa.field("error_points", pa.float64()),
            pa.field("naive_error_points", pa.float64()),
            pa.field("covered", pa.bool_()),
            pa.field("interval", pa.float64()),
        ]
    )
    return Frame("forecast_backtest", pa.Table.from_pylist(rows, schema=schema))


def summary(backtest: Frame) -> Frame:
    """Per horizon and metric: forecasts, the model's mean absolute error and bias (points), the
    interval's coverage, and the naive forecast's mean absolute error and bias on the same dates."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in backtest.to_pylist():
        groups.setdefault((r["horizon_months"], r["metric"]), []).append(r)
    out = []
    for (h, m), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], METRICS.index(kv[0][1]))):
        naive = [r["naive_error_points"] for r in rs if r["naive_error_points"] is not None]
        out.append(
            {
                "horizon_months": h,
                "metric": m,
                "forecasts": len(rs),
                "mae_points": sum(abs(r["error_points"]) for r in rs) / len(rs),
                "bias_points": sum(r["error_points"] for r in rs) / len(rs),
                "coverage": sum(r["covered"] for r in rs) / len(rs),
                "interval": rs[0]["interval"],
                "naive_mae_points": sum(abs(e) for e in naive) / len(naive) if naive else None,
                "naive_bias_points": sum(naive) / len(naive) if naive else None,
                "model_better": (
                    sum(abs(r["error_points"]) for r in rs) / len(rs) < sum(abs(e) for e in naive) / len(naive)
                )
                if naive
                else None,
            }
        )
    return Frame("forecast_backtest_summary", pa.Table.from_pylist(out))
