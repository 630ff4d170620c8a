"""Staging one file as-is in DuckDB: CSV / TSV / TXT (with its encoding detected or declared and
converted to UTF-8, its shape checked line by line when DuckDB cannot read it), Parquet (a view)
and Excel (through calamine, typed cells marked as typed)."""

from __future__ import annotations

import codecs
import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb

from ..contract import Finding, Table
from ..errors import SourceError
from ._sql import _ident, _lit
from .options import EXCEL_EXTENSIONS, PARQUET_EXTENSIONS, SUPPORTED_EXTENSIONS, SourceOptions
from .textfile import Shape, detect_encoding, diagnose, guess_delimiter, header, scan
from .values import _TYPED


def _stage(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    file: str | Path,
    stage: str,
    options: SourceOptions,
    scratch: Path,
    warnings: list[Finding],
) -> tuple[str, list[str] | None]:
    """Load one file as-is into ``stage``; return the SQL of its 1-based row number and its header
    as written (None for Parquet). Warnings (an encoding guessed, line endings mixed) go to ``warnings``."""
    path = Path(file)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise SourceError(
            "is a folder, not a file",
            file=str(file),
            table=table.name,
            hint=f"name the files inside it (paths = [...] in revbook.toml [sources.{table.name}], or one "
            f"{table.name}=FILE per file)",
        )
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
    if suffix in EXCEL_EXTENSIONS:
        try:
            return "_rb_row", _stage_excel(con, path, stage, options)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(
                f"cannot read the workbook: {_first_line(exc)}",
                file=str(file),
                table=table.name,
                hint="open it in Excel or LibreOffice and save it again as .xlsx",
            ) from None
    if suffix in PARQUET_EXTENSIONS:
        _stage_parquet(con, path, stage, table)
        return "file_row_number + 1", None
    return _stage_csv(con, table, path, stage, options, scratch, warnings)


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    path: Path,
    stage: str,
    options: SourceOptions,
    scratch: Path,
    warnings: list[Finding],
) -> tuple[str, list[str]]:
    shape = scan(path, table.name)
    csv, encoding = _as_utf8(path, options.encoding, scratch, table, shape, warnings)
    explicit = options.delimiter or ("\t" if path.suffix.lower() == ".tsv" else None)
    delim = explicit or guess_delimiter(csv, "utf-8")
    written = header(csv, "utf-8", delim)
    args, params = "all_varchar=true, header=true, comment=''", [str(csv)]
    if explicit:
        args, params = args + ", delim=?", [*params, explicit]
    try:
        con.execute(f"CREATE TEMP TABLE {_ident(stage)} AS SELECT * FROM read_csv(?, {args})", params)
    except Exception as exc:
        raise diagnose(csv, "utf-8", delim, table.name, str(path)) or SourceError(
            f"cannot read the file: {_first_line(exc)}",
            file=str(path),
            table=table.name,
            hint=f"set delimiter / encoding in revbook.toml [sources.{table.name}] if they were guessed wrong "
            f"(read as {encoding}, delimiter {delim!r})",
        ) from None
    columns = [r[0] for r in con.execute(f"DESCRIBE {_ident(stage)}").fetchall()]
    # DuckDB's sniffer takes another line for the header when rows disagree with it
    suspicious = len(columns) != len(written) or any(
        c.strip() != w and not c.startswith(w) for c, w in zip(columns, written, strict=False)
    )
    if not suspicious and shape.quotes:
        # a quote DuckDB did not take as one (an unbalanced quote makes it read without quoting)
        starts = " OR ".join(f"starts_with({_ident(c)}, '\"')" for c in columns)
        found = con.execute(f"SELECT count(*) FROM {_ident(stage)} WHERE {starts}").fetchone()
        suspicious = bool(found and found[0])
    if suspicious and (error := diagnose(csv, "utf-8", delim, table.name, str(path))):
        raise error
    return _row_sql(con, stage), written


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, stage: str, table: Table) -> None:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(max(path.stat().st_size - 4, 0))
        tail = fh.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        raise SourceError(
            "not a readable Parquet file: "
            + ("it is empty" if not head else "it does not begin and end with the Parquet marker (cut short?)"),
            file=str(path),
            table=table.name,
            hint="write the file again (a copy or download may have been cut short), or give its real extension",
        )
    try:
        # a view, not a copy: Parquet numbers its rows itself
        con.execute(
            f"CREATE TEMP VIEW {_ident(stage)} AS SELECT * FROM read_parquet({_lit(str(path))}, file_row_number = true)"
        )
        con.execute(f"SELECT count(*) FROM {_ident(stage)}").fetchone()
    except Exception as exc:
        raise SourceError(
            f"not a readable Parquet file: {_first_line(exc)}",
            file=str(path),
            table=table.name,
            hint="write the file again (a copy or download may have been cut short)",
        ) from None


