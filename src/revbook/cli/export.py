"""`revbook export`: every metric table (or the ones named) written to files or back into the SQL warehouse."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .app import RevbookCommand, app
from .options import AsOfOpt, ConfigOpt, WorkspaceOpt, load_config, open_workspace
from .output import say


class Target(StrEnum):
    files = "files"
    warehouse = "warehouse"


@app.command(cls=RevbookCommand)
def export(
    to: Annotated[Target, typer.Option("--to", help="files (CSV and Parquet under --out) or warehouse")] = Target.files,
    table: Annotated[
        list[str] | None,
        typer.Option("--table", help="a metric table to write (repeat it; default: every one), e.g. retention"),
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="--to warehouse: the schema to write into (default [warehouse] export_schema)")
    ] = None,
    out: Annotated[Path, typer.Option(help="--to files: the folder (csv/ and parquet/ inside)")] = Path("metrics"),
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the metric tables (MRR, movements, retention, cohorts, revenue, ledger, ...) to files, or
    into a warehouse schema in one transaction that replaces them (exact numerics; docs/connectors.md)."""
    from ..errors import ConfigError
    from ..exports import write_metric_tables, write_warehouse

    cfg = load_config(config, workspace, as_of)
    if to is Target.files and schema is not None:
        raise ConfigError("--schema is an option of --to warehouse", hint="drop it, or add --to warehouse")
    with open_workspace(cfg, read_only=True) as ws:
        if to is Target.warehouse:
            written = write_warehouse(ws, schema=schema, tables=table or None)
            where = schema or cfg.warehouse.export_schema
            say(f"wrote {len(written)} tables into the warehouse schema {where} (one transaction):")
            for name, rows in written.items():
                say(f"  {where}.{name:<34} {rows:>10,} rows")
            return
        frames = write_metric_tables(ws, out, names=table or None)
        say(f"wrote {len(frames)} tables into {out} (csv/ and parquet/)")
