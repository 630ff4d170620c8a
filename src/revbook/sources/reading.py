"""Staging one file as-is in DuckDB: CSV / TSV / TXT (with its encoding detected or declared and
converted to UTF-8), Parquet (a view) and Excel (through calamine, typed cells marked as typed)."""

from __future__ import annotations

import codecs
import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb

from ..contract import Table
from ..errors import SourceError
from ._sql import _ident, _lit
from .options import EXCEL_EXTENSIONS, PARQUET_EXTENSIONS, SUPPORTED_EXTENSIONS, SourceOptions
from .values import _TYPED


def _stage(
    con: duckdb.DuckDBPyConnection, table: Table, file: str | Path, stage: str, options: SourceOptions, scratch: Path
) -> str:
    """Load one file as-is into ``stage``; return the SQL of its 1-based row number."""
    path = Path(file)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise SourceError(
            f"unsupported file type '{suffix or path.name}'",
            file=str(file),
            table=table.name,
            hint=f"revbook reads {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if not path.is_file():
        raise SourceError(
            "file not found",
            file=str(file),
            table=table.name,
            hint=f"revbook reads {', '.join(SUPPORTED_EXTENSIONS)} files; check the path",
        )
    try:
        if suffix in EXCEL_EXTENSIONS:
            _stage_excel(con, path, stage, options)
            return "_rb_row"
        if suffix in PARQUET_EXTENSIONS:
            # a view, not a copy: Parquet numbers its rows itself
            con.execute(
                f"CREATE TEMP VIEW {_ident(stage)} AS SELECT * FROM read_parquet({_lit(str(path))}, "
                "file_row_number = true)"
            )
            return "file_row_number + 1"
        csv = _as_utf8(path, options.encoding, scratch, table)
        args, params = "all_varchar=true, header=true, comment=''", [str(csv)]
        delim = options.delimiter or ("\t" if suffix == ".tsv" else None)
        if delim:
            args, params = args + ", delim=?", [*params, delim]
        con.execute(f"CREATE TEMP TABLE {_ident(stage)} AS SELECT * FROM read_csv(?, {args})", params)
        return _row_sql(con, stage)
    except SourceError:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"cannot read the file: {detail}",
            file=str(file),
            table=table.name,
            hint=f"set delimiter / encoding in revbook.toml [sources.{table.name}] if they were guessed wrong",
        ) from exc


def _row_sql(con: duckdb.DuckDBPyConnection, stage: str) -> str:
    """Rowids follow file order but start high inside a transaction; number by them."""
    low, high, n = con.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {_ident(stage)}").fetchone()  # type: ignore[misc]
    return f"rowid - {low} + 1" if n and high - low + 1 == n else "row_number() OVER (ORDER BY rowid)"


def _as_utf8(path: Path, declared: str | None, scratch: Path, table: Table) -> Path:
    """The file itself if it is UTF-8 (with or without BOM), else a UTF-8 copy in ``scratch``."""
    try:
        encoding = codecs.lookup(declared).name if declared else _detect_encoding(path)
    except LookupError:
        raise SourceError(
            f"unknown encoding '{declared}'",
            file=str(path),
            table=table.name,
            hint="use a Python codec name such as utf-8, cp1252, latin-1 or utf-16",
        ) from None
    if encoding in ("utf-8", "ascii"):
        return path
    try:
        with open(path, encoding=encoding, newline="") as src, open(scratch, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except UnicodeError as exc:
        raise SourceError(
            f"the file is not valid {encoding}: {exc}",
            file=str(path),
            table=table.name,
            hint=f'set encoding = "..." in revbook.toml [sources.{table.name}]',
        ) from None
    return scratch


def _detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    western = from_bytes(head, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos):
        return "cp1252"
    return codecs.lookup(best.encoding).name if best is not None else "cp1252"


def _stage_excel(con: duckdb.DuckDBPyConnection, path: Path, stage: str, options: SourceOptions) -> None:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    if options.sheet is not None and options.sheet not in book.sheet_names:
        raise SourceError(
            f"no sheet named '{options.sheet}'",
            file=str(path),
            hint=f"the workbook has sheets: {', '.join(book.sheet_names)}",
        )
    sheet = book.get_sheet_by_name(options.sheet) if options.sheet else book.get_sheet_by_index(0)
    rows = sheet.to_python()
    header: list[str] = []
    for j, cell in enumerate(rows[0] if rows else []):
        name = (_cell(cell) or "").lstrip(_TYPED) or f"column{j + 1}"
        header.append(name if name not in header else f"{name}_{j + 1}")
    data = {name: [_cell(r[j]) if j < len(r) else None for r in rows[1:]] for j, name in enumerate(header)}
    data["_rb_row"] = list(range(1, len(rows)))  # type: ignore[arg-type]
    view = f"{stage}_arrow"
    con.register(view, pa.table(data))
    try:
        con.execute(f"CREATE TEMP TABLE {_ident(stage)} AS SELECT * FROM {_ident(view)}")
    finally:
        con.unregister(view)


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _TYPED + value.date().isoformat()
    if isinstance(value, dt.date):
        return _TYPED + value.isoformat()
    if isinstance(value, int):
        return _TYPED + str(value)
    if isinstance(value, float) and math.isfinite(value):
        return _TYPED + (str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f"))
    return str(value)
