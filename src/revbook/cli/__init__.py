"""The `revbook` command: thin, it parses, calls the library and prints.

Library errors become one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..config import Config
    from ..frame import Frame
    from ..workspace import Workspace

app = typer.Typer(
    name="revbook",
    help="Exact revenue retention for Customer Success: MRR movements, NRR/GRR, cohorts, from your billing data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="revbook.toml (default: ./revbook.toml)")]
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help="the workspace DuckDB file")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="snapshot date YYYY-MM-DD (default: config, else today)")]


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOpt = Annotated[
    EngineName, typer.Option(help="where the metrics run: duckdb (the workspace itself) or spark (pyspark, Java 17)")
]
TablesOpt = Annotated[
    str | None,
    typer.Option(
        "--tables",
        help="with --engine spark: read the canonical tables from this Parquet directory (<table>/ or <table>.parquet;"
        " any path Spark reads, e.g. s3a://...) instead of the workspace",
    ),
]


class Kind(StrEnum):
    mrr = "mrr"
    movements = "movements"
    retention = "retention"
    cohorts = "cohorts"
    ledger = "ledger"
    accounts = "accounts"
    revenue = "revenue"
    reconcile = "reconcile"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    parquet = "parquet"
    json = "json"


FormatOpt = Annotated[Format, typer.Option(help="output format: table, csv, parquet or json")]
OutOpt = Annotated[Path | None, typer.Option(help="write to this file (default: the terminal)")]


def _clean_errors(func: Callable[..., None]) -> Callable[..., None]:
    """Library errors become one line on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from rich.markup import escape

        from ..errors import RevbookError

        try:
            func(*args, **kwargs)
        except RevbookError as exc:
            _console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _console(stderr: bool = False) -> Any:
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # piped or captured output has no width: give tables room rather than truncating figures
    wide = None if stream.isatty() or "COLUMNS" in os.environ else 140
    return Console(stderr=stderr, highlight=False, width=wide)


def _config(config: Path | None, workspace: Path | None, as_of: str | None) -> Config:
    from ..config import load_config
    from ..errors import ConfigError

    cfg = load_config(config)
    if workspace is not None:
        cfg = cfg.with_(workspace=workspace)
    if as_of:
        try:
            cfg = cfg.with_(as_of=dt.date.fromisoformat(as_of))
        except ValueError:
            raise ConfigError("--as-of must be a date like 2026-10-31", value=as_of) from None
    return cfg


def _open(
    cfg: Config, *, read_only: bool = False, engine: EngineName = EngineName.duckdb, tables: str | None = None
) -> Workspace:
    from ..errors import ConfigError
    from ..workspace import Workspace

    if tables is not None:
        if engine is not EngineName.spark:
            raise ConfigError("--tables is an option of the Spark engine", hint="add --engine spark")
        # the tables come from Parquet: the workspace only holds the settings, in memory
        return Workspace(":memory:", config=cfg, engine="spark", parquet=tables)
    return Workspace(config=cfg, read_only=read_only, engine=engine.value)


def _fmt(value: Any) -> str:
    from decimal import Decimal

    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


#: the columns a terminal table shows by default (every column goes to csv, parquet and json)
TERMINAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "movements": (
        "period",
        "start_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churn_mrr",
        "end_mrr",
        "transfer_in_mrr",
        "transfer_out_mrr",
    ),
    "retention": (
        "period",
        "window_months",
        "start_accounts",
        "start_mrr",
        "nrr",
        "grr",
        "logo_retention",
        "movement_nrr",
        "quick_ratio",
    ),
    "mrr": ("period", "accounts", "mrr", "arr"),
    "accounts": ("period", "account_id", "mrr", "arr"),
    "cohorts": ("cohort", "months_since_start", "cohort_accounts", "active_accounts", "logo_retention", "nrr"),
    "ledger": ("account_id", "subscription_id", "line_id", "plan", "currency", "start_date", "end_date", "mrr"),
    "check": ("severity", "check", "rows", "message", "example", "hint"),
    "pareto": (
        "reason_label",
        "owner_function",
        "events",
        "churned_logos",
        "contractions",
        "arr_lost",
        "share_arr",
        "cum_share_arr",
        "rank_arr",
        "rank_count",
        "vital_few_arr",
        "vital_few_count",
    ),
    "upstream": (
        "reason",
        "feature",
        "metric_owner",
        "n_left",
        "n_stayed",
        "left_mean",
        "stayed_mean",
        "gap",
        "gap_low",
        "gap_high",
        "status",
    ),
    "signals": ("date", "account_id", "rule", "polarity", "sentence"),
    "churn_reasons_classified": ("date", "account_id", "reason_label", "source", "confidence", "evidence", "comment"),
}
HEADINGS = {
    "window_months": "window",
    "logo_retention": "logo ret.",
    "movement_nrr": "mvmt NRR",
    "quick_ratio": "quick",
    "months_since_start": "month",
    "nrr": "NRR",
    "grr": "GRR",
}
RATIO_COLUMNS = {
    "share_arr",
    "cum_share_arr",
    "share_count",
    "cum_share_count",
    "nrr",
    "grr",
    "logo_retention",
    "movement_nrr",
    "gross_revenue_churn",
    "net_revenue_churn",
    "expansion_rate",
}


