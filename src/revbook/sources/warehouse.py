"""The SQL warehouse connector (PostgreSQL, through psycopg): the contract tables read from a schema or
from queries, loaded through the same checks and the same atomic load as files.

Each table comes from ``[warehouse.queries] <table>`` when it has a query, else from the table of its
canonical name in ``[warehouse] schema``. Every table is read inside one read-only transaction at
repeatable read, so all of them come from one snapshot of the warehouse. ``numeric`` arrives as its
exact text and is parsed as a file's amount (money stays exact); dates, booleans and integers arrive
typed. The columns are mapped by ``[warehouse.columns.<table>]`` (canonical = "their column"), then
handed to :meth:`revbook.store.Store.load_frames`: the same parsing, checks and messages as a file,
all tables or none. An error names the table and the schema or query it came from, and what to do;
the connection is shown with its password masked. See docs/connectors.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config.warehouse import WarehouseSettings
from ..contract import LOADABLE_TABLES
from ..errors import ContractError, SourceError
from .connectors import Loads, Seen, Synced
from .warehouse_conn import Connection, connect, error_text

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa

    from ..config import Config

__all__ = ["Origin", "WarehouseConnector", "origin_of", "origins", "read_tables", "relabel", "warehouse_connector"]


@dataclass(frozen=True)
class Origin:
    """Where one contract table is read from: a query of revbook.toml, or a table of the schema."""

    table: str
    sql: str
    #: how messages and the loaded rows' _file name it: "warehouse query [warehouse.queries] subscriptions" or
    #: "warehouse table analytics.subscriptions"
    label: str
    query: bool

    @property
    def fix(self) -> str:
        if self.query:
            return f"fix the query in revbook.toml [warehouse.queries] {self.table} (it runs read-only, as written)"
        return (
            f"create {self.label} or give a query for it in [warehouse.queries], and check that the warehouse "
            "user may SELECT from it"
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def origins(settings: WarehouseSettings, present: Sequence[str]) -> list[Origin]:
    """The tables to read and where from: ``[warehouse] tables`` (each must exist), else every contract
    table with a query or in the schema (``present``: the contract tables the schema has)."""
    wanted = settings.tables or tuple(t for t in LOADABLE_TABLES if t in settings.queries or t in present)
    return [origin_of(settings, t) for t in wanted]


def origin_of(settings: WarehouseSettings, table: str) -> Origin:
    """Where ``table`` is read from: its query, else the schema's table of its name."""
    if table in settings.queries:
        return Origin(table, settings.queries[table], f"warehouse query [warehouse.queries] {table}", True)
    sql = f"SELECT * FROM {_quote(settings.schema)}.{_quote(table)}"
    return Origin(table, sql, f"warehouse table {settings.schema}.{table}", False)


