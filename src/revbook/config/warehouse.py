"""[warehouse]: which tables revbook reads from a PostgreSQL (SQL) warehouse and where it writes results back.

::

    [warehouse]
    schema = "analytics"            # the schema holding the contract tables by their canonical names
    tables = ["accounts", "subscriptions"]  # the tables to read; default: every contract table the schema has
    export_schema = "revbook"       # where `revbook export --to warehouse` writes the metric tables
    connect_timeout = 10            # seconds to wait for the server

    [warehouse.queries]             # a query instead of a table, per table (its columns are read as a file's)
    subscriptions = "SELECT customer, plan, amount, started, ended FROM billing.subs"

    [warehouse.columns.subscriptions]   # canonical = "their column", as [sources.<table>.columns]
    account_id = "customer"

The connection never comes from this file: it comes from the environment only, as
``REVBOOK_WAREHOUSE_URL`` (a ``postgresql://`` URL) or libpq's ``PG*`` variables (PGHOST, PGUSER,
PGPASSWORD, ...), so that no secret is ever written into the workspace's settings. See docs/connectors.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..contract import LOADABLE_TABLES, TABLES
from ..errors import ConfigError
from .keys import as_table, check_keys, integer, names

__all__ = ["URL_VARIABLE", "WarehouseSettings"]

#: the environment variable holding the warehouse's URL
URL_VARIABLE = "REVBOOK_WAREHOUSE_URL"
_SECRETS = ("url", "dsn", "password", "user", "host", "port", "dbname", "database", "connection")


@dataclass(frozen=True)
class WarehouseSettings:
    """The [warehouse] section of revbook.toml, checked."""

    #: the schema holding the contract tables by their canonical names
    schema: str = "public"
    #: the tables to read (each must be there); empty: every contract table the schema (or a query) has
    tables: tuple[str, ...] = ()
    #: table -> the SQL query that reads it, in place of the schema's table
    queries: Mapping[str, str] = field(default_factory=dict)
    #: table -> {canonical column: their column}
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: the schema `revbook export --to warehouse` writes the metric tables into
    export_schema: str = "revbook"
    #: seconds to wait for the server before giving up
    connect_timeout: int = 10

    def __post_init__(self) -> None:
        _checked({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> WarehouseSettings:
        """The [warehouse] table of revbook.toml, checked."""
        for key in raw:
            if str(key).lower() in _SECRETS:
                raise ConfigError(
                    f"[warehouse] {key}: the connection is never read from revbook.toml",
                    hint=f"remove it and set {URL_VARIABLE} (a postgresql:// URL) or the PG* variables "
                    "(PGHOST, PGUSER, PGPASSWORD, ...) in the environment",
                )
        check_keys("warehouse", raw, [f.name for f in fields(cls)])
        return cls(**_checked(raw))


def _table_name(where: str, name: object) -> str:
    if name not in LOADABLE_TABLES:
        near = difflib.get_close_matches(str(name), LOADABLE_TABLES, n=1)
        raise ConfigError(
            f"{where} names '{name}', not a table revbook loads",
            hint=f"did you mean '{near[0]}'?" if near else f"use one of: {', '.join(LOADABLE_TABLES)}",
        )
    return str(name)


def _identifier(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[warehouse] {name} must be a schema name", value=value)
    return value


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("schema", "export_schema"):
        if name in values:
            out[name] = _identifier(name, values[name])
    if "tables" in values:
        out["tables"] = tuple(
            _table_name("[warehouse] tables", t) for t in names("warehouse", "tables", values["tables"])
        )
    if "queries" in values:
        queries = as_table("warehouse.queries", values["queries"])
        checked: dict[str, str] = {}
        for table, sql in queries.items():
            _table_name("[warehouse.queries]", table)
            if not isinstance(sql, str) or not sql.strip():
                raise ConfigError(f"[warehouse.queries] {table} must be a SQL query (text)", value=sql)
            checked[table] = sql.strip().rstrip(";").strip()
        out["queries"] = checked
    if "columns" in values:
        mapping = as_table("warehouse.columns", values["columns"])
        columns: dict[str, dict[str, str]] = {}
        for table, cols in mapping.items():
            _table_name("[warehouse.columns]", table)
            section = f"warehouse.columns.{table}"
            cols = as_table(section, cols)
            check_keys(section, cols, TABLES[table].names, what="column")
            for canonical, theirs in cols.items():
                if not isinstance(theirs, str) or not theirs:
                    raise ConfigError(f"[{section}] {canonical} must be the name of a column", value=theirs)
            columns[table] = dict(cols)
        out["columns"] = columns
    if "connect_timeout" in values:
        seconds = integer("warehouse", "connect_timeout", values["connect_timeout"])
        if not 1 <= seconds <= 600:
            raise ConfigError("[warehouse] connect_timeout must be 1 to 600 seconds", value=seconds)
        out["connect_timeout"] = seconds
    return out
