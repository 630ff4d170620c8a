"""Where the metric definitions run.

Every definition in :mod:`revbook.ledger` and :mod:`revbook.metrics` is written once, as SQL in
the DuckDB dialect restricted to constructs SQLGlot transpiles (no DuckDB-only functions,
no ASOF joins, no ``range()`` table functions: period spines are registered from Python).
An :class:`Engine` runs that SQL; :func:`portable` translates it for another engine. Two engines:
:class:`DuckDBEngine`, the embedded reference, and :class:`revbook.engines.spark.SparkEngine`.

Why SQL + SQLGlot rather than Ibis expressions: measured on this project's change-point plan,
both run the same SQL on DuckDB, but Ibis adds ~0.3 s of import, ~0.7 s for its first query
(pandas), and builds each expression in Python at every call; SQLGlot imports in ~0.14 s and
is only needed when the target is not DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["DuckDBEngine", "Engine", "portable"]

REFERENCE_DIALECT = "duckdb"


def portable(sql: str, dialect: str) -> str:
    """Translate a definition from the reference dialect to ``dialect``."""
    if dialect == REFERENCE_DIALECT:
        return sql
    import sqlglot

    return ";\n".join(sqlglot.transpile(sql, read=REFERENCE_DIALECT, write=dialect))


class Engine(Protocol):
    """What the ledger and the metrics need of an engine; SQL is always in the reference dialect."""

    dialect: str

    def execute(self, sql: str) -> None: ...

    def materialize(self, name: str, select: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table: ...

    def scalar(self, sql: str) -> object: ...

    def register(self, name: str, table: pa.Table) -> None: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """The embedded reference engine, over an open DuckDB connection.

    Stages are temporary tables of the connection, gone when it closes. With ``keep`` (a schema of
    the workspace file) each materialised stage that ``keeps(name)`` accepts is written there instead
    and read through a temporary view of its name, so that a later process can read it back
    (:meth:`use_kept`); see :mod:`revbook.store.stages`."""

    dialect = REFERENCE_DIALECT

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        keep: str | None = None,
        keeps: Callable[[str], bool] = lambda name: True,
    ) -> None:
        self.con = con
        self.keep = keep
        self.keeps = keeps
        #: the stages read through a view of a kept table
        self.views: set[str] = set()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def materialize(self, name: str, select: str) -> None:
        """Keep a definition's result as a named table for the stages after it: temporary, or in
        the ``keep`` schema (read through a temporary view of the same name)."""
        self.views.discard(name)
        if self.keep is None or not self.keeps(name):
            self._drop_temp(name)  # a view of an earlier engine's kept stage, say
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
            return
        self.con.execute(f"CREATE OR REPLACE TABLE {self.keep}.{name} AS {select}")
        self._view(name, self.keep)

    def keep_built(self, name: str) -> None:
        """Move the temporary stage ``name`` into the ``keep`` schema, read through a view as
        :meth:`materialize` leaves a kept stage."""
        assert self.keep is not None
        self.con.execute(f"CREATE OR REPLACE TABLE {self.keep}.{name} AS SELECT * FROM temp.main.{name}")
        self._view(name, self.keep)

    def use_kept(self, schema: str, names: Sequence[str]) -> None:
        """Read the stages ``names`` from the tables of ``schema`` (kept by an earlier process)."""
        for name in names:
            self._view(name, schema)

    def _view(self, name: str, schema: str) -> None:
        self._drop_temp(name)
        self.con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {schema}.{name}")
        self.views.add(name)

    def _drop_temp(self, name: str) -> None:
        """Drop the connection's temporary table or view ``name`` (an earlier engine's), if any."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a stage name: {name!r}")
        # the name inlined: a bound parameter makes DuckDB import pandas (half a second)
        row = self.con.execute(
            f"SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = '{name}' "
            f"UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = '{name}'"
        ).fetchone()
        if row is not None:
            self.con.execute(f"DROP {row[0]} temp.main.{name}")

    def drop(self, name: str) -> None:
        """Free a stage no later definition reads (a kept stage being written is dropped from its
        schema too; one read from an earlier process stays there)."""
        if name in self.views:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
            self.views.discard(name)
            if self.keep is not None:
                self.con.execute(f"DROP TABLE IF EXISTS {self.keep}.{name}")
            return
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """The rows of a query as Arrow; ``params`` bind its ``?`` markers in order."""
        if params:
            return self.con.execute(sql, list(params)).to_arrow_table()
        return self.con.execute(sql).to_arrow_table()

    def scalar(self, sql: str) -> object:
        row = self.con.execute(sql).fetchone()
        return None if row is None else row[0]

    def register(self, name: str, table: pa.Table) -> None:
        if name in self.views:
            self.drop(name)
        self._drop_temp(name)  # a table or view of an earlier engine on this connection, say
        self.con.register(f"_{name}_view", table)
        self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _{name}_view")
        self.con.unregister(f"_{name}_view")

    def close(self) -> None:
        """Nothing to free: the connection belongs to its workspace."""