def tables_in_schema(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """The contract tables (and views) of ``schema``, whether or not the connection may read them."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
        [schema],
    ).fetchall()
    return [r[0] for r in rows if r[0] in LOADABLE_TABLES]


def read_tables(settings: WarehouseSettings) -> tuple[dict[str, pa.Table], dict[str, Origin], Connection]:
    """Every table to read, as Arrow, from one read-only snapshot; an error names the table and its origin."""
    with connect(settings) as (conn, where):
        present = tables_in_schema(conn, settings.schema)
        plan = origins(settings, present)
        if not plan:
            raise SourceError(
                f"the warehouse schema '{settings.schema}' ({where.shown}) has none of the contract tables",
                hint="set [warehouse] schema to the schema holding them (tables named accounts, subscriptions, "
                "...), or give queries in [warehouse.queries]",
            )
        for origin in plan:
            if not origin.query and origin.table not in present:
                raise SourceError(
                    f"there is no {origin.label} ({where.shown})",
                    table=origin.table,
                    hint=f"{origin.fix}; or leave {origin.table} out of [warehouse] tables",
                )
        frames = {origin.table: _fetch(conn, origin, where) for origin in plan}
        return frames, {o.table: o for o in plan}, where


def _fetch(conn: psycopg.Connection[Any], origin: Origin, where: Connection) -> pa.Table:
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute(origin.sql.encode())  # the user's own SQL, run as written (no parameters)
            description = cur.description
            rows = cur.fetchall() if description else []
    except psycopg.Error as exc:
        conn.rollback()
        raise SourceError(
            f"cannot run {origin.label}: {error_text(exc, where)}", table=origin.table, hint=origin.fix
        ) from None
    if not description:
        raise SourceError(f"{origin.label} returns no rows and no columns", table=origin.table, hint=origin.fix)
    return _arrow(conn, [d.name for d in description], [d.type_code for d in description], rows, origin)


#: PostgreSQL type names -> how their values become Arrow (numeric: as exact text, see warehouse_conn)
_KINDS = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "float4": "float",
    "float8": "float",
    "bool": "bool",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
}


def _arrow(
    conn: psycopg.Connection[Any], names: list[str], oids: list[int], rows: list[tuple[Any, ...]], origin: Origin
) -> pa.Table:
    import pyarrow as pa

    seen: dict[str, int] = {}
    for name in names:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    if repeated := sorted(n for n, k in seen.items() if k > 1):
        raise SourceError(
            f"{origin.label} returns the column '{repeated[0]}' more than once",
            table=origin.table,
            hint="give each column of the query its own name (AS ...)",
        )
    types = {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }
    arrays = []
    for i, oid in enumerate(oids):
        info = conn.adapters.types.get(oid)
        kind = _KINDS.get(info.name if info else "", "text")
        values = [r[i] for r in rows]
        if kind == "timestamp":
            values = [v.replace(tzinfo=None) if v is not None and v.tzinfo else v for v in values]
        if kind == "text":
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        else:
            arrays.append(pa.array(values, types[kind]))
    return pa.table(arrays, names=names)


def relabel(exc: ContractError, origins: Mapping[str, Origin]) -> ContractError:
    """A load's error about a frame, naming the warehouse table or query instead of the frame's temporary file."""
    origin = origins.get(exc.table or "")
    if origin is None:
        return exc
    if exc.file and exc.file.endswith(f"{origin.table}.parquet"):
        exc.file = origin.label  # a check's error names the frame's file
    section = f"[sources.{origin.table}.columns]"
    theirs = f"[warehouse.columns.{origin.table}]"
    exc.message = exc.message.replace(section, theirs).replace("the file has columns", "it has columns")
    if exc.hint:
        exc.hint = exc.hint.replace(section, theirs).replace("rename it in the file", f"rename it in {origin.label}")
    exc.args = (exc._render(),)
    return exc


class WarehouseConnector:
    """``revbook connect warehouse``: the contract tables of a PostgreSQL warehouse, read-only."""

    name = "warehouse"

    def __init__(self, settings: WarehouseSettings) -> None:
        self.settings = settings

    def check(self) -> list[Seen]:
        """Each contract table: where it would be read from, whether the credentials can read it, its rows."""
        import psycopg

        seen: list[Seen] = []
        with connect(self.settings) as (conn, where):
            present = tables_in_schema(conn, self.settings.schema)
            planned = {o.table: o for o in origins(self.settings, present)}
            for t in LOADABLE_TABLES:
                origin = planned.get(t) or origin_of(self.settings, t)
                what = "query" if origin.query else f"{self.settings.schema}.{t}"
                if not origin.query and t not in present:
                    seen.append(Seen(what, t, False, f"no such table in schema {self.settings.schema}"))
                    continue
                try:
                    with conn.transaction():
                        count = conn.execute(f"SELECT count(*) FROM ({origin.sql}) AS _revbook_q".encode()).fetchone()
                    rows = int(count[0]) if count else 0
                    detail = f"{rows:,} rows" + ("" if t in planned else " (not read: not in [warehouse] tables)")
                    seen.append(Seen(what, t, True, detail))
                except psycopg.Error as exc:
                    seen.append(Seen(what, t, False, error_text(exc, where)))
        return seen

    def sync(self, store: Loads, *, full: bool = False, replace: bool = False) -> Synced:
        """Read every table (from one snapshot) and load them all, or none, through the store's checks."""
        started = time.perf_counter()
        frames, planned, _ = read_tables(self.settings)
        columns = {t: dict(self.settings.columns.get(t, {})) for t in frames}
        try:
            labels = {t: planned[t].label for t in frames}
            results = store.load_frames(frames, force=full, replace=replace, columns=columns, labels=labels)
        except ContractError as exc:
            raise relabel(exc, planned) from None
        warnings = tuple(
            f"{planned[w.table].label if w.table in planned else w.table}: {w.message}"
            + (f"; {w.hint}" if w.hint else "")
            for r in results
            for w in r.warnings
            if w.severity == "warning"
        )
        return Synced({r.table: r.rows for r in results}, time.perf_counter() - started, warnings)


def warehouse_connector(config: Config) -> WarehouseConnector:
    """The factory :data:`revbook.sources.connectors.CONNECTORS` names."""
    return WarehouseConnector(config.warehouse)
