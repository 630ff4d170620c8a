"""The Spark engine: the same definitions, transpiled by SQLGlot, on a Spark session.

For books that outgrow one machine. Every stage of :mod:`revbook.ledger` and
:mod:`revbook.metrics` runs as Spark SQL; each materialised stage is a temporary view of a
locally checkpointed DataFrame (its lineage cut, so later stages plan quickly); results come
back as Arrow (``DataFrame.toArrow``), so a metric is the same :class:`~revbook.frame.Frame`
as on DuckDB, exact to the cent (tests/engines/test_conformance_engines.py compares every metric).

The canonical tables are read from the DuckDB workspace (exported to Parquet), from a
directory of Parquet datasets (``<dir>/<table>`` or ``<dir>/<table>.parquet``, e.g. on S3,
HDFS or DBFS), or from a database of the Spark catalog. Either way each table is cast to the
columns and types of the data contract; a missing optional table is an empty one.

pyspark is imported here only, never by ``import revbook``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..contract import TABLES
from ..errors import ConfigError
from .duckdb import portable

if TYPE_CHECKING:
    import duckdb

__all__ = ["SparkEngine", "local_session"]


def quoted(name: str) -> str:
    return f'"{name}"'


#: Spark's decimal arithmetic keeps every digit the definitions ask for (DECIMAL(38, 22) products);
#: with precision loss allowed it would cut the scale to 6 and the cents could move.
SESSION_CONF = {"spark.sql.decimalOperations.allowPrecisionLoss": "false"}


def _require_pyspark() -> Any:
    try:
        import pyspark
    except ImportError:
        raise ConfigError(
            "the Spark engine needs pyspark",
            hint="install it with: pip install 'revbook[spark]' (pyspark 4.0.5, which also needs Java 17)",
        ) from None
    return pyspark


def local_session(cores: int | str = "*", *, shuffle_partitions: int | None = None) -> Any:
    """The active Spark session, else a new local one (``local[cores]``, no web UI).

    Under ``spark-submit`` or on Databricks a session already exists (or the builder picks up the
    cluster's configuration): pass it to :class:`SparkEngine` directly instead.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ConfigError(
            "the Spark engine needs a Java runtime, and none was found",
            hint="install Java 17 (Debian/Ubuntu: apt-get install default-jre-headless) or set JAVA_HOME",
        )
    partitions = shuffle_partitions or (2 * (os.cpu_count() or 1) if cores == "*" else 2 * int(cores))
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("revbook")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
    )
    try:
        return builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own error types when the JVM cannot start
        raise ConfigError(
            f"cannot start a local Spark session: {exc}",
            hint="check the Java runtime (java -version shows 17 or 21) and JAVA_HOME",
        ) from None


