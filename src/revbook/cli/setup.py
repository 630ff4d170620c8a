"""`revbook demo`, `init`, `load`, `check`: getting data into a workspace and checking it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import RevbookCommand, app
from .options import AsOfOpt, ConfigOpt, ReplaceOpt, WorkspaceOpt, load_config, open_workspace
from .output import command_name, console, print_frame, print_headline, print_movements, say, shown_path

if TYPE_CHECKING:
    from ..config import Config, SourceConfig


@app.command(cls=RevbookCommand)
def demo(
    accounts: Annotated[int, typer.Option(help="size of the sample company")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed of the sample")] = 7,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("revbook-demo"),
) -> None:
    """Build the sample company into a workspace, print the headline figures, write every metric table."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..exports import write_metric_tables
    from ..reports import write_report
    from ..sample.demo import write_demo
    from ..workspace import Workspace

    started = time.perf_counter()
    out = out.resolve()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"generating a sample company of {accounts:,} accounts", total=None)
        files = write_demo(out, accounts=accounts, seed=seed)
        progress.update(task, description="loading it into the workspace")
        ws = Workspace(config=files.config)
        ws.load(files.tables)
        progress.update(task, description="computing and writing the metric tables")
        with ws:
            write_metric_tables(ws, out / "metrics")
            progress.update(task, description="writing the report")
            report_path = write_report(ws, out / "revbook-report.html")
            progress.stop()
            print_headline(ws)
            print_movements(ws)
    say(f"workspace:     {files.config.workspace}")
    say(f"report:        {report_path}")
    say(f"metric tables: {out / 'metrics'} (csv/ and parquet/)")
    say(f"sample data:   {out / 'data'}")
    say(f"config:        {files.config_path}")
    say(f"done in {time.perf_counter() - started:.1f} s; next, the dashboard:", style="dim")
    say(f"  {command_name()} serve -c {shown_path(files.config_path)}")


@app.command(cls=RevbookCommand)
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
    rb = command_name()
    say(f"wrote {path}: fill in its [sources.*] sections, then run `{rb} load` and `{rb} check`")


def _sources(cfg: Config, files: list[str], maps: list[str]) -> dict[str, SourceConfig]:
    """The sources of a load: TABLE=FILE pairs (default: revbook.toml's) with --map mappings over them."""
    from ..config import SourceConfig
    from ..errors import ConfigError

    mapping: dict[str, dict[str, str]] = {}
    for m in maps:
        left, sep, theirs = m.partition("=")
        table, dot, column = left.partition(".")
        if not sep or not dot:
            raise ConfigError(f"--map expects TABLE.COLUMN=NAME, got '{m}'")
        mapping.setdefault(table, {})[column] = theirs.strip().strip('"')
    grouped: dict[str, list[Path]] = {}
    for spec in files:
        table, sep, path = spec.partition("=")
        if not sep:
            raise ConfigError(f"expected TABLE=FILE, got '{spec}'", hint="e.g. subscriptions=exports/subs.csv")
        grouped.setdefault(table, []).append(Path(path))
    if not grouped:
        grouped = {t: list(s.paths) for t, s in cfg.sources.items()}
    if unknown := set(mapping) - set(grouped):
        raise ConfigError(f"--map names {', '.join(sorted(unknown))}, which this load does not read")
    sources = {}
    for table, paths in grouped.items():
        base = cfg.sources.get(table) or SourceConfig(table=table, paths=())
        columns = {**base.columns, **mapping.get(table, {})}
        sources[table] = dataclasses.replace(base, paths=tuple(paths), columns=columns)
    return sources


@app.command(cls=RevbookCommand)
def load(
    files: Annotated[
        list[str] | None, typer.Argument(help="TABLE=FILE pairs, e.g. subscriptions=subs.csv (default: revbook.toml)")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help='column mapping TABLE.COLUMN="their column", e.g. subscriptions.mrr="MRR"'),
    ] = None,
    force: Annotated[bool, typer.Option(help="re-read files even if unchanged")] = False,
    replace: ReplaceOpt = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="reject the load on a warning, not only on an error")
    ] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load your exports (CSV, Parquet, Excel) into the workspace, atomically: an error in the data
    loads nothing; warnings are printed and kept (`revbook check` shows them again)."""
    cfg = load_config(config, workspace, None)
    sources = _sources(cfg, files or [], map_ or []) if files or map_ else None
    with open_workspace(cfg) as ws, console(stderr=True).status("loading (all tables or none)..."):
        results = ws.load(sources, force=force, replace=replace, strict=strict)
        kept = ws.kept_stages
    terminal = console()
    for r in results:
        state = "unchanged, skipped" if r.skipped else "loaded"
        terminal.print(f"{r.table:<16} {r.rows:>10,} rows  {state}  ({', '.join(r.files)})", markup=False)
    for r in results:
        for w in r.warnings:
            where = w.where()
            text = f"{w.severity}: {w.table}: {where + ': ' if where else ''}{w.message}"
            terminal.print(text + (f"; {w.hint}" if w.hint else ""), soft_wrap=True, markup=False)
    if kept is not None:
        terminal.print(str(kept), markup=False)
    terminal.print(f"workspace: {cfg.workspace}", markup=False)


@app.command(cls=RevbookCommand)
def check(config: ConfigOpt = None, workspace: WorkspaceOpt = None, as_of: AsOfOpt = None) -> None:
    """Report data-quality findings, with the warnings of the loads; exits 1 when any is an error."""
    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        findings = ws.check()
    if len(findings) == 0:
        console().print("no data-quality findings")
        return
    print_frame(findings, title=f"Data quality of {cfg.workspace.name}")
    if any(f["severity"] == "error" for f in findings.to_pylist()):
        raise typer.Exit(1)
