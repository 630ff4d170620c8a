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

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["SCHEMA", "Base", "Outcome", "clear", "kept", "previous", "record", "record_base", "unrecord"]

SCHEMA = "_revbook_stages"
_META = f"{SCHEMA}._meta"
_BASE = f"{SCHEMA}._base"


@dataclasses.dataclass(frozen=True)
class Base:
    """What the kept set was built from, for the next load to compare with: the key of its
    settings and code, its full key, its as-of date and the first month of its book (the period
    index of the month spine's first period)."""

    settings_key: str
    key: str
    as_of: dt.date
    first_month: int


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a load did to the kept stages: ``recomputed`` of ``accounts`` accounts recomputed (the
    incremental path), or every stage rebuilt (``recomputed`` None) for ``reason``."""

    accounts: int
    recomputed: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.recomputed is None:
            return f"kept stages: rebuilt ({self.reason})"
        return f"kept stages: {self.recomputed:,} of {self.accounts:,} accounts recomputed"


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


def unrecord(con: duckdb.DuckDBPyConnection) -> None:
    """Mark nothing as kept, leaving the tables in place (a load about to update them in place:
    a run cut short leaves none to read)."""
    con.execute(f"DROP TABLE IF EXISTS {_META}")


def record_base(con: duckdb.DuckDBPyConnection, base: Base) -> None:
    """Record what the kept set was built from (:class:`Base`)."""
    con.execute(
        f"CREATE OR REPLACE TABLE {_BASE} AS SELECT '{base.settings_key}' AS settings_key, '{base.key}' AS key,"
        f" DATE '{base.as_of.isoformat()}' AS as_of, CAST({int(base.first_month)} AS BIGINT) AS first_month"
    )


def previous(con: duckdb.DuckDBPyConnection) -> Base | None:
    """What the kept set was built from, when one is kept (none when a load was cut short)."""
    import duckdb

    try:
        row = con.execute(f"SELECT settings_key, key, as_of, first_month FROM {_BASE}").fetchone()
    except duckdb.CatalogException:
        return None
    if row is None or not str(row[1]).isalnum() or not kept(con, str(row[1])):
        return None
    return Base(str(row[0]), str(row[1]), row[2], int(row[3]))
