"""Where account plans are kept: their own DuckDB file beside the workspace, append-only.

The plans live in ``<workspace>.plans.duckdb`` (``revbook.duckdb`` -> ``revbook.plans.duckdb``),
attached to the workspace's connection as ``revbook_plans`` for the length of one read or write
and detached after. Why a file of their own: the dashboard and the read commands open the
workspace read-only (so that several of them, and the dashboard, can read it at once), and a
read-only DuckDB file takes no writes; an attached file can. It also keeps the loaded source
tables out of reach of every plan write, and a load (which replaces those tables) never touches
the plans.

One table, ``plan_entries``: one row per version of an account's plan, never updated in place
(a create is version 1, each edit the next version), with who wrote it, when (UTC) and the plan
as JSON. The primary key (account_id, version) makes two writers of the same version collide
instead of both succeeding.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WorkspaceError

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ALIAS", "TABLE", "Entry", "append", "entries", "plans_path"]

ALIAS = "revbook_plans"
TABLE = "plan_entries"
_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {ALIAS}.{TABLE} (
    account_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    author VARCHAR NOT NULL,
    note VARCHAR,
    plan VARCHAR NOT NULL,
    PRIMARY KEY (account_id, version))"""

#: one stored version: (account_id, version, recorded_at, author, note, plan as a dict)
Entry = tuple[str, int, dt.datetime, str, str | None, dict[str, Any]]


def plans_path(store: Store) -> Path:
    """The plans file of ``store``'s workspace."""
    return store.path.with_name(f"{store.path.stem}.plans.duckdb")


@contextlib.contextmanager
def _attached(store: Store, *, write: bool) -> Iterator[bool]:
    """The plans file attached for one operation; yields False when reading a file not yet written."""
    import duckdb

    con = store.con
    if con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [ALIAS]).fetchone() != (0,):
        yield True  # attached by an enclosing operation
        return
    path = plans_path(store)
    if not write and not path.exists():
        yield False
        return
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {ALIAS} (READ_WRITE)")
    except duckdb.Error as exc:
        raise WorkspaceError(
            f"cannot open the account plans {path}: {exc}",
            hint="another revbook process may be writing a plan; try again in a moment",
        ) from None
    try:
        con.execute(_SCHEMA)
        yield True
    finally:
        con.execute(f"DETACH {ALIAS}")


def entries(store: Store, account_id: str | None = None) -> list[Entry]:
    """Every stored version (of one account, or of all), oldest first."""
    with _attached(store, write=False) as found:
        if not found:
            return []
        where, params = ("WHERE account_id = ?", [account_id]) if account_id is not None else ("", [])
        rows = store.con.execute(
            f"SELECT account_id, version, recorded_at, author, note, plan FROM {ALIAS}.{TABLE} {where} "
            "ORDER BY account_id, version",
            params,
        ).fetchall()
    return [(r[0], int(r[1]), r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def append(
    store: Store, account_id: str, base: int, author: str, note: str | None, plan: dict[str, Any]
) -> tuple[int, dt.datetime]:
    """Store version ``base + 1`` of the account's plan, if its latest version is still ``base``
    (0: none yet); returns (version, recorded_at), or raises the stale version it found."""
    import duckdb

    from .errors import stale

    recorded = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with _attached(store, write=True):
        con = store.con
        con.execute("BEGIN TRANSACTION")
        try:
            latest = con.execute(
                f"SELECT version, author, recorded_at FROM {ALIAS}.{TABLE} WHERE account_id = ? "
                "ORDER BY version DESC LIMIT 1",
                [account_id],
            ).fetchone()
            now = int(latest[0]) if latest else 0
            if now != base:
                raise stale(account_id, base, now, latest[1] if latest else None, latest[2] if latest else None)
            con.execute(
                f"INSERT INTO {ALIAS}.{TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                [account_id, base + 1, recorded, author, note, json.dumps(plan, sort_keys=True)],
            )
            con.execute("COMMIT")
        except duckdb.ConstraintException:
            con.execute("ROLLBACK")
            raise stale(account_id, base, base + 1, None, None) from None
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return base + 1, recorded
