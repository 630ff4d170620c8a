"""The options the commands share, and how they become a Config and an open Workspace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..config import Config
    from ..workspace import Workspace

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="revbook.toml (default: ./revbook.toml)")]
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help="the workspace DuckDB file")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="snapshot date YYYY-MM-DD (default: config, else today)")]
#: a load (of files or a connector) that empties a table or removes more of it than max_shrink allows
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="allow a load to empty a table or remove most of its rows")]
OnOpt = Annotated[str | None, typer.Option("--on", help="the date (YYYY-MM-DD; default the as-of date)")]
GrainOpt = Annotated[str, typer.Option(help="month, quarter or year")]
BySliceOpt = Annotated[
    str | None,
    typer.Option(help="slice(s), comma-separated: segment, region, industry, owner, team, plan, cohort, arr_band"),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="first period end date to show (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option(help="last period end date to show (YYYY-MM-DD)")]


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


class Format(StrEnum):
    table = "table"
    csv = "csv"
    parquet = "parquet"
    json = "json"


FormatOpt = Annotated[Format, typer.Option(help="output format: table, csv, parquet or json")]
OutOpt = Annotated[Path | None, typer.Option(help="write to this file (default: the terminal)")]
ColumnsOpt = Annotated[
    str | None,
    typer.Option("--columns", help="the terminal table's columns, comma-separated (the names of --format csv)"),
]
WideOpt = Annotated[
    bool, typer.Option("--wide", "--all-columns", help="every column, however wide (e.g. pipe through less -S)")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="rows in the terminal table")]
AllRowsOpt = Annotated[bool, typer.Option("--all", help="every row in the terminal table")]


@dataclass(frozen=True)
class View:
    """What a terminal table shows: --columns, --wide, --limit, --all (files always get everything)."""

    columns: tuple[str, ...] | None = None
    wide: bool = False
    limit: int | None = None
    all_rows: bool = False
    #: whether --columns applies to this table (not to the second table of a command)
    pick: bool = True

    @classmethod
    def of(cls, columns: str | None, wide: bool, limit: int | None, all_rows: bool) -> View:
        names = tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else None
        return cls(columns=names or None, wide=wide, limit=limit, all_rows=all_rows)


def load_config(config: Path | None, workspace: Path | None, as_of: str | None) -> Config:
    """revbook.toml with the --workspace and --as-of of the command line over it."""
    from ..config import load_config as read_config
    from ..errors import ConfigError

    cfg = read_config(config)
    if workspace is not None:
        cfg = cfg.with_(workspace=workspace)
    if as_of:
        try:
            cfg = cfg.with_(as_of=dt.date.fromisoformat(as_of))
        except ValueError:
            raise ConfigError("--as-of must be a date like 2026-10-31", value=as_of) from None
    return cfg


def open_workspace(
    cfg: Config, *, read_only: bool = False, engine: EngineName = EngineName.duckdb, tables: str | None = None
) -> Workspace:
    """The workspace of ``cfg``; with ``tables``, an in-memory one reading Parquet on Spark."""
    from ..errors import ConfigError
    from ..workspace import Workspace

    if tables is not None:
        if engine is not EngineName.spark:
            raise ConfigError("--tables is an option of the Spark engine", hint="add --engine spark")
        # the tables come from Parquet: the workspace only holds the settings, in memory
        return Workspace(":memory:", config=cfg, engine="spark", parquet=tables)
    return Workspace(config=cfg, read_only=read_only, engine=engine.value)


def split_slices(by: str | None) -> list[str]:
    """The slice columns of a comma-separated --by option, each followed by its companion column."""
    from ..metrics.book import expand_dimensions

    return expand_dimensions([d.strip() for d in (by or "").split(",") if d.strip()])


def read_labels(path: Path | None) -> Any:
    """A labelled set (CSV or Parquet) as an Arrow table, or None without a path."""
    if path is None:
        return None
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from ..errors import SourceError

    if not path.exists():
        raise SourceError("labelled set not found", file=str(path), hint="pass a CSV or Parquet file")
    return pq.read_table(path) if path.suffix.lower() == ".parquet" else pcsv.read_csv(path)