def print_frame(
    frame: Frame, *, title: str | None = None, limit: int = 200, dims: Sequence[str] = (), all_columns: bool = False
) -> None:
    from rich.table import Table

    data = frame.to_arrow()
    preferred = TERMINAL_COLUMNS.get(frame.name)
    names = [c for c in data.column_names if all_columns or preferred is None or c in preferred or c in dims]
    # slices right after the period, the rest in the table's order
    names = (
        [n for n in names if n in ("period", "cohort")]
        + [n for n in dims if n in names]
        + [n for n in names if n not in ("period", "cohort") and n not in dims]
    )
    table = Table(title=title, header_style="bold")
    rows = data.select(names).to_pylist()
    shown = rows[-limit:]
    for name in names:
        pa_type = str(data.schema.field(name).type)
        numeric = pa_type.startswith(("decimal", "int", "double", "float"))
        prose = name in ("message", "example", "hint", "sentence", "comment", "evidence")
        head = HEADINGS.get(name, name.removesuffix("_mrr").replace("_accounts", " accts").replace("_", " "))
        cells = [len(_fmt(r[name])) for r in shown[:50]] or [0]
        table.add_column(
            head,
            justify="right" if numeric else "left",
            no_wrap=not prose,
            overflow="fold",
            min_width=None if prose else min(max(cells), 24),
        )
    for row in shown:
        table.add_row(*(_pct(v) if k in RATIO_COLUMNS and v is not None else _fmt(v) for k, v in row.items()))
    console = _console()
    console.print(table)
    hidden = len(data.column_names) - len(names)
    notes = []
    if len(rows) > limit:
        notes.append(f"showing the last {limit} of {len(rows)} rows")
    if hidden:
        notes.append(f"{hidden} more columns with --all-columns")
    if notes:
        console.print(f"[dim]{'; '.join(notes)}; --format csv --out FILE writes everything[/]")


