"""SQL text helpers of the file reader: quoted literals and identifiers, ``IN`` lists, dropping
a staged relation."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import duckdb


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    for kind in ("VIEW", "TABLE"):
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP {kind} IF EXISTS {_ident(name)}")
