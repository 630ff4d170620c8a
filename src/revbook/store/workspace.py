"""The store: one DuckDB file holding the canonical tables, opened, loaded and closed here.

Loading is atomic: every table of one ``load`` call is read, parsed and checked inside one
transaction; any error rolls it back, so the workspace is exactly as it was. A load replaces
the table's rows with the files' rows, so loading the same files twice gives the same
workspace (and is skipped when their bytes and mapping did not change). A load that would
empty a table, or remove more than ``max_shrink`` of its rows, is refused unless ``replace=True``.
What a load changed or found without failing is kept in ``_revbook_load_findings`` (the read's
findings of a table until its next load, the checks' until the next load of any table) and read
back by :meth:`Store.load_warnings`; the checks over the loaded tables come from
:meth:`Store._load_checks`, which the public ``Workspace`` fills in (the store knows no metrics).
See docs/loading.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as replace_
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from ..config import Config, SourceConfig, load_config
from ..contract import LOADABLE_TABLES, SEVERITIES, TABLES, Finding
from ..errors import ConfigError, ContractError, WorkspaceError
from ..frame import Frame

if TYPE_CHECKING:
    import duckdb

    from ..engines.duckdb import Engine
    from .stages import Outcome

__all__ = ["FINDINGS_TABLE", "LoadResult", "Store"]

T = TypeVar("T")

META_TABLE = "_revbook_loads"
FINDINGS_TABLE = "_revbook_load_findings"
_FINDINGS_SCHEMA = (
    ("table_name", "VARCHAR"),
    ("origin", "VARCHAR"),
    ("severity", "VARCHAR"),
    ('"check"', "VARCHAR"),
    ("rows", "BIGINT"),
    ("message", "VARCHAR"),
    ("hint", "VARCHAR"),
    ("file", "VARCHAR"),
    ('"row"', "BIGINT"),
    ("line", "BIGINT"),
    ('"column"', "VARCHAR"),
    ("value", "VARCHAR"),
)
_FINDING_COLUMNS = ("severity", "check", "table", "rows", "message", "hint", "file", "row", "line", "column", "value")
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows: int
    files: tuple[str, ...]
    skipped: bool  # True when the same files were already loaded
    #: what the load changed or found without failing (warnings and infos), this table's
    warnings: tuple[Finding, ...] = ()


def _fingerprint(source: SourceConfig) -> str:
    h = hashlib.sha256()
    for p in source.paths:
        h.update(str(p.name).encode())
        try:
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return ""  # let the reader raise its clear error
    options = {k: v for k, v in vars(source).items() if k not in ("paths", "table")}
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _labelled(exc: ContractError, src: SourceConfig, label: str | None) -> ContractError:
    """``exc`` naming ``label`` in place of the source's file."""
    if label and exc.file in {str(p) for p in src.paths}:
        exc.file = label
        exc.args = (exc._render(),)
    return exc