def _whole(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def print_headline(ws: Workspace) -> None:
    from rich import box
    from rich.table import Table

    h = ws.headline()
    t = Table(title=f"Headline as of {h['as_of']}", box=box.SIMPLE_HEAD, show_header=False)
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("definition", style="dim")
    cur = h["currency"]
    t.add_row("ARR", f"{_fmt(h['arr'])} {cur}", "12 x MRR on the as-of date")
    t.add_row("MRR", f"{_fmt(h['mrr'])} {cur}", "sum of active lines, normalised to a month")
    t.add_row("paying accounts", f"{h['accounts']:,}", "MRR above zero")
    t.add_row("NRR, 12 months", _pct(h["nrr_12m"]), "MRR now of accounts paying 12 months ago / their MRR then")
    t.add_row("GRR, 12 months", _pct(h["grr_12m"]), "the same, each account capped at its MRR then")
    t.add_row("logo retention, 12 months", _pct(h["logo_retention_12m"]), "share of those accounts still paying")
    quick = h["quick_ratio_12m"]
    t.add_row(
        "quick ratio, 12 months",
        "–" if quick is None else f"{quick:.2f}",
        "(new + reactivation + expansion) / (contraction + churn)",
    )
    _console().print(t)


def print_movements(ws: Workspace, months: int = 12) -> None:
    from rich import box
    from rich.table import Table

    rows = ws.movements().to_pylist()[-months:]
    cur = ws.config.reporting_currency
    t = Table(
        title=f"MRR movements, last {len(rows)} months ({cur}, whole units; exact in the files)",
        box=box.SIMPLE_HEAD,
        header_style="bold",
    )
    cols = (
        "period",
        "start_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churn_mrr",
        "end_mrr",
        "churned_accounts",
    )
    heads = ("period", "start", "new", "reactiv.", "expansion", "contract.", "churn", "end", "churned")
    for c, head in zip(cols, heads, strict=True):
        t.add_column(head, justify="left" if c == "period" else "right", no_wrap=True)
    for r in rows:
        cells = [r["period"]]
        for c in cols[1:-1]:
            cells.append(("-" if c in ("contraction_mrr", "churn_mrr") and r[c] else "") + _whole(r[c]))
        cells.append(f"{r['churned_accounts']:,}")
        t.add_row(*cells)
    _console().print(t)


def _insight_tables(ws: Workspace) -> dict[str, Frame]:
    """Churn reasons and signals, when the workspace has them."""
    from ..insights import classify_reasons, find_signals, pareto, signal_lift

    counts = ws.row_counts()
    tables: dict[str, Frame] = {}
    if counts.get("churn_reasons"):
        classified = classify_reasons(ws, reasons=ws.config.churn_reasons)
        tables["churn_reasons_classified"] = classified
        tables["churn_pareto"] = pareto(ws, reasons=ws.config.churn_reasons, classified=classified)
    if counts.get("notes"):
        tables["signals"] = find_signals(ws, rules=ws.config.signals)
        tables["signal_lift"] = signal_lift(ws, rules=ws.config.signals)
    return tables


def write_metric_tables(ws: Workspace, out: Path) -> dict[str, Frame]:
    """Every metric table, as CSV and Parquet, into ``out``."""
    frames = {
        "mrr_monthly": ws.mrr(),
        "mrr_by_account": ws.mrr(accounts=True),
        "movements_monthly": ws.movements(),
        "movements_quarterly": ws.movements(grain="quarter"),
        "movements_yearly": ws.movements(grain="year"),
        "movements_by_segment": ws.movements(by="segment"),
        "movements_by_owner": ws.movements(by="owner"),
        "retention": ws.retention(),
        "retention_by_segment": ws.retention(by="segment"),
        "retention_by_owner": ws.retention(by="owner"),
        "retention_by_team": ws.retention(by="team"),
        "retention_by_plan": ws.retention(by="plan"),
        "retention_by_region": ws.retention(by="region"),
        "retention_by_cohort": ws.retention(by="cohort"),
        "retention_by_arr_band": ws.retention(by="arr_band"),
        "cohorts": ws.cohorts(),
        "cohorts_logo_retention_triangle": ws.cohorts(triangle="logo_retention"),
        "cohorts_nrr_triangle": ws.cohorts(triangle="nrr"),
        "recognised_revenue": ws.revenue(),
        "ledger": ws.ledger(),
        **_insight_tables(ws),
        "data_quality": ws.check(),
    }
    for name, frame in frames.items():
        frame.write(out / "csv" / f"{name}.csv")
        frame.write(out / "parquet" / f"{name}.parquet")
    return frames


def _write_demo_config(out: Path, cfg: Config, paths: dict[str, Path]) -> Path:
    """The demo's revbook.toml: its workspace, as-of date and sources, for the commands that follow."""
    lines = [
        "# The sample company's settings, written by `revbook demo`.",
        "[workspace]",
        f'path = "{cfg.workspace.name}"',
        f'as_of = "{cfg.snapshot_date().isoformat()}"',
        "",
    ]
    for table, path in paths.items():
        lines += [f"[sources.{table}]", f'path = "{path.relative_to(out).as_posix()}"', ""]
    config_path = out / "revbook.toml"
    config_path.write_text("\n".join(lines), encoding="utf-8")
    return config_path


def _write_labels(directory: Path, **sample_options: Any) -> None:
    """The sample's labelled sets, to measure the classifiers against (not loadable tables)."""
    import pyarrow.parquet as pq

    from .. import sample

    for name, table in sample.labels(**sample_options).items():
        pq.write_table(table, directory / f"{name}.parquet")


@app.command()
@_clean_errors
def demo(
    accounts: Annotated[int, typer.Option(help="size of the sample company")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed of the sample")] = 7,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("revbook-demo"),
) -> None:
    """Build the sample company into a workspace, print the headline figures, write every metric table."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .. import sample
    from ..config import Config
    from ..workspace import Workspace

    started = time.perf_counter()
    out = out.resolve()
    cfg = Config(workspace=out / "revbook.duckdb", as_of=sample.SampleConfig().as_of)
    if cfg.workspace.exists():
        cfg.workspace.unlink()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=_console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"generating a sample company of {accounts:,} accounts", total=None)
        paths = sample.write(out / "data", accounts=accounts, seed=seed, text=True)
        config_path = _write_demo_config(out, cfg, paths)
        _write_labels(out / "data", accounts=accounts, seed=seed)
        progress.update(task, description="loading it into the workspace")
        ws = Workspace(config=cfg)
        ws.load({name: path for name, path in paths.items()})
        progress.update(task, description="computing and writing the metric tables")
        with ws:
            write_metric_tables(ws, out / "metrics")
            progress.update(task, description="writing the report")
            from ..reports import write_report

            report_path = write_report(ws, out / "revbook-report.html")
            progress.stop()
            print_headline(ws)
            print_movements(ws)
    console = _console()
    console.print(f"workspace:     {cfg.workspace}")
    console.print(f"report:        {report_path}")
    console.print(f"metric tables: {out / 'metrics'} (csv/ and parquet/)")
    console.print(f"sample data:   {out / 'data'}")
    console.print(f"config:        {config_path}")
    console.print(f"[dim]done in {time.perf_counter() - started:.1f} s; next: revbook serve -c {config_path}[/]")


@app.command()
@_clean_errors
def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("revbook.toml"),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented revbook.toml to fill in: settings, and a [sources.*] section per table."""
    from ..config import template
    from ..errors import ConfigError

    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="edit it, or pass --force to overwrite")
    path.write_text(template(), encoding="utf-8")
    _console().print(f"wrote {path}: fill in [sources.*], then run `revbook load` and `revbook check`")


@app.command()
@_clean_errors
def load(
    files: Annotated[
        list[str] | None, typer.Argument(help="TABLE=FILE pairs, e.g. subscriptions=subs.csv (default: revbook.toml)")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help='column mapping TABLE.COLUMN="their column", e.g. subscriptions.mrr="MRR"'),
    ] = None,
    force: Annotated[bool, typer.Option(help="re-read files even if unchanged")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load your exports (CSV, Parquet, Excel) into the workspace, atomically."""
    from ..config import SourceConfig
    from ..errors import ConfigError

    cfg = _config(config, workspace, None)
    sources: dict[str, SourceConfig] | None = None
    if files or map_:
        mapping: dict[str, dict[str, str]] = {}
        for m in map_ or []:
            left, sep, theirs = m.partition("=")
            table, dot, column = left.partition(".")
            if not sep or not dot:
                raise ConfigError(f"--map expects TABLE.COLUMN=NAME, got '{m}'")
            mapping.setdefault(table, {})[column] = theirs.strip().strip('"')
        sources = {}
        grouped: dict[str, list[Path]] = {}
        for spec in files or []:
            table, sep, path = spec.partition("=")
            if not sep:
                raise ConfigError(f"expected TABLE=FILE, got '{spec}'", hint="e.g. subscriptions=exports/subs.csv")
            grouped.setdefault(table, []).append(Path(path))
        if not grouped:
            grouped = {t: list(s.paths) for t, s in cfg.sources.items()}
        if unknown := set(mapping) - set(grouped):
            raise ConfigError(f"--map names {', '.join(sorted(unknown))}, which this load does not read")
        for table, paths in grouped.items():
            base = cfg.sources.get(table) or SourceConfig(table=table, paths=())
            columns = {**base.columns, **mapping.get(table, {})}
            sources[table] = dataclasses.replace(base, paths=tuple(paths), columns=columns)
    with _open(cfg) as ws, _console(stderr=True).status("loading (all tables or none)..."):
        results = ws.load(sources, force=force)
    console = _console()
    for r in results:
        state = "unchanged, skipped" if r.skipped else "loaded"
        console.print(f"{r.table:<16} {r.rows:>10,} rows  {state}  ({', '.join(r.files)})")
    console.print(f"workspace: {cfg.workspace}")


@app.command()
@_clean_errors
def check(config: ConfigOpt = None, workspace: WorkspaceOpt = None, as_of: AsOfOpt = None) -> None:
    """Report data-quality findings; exits 1 when any is an error."""
    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        findings = ws.check()
    if len(findings) == 0:
        _console().print("no data-quality findings")
        return
    print_frame(findings, title=f"Data quality of {cfg.workspace.name}")
    if any(f["severity"] == "error" for f in findings.to_pylist()):
        raise typer.Exit(1)


@app.command()
@_clean_errors
def metrics(
    kind: Annotated[Kind, typer.Argument(help="which table")] = Kind.movements,
    grain: Annotated[str, typer.Option(help="month, quarter or year")] = "month",
    window: Annotated[list[int] | None, typer.Option(help="retention window(s) in months: 1, 3, 12")] = None,
    by: Annotated[
        str | None,
        typer.Option(help="slice(s), comma-separated: segment, region, industry, owner, team, plan, cohort, arr_band"),
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first period end date to show (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option(help="last period end date to show (YYYY-MM-DD)")] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    all_columns: Annotated[bool, typer.Option("--all-columns", help="show every column in the terminal")] = False,
    triangle: Annotated[
        str | None, typer.Option(help="cohorts as a triangle of logo_retention or nrr (one column per month)")
    ] = None,
    engine: EngineOpt = EngineName.duckdb,
    tables: TablesOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Print or write a metric table: mrr, movements, retention, cohorts, ledger, accounts, revenue, reconcile."""

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True, engine=engine, tables=tables) as ws:
        if kind is Kind.mrr:
            frame = ws.mrr(grain=grain, by=by, start=from_, end=to)
        elif kind is Kind.accounts:
            frame = ws.mrr(grain=grain, by=by, start=from_, end=to, accounts=True)
        elif kind is Kind.movements:
            frame = ws.movements(grain=grain, by=by, start=from_, end=to)
        elif kind is Kind.retention:
            frame = ws.retention(window=window or (1, 3, 12), by=by, grain=grain, start=from_, end=to)
        elif kind is Kind.cohorts:
            frame = ws.cohorts(start=from_, end=to, triangle=triangle)
        elif kind is Kind.revenue:
            frame = ws.revenue(grain=grain, start=from_, end=to)
        elif kind is Kind.reconcile:
            frame = ws.reconcile(grain=grain)
        else:
            frame = ws.ledger()
    from ..metrics.book import expand_dimensions

    dims = expand_dimensions([d.strip() for d in (by or "").split(",") if d.strip()])
    _emit(frame, f"{kind.value} ({grain})", format, out, dims=dims, all_columns=all_columns)


@app.command()
@_clean_errors
def headline(
    engine: EngineOpt = EngineName.duckdb,
    tables: TablesOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The headline figures and the last 12 months' movements."""
    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True, engine=engine, tables=tables) as ws:
        print_headline(ws)
        print_movements(ws)


@app.command()
@_clean_errors
def workbook(
    out: Annotated[Path, typer.Option(help="the .xlsx file to write")] = Path("revbook.xlsx"),
    months: Annotated[int, typer.Option(help="months of account-level data in the workbook")] = 24,
    recalc: Annotated[
        bool, typer.Option("--recalc/--no-recalc", help="recalculate with LibreOffice and verify the Checks sheet")
    ] = True,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the auditable Excel workbook: live formulas over account-level data, and a Checks sheet."""
    from ..reports.excel import check_results, recalculate, write_workbook

    cfg = _config(config, workspace, as_of)
    console = _console()
    with _open(cfg, read_only=True) as ws, _console(stderr=True).status("writing the workbook..."):
        path = write_workbook(ws, out, months=months)
    if not recalc:
        console.print(f"workbook: {path} (formulas compute when Excel opens it)")
        return
    with _console(stderr=True).status("recalculating with LibreOffice..."):
        path = recalculate(path)
    results = check_results(path)
    failed = [name for name, result in results[1:] if result != "PASS"]
    console.print(f"workbook: {path}")
    console.print(f"checks: {len(results) - 1 - len(failed)} of {len(results) - 1} PASS")
    for name in failed[:20]:
        console.print(f"[red]FAIL[/] {name}")
    if failed:
        raise typer.Exit(1)


@app.command()
@_clean_errors
def serve(
    host: Annotated[str, typer.Option(help="address to bind; other than loopback needs a token")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    token: Annotated[
        str | None, typer.Option(envvar="REVBOOK_TOKEN", help="access token (required off loopback)")
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Serve the read-only web dashboard over the workspace."""
    from ..web import serve as serve_app

    cfg = _config(config, workspace, as_of)
    if not cfg.workspace.exists():
        from ..errors import WorkspaceError

        raise WorkspaceError(f"no workspace at {cfg.workspace}", hint="run `revbook demo` or `revbook load` first")
    from ..web.security import is_loopback

    if not is_loopback(host) and not token:
        from ..errors import ConfigError

        raise ConfigError(
            f"serving on {host} needs an access token",
            hint="set REVBOOK_TOKEN (or pass --token), or serve on 127.0.0.1",
        )
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    _console(stderr=True).print(f"revbook dashboard on {url} (Ctrl+C to stop)")
    serve_app(cfg.workspace, config=cfg, host=host, port=port, token=token)


@app.command()
@_clean_errors
def report(
    out: Annotated[Path, typer.Option(help="the HTML file to write")] = Path("revbook-report.html"),
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the one-file HTML report: headline, trends, waterfall, retention, cohorts, data quality."""
    from ..reports import write_report

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws, _console(stderr=True).status("writing the report..."):
        path = write_report(ws, out)
    _console().print(f"report: {path.resolve()}")


@app.command()
@_clean_errors
def survival(
    by: Annotated[
        str | None, typer.Option(help="slice fixed at each account's start: segment, cohort, region, plan, ...")
    ] = None,
    spell: Annotated[str | None, typer.Option(help="first (a life ends at the first churn) or whole")] = None,
    curve: Annotated[bool, typer.Option("--curve", help="the Kaplan-Meier curve, month by month, instead")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Customer lifetimes: Kaplan-Meier survival, median lifetime, churn hazard and CLTV, by slice."""
    from ..health import survival as sv

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        frame = sv.survival(ws, by=by, spell=spell) if curve else sv.lifetimes(ws, by=by, spell=spell)
    if curve or format is not Format.table or out is not None:
        _emit(frame, "Kaplan-Meier survival by month since the first paid month", format, out, all_columns=True)
    else:
        sv.print_lifetimes(frame, console=_console(), currency=cfg.reporting_currency)


reasons_app = typer.Typer(help="Churn reasons: classify the free text, correct a reason, measure accuracy.")
app.add_typer(reasons_app, name="reasons")


def _read_labels(path: Path | None) -> Any:
    if path is None:
        return None
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from ..errors import SourceError

    if not path.exists():
        raise SourceError("labelled set not found", file=str(path), hint="pass a CSV or Parquet file")
    return pq.read_table(path) if path.suffix.lower() == ".parquet" else pcsv.read_csv(path)


def _emit(frame: Frame, title: str, format: Format, out: Path | None, **print_options: Any) -> None:
    from ..errors import ConfigError

    if out is not None:
        if format is Format.table:
            raise ConfigError("--out needs --format csv, parquet or json")
        frame.write(out, format=format.value)
        _console(stderr=True).print(f"wrote {len(frame):,} rows to {out}")
    elif format is Format.table:
        print_frame(frame, title=title, **print_options)
    else:
        import tempfile

        if format is Format.parquet:
            raise ConfigError("parquet needs --out FILE")
        with tempfile.TemporaryDirectory() as tmp:
            sys.stdout.write(frame.write(Path(tmp) / f"out.{format.value}", format=format.value).read_text("utf-8"))


@app.command()
@_clean_errors
def churn(
    by: Annotated[str | None, typer.Option(help="slice(s): period, segment, owner, team, cohort, ...")] = None,
    grain: Annotated[str, typer.Option(help="period length for --by period")] = "quarter",
    from_: Annotated[str | None, typer.Option("--from", help="first reason date (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option(help="last reason date (YYYY-MM-DD)")] = None,
    top: Annotated[int, typer.Option(help="reasons in the upstream table")] = 5,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Why customers leave: reasons ranked by logos and by ARR lost (Pareto), and what preceded them."""
    from ..insights import pareto, upstream

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        ranked = pareto(ws, by=by, grain=grain, start=from_, end=to, reasons=cfg.churn_reasons)
        _emit(ranked, "churn reasons by ARR lost and by count", format, out)
        if format is Format.table and out is None:
            print_frame(
                upstream(ws, top=top, reasons=cfg.churn_reasons),
                title="upstream: accounts that left for each reason against accounts that stayed",
            )


@reasons_app.command("classify")
@_clean_errors
def reasons_classify(
    eval_: Annotated[bool, typer.Option("--eval", help="print per-reason precision and recall instead")] = False,
    labels: Annotated[
        Path | None, typer.Option(help="labelled set (account_id, date, reason) for --eval; default the picklist")
    ] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Each churn reason with its class, confidence and the words that decided it (or --eval)."""
    from ..insights import classify_reasons, reason_accuracy

    cfg = _config(config, workspace, None)
    with _open(cfg, read_only=True) as ws:
        if eval_:
            frame = reason_accuracy(ws, labels=_read_labels(labels), reasons=cfg.churn_reasons)
            _emit(
                frame,
                "churn-reason classification: cross-validated precision and recall",
                format,
                out,
                all_columns=True,
            )
        else:
            _emit(classify_reasons(ws, reasons=cfg.churn_reasons), "churn reasons, classified", format, out)


@reasons_app.command("correct")
@_clean_errors
def reasons_correct(
    account_id: Annotated[str, typer.Argument(help="the account")],
    date: Annotated[str, typer.Argument(help="the reason's date (YYYY-MM-DD)")],
    reason: Annotated[str, typer.Argument(help="the right reason (a taxonomy code or label)")],
    by: Annotated[str, typer.Option("--by", help="who corrects it")] = ...,  # type: ignore[assignment]
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Store a manual correction of a churn reason; it wins over the rules and the model."""
    from ..insights import correct_reason

    cfg = _config(config, workspace, None)
    with _open(cfg) as ws:
        correct_reason(ws, account_id, date, reason, by=by, reasons=cfg.churn_reasons)
    _console().print(f"{account_id} on {date}: reason set to {reason} by {by}")


@app.command()
@_clean_errors
def signals(
    since: Annotated[str | None, typer.Option(help="notes dated on or after (YYYY-MM-DD)")] = None,
    owner: Annotated[str | None, typer.Option(help="only this CSM's book (owner id) on the as-of date")] = None,
    eval_: Annotated[bool, typer.Option("--eval", help="print each rule's precision and recall")] = False,
    labels: Annotated[
        Path | None, typer.Option(help="labelled set for --eval (account_id, date, author, rule, kind)")
    ] = None,
    lift: Annotated[bool, typer.Option("--lift", help="print each signal's lift on churn and expansion")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Trigger phrases in notes, calls and emails, newest first (or --eval, --lift)."""
    from ..errors import ConfigError
    from ..insights import find_signals, signal_accuracy, signal_lift

    cfg = _config(config, workspace, as_of)
    with _open(cfg, read_only=True) as ws:
        if eval_:
            table = _read_labels(labels)
            if table is None:
                raise ConfigError("--eval needs --labels FILE", hint="the demo writes data/labels_signals.parquet")
            _emit(
                signal_accuracy(ws, table, rules=cfg.signals),
                "signal rules: precision and recall",
                format,
                out,
                all_columns=True,
            )
            return
        if lift:
            _emit(signal_lift(ws, rules=cfg.signals), "signal lift", format, out, all_columns=True)
            return
        found = find_signals(ws, since=since, before=cfg.snapshot_date() + dt.timedelta(days=1), rules=cfg.signals)
        table = found.to_arrow()
        if owner is not None:
            book = {
                r["account_id"]
                for r in ws.mrr(accounts=True, by="owner").to_pylist()
                if r["owner"] == owner and r["period_end"] == cfg.snapshot_date()
            }
            table = table.filter([a in book for a in table.column("account_id").to_pylist()])
        table = table.sort_by([("date", "descending"), ("account_id", "ascending")])
        if format is Format.table and out is None and table.num_rows > 100:
            _console(stderr=True).print(f"[dim]the newest 100 of {table.num_rows:,} signals; --out FILE for all[/]")
            table = table.slice(0, 100)
        from ..frame import Frame as _Frame

        _emit(_Frame("signals", table), "signals, newest first", format, out)


from . import cs as _cli_cs  # noqa: E402  (registers rum, health and model)
from .catalogue import catalogue as _catalogue  # noqa: E402  (its module imports this one's options)

app.command("catalogue")(_clean_errors(_catalogue))
del _cli_cs


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
