"""Write revbook's tables back into a warehouse schema: all of them in one transaction, exact numerics.

Each table replaces the one of its name in the schema: when the existing table has the same columns
and types its rows are replaced (views and grants on it survive), else it is dropped and created
again. Everything runs in one transaction (PostgreSQL's DDL is transactional), so readers see the old
tables or the new ones, never a mixture, and a failure leaves every old table as it was. Money
(Arrow decimals) is written as ``numeric(p, s)`` with its exact value; each table gets a comment
saying what wrote it and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..config.warehouse import WarehouseSettings
from ..errors import SourceError
from .warehouse_conn import connect, error_text

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["pg_type", "write_tables"]


def pg_type(kind: pa.DataType) -> str:
    """The PostgreSQL column type an Arrow type is written as."""
    import pyarrow as pa

    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision}, {kind.scale})"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double precision"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    return "text"


def write_tables(
    settings: WarehouseSettings, tables: Mapping[str, Any], *, schema: str | None = None, note: str = ""
) -> dict[str, int]:
    """Write ``tables`` (name -> an Arrow table or anything with ``to_arrow()``, such as a Frame) into
    ``schema`` (default ``[warehouse] export_schema``), replacing tables of the same names, in one
    transaction; return the rows written per table. ``note`` goes into each table's comment."""
    import psycopg
    from psycopg import sql

    schema = schema or settings.export_schema
    if not tables:
        raise SourceError("no tables to write to the warehouse", hint="name at least one metric table")
    arrow = {name: t.to_arrow() if hasattr(t, "to_arrow") else t for name, t in tables.items()}
    written: dict[str, int] = {}
    with connect(settings, read_only=False) as (conn, where):
        current = ""
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                for name, table in arrow.items():
                    current = name
                    target = sql.Identifier(schema, name)
                    wanted = [(f.name, pg_type(f.type)) for f in table.schema]
                    if _columns_of(conn, schema, name) == wanted:
                        conn.execute(sql.SQL("TRUNCATE {}").format(target))
                    else:
                        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
                        columns = sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(kind)) for c, kind in wanted
                        )
                        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
                    names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in wanted)
                    with (
                        conn.cursor() as cur,
                        cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy,
                    ):
                        for row in table.to_pylist():
                            copy.write_row([row[c] for c, _ in wanted])
                    comment = f"revbook {name}{', ' + note if note else ''}; written {stamp}"
                    conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(comment)))
                    written[name] = table.num_rows
        except psycopg.Error as exc:
            raise SourceError(
                f"cannot write {schema}.{current} to the warehouse: {error_text(exc, where)}; nothing was written "
                "(the old tables are as they were)",
                table=current or None,
                hint=f"check that the warehouse user may create tables in schema {schema} (or create it: "
                f"CREATE SCHEMA {schema}); a view that depends on a table whose columns changed must be dropped first",
            ) from None
    return written


def _columns_of(conn: Any, schema: str, name: str) -> list[tuple[str, str]]:
    """The columns of ``schema.name`` as (name, type as pg_type spells it), in order; [] when there is no such table."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [schema, name],
    ).fetchall()
    spelled = {"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz"}
    return [(r[0], spelled.get(r[1], r[1]).replace(",", ", ")) for r in rows]
