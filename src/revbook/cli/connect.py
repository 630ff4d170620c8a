"""`revbook connect`: read a source through its API or database (read-only) into the workspace."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from .app import RevbookCommand, app
from .options import AsOfOpt, ConfigOpt, ReplaceOpt, WorkspaceOpt, load_config, open_workspace
from .output import console, print_headline, say


@app.command(cls=RevbookCommand)
def connect(
    source: Annotated[str, typer.Argument(help="the source to read (see docs/connectors.md)")],
    check: Annotated[bool, typer.Option("--check", help="say what the credentials can see; load nothing")] = False,
    full: Annotated[bool, typer.Option("--full", help="read everything again, not from the last cursor")] = False,
    replace: ReplaceOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Load a source (read-only) through the same checks as files; --check says what its credentials see."""
    from rich.table import Table

    from ..sources.connectors import connector

    started = time.perf_counter()
    cfg = load_config(config, workspace, as_of)
    conn = connector(source, cfg)
    if check:
        table = Table("objects", "table", "readable", "detail", title=f"what the {source} credentials can see")
        for seen in conn.check():
            table.add_row(seen.objects, seen.table, "yes" if seen.readable else "no", seen.detail)
        console().print(table)
        say(f"from credentials to the first report: {time.perf_counter() - started:.1f} s", style="dim")
        return
    with open_workspace(cfg) as ws:
        done = conn.sync(ws, full=full, replace=replace)
        for warning in done.warnings:
            say(f"warning: {warning}", stderr=True, style="yellow")
        loaded = ", ".join(f"{t} {n:,}" for t, n in done.rows.items())
        say(f"loaded from {source} in {done.seconds:.1f} s: {loaded}")
        print_headline(ws)
    say(f"from credentials to the first figures: {time.perf_counter() - started:.1f} s", style="dim")
