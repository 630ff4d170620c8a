"""`revbook rum`, `revbook health`, `revbook model`: the customer-success commands."""

from __future__ import annotations

from typing import Annotated, Any

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
    split_slices,
)
from .output import console, emit, print_frame, say


@app.command(cls=RevbookCommand)
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
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Revenue Under Management: managed ARR by lifecycle stage x expansion potential x risk."""
    from .. import rum as rum_
    from ..frame import Frame
    from ..metrics.owners import for_owner

    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        when = on or cfg.snapshot_date().isoformat()
        if accounts:
            frame = for_owner(rum_.accounts(ws, on), owner)
            if format is Format.table and out is None:
                # the terminal shows the largest accounts first; files keep the library's order (account id)
                largest = frame.to_arrow().sort_by([("arr", "descending"), ("account_id", "ascending")])
                frame = Frame(frame.name, largest)
            title = f"accounts on {when}: stage, risk and potential"
            emit(frame, title, format, out, view=view, order="largest ARR first")
        else:
            title = f"revenue under management on {when}"
            emit(rum_.rum(ws, on, by=by or ()), title, format, out, view=view, dims=split_slices(by))
        if flow_from and format is Format.table and out is None:
            print_frame(
                rum_.flow(ws, flow_from, on),
                title=f"ARR flow between stages, {flow_from} to {when}",
                view=View(wide=wide, pick=False),
                all_columns=True,
            )


@app.command(cls=RevbookCommand)
def health(
    on: OnOpt = None,
    band: Annotated[str | None, typer.Option(help="only this band: red, yellow, green")] = None,
    owner: Annotated[str | None, typer.Option(help="only this CSM's accounts (owner id)")] = None,
    suggest_bands: Annotated[
        bool,
        typer.Option(
            "--suggest-bands",
            help="band edges from the book's own past (red churns >= 3x the base rate, green <= 1/3), "
            "beside what the configured edges give",
        ),
    ] = False,
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
    """Composite health scores 0-100, bands and the components that cost each account the most."""
    from ..rum.health_scores import band_totals, check_band, health_scores

    cfg = load_config(config, workspace, as_of)
    check_band(band)
    if suggest_bands:
        _suggest_bands(cfg, format, out, View.of(columns, wide, limit, all_))
        return
    with open_workspace(cfg, read_only=True) as ws:
        scores = health_scores(ws, on, band=band, owner=owner)
        if format is Format.table and out is None:
            totals = band_totals(scores)
            say("  ".join(f"{b}: {n:,} accounts, ARR {arr:,.0f}" for b, (n, arr) in totals.items() if n))
        view = View.of(columns, wide, limit, all_)
        emit(scores, "health, worst first", format, out, view=view, order="worst first")


def _suggest_bands(cfg: Any, format: Format, out: Any, view: View) -> None:
    from ..health.bands import band_edges, band_frame, bands_on, past_scores

    with open_workspace(cfg, read_only=True) as ws:
        scores, churned = past_scores(ws)
    rule = band_edges(scores, churned)
    now = bands_on(scores, churned, green=cfg.health.green, yellow=cfg.health.yellow)
    title = "health bands by the rule, measured on the last 12 month ends with a known 180-day outcome"
    emit(band_frame(suggested=rule, configured=now), title, format, out, view=view, ratios=("share", "churn_rate"))
    if format is Format.table and out is None:
        say(
            f"base rate {rule.base_rate:.1%} churned within 180 days, {rule.rows:,} scored account-months; "
            f"to use the suggested edges, put in revbook.toml:\n  [health]\n"
            f"  bands = {{ green = {rule.green:g}, yellow = {rule.yellow:g} }}"
        )


@app.command(cls=RevbookCommand)
def model(
    horizon: Annotated[int, typer.Option(help="days after a scoring date in which a churn or contraction counts")] = 90,
    scores: Annotated[
        bool, typer.Option("--scores", help="score every paying account on the as-of date with the models")
    ] = False,
    allow_feature: Annotated[
        list[str] | None, typer.Option("--allow-feature", help="confirm a feature the leak guard suspects (repeatable)")
    ] = None,
    drop_feature: Annotated[
        list[str] | None, typer.Option("--drop-feature", help="leave a feature out of the models (repeatable)")
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
    """Train the health models and backtest them against the composite score (train on earlier
    month ends, test on later ones): ROC AUC, PR AUC, lift, ARR captured, Brier, reliability, and
    the leak guard (a feature that alone knows the outcome implausibly well)."""
    from dataclasses import replace

    from ..errors import WorkspaceError
    from ..frame import Frame
    from ..health.backtest import Backtest, backtest, fit_models
    from ..health.scores import model_scores

    cfg = load_config(config, workspace, as_of)
    hs = cfg.health
    hs = replace(
        hs,
        allow_features=(*hs.allow_features, *(allow_feature or ())),
        drop_features=(*hs.drop_features, *(drop_feature or ())),
    )
    err = console(stderr=True)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        result: Backtest | None = None
        with err.status("training and backtesting..."):
            try:
                result = backtest(ws, horizon_days=horizon, settings=hs)
            except WorkspaceError:
                if not scores:
                    raise
            models = fit_models(ws, horizon_days=horizon, settings=hs) if scores else {}
        if result is None:
            err.print("too little history for a backtest: the scores are untested and no leak guard ran")
        else:
            _print_guard(result, err)
        if scores:
            title = f"risk of churn or contraction within {horizon} days, riskiest first"
            emit(model_scores(ws, models), title, format, out, view=view, order="riskiest first")
            return
        assert result is not None
        emit(
            Frame("backtest", result.metrics),
            f"backtest, {horizon}-day horizon: trained on {result.train_dates[0]}..{result.train_dates[-1]}, "
            f"tested on {result.test_dates[0]}..{result.test_dates[-1]}",
            format,
            out,
            view=view,
            all_columns=True,
        )
        if format is Format.table and out is None:
            import pyarrow as pa

            print_frame(
                Frame("reliability", result.reliability),
                title="reliability (10 quantile bins)",
                view=View(wide=wide, all_rows=True, pick=False),
                all_columns=True,
            )
            coef = pa.table(
                {
                    "feature": [k for k, _ in result.coefficients[:12]],
                    "coefficient": [round(v, 3) for _, v in result.coefficients[:12]],
                }
            )
            print_frame(
                Frame("coefficients", coef),
                title="logistic model: largest standardised coefficients",
                view=View(wide=wide, pick=False),
            )
            if result.guard is not None:
                print_frame(
                    Frame("leak_guard", result.guard.slice(0, 8)),
                    title="leak guard: each feature alone",
                    view=View(wide=wide, pick=False),
                )


def _print_guard(result: Any, err: Any) -> None:
    """The leak guard's verdict, and what revbook ignored, on standard error."""
    for w in result.warnings:
        err.print(f"warning: {w}", markup=False)
    if result.trustworthy:
        err.print("leak guard: no feature alone knows the outcome implausibly well", markup=False)
        return
    why = {r["feature"]: r["reason"] for r in result.guard.to_pylist()}
    for name in result.suspects:
        err.print(f"leak guard: {name}: {why[name]}", markup=False)
    names = " ".join(result.suspects)
    err.print(
        f"the model is not trustworthy until you confirm or drop {names}: "
        "--allow-feature / --drop-feature, or [health] allow_features / drop_features",
        markup=False,
    )