class SparkEngine:
    """Runs the definitions on a Spark session.

    The engine works in a session of its own (``spark.newSession()``): its temporary views and
    the SQL setting it needs (:data:`SESSION_CONF`) never touch the caller's session, while the
    cluster and its cache are shared. Close it (or use ``with``) to drop its views.
    """

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        _require_pyspark()
        try:
            self.spark = spark.newSession()
        except (AttributeError, NotImplementedError):  # a Spark Connect session has no sibling sessions
            self.spark = spark
        for key, value in SESSION_CONF.items():
            self.spark.conf.set(key, value)
        self._frames: dict[str, Any] = {}
        self._scratch: Path | None = None

    # -- the Engine protocol ------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        self.spark.sql(portable(sql, self.dialect))

    def materialize(self, name: str, select: str) -> None:
        """Compute a stage once and keep it as a temporary view for the stages after it."""
        frame = self.spark.sql(portable(select, self.dialect)).localCheckpoint(eager=True)
        self._view(name, frame)

    def drop(self, name: str) -> None:
        self._frames.pop(name, None)
        self.spark.catalog.dropTempView(name)

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """The rows of a query as Arrow; ``params`` bind its ``?`` markers in order."""
        table = self._df(sql, params).toArrow()
        # Spark marks columns it proves never null; DuckDB marks none: the same Frame either way
        return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))

    def scalar(self, sql: str) -> object:
        rows = self._df(sql, ()).take(1)
        return rows[0][0] if rows else None

    def register(self, name: str, table: pa.Table) -> None:
        self._view(name, self.spark.createDataFrame(table))

    # -- canonical tables ---------------------------------------------------------------------
    def read_workspace(self, con: duckdb.DuckDBPyConnection) -> None:
        """Read the workspace's canonical tables: exported to Parquet in a scratch directory
        (removed by :meth:`close`), then read by Spark. For a Spark on this machine; a cluster
        reads a Parquet directory on shared storage (:meth:`read_parquet`)."""
        self._scratch = Path(tempfile.mkdtemp(prefix="revbook-spark-"))
        for name in TABLES:
            if con.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (0,):
                self._canonical(name, None)  # nothing to read: no Spark job for it
                continue
            path = self._scratch / f"{name}.parquet"
            con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{path.as_posix()}' (FORMAT parquet)")
            self._canonical(name, self.spark.read.parquet(path.as_posix()))

    def read_parquet(self, directory: str | Path) -> None:
        """Read each canonical table from ``directory/<table>`` or ``directory/<table>.parquet``
        (a file or a dataset directory, on any file system Spark reads: local, HDFS, S3, DBFS)."""
        base = str(directory).rstrip("/")
        for name in TABLES:
            frame = None
            for candidate in (f"{base}/{name}.parquet", f"{base}/{name}"):
                frame = self._read_parquet(candidate)
                if frame is not None:
                    break
            self._canonical(name, frame)

    def read_catalog(self, database: str) -> None:
        """Read each canonical table from ``database`` in the Spark catalog (absent ones are empty)."""
        global_temp = self.spark.conf.get("spark.sql.globalTempDatabase", "global_temp")
        if database != global_temp and not self.spark.catalog.databaseExists(database):
            raise ConfigError(f"no database '{database}' in the Spark catalog", hint="name a database that exists")
        for name in TABLES:
            exists = self.spark.catalog.tableExists(f"{database}.{name}")
            self._canonical(name, self.spark.table(f"{database}.{name}") if exists else None)

    def close(self) -> None:
        for name in list(self._frames):
            self.drop(name)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------------
    def _df(self, sql: str, params: Sequence[object]) -> Any:
        return self.spark.sql(portable(sql, self.dialect), args=list(params) if params else None)

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def _read_parquet(self, path: str) -> Any:
        """The Parquet file or dataset at ``path``, or None when there is none."""
        from pyspark.errors import AnalysisException

        try:
            return self.spark.read.parquet(path)
        except AnalysisException as exc:
            if "PATH_NOT_FOUND" in str(exc):
                return None
            raise

    def _canonical(self, name: str, frame: Any) -> None:
        """``frame`` as the canonical table ``name``: the contract's columns with their types, in
        order (a column it lacks is NULL), plus the loader's ``_file`` and ``_row``."""
        table = TABLES[name]
        present = set(frame.columns) if frame is not None else set()
        raw = f"_rb_raw_{name}"
        if frame is not None:
            frame.createOrReplaceTempView(raw)
        cols = [
            f"CAST({quoted(c.name) if c.name in present else 'NULL'} AS {c.sql_type}) AS {quoted(c.name)}"
            for c in table.columns
        ]
        cols.append(f"CAST({'_file' if '_file' in present else repr(name)} AS VARCHAR) AS _file")
        cols.append(f"CAST({'_row' if '_row' in present else 'NULL'} AS BIGINT) AS _row")
        source = raw if frame is not None else "(SELECT 1 AS one) t WHERE false"
        self._view(name, self.spark.sql(portable(f"SELECT {', '.join(cols)} FROM {source}", self.dialect)))
        if frame is not None:
            self.spark.catalog.dropTempView(raw)
