"""`revbook rum`, `revbook health`, `revbook model`: the customer-success commands (thin, like cli.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from . import (
    AsOfOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    OutOpt,
    WorkspaceOpt,
    _clean_errors,
    _config,
    _console,
    _emit,
    _open,
    app,
    print_frame,
)

if TYPE_CHECKING:
    from ..frame import Frame
    from ..health.backtest import Backtest
    from ..workspace import Workspace

OnOpt = Annotated[str | None, typer.Option("--on", help="the date (YYYY-MM-DD; default the as-of date)")]


@app.command()
@_clean_errors
def rum(
    on: OnOpt = None,
    by: Annotated[str | None, typer.Option(help="team or owner (CSM)")] = None,
    accounts: Annotated[
        bool, typer.Option("--accounts", help="one row per account: stage, reason, risk, potential")
    ] = False,
    owner: Annotated[str | None, typer.Option(help="only this CSM's accounts (owner id), with --accounts")] = None,
    flow_from: Annotated[
        str | None, typer.Option("--flow-from", help="also print how ARR moved between stages since this date")
    ] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Revenue Under Management: managed ARR by lifecycle stage x expansion potential x risk."""
    from .. import rum as rum_

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        when = on or cfg.snapshot_date().isoformat()
        if accounts:
            frame = rum_.accounts(ws, on)
            if owner is not None:
                from ..frame import Frame

                table = frame.to_arrow()
                table = table.filter([o == owner for o in table["owner"].to_pylist()])
                frame = Frame("rum_accounts", table)
            _emit(frame, f"accounts on {when}: stage, risk and potential", format, out)
        else:
            _emit(rum_.rum(ws, on, by=by or ()), f"revenue under management on {when}", format, out, all_columns=True)
        if flow_from and format is Format.table and out is None:
            print_frame(
                rum_.flow(ws, flow_from, on), title=f"ARR flow between stages, {flow_from} to {when}", all_columns=True
            )


@app.command()
@_clean_errors
def health(
    on: OnOpt = None,
    band: Annotated[str | None, typer.Option(help="only this band: red, yellow, green")] = None,
    owner: Annotated[str | None, typer.Option(help="only this CSM's accounts (owner id)")] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Composite health scores 0-100, bands and the components that cost each account the most."""
    import pyarrow.compute as pc

    from ..errors import ConfigError
    from ..frame import Frame
    from ..rum import accounts_and_health

    cfg = _config(config, workspace, as_of)
    if band is not None and band not in ("red", "yellow", "green", "unknown"):
        raise ConfigError(f"unknown band '{band}'", hint="use red, yellow or green")
    with _open(cfg, read_only=True) as ws:
        frame, table = accounts_and_health(ws, on, expected=False)
        acc = frame.to_arrow()
        idx = pc.index_in(table["account_id"], acc["account_id"])
        table = table.append_column("owner", acc["owner"].take(idx)).append_column("stage", acc["stage"].take(idx))
        if band is not None:
            table = table.filter(pc.equal(table["band"], band))
        if owner is not None:
            table = table.filter(pc.equal(table["owner"], owner))
        table = table.sort_by([("score", "ascending"), ("arr", "descending")])
        if format is Format.table and out is None:
            counts = {b: 0 for b in ("green", "yellow", "red", "unknown")}
            arr = dict.fromkeys(counts, 0.0)
            for r in table.select(["band", "arr"]).to_pylist():
                counts[r["band"]] += 1
                arr[r["band"]] += r["arr"] or 0.0
            _console().print("  ".join(f"{b}: {counts[b]:,} accounts, ARR {arr[b]:,.0f}" for b in counts if counts[b]))
        _emit(Frame("health", table), "health, worst first", format, out)


@app.command()
@_clean_errors
def model(
    horizon: Annotated[int, typer.Option(help="days after a scoring date in which a churn or contraction counts")] = 90,
    scores: Annotated[
        bool, typer.Option("--scores", help="score every paying account on the as-of date with the models")
    ] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Train the health models and backtest them against the composite score (train on earlier
    month ends, test on later ones): ROC AUC, PR AUC, lift, ARR captured, Brier, reliability."""
    from ..frame import Frame
    from ..health.backtest import backtest

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        with _console(stderr=True).status("training and backtesting..."):
            result = backtest(ws, horizon_days=horizon)
        if scores:
            _emit(_scores(ws, result), f"risk of churn or contraction within {horizon} days", format, out)
            return
        _emit(
            Frame("backtest", result.metrics),
            f"backtest, {horizon}-day horizon: trained on {result.train_dates[0]}..{result.train_dates[-1]}, "
            f"tested on {result.test_dates[0]}..{result.test_dates[-1]}",
            format,
            out,
            all_columns=True,
        )
        if format is Format.table and out is None:
            print_frame(
                Frame("reliability", result.reliability), title="reliability (10 quantile bins)", all_columns=True
            )
            import pyarrow as pa

            coef = pa.table(
                {
                    "feature": [k for k, _ in result.coefficients[:12]],
                    "coefficient": [round(v, 3) for _, v in result.coefficients[:12]],
                }
            )
            print_frame(Frame("coefficients", coef), title="logistic model: largest standardised coefficients")


def _scores(ws: Workspace, result: Backtest) -> Frame:
    """Each paying account on the as-of date: both models' probability and the logistic drivers."""
    import numpy as np
    import pyarrow as pa

    from ..frame import Frame as _Frame
    from ..health.features import features

    feats = features(ws, [ws.config.snapshot_date()])
    logistic, boosting = result.models["logistic"], result.models["boosting"]
    table = pa.table(
        {
            "account_id": feats["account_id"],
            "arr": feats["arr"],
            "p_logistic": pa.array(np.round(logistic.predict_proba(feats), 4)),
            "p_boosting": pa.array(np.round(boosting.predict_proba(feats), 4)),
            "drivers": pa.array(logistic.drivers(feats)),
        }
    ).sort_by([("p_logistic", "descending")])
    return _Frame("model_scores", table)


__all__ = ["health", "model", "rum"]
