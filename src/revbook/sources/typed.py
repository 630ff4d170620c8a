"""The typed path: files whose numbers, dates and flags arrived typed (Parquet, typed frames) go
straight into the parsed shape with no text round trip."""

from __future__ import annotations

from ..contract import Column
from ._sql import _ident, _in, _lit
from .notices import _FLOATS, float_text
from .options import SourceOptions
from .values import _BLANKS, _TEXT_NULLS, _value_sql

_NUMERIC_TYPES: tuple[str, ...] = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
)
_NUMERIC_TYPES += ("UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _native(col: Column, source_type: str) -> bool:
    kind = source_type.split("(")[0]
    if col.type == "decimal":
        return kind in _NUMERIC_TYPES
    if col.type == "integer":
        return kind in _NUMERIC_TYPES and kind not in ("FLOAT", "DOUBLE", "DECIMAL")
    if col.type == "date":
        return kind == "DATE" or kind.startswith("TIMESTAMP")
    if col.type == "boolean":
        return kind == "BOOLEAN"
    return True  # text goes through the same trimming and null tokens either way


def _natively_typed(present: list[Column], types: dict[str, str], found: dict[str, str]) -> bool:
    """Every present non-text column of this file has a native type of its kind."""
    return all(c.type == "string" or c.name not in found or _native(c, types[found[c.name]]) for c in present)


def _project_typed(
    index: int, file: str, stage: str, row: str, types: dict[str, str], found: dict[str, str], present: list[Column]
) -> str:
    """One file's rows straight into the parsed shape: for each column its source value (``col``)
    and its canonical value (``"col:p"``); text is trimmed and checked as in the text path."""
    inner, outer = [], []
    for col in present:
        name = found.get(col.name)
        v = _ident(col.name)
        if name is None:
            inner.append(f"CAST(NULL AS VARCHAR) AS {v}")
            outer.append(f'{v}, CAST(NULL AS {col.sql_type}) AS "{col.name}:p"')
            continue
        src = _ident(name)
        if col.type == "string":
            raw = float_text(src) if types[name] in _FLOATS else f"CAST({src} AS VARCHAR)"
            text = f"trim({raw}, {_lit(_BLANKS)})"
            inner.append(f"CASE WHEN lower({text}) IN {_in(_TEXT_NULLS)} THEN NULL ELSE {text} END AS {v}")
            outer.append(f'{v}, {_value_sql(col, v, SourceOptions(), None)} AS "{col.name}:p"')
        else:
            value = f"CAST({src} AS DATE)" if col.type == "date" else src
            inner.append(f"{value} AS {v}")
            outer.append(f'{v}, TRY_CAST({v} AS {col.sql_type}) AS "{col.name}:p"')
    body = f"SELECT {index} AS _fi, {_lit(file)} AS _file, {row} AS _row, {', '.join(inner)} FROM {_ident(stage)}"
    nonempty = " OR ".join(f"{_ident(c.name)} IS NOT NULL" for c in present)
    return f"SELECT _fi, _file, _row, {', '.join(outer)} FROM ({body}) WHERE {nonempty}"
