"""Derived stages kept in the workspace file, so that the commands after a load read them.

The metrics' shared stages (the ledger, change points, states; :mod:`revbook.metrics.book`) are
built by the load that changes what they read, once it has committed, into the schema
``_revbook_stages`` of the workspace file (:mod:`revbook.metrics.kept`), under a *key*: a digest
of everything they depend on (what was loaded and when, the settings they read, the code that
defines them). A later process, read-only or not, reads them back when its key is the same; a
different key (another as-of date, a changed setting, a newer revbook) leaves them unread and the
stages are built in memory as before. Only one set is kept: the last load's. See docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["SCHEMA", "clear", "kept", "record"]

SCHEMA = "_revbook_stages"
_META = f"{SCHEMA}._meta"


def kept(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    """The stages kept under ``key`` (none when the workspace keeps none or another key's)."""
    import duckdb

    if not key.isalnum():
        raise ValueError(f"not a stage key: {key!r}")
    try:  # the key inlined: a bound parameter makes DuckDB import pandas (half a second)
        rows = con.execute(f"SELECT name FROM {_META} WHERE key = '{key}' ORDER BY position").fetchall()
    except duckdb.CatalogException:  # a workspace that keeps none (written before stages were kept)
        return []
    return [str(r[0]) for r in rows]


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every kept stage: what a load that changes them does first."""
    con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA {SCHEMA}")


def record(con: duckdb.DuckDBPyConnection, key: str, names: Sequence[str]) -> None:
    """Mark ``names`` (tables of the schema, in the order they were built) as kept under ``key``."""
    con.execute(f"CREATE OR REPLACE TABLE {_META} (position INTEGER, name VARCHAR, key VARCHAR, kept_at TIMESTAMP)")
    if names:
        con.executemany(f"INSERT INTO {_META} VALUES (?, ?, ?, now())", [[i, n, key] for i, n in enumerate(names)])