def _row_sql(con: duckdb.DuckDBPyConnection, stage: str) -> str:
    """Rowids follow file order but start high inside a transaction; number by them."""
    low, high, n = con.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {_ident(stage)}").fetchone()  # type: ignore[misc]
    return f"rowid - {low} + 1" if n and high - low + 1 == n else "row_number() OVER (ORDER BY rowid)"


def _as_utf8(
    path: Path, declared: str | None, scratch: Path, table: Table, shape: Shape, warnings: list[Finding]
) -> tuple[Path, str]:
    """The file itself if it is UTF-8 (with or without BOM) with one kind of line ending, else a
    UTF-8 copy in ``scratch`` with LF line endings; and the encoding it was read with."""
    try:
        encoding = codecs.lookup(declared).name if declared else detect_encoding(path)
    except LookupError:
        raise SourceError(
            f"unknown encoding '{declared}'",
            file=str(path),
            table=table.name,
            hint="use a Python codec name such as utf-8, cp1252, latin-1 or utf-16",
        ) from None
    where = f"revbook.toml [sources.{table.name}]"
    if not declared and encoding not in ("utf-8", "ascii", "utf-16"):
        warnings.append(
            Finding(
                "warning",
                "encoding_guessed",
                table.name,
                f"the file is not UTF-8; read as {encoding}, the likeliest encoding",
                f'check names with accents; set encoding = "{encoding}" (or the right one) in {where}',
                file=str(path),
                value=encoding,
            )
        )
    mixed = shape.mixed_line_endings
    if mixed:
        warnings.append(
            Finding(
                "warning",
                "mixed_line_endings",
                table.name,
                f"the file mixes CRLF ({shape.crlf:,}) and LF ({shape.lf - shape.crlf:,}) line endings; "
                "read with each CRLF as LF",
                "save the file again with one kind of line ending",
                rows=shape.lf - shape.crlf,
                file=str(path),
            )
        )
    elif encoding in ("utf-8", "ascii"):
        return path, encoding
    try:
        with open(path, encoding=encoding, newline="") as src, open(scratch, "w", encoding="utf-8", newline="") as dst:
            carry = ""
            while chunk := src.read(1 << 20):
                text = carry + chunk
                carry = "\r" if mixed and text.endswith("\r") else ""
                text = text[:-1] if carry else text
                dst.write(text.replace("\r\n", "\n") if mixed else text)
            dst.write(carry)
    except UnicodeError as exc:
        raise SourceError(
            f"the file is not valid {encoding}: {exc}",
            file=str(path),
            table=table.name,
            hint=f'set encoding = "..." in {where}',
        ) from None
    return scratch, encoding


def _stage_excel(con: duckdb.DuckDBPyConnection, path: Path, stage: str, options: SourceOptions) -> list[str]:
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
    if not rows or not any(_cell(c) for c in rows[0]):
        raise SourceError(
            "the sheet is empty or its first row is blank",
            file=str(path),
            hint='put the column names in the first row of the sheet (or choose the sheet with sheet = "...")',
        )
    written = [(_cell(cell) or "").lstrip(_TYPED).strip() for cell in rows[0]]
    header: list[str] = []
    for j, cell in enumerate(rows[0]):
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
    return written


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