class Store:
    """An open workspace's storage and lifecycle: the DuckDB connection, atomic loads, the
    canonical tables, and the derived stages built over them (kept until the next load).
    Use it as a context manager, or call :meth:`close`. :class:`revbook.Workspace` adds the
    metrics on top; the layers below the surfaces take a ``Store``.

    The metrics run on ``engine``: ``"duckdb"`` (the default, in the workspace itself) or
    ``"spark"``, on the session ``spark`` (default: the active one, else a local one). Spark reads
    the workspace's canonical tables, or those of a Parquet directory (``parquet=``, one
    ``<table>`` or ``<table>.parquet`` per table) or of a Spark catalog database (``database=``).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        config: Config | None = None,
        read_only: bool = False,
        engine: str = "duckdb",
        spark: Any = None,
        parquet: str | Path | None = None,
        database: str | None = None,
    ):
        import duckdb

        if engine not in ENGINES:
            raise ConfigError(f"unknown engine '{engine}'", hint=f"use one of: {', '.join(ENGINES)}")
        if engine != "spark" and (spark is not None or parquet is not None or database is not None):
            raise ConfigError(
                "spark=, parquet= and database= are options of the Spark engine", hint='add engine="spark"'
            )
        if parquet is not None and database is not None:
            raise ConfigError("read the tables from parquet= or from database=, not both")
        self.engine_name = engine
        self._spark = spark
        self._spark_tables: tuple[str, str | Path] | None = (
            ("parquet", parquet) if parquet is not None else ("database", database) if database is not None else None
        )

        self.config = config or load_config()
        if path is not None:
            self.config = self.config.with_(workspace=Path(path))
        self.path = Path(self.config.workspace)
        if read_only and not self.path.exists():
            raise WorkspaceError(
                f"no workspace at {self.path}", hint="run `revbook load` (or `revbook demo`) to create one"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con: duckdb.DuckDBPyConnection = duckdb.connect(
                str(self.path),
                read_only=read_only,
                config={"autoinstall_known_extensions": False, "autoload_known_extensions": True},
            )
        except duckdb.Error as exc:
            raise WorkspaceError(
                f"cannot open workspace {self.path}: {exc}",
                hint="is another revbook process using it? close it and try again",
            ) from None
        try:
            self.con.execute(f"SET memory_limit = '{self.config.memory_limit_setting()}'")
        except duckdb.Error as exc:
            raise ConfigError(
                f"invalid memory_limit '{self.config.memory_limit}': {exc}", hint='use a size such as "8GB"'
            ) from None
        if not read_only:
            self._create_schema()
        self._derived: dict[str, Any] = {}
        self.kept_stages: Outcome | None = None  #: what the last load did to the kept stages, if anything

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.reset_derived()
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"

    def _create_schema(self) -> None:
        for t in TABLES.values():
            cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in t.columns)
            self.con.execute(f'CREATE TABLE IF NOT EXISTS "{t.name}" ({cols}, _file VARCHAR, _row BIGINT)')
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (
                table_name VARCHAR PRIMARY KEY, files VARCHAR, fingerprint VARCHAR, rows BIGINT,
                loaded_at TIMESTAMP)"""
        )
        columns = ", ".join(f"{name} {kind}" for name, kind in _FINDINGS_SCHEMA)
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {FINDINGS_TABLE} ({columns})")

    # -- loading ---------------------------------------------------------------------------
    def load(
        self,
        sources: Mapping[str, SourceConfig | str | Path | Sequence[str | Path]] | None = None,
        *,
        force: bool = False,
        replace: bool = False,
        strict: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> list[LoadResult]:
        """Load tables from files, atomically: all of them, or none if any fails.

        ``sources`` maps table names to a :class:`SourceConfig`, or simply to file path(s) (then
        the mapping of revbook.toml for that table, if any, applies). Default: every
        ``[sources.*]`` of revbook.toml. An error in the data (a value that cannot be read, an
        account id no account has, ...) rejects the whole load with its file, row, column and the
        fix; warnings are kept (:meth:`load_warnings`) and returned on each :class:`LoadResult`.
        ``replace=True`` lets a load empty a table or shrink it by more than the config's
        ``max_shrink``; ``strict=True`` rejects the load on a warning too. ``labels`` (table -> text)
        names where a table came from in place of its files (a connector's table or query): in the
        rows' ``_file``, the load's record, its findings and its errors.
        """
        from ..sources.files import SourceOptions, locate, read_table

        resolved = self._resolve_sources(sources)
        if not resolved:
            raise ConfigError("nothing to load", hint="add [sources.<table>] sections to revbook.toml or pass files")
        results: list[LoadResult] = []
        read: dict[str, list[Finding]] = {}
        self.con.execute("BEGIN TRANSACTION")
        try:
            for name, src in resolved.items():
                fingerprint = _fingerprint(src)
                label = (labels or {}).get(name)
                files = (label,) if label else tuple(str(p) for p in src.paths)
                prev = self.con.execute(
                    f"SELECT fingerprint, rows FROM {META_TABLE} WHERE table_name = ?", [name]
                ).fetchone()
                if not force and prev and fingerprint and prev[0] == fingerprint:
                    results.append(LoadResult(name, int(prev[1]), files, skipped=True))
                    continue
                options = SourceOptions.of(src, default_currency=self.config.reporting_currency)
                stage = f"_stage_{name}"
                notes: list[Finding] = []
                try:
                    rows = read_table(self.con, TABLES[name], list(src.paths), options, target=stage, warnings=notes)
                except ContractError as exc:
                    raise _labelled(exc, src, label) from None
                if label:
                    self.con.execute(f"UPDATE {stage} SET _file = ?", [label])
                    notes = [replace_(f, file=label) if f.file else f for f in notes]
                before = self._count(name)
                self._guard_shrink(name, files, before, rows, replace)
                if rows == 0:
                    notes.append(
                        Finding(
                            "warning",
                            "no_rows",
                            name,
                            f"the files hold no data rows, so {name} is empty"
                            + (f" (it had {before:,} rows)" if before else ""),
                            "check the export: only a header row was written",
                            0,
                            files[0] if len(files) == 1 else None,
                        )
                    )
                self.con.execute(f'DELETE FROM "{name}"')
                self.con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM {stage}')
                self.con.execute(f"DROP TABLE {stage}")
                self.con.execute(
                    f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?, ?, ?, now())",
                    [name, json.dumps(files), fingerprint, rows],
                )
                read[name] = notes
                results.append(LoadResult(name, rows, files, skipped=False))
            if read:
                checked = locate(self._load_checks(tuple(read)))
                self._reject_or_keep(read, checked, strict)
                by_table: dict[str, list[Finding]] = {t: list(n) for t, n in read.items()}
                for f in checked:
                    if f.table in by_table:
                        by_table[f.table].append(f)
                results = [
                    replace_(r, warnings=tuple(by_table.get(r.table, ()))) if not r.skipped else r for r in results
                ]
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            self.reset_derived()  # stages built inside the transaction read what it rolled back
            raise
        try:
            self._keep_stages(changed=bool(read))
        finally:
            self.reset_derived()
        return results

    def _count(self, name: str) -> int:
        return int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]

    def _guard_shrink(self, name: str, files: tuple[str, ...], before: int, rows: int, replace: bool) -> None:
        """Refuse a load that would empty the table or remove more than ``max_shrink`` of its rows."""
        limit = self.config.max_shrink
        if replace or before == 0 or (rows > 0 and (before - rows) / before <= limit):
            return
        removed = before - rows
        what = "every one of its" if rows == 0 else f"{removed:,} ({removed / before:.0%}) of its"
        raise ContractError(
            f"this load would remove {what} {before:,} rows, leaving {rows:,}; nothing was loaded",
            table=name,
            file=files[0] if len(files) == 1 else None,
            hint=f"if that is meant, load again with --replace (replace=True); loads may remove up to "
            f"{limit:.0%} of a table without it (max_shrink in revbook.toml [workspace])",
        )

    def _load_checks(self, loaded: tuple[str, ...]) -> list[Finding]:
        """The checks a load runs over the workspace once its tables are in place, before commit;
        their errors reject the load. The store runs none; :class:`revbook.Workspace` runs the
        contract checks of :mod:`revbook.quality` (which need the ledger, a layer above)."""
        return []

    def _keep_stages(self, *, changed: bool) -> None:
        """Build the derived stages the commands after a load read and keep them in the workspace
        file, once the load has committed (:mod:`revbook.store.stages`; ``changed``: whether this
        load changed a table). The store keeps none; :class:`revbook.Workspace` keeps the metrics'."""

    def _reject_or_keep(self, read: dict[str, list[Finding]], checked: list[Finding], strict: bool) -> None:
        findings = [f for notes in read.values() for f in notes] + checked
        failing = ("error", "warning") if strict else ("error",)
        errors = [f for f in findings if f.severity in failing]
        if errors:
            errors.sort(key=lambda f: SEVERITIES.index(f.severity))
            first = errors[0]
            message = first.message
            if first.value is not None and first.value not in message:
                message += f" (value '{first.value}')"
            if first.rows > 1:
                message += f"; {first.rows - 1:,} more rows like it"
            others = sorted({f"{f.table}: {f.check}" for f in errors[1:]})
            if others:
                message += f"; also {', '.join(others)}"
            if strict and first.severity == "warning":
                message = f"a warning rejects the load in strict mode: {message}"
            raise ContractError(
                message,
                table=first.table,
                file=first.file,
                row=first.row,
                line=first.line,
                column=first.column,
                value=first.value,
                hint=(first.hint + "; " if first.hint else "") + "nothing was loaded",
            )
        placeholders = ", ".join("?" * (len(_FINDING_COLUMNS) + 1))
        names = list(read)
        self.con.execute(
            f"DELETE FROM {FINDINGS_TABLE} WHERE origin = 'check' OR (origin = 'read' AND table_name IN "
            f"({', '.join('?' * len(names))}))",
            names,
        )
        rows = [("read", f) for notes in read.values() for f in notes] + [("check", f) for f in checked]
        if rows:
            self.con.executemany(
                f"INSERT INTO {FINDINGS_TABLE} VALUES ({placeholders})",
                [[f.table, origin, *(getattr(f, c) for c in _FINDING_COLUMNS if c != "table")] for origin, f in rows],
            )

    def load_warnings(self) -> Frame:
        """What the loads changed or found without failing, as kept in the workspace: one row per
        finding (severity, check, table, rows, message, hint and its first example's file, row,
        line, column and value). A table's findings are replaced by its next load."""
        order = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))
        cols = ", ".join(f'"{c}"' if c != "table" else 'table_name AS "table"' for c in _FINDING_COLUMNS)
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [FINDINGS_TABLE]
        ).fetchone()
        if not exists or not exists[0]:
            # a workspace written before loads kept their findings, opened read-only: none kept
            empty = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in _FINDINGS_SCHEMA)
            sql = f"SELECT {cols} FROM (SELECT {empty}) WHERE false"
        else:
            sql = f'SELECT {cols} FROM {FINDINGS_TABLE} ORDER BY CASE severity {order} END, "check", table_name'
        return Frame("load_warnings", self.con.execute(sql).to_arrow_table())

    def load_frames(
        self,
        frames: Mapping[str, Any],
        *,
        force: bool = False,
        replace: bool = False,
        strict: bool = False,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[LoadResult]:
        """Load in-memory tables (Arrow, Polars or pandas), with the same checks as files, atomically.

        Column names are the canonical ones, or mapped by ``columns`` (table -> {canonical: theirs},
        for a source with a mapping of its own, such as [warehouse.columns.<table>]; then revbook.toml's
        [sources.<table>] options do not apply), else by revbook.toml's [sources.<table>.columns].
        ``labels`` names where each table came from (see :meth:`load`).
        """
        import tempfile

        import pyarrow as pa
        import pyarrow.parquet as pq

        with tempfile.TemporaryDirectory(prefix="revbook-frames-") as tmp:
            paths: dict[str, SourceConfig | str | Path | Sequence[str | Path]] = {}
            for name, frame in frames.items():
                if hasattr(frame, "to_arrow") and not isinstance(frame, pa.Table):
                    table = frame.to_arrow()
                elif isinstance(frame, pa.Table):
                    table = frame
                else:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                path = Path(tmp) / f"{name}.parquet"
                pq.write_table(table, path)
                paths[name] = (
                    path if columns is None else SourceConfig(table=name, paths=(path,), columns=columns.get(name, {}))
                )
            return self.load(paths, force=force, replace=replace, strict=strict, labels=labels)

    def _resolve_sources(
        self, sources: Mapping[str, SourceConfig | str | Path | Sequence[str | Path]] | None
    ) -> dict[str, SourceConfig]:
        if sources is None:
            return dict(self.config.sources)
        out: dict[str, SourceConfig] = {}
        for name, spec in sources.items():
            if name not in LOADABLE_TABLES:
                raise ConfigError(f"cannot load table '{name}'", hint=f"load one of: {', '.join(LOADABLE_TABLES)}")
            if isinstance(spec, SourceConfig):
                out[name] = spec
                continue
            paths = (spec,) if isinstance(spec, (str, Path)) else tuple(spec)
            base = self.config.sources.get(name) or SourceConfig(table=name, paths=())
            out[name] = replace_(base, paths=tuple(Path(p) for p in paths))
        return out

    def loads(self) -> Frame:
        """What was loaded, from which files, when."""
        return Frame("loads", self.con.execute(f"SELECT * FROM {META_TABLE} ORDER BY table_name").to_arrow_table())

    def table(self, name: str) -> Frame:
        """A canonical table as loaded (without the _file and _row bookkeeping columns)."""
        t = TABLES.get(name)
        if t is None:
            raise ConfigError(f"unknown table '{name}'", hint=f"tables: {', '.join(TABLES)}")
        cols = ", ".join(f'"{c}"' for c in t.names)
        return Frame(name, self.con.execute(f'SELECT {cols} FROM "{name}" ORDER BY _file, _row').to_arrow_table())

    def row_counts(self) -> dict[str, int]:
        return {
            name: int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
            for name in LOADABLE_TABLES
        }

    def count_and_first(self, sql: str, order: str = "") -> tuple[int, tuple[Any, ...]] | None:
        """How many rows the query ``sql`` returns and its first row (after ``ORDER BY order``, whose
        column positions count from 1 in ``sql``'s own columns), or None when it returns none.

        One pass: the rows are materialised once and counted beside the first. (Not the shorter
        window count over every row with ``LIMIT 1``: DuckDB 1.5 fails on it now and then with an
        internal error that invalidates the whole database, duckdb/duckdb#22352.)"""
        by = f" ORDER BY {order}" if order else ""
        row = self.con.execute(
            f"WITH q AS MATERIALIZED ({sql}), first AS (SELECT * FROM q{by} LIMIT 1) "
            "SELECT (SELECT count(*) FROM q) AS _n, * FROM first"
        ).fetchone()
        return None if row is None else (int(row[0]), tuple(row[1:]))

    # -- derived stages --------------------------------------------------------------------
    def derived(self, key: str, build: Callable[[Store], T]) -> T:
        """The derived object ``key`` (the metrics' stages, for one), built by ``build(self)`` on
        first use and kept until the next load or :meth:`close`, which call its ``close()``."""
        if key not in self._derived:
            self._derived[key] = build(self)
        value: T = self._derived[key]
        return value

    def reset_derived(self) -> None:
        for value in self._derived.values():
            close = getattr(value, "close", None)
            if close is not None:
                close()
        self._derived = {}

    def make_engine(self) -> Engine:
        """A new engine over this store's tables: DuckDB on this connection, or Spark reading them."""
        from ..engines.duckdb import DuckDBEngine

        if self.engine_name == "duckdb":
            return DuckDBEngine(self.con)
        from ..engines.spark import SparkEngine, local_session

        spark = SparkEngine(self._spark if self._spark is not None else local_session())
        try:
            if self._spark_tables is None:
                spark.read_workspace(self.con)
            elif self._spark_tables[0] == "parquet":
                spark.read_parquet(self._spark_tables[1])
            else:
                spark.read_catalog(str(self._spark_tables[1]))
        except BaseException:
            spark.close()
            raise
        return spark

    def source_label(self) -> str:
        """Where the tables are read from, for messages."""
        if self._spark_tables is not None:
            return f"the Spark {self._spark_tables[0]}"
        return f"the workspace {self.path}"
