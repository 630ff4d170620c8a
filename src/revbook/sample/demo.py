"""The files of ``revbook demo``: the sample company's tables, its labelled sets and a revbook.toml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from .company import labels, write
from .settings import SampleConfig


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`write_demo` wrote."""

    #: the demo's settings: its workspace file and the sample's as-of date
    config: Config
    #: each loadable table's file
    tables: dict[str, Path]
    #: the revbook.toml naming the workspace, the as-of date and the tables
    config_path: Path


def write_config(directory: Path, config: Config, tables: dict[str, Path]) -> Path:
    """``directory/revbook.toml``: the workspace, as-of date and sources of ``config`` and ``tables``
    (paths relative to ``directory``), for the commands that follow the demo."""
    lines = [
        "# The sample company's settings, written by `revbook demo`.",
        "[workspace]",
        f'path = "{config.workspace.name}"',
        f'as_of = "{config.snapshot_date().isoformat()}"',
        "",
    ]
    for table, path in tables.items():
        lines += [f"[sources.{table}]", f'path = "{path.relative_to(directory).as_posix()}"', ""]
    lines += ["[vip]  # the accounts that get an account plan (docs/account-plans.md)", "min_arr = 250000", ""]
    config_path = directory / "revbook.toml"
    config_path.write_text("\n".join(lines), encoding="utf-8")
    return config_path


def write_labels(directory: Path, sample: SampleConfig) -> dict[str, Path]:
    """The sample's labelled sets as Parquet, to measure the classifiers against (not loadable tables)."""
    import pyarrow.parquet as pq

    paths = {}
    for name, table in labels(sample).items():
        paths[name] = directory / f"{name}.parquet"
        pq.write_table(table, paths[name])
    return paths


def write_demo(directory: Path | str, *, accounts: int = 2000, seed: int = 7) -> DemoFiles:
    """Write the sample company of ``accounts`` accounts (with its text tables) into
    ``directory/data``, its labelled sets beside them, and ``directory/revbook.toml``; a workspace
    file left by an earlier demo in ``directory`` is removed, to be loaded afresh."""
    directory = Path(directory).resolve()
    sample = SampleConfig(accounts=accounts, seed=seed)
    config = Config(workspace=directory / "revbook.duckdb", as_of=sample.as_of)
    if config.workspace.exists():
        config.workspace.unlink()
    tables = write(directory / "data", sample, text=True)
    config_path = write_config(directory, config, tables)
    write_labels(directory / "data", sample)
    return DemoFiles(config=config, tables=tables, config_path=config_path)


__all__ = ["DemoFiles", "write_config", "write_demo", "write_labels"]
