"""The workspace: one DuckDB file holding the canonical tables, and the metrics over them.

Loading is atomic: every table of one ``load`` call is read, parsed and checked inside one
transaction; any error rolls it back, so the workspace is exactly as it was. A load replaces
the table's rows with the files' rows, so loading the same files twice gives the same
workspace (and is skipped when their bytes and mapping did not change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, SourceConfig, load_config
from .contract import LOADABLE_TABLES, TABLES
from .errors import ConfigError, WorkspaceError
from .frame import Frame

if TYPE_CHECKING:
    import duckdb

    from .engine import Engine
    from .metrics.book import Book

__all__ = ["LoadResult", "Workspace", "open_workspace"]

META_TABLE = "_revbook_loads"
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows: int
    files: tuple[str, ...]
    skipped: bool  # True when the same files were already loaded


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


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    """The slice columns asked for, with their companions (owner -> owner, owner_name)."""
    from .metrics.book import expand_dimensions

    if by is None:
        return []
    if isinstance(by, str):
        return expand_dimensions([b.strip() for b in by.split(",") if b.strip()])
    return expand_dimensions(list(by))


def _account_filter(account: str | Sequence[str] | None, column: str) -> tuple[str, list[object]]:
    """A WHERE condition keeping the given account ids, as bound parameters (never pasted into SQL)."""
    if account is None:
        return "true", []
    ids: list[object] = [account] if isinstance(account, str) else list(account)
    if not ids:
        return "false", []
    return f"{column} IN ({', '.join('?' for _ in ids)})", ids


def _date_option(value: str | dt.date | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ConfigError(f"{name} must be a date like 2025-01-31", value=value) from None


class Workspace:
    """An open workspace. Use it as a context manager, or call :meth:`close`.

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
        self._book: Book | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        if self._book is not None:
            self._book.engine.close()
            self._book = None
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self.path}>"

    def _create_schema(self) -> None:
        for t in TABLES.values():
            cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in t.columns)
            self.con.execute(f'CREATE TABLE IF NOT EXISTS "{t.name}" ({cols}, _file VARCHAR, _row BIGINT)')
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (
                table_name VARCHAR PRIMARY KEY, files VARCHAR, fingerprint VARCHAR, rows BIGINT,
                loaded_at TIMESTAMP)"""
        )

    # -- loading ---------------------------------------------------------------------------
    def load(
        self,
        sources: Mapping[str, SourceConfig | str | Path | Sequence[str | Path]] | None = None,
        *,
        force: bool = False,
    ) -> list[LoadResult]:
        """Load tables from files, atomically: all of them, or none if any fails.

        ``sources`` maps table names to a :class:`SourceConfig`, or simply to file path(s) (then
        the mapping of revbook.toml for that table, if any, applies). Default: every
        ``[sources.*]`` of revbook.toml.
        """
        from .sources.files import SourceOptions, read_table

        resolved = self._resolve_sources(sources)
        if not resolved:
            raise ConfigError("nothing to load", hint="add [sources.<table>] sections to revbook.toml or pass files")
        results: list[LoadResult] = []
        self.con.execute("BEGIN TRANSACTION")
        try:
            for name, src in resolved.items():
                fingerprint = _fingerprint(src)
                files = tuple(str(p) for p in src.paths)
                prev = self.con.execute(
                    f"SELECT fingerprint, rows FROM {META_TABLE} WHERE table_name = ?", [name]
                ).fetchone()
                if not force and prev and fingerprint and prev[0] == fingerprint:
                    results.append(LoadResult(name, int(prev[1]), files, skipped=True))
                    continue
                options = SourceOptions(
                    columns=dict(src.columns),
                    date_format=src.date_format,
                    decimal=src.decimal,
                    delimiter=src.delimiter,
                    encoding=src.encoding,
                    sheet=src.sheet,
                    default_currency=self.config.reporting_currency,
                )
                stage = f"_stage_{name}"
                rows = read_table(self.con, TABLES[name], list(src.paths), options, target=stage)
                self.con.execute(f'DELETE FROM "{name}"')
                self.con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM {stage}')
                self.con.execute(f"DROP TABLE {stage}")
                self.con.execute(
                    f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?, ?, ?, now())",
                    [name, json.dumps(files), fingerprint, rows],
                )
                results.append(LoadResult(name, rows, files, skipped=False))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self._reset_book()
        return results

    def load_frames(self, frames: Mapping[str, Any], *, force: bool = False) -> list[LoadResult]:
        """Load in-memory tables (Arrow, Polars or pandas), with the same checks as files, atomically.

        Column names are the canonical ones (or mapped by revbook.toml's [sources.<table>.columns]).
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
                paths[name] = path
            return self.load(paths, force=force)

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
            out[name] = replace(base, paths=tuple(Path(p) for p in paths))
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

    # -- metrics ---------------------------------------------------------------------------
    @property
    def book(self) -> Book:
        if self._book is None:
            from .metrics.book import Book

            engine = self._engine()
            try:
                if not engine.scalar(f"SELECT count(*) > 0 FROM {self.config.mrr_source}"):
                    where = f"the workspace {self.path}"
                    if self._spark_tables is not None:
                        where = f"the Spark {self._spark_tables[0]}"
                    raise WorkspaceError(
                        f"{where} has no {self.config.mrr_source} loaded",
                        hint="run `revbook load` first (or `revbook demo` for a sample company)",
                    )
            except BaseException:
                engine.close()
                raise
            self._book = Book(engine, self.config)
        return self._book

    def _engine(self) -> Engine:
        from .engine import DuckDBEngine

        if self.engine_name == "duckdb":
            return DuckDBEngine(self.con)
        from .spark import SparkEngine, local_session

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

    def _reset_book(self) -> None:
        if self._book is not None:
            self._book.engine.close()
        self._book = None

    def _frame(self, name: str, sql: str, params: Sequence[object] = ()) -> Frame:
        return Frame(name, self.book.engine.arrow(sql, params))

    def ledger(self, *, account: str | Sequence[str] | None = None) -> Frame:
        """The ledger lines: each line's MRR in the reporting currency, constant over its life."""
        lines = self.book.ledger()
        mu = self.config.minor_units
        from .metrics.movements import money

        where, params = _account_filter(account, "account_id")
        return self._frame(
            "ledger",
            f"""SELECT account_id, source, subscription_id, line_id, product, plan, currency, is_trial,
                       start_date, end_date, end_date_recorded, fx_rate, {money("mrr", mu)} AS mrr,
                       _file AS source_file, _row AS source_row
                FROM {lines} WHERE {where} ORDER BY account_id, start_date, line_id""",
            params,
        )

    def mrr(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
        account: str | Sequence[str] | None = None,
    ) -> Frame:
        """MRR and ARR at each period's snapshot, per slice; ``accounts=True`` gives one row per account
        (``account=`` keeps only the given account ids, and implies ``accounts=True``)."""
        from .metrics.movements import money

        dims = _as_list(by)
        periods, _, _ = self.book.spine(grain)
        mu = self.config.minor_units
        filters = ["true"]
        if (s := _date_option(start, "start")) is not None:
            filters.append(f"p.period_end >= DATE '{s}'")
        if (e := _date_option(end, "end")) is not None:
            filters.append(f"p.period_end <= DATE '{e}'")
        params: list[object] = []
        if accounts or account is not None:
            snap = self.book.snapshots(grain)
            sl = self.book.slices(grain, dims)
            d_sel = "".join(f", sl.{d}" for d in dims)
            where, params = _account_filter(account, "s.account_id")
            filters.append(where)
            sql = f"""SELECT p.label AS period, p.period_end, s.account_id{d_sel}, {money("s.mrr", mu)} AS mrr,
                             {money("12 * s.mrr", mu)} AS arr
                      FROM {snap} s JOIN {periods} p ON p.period = s.period
                      JOIN {sl} sl ON sl.account_id = s.account_id AND sl.period = s.period
                      WHERE {" AND ".join(filters)} ORDER BY s.period, s.account_id"""
        else:
            from .metrics.states import levels

            lv = levels(self.book, grain, dims)
            d_sel = "".join(f", lv.{d}" for d in dims)
            if dims:
                filters.append("lv.accounts > 0")
            sql = f"""SELECT p.label AS period, p.period_start, p.period_end{d_sel},
                             CAST(coalesce(lv.accounts, 0) AS BIGINT) AS accounts,
                             {money("coalesce(lv.mrr, 0)", mu)} AS mrr,
                             {money("12 * coalesce(lv.mrr, 0)", mu)} AS arr
                      FROM {periods} p {"JOIN" if dims else "LEFT JOIN"} {lv} lv ON lv.period = p.period
                      WHERE {" AND ".join(filters)}
                      ORDER BY p.period{d_sel}"""
        return self._frame("accounts" if accounts or account is not None else "mrr", sql, params)

    def movements(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> Frame:
        """New, reactivation, expansion, contraction and churn per period (and slice), with counts."""
        from .metrics.movements import movements_sql

        return self._frame(
            "movements",
            movements_sql(self.book, grain, _as_list(by), _date_option(start, "start"), _date_option(end, "end")),
        )

    def account_movements(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        account: str | Sequence[str] | None = None,
    ) -> Frame:
        """One row per account and period it had MRR in, with its movement (the detail behind movements)."""
        from .metrics.movements import account_movements_sql, money

        dims = _as_list(by)
        periods, _, _ = self.book.spine(grain)
        mu = self.config.minor_units
        where, params = _account_filter(account, "r.account_id")
        sql = f"""SELECT p.label AS period, p.period_end, r.account_id{"".join(f", r.{d}" for d in dims)},
                         {money("r.start_mrr", mu)} AS start_mrr, {money("r.end_mrr", mu)} AS end_mrr,
                         r.movement
                  FROM ({account_movements_sql(self.book, grain, dims)}) r JOIN {periods} p ON p.period = r.period
                  WHERE {where}
                  ORDER BY r.period, r.account_id"""
        return self._frame("account_movements", sql, params)

    def retention(
        self,
        *,
        window: int | Sequence[int] = (1, 3, 12),
        by: str | Sequence[str] | None = None,
        grain: str = "month",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> Frame:
        """NRR, GRR, logo retention and the movement measures over trailing windows (months)."""
        from .metrics.retention import retention_sql

        windows = [window] if isinstance(window, int) else list(window)
        return self._frame(
            "retention",
            retention_sql(
                self.book, windows, _as_list(by), grain, _date_option(start, "start"), _date_option(end, "end")
            ),
        )

    def revenue(
        self,
        *,
        grain: str = "month",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
    ) -> Frame:
        """Recognised revenue per period (day by day, exact), beside MRR; for finance."""
        from .metrics.movements import money
        from .metrics.revenue import recognised_revenue

        book = self.book
        if "rb_revenue" not in book._built:
            book.engine.register("rb_revenue", recognised_revenue(book))
            book._built.add("rb_revenue")
        cal = book.calendar(grain)
        periods, _, _ = book.spine(grain)
        period = "r.month" if cal.months == 1 else f"((r.month - {cal.offset}) // {cal.months})"
        filters = ["true"]
        if (s := _date_option(start, "start")) is not None:
            filters.append(f"p.period_end >= DATE '{s}'")
        if (e := _date_option(end, "end")) is not None:
            filters.append(f"p.period_end <= DATE '{e}'")
        account = ", r.account_id" if accounts else ""
        mu = self.config.minor_units
        sql = f"""SELECT p.label AS period, p.period_start, p.period_end{account},
                         {money("sum(r.revenue)", mu)} AS recognised_revenue
                  FROM rb_revenue r JOIN {periods} p ON p.period = {period}
                  WHERE {" AND ".join(filters)}
                  GROUP BY p.period, p.label, p.period_start, p.period_end{account}
                  ORDER BY p.period{account}"""
        return self._frame("revenue", sql)

    def reconcile(self, *, grain: str = "month") -> Frame:
        """Subscription MRR against invoice MRR, per account and period, for accounts in both.

        The workspace's ``mrr_source`` feeds every metric; the other source is read here only, to
        show where the two disagree (a missing invoice, a price the contract does not show).
        """
        from .engine import DuckDBEngine
        from .metrics.book import Book
        from .metrics.movements import money

        if self.engine_name != "duckdb":
            raise WorkspaceError(
                "reconciliation runs on the DuckDB engine only", hint="open the workspace with engine='duckdb'"
            )
        counts = self.row_counts()
        if not (counts["subscriptions"] and counts["invoices"]):
            raise WorkspaceError(
                "reconciliation needs both subscriptions and invoices", hint="load the table that is empty"
            )
        main = self.book
        other_source = "invoices" if self.config.mrr_source == "subscriptions" else "subscriptions"
        # temp tables are per connection: the other source's stages live on a cursor of their own
        cursor = self.con.cursor()
        try:
            other = Book(DuckDBEngine(cursor), self.config.with_(mrr_source=other_source))
            theirs = cursor.execute(f"SELECT account_id, period, mrr FROM {other.snapshots(grain)}").to_arrow_table()
        finally:
            cursor.close()
        main.engine.register("rb_reconcile_other", theirs)
        periods, _, _ = main.spine(grain)
        mu = self.config.minor_units
        ours, their = (
            ("s", "o") if self.config.mrr_source == "subscriptions" else ("o", "s")
        )  # which side is subscriptions
        sql = f"""
            WITH both_sources AS (
                SELECT DISTINCT s.account_id FROM subscriptions s JOIN invoices i ON i.account_id = s.account_id
            ),
            s AS (SELECT account_id, period, mrr FROM {main.snapshots(grain)}),
            o AS (SELECT account_id, period, mrr FROM rb_reconcile_other)
            SELECT p.label AS period, p.period_end, coalesce(s.account_id, o.account_id) AS account_id,
                   {money(f"coalesce({ours}.mrr, 0)", mu)} AS subscriptions_mrr,
                   {money(f"coalesce({their}.mrr, 0)", mu)} AS invoices_mrr,
                   {money(f"coalesce({ours}.mrr, 0) - coalesce({their}.mrr, 0)", mu)} AS difference
            FROM s FULL OUTER JOIN o ON o.account_id = s.account_id AND o.period = s.period
            JOIN {periods} p ON p.period = coalesce(s.period, o.period)
            WHERE coalesce(s.account_id, o.account_id) IN (SELECT account_id FROM both_sources)
            ORDER BY coalesce(s.period, o.period), 3
        """
        return self._frame("reconcile", sql)

    def cohorts(
        self,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        triangle: str | None = None,
    ) -> Frame:
        """Vintage triangles: logo retention and NRR by months since first MRR.

        Long form by default (one row per cohort and age); ``triangle="logo_retention"`` or
        ``"nrr"`` gives the familiar shape: one row per cohort, one column per month of age.
        """
        from .metrics.cohorts import cohorts_sql, pivot

        long = self._frame("cohorts", cohorts_sql(self.book, _date_option(start, "start"), _date_option(end, "end")))
        if triangle is None:
            return long
        if triangle not in ("logo_retention", "nrr"):
            raise ConfigError(f"unknown triangle '{triangle}'", hint="use logo_retention or nrr")
        return Frame(f"cohorts_{triangle}", pivot(long.to_arrow(), triangle))

    def catalogue(
        self,
        metric: str | None = None,
        *,
        grain: str = "quarter",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
    ) -> Frame:
        """A metric of the CS catalogue (renewal rate, time to value, QBR conversion, NPS beside
        retention, ...) per period and slice, with its numerator and denominator; ``metric=None``
        gives every metric's headline; ``accounts=True`` the facts behind it (docs/definitions.md)."""
        from .metrics.catalogue import catalogue

        frame: Frame = catalogue(self, metric, grain=grain, by=by, start=start, end=end, accounts=accounts)
        return frame

    def check(self) -> Frame:
        """Data-quality findings with severities (error, warning, info)."""
        from .checks import run_checks

        return Frame("check", run_checks(self))

    def headline(self) -> dict[str, Any]:
        """The figures a CS leader asks for first, at the as-of date."""
        mrr = self.mrr().to_arrow().to_pylist()
        last = mrr[-1] if mrr else {"mrr": 0, "arr": 0, "accounts": 0, "period_end": self.config.snapshot_date()}
        ret = [r for r in self.retention(window=12).to_arrow().to_pylist() if r["period_end"] == last["period_end"]]
        r12 = ret[0] if ret else {}
        return {
            "as_of": self.config.snapshot_date(),
            "currency": self.config.reporting_currency,
            "mrr": last["mrr"],
            "arr": last["arr"],
            "accounts": last["accounts"],
            "nrr_12m": r12.get("nrr"),
            "grr_12m": r12.get("grr"),
            "logo_retention_12m": r12.get("logo_retention"),
            "quick_ratio_12m": r12.get("quick_ratio"),
        }


def open_workspace(
    path: str | Path | None = None,
    *,
    config: Config | str | Path | None = None,
    read_only: bool = False,
    engine: str = "duckdb",
    spark: Any = None,
    parquet: str | Path | None = None,
    database: str | None = None,
) -> Workspace:
    """Open (or create) a workspace. ``config`` is a :class:`Config` or the path of a revbook.toml;
    ``engine``, ``spark``, ``parquet`` and ``database`` choose where the metrics run (see :class:`Workspace`)."""
    if not isinstance(config, Config):
        config = load_config(config)
    return Workspace(
        path, config=config, read_only=read_only, engine=engine, spark=spark, parquet=parquet, database=database
    )
