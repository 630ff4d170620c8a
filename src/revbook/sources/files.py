"""Read CSV / TSV / TXT, Parquet and Excel files into a typed DuckDB table of one canonical table.

Every value is parsed in DuckDB SQL, so large files stay fast. The first value that breaks the
contract raises :class:`~revbook.errors.SourceError` naming its file, data row and column.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import math
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from ..contract import CURRENCY_MINOR_UNITS, Column, Table
from ..errors import SourceError

__all__ = ["SUPPORTED_EXTENSIONS", "SourceOptions", "read_table"]

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
PARQUET_EXTENSIONS = (".parquet",)
EXCEL_EXTENSIONS = (".xlsx", ".xls", ".xlsm")
SUPPORTED_EXTENSIONS = CSV_EXTENSIONS + PARQUET_EXTENSIONS + EXCEL_EXTENSIONS

_NULLS = ("", "null", "na", "n/a", "none")
#: in text columns "NA" is a value (North America, Namibia): only an empty cell or NULL is missing
_TEXT_NULLS = ("", "null")
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
#: prefix of a value that arrived typed (an Excel number or date, a Parquet number or date):
#: its text is canonical and must not go through the text heuristics
_TYPED = "\x1f"
_MARK = "chr(31)"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)?"
_SLASH = r"^(\d{1,2})/(\d{1,2})/\d{4}" + _TIME + "$"
_BLANKS = " \t\r\n\u00a0\ufeff"
_SYMBOLS = r"\s\x{00A0}\x{202F}'$€£¥₹₩₽₺₪₫₱₦₴"
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


@dataclass(frozen=True)
class SourceOptions:
    """How to read the files of one table (``revbook.toml [sources.<table>]``)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    default_currency: str = "USD"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: Sequence[str | Path],
    options: SourceOptions = SourceOptions(),
    *,
    target: str,
) -> int:
    """Read ``files`` into the TEMP table ``target``: the canonical columns found, typed, plus
    ``_file`` and ``_row`` (1-based data row in its file, header not counted). Returns the row count."""
    if isinstance(files, str | Path):
        files = [files]
    if not files:
        raise SourceError("no files to read", table=table.name)
    unknown = sorted(set(options.columns) - set(table.names))
    if unknown:
        raise SourceError(
            f"the column mapping names {', '.join(map(repr, unknown))}, not columns of '{table.name}'",
            table=table.name,
            hint=f"the canonical columns are: {', '.join(table.names)}",
        )
    tag = f"_rb_{uuid.uuid4().hex[:12]}"
    temps: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="revbook-") as tmp:
            parts, found = [], []
            for i, f in enumerate(files):
                stage = f"{tag}_s{i}"
                temps.append(stage)
                row_expr = _stage(con, table, f, stage, options, Path(tmp) / f"{i}.csv")
                described = con.execute(f"DESCRIBE {_ident(stage)}").fetchall()
                types = {r[0]: str(r[1]) for r in described if r[0] not in ("_rb_row", "file_row_number")}
                found.append(_resolve(table, list(types), options, str(f)))
                parts.append((stage, row_expr, types))
        present = [c for c in table.columns if any(c.name in m for m in found)]
        parsed = f"{tag}_parsed"
        temps.append(parsed)
        if all(_natively_typed(present, types, found[i]) for i, (_, _, types) in enumerate(parts)):
            # every number, date and flag arrived typed (Parquet, typed frames): no text round trip
            selects = [
                _project_typed(i, str(f), stage, row, types, found[i], present)
                for i, (f, (stage, row, types)) in enumerate(zip(files, parts, strict=True))
            ]
            con.execute(f"CREATE TEMP TABLE {parsed} AS {' UNION ALL '.join(selects)}")
            _validate(con, table, present, options, parsed, found, {})
        else:
            selects = [
                _project(i, str(f), stage, row, types, found[i], present)
                for i, (f, (stage, row, types)) in enumerate(zip(files, parts, strict=True))
            ]
            raw = f"{tag}_raw"
            temps.append(raw)
            con.execute(f"CREATE TEMP TABLE {raw} AS {' UNION ALL '.join(selects)}")
            _parse(con, table, present, options, raw, parsed, found)
        cols = ", ".join(f'CAST("{c.name}:p" AS {c.sql_type}) AS {_ident(c.name)}' for c in present)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ident(target)} AS SELECT {cols}, _file, CAST(_row AS BIGINT) AS _row "
            f"FROM {parsed}"
        )
        return int(con.execute(f"SELECT count(*) FROM {_ident(target)}").fetchone()[0])  # type: ignore[index]
    finally:
        for name in reversed(temps):
            _drop(con, name)


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


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    for kind in ("VIEW", "TABLE"):
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP {kind} IF EXISTS {_ident(name)}")


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


def _resolve(table: Table, header: list[str], options: SourceOptions, file: str) -> dict[str, str]:
    """Canonical column -> the file's column."""
    folded: dict[str, str] = {}
    for h in header:
        folded.setdefault(h.strip().casefold(), h)
    has = ", ".join(repr(h) for h in header) or "none"
    found: dict[str, str] = {}
    for col in table.columns:
        want = options.columns.get(col.name, col.name)
        hit = want if want in header else folded.get(want.strip().casefold())
        if hit is not None:
            found[col.name] = hit
        elif col.name in options.columns or col.required:
            what = f"column '{want}' (mapped to {col.name})" if want != col.name else f"required column '{col.name}'"
            raise SourceError(
                f"missing {what}; the file has columns: {has}",
                file=file,
                table=table.name,
                column=col.name,
                hint=f'map it in revbook.toml [sources.{table.name}.columns] as {col.name} = "<their column>"',
            )
    if table.one_of and not any(all(c in found for c in group) for group in table.one_of):
        groups = " or ".join("(" + ", ".join(g) + ")" for g in table.one_of)
        raise SourceError(
            f"needs the columns {groups}; the file has columns: {has}",
            file=file,
            table=table.name,
            hint=f'map them in revbook.toml [sources.{table.name}.columns] as <canonical> = "<their column>"',
        )
    return found


def _project(
    index: int, file: str, stage: str, row: str, types: dict[str, str], found: dict[str, str], present: list[Column]
) -> str:
    """One file's rows as trimmed text with NULL tokens removed; typed values marked with ``_TYPED``."""
    cols = []
    for col in present:
        name = found.get(col.name)
        if name is None:
            cols.append(f"CAST(NULL AS VARCHAR) AS {_ident(col.name)}")
            continue
        src, kind = _ident(name), types[name].split("(")[0]
        if col.type == "decimal" and kind in _NUMERIC_TYPES:
            text = f"{_MARK} || CAST({src} AS VARCHAR)"
        elif col.type == "date" and (kind == "DATE" or kind.startswith("TIMESTAMP")):
            text = f"{_MARK} || CAST(CAST({src} AS DATE) AS VARCHAR)"
        elif col.type in ("decimal", "date"):
            text = f"CAST({src} AS VARCHAR)"
        else:
            text = f"ltrim(CAST({src} AS VARCHAR), {_MARK})"
        cols.append(f"trim({text}, {_lit(_BLANKS)}) AS {_ident(col.name)}")
    nulls = [
        f"CASE WHEN lower({_ident(c.name)}) IN {_in(_TEXT_NULLS if c.type == 'string' else _NULLS)} THEN NULL"
        f" ELSE {_ident(c.name)} END AS {_ident(c.name)}"
        for c in present
    ]
    inner = f"SELECT {index} AS _fi, {_lit(file)} AS _file, {row} AS _row, {', '.join(cols)} FROM {_ident(stage)}"
    return f"SELECT _fi, _file, _row, {', '.join(nulls)} FROM ({inner})"


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
            text = f"trim(CAST({src} AS VARCHAR), {_lit(_BLANKS)})"
            inner.append(f"CASE WHEN lower({text}) IN {_in(_TEXT_NULLS)} THEN NULL ELSE {text} END AS {v}")
            outer.append(f'{v}, {_value_sql(col, v, SourceOptions(), None)} AS "{col.name}:p"')
        else:
            value = f"CAST({src} AS DATE)" if col.type == "date" else src
            inner.append(f"{value} AS {v}")
            outer.append(f'{v}, TRY_CAST({v} AS {col.sql_type}) AS "{col.name}:p"')
    body = f"SELECT {index} AS _fi, {_lit(file)} AS _file, {row} AS _row, {', '.join(inner)} FROM {_ident(stage)}"
    nonempty = " OR ".join(f"{_ident(c.name)} IS NOT NULL" for c in present)
    return f"SELECT _fi, _file, _row, {', '.join(outer)} FROM ({body}) WHERE {nonempty}"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _parse(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    raw: str,
    parsed: str,
    found: list[dict[str, str]],
) -> None:
    """Create ``parsed`` with a ``"<col>:p"`` typed value per column; raise on the first bad value."""
    slash = _slash_orders(con, table, present, options, raw, found)
    prep, exprs = [], []
    for col in present:
        v = _ident(col.name)
        if col.type == "decimal":
            plain = f"TRY_CAST({v} AS {col.sql_type}) IS NULL" if options.decimal != "," else "true"
            prep.append(f'CASE WHEN {plain} THEN {_amount_prep(v, col)} END AS "{col.name}:s"')
            prep.append(f"{v} LIKE '(%)' AS \"{col.name}:paren\"")
        exprs.append(f'{_value_sql(col, v, options, slash.get(col.name))} AS "{col.name}:p"')
    nonempty = " OR ".join(f"{_ident(c.name)} IS NOT NULL" for c in present)
    prep_sql = ", " + ", ".join(prep) if prep else ""
    con.execute(
        f"CREATE TEMP TABLE {parsed} AS SELECT *, {', '.join(exprs)} "
        f"FROM (SELECT *{prep_sql} FROM {raw} WHERE {nonempty})"
    )
    _validate(con, table, present, options, parsed, found, slash)


def _validate(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    parsed: str,
    found: list[dict[str, str]],
    slash: dict[str, str],
) -> None:
    """Raise on the first empty required value, unreadable value, negative amount or end before start."""

    def first(where: str, column: str) -> tuple[str, int, int, str | None] | None:
        value = f"ltrim(CAST({_ident(column)} AS VARCHAR), {_MARK})"
        sql = f"SELECT _file, _fi, _row, {value} FROM {parsed} WHERE {where} ORDER BY _fi, _row LIMIT 1"
        hit = con.execute(sql).fetchone()
        return None if hit is None else (hit[0], int(hit[1]), int(hit[2]), hit[3])

    def fail(hit: tuple[str, int, int, str | None], col: str, message: str, hint: str | None) -> SourceError:
        file, fi, row, value = hit
        their = found[fi].get(col, col)
        message += "" if their == col else f" (file column '{their}')"
        return SourceError(message, file=file, row=row, column=col, value=value, table=table.name, hint=hint)

    where = f"[sources.{table.name}]"
    for col in present:
        v, p = _ident(col.name), f'"{col.name}:p"'
        if col.required and (hit := first(f"{v} IS NULL", col.name)):
            raise fail(hit, col.name, f"required column '{col.name}' is empty", "fill it in or remove the row")
        if hit := first(f"{v} IS NOT NULL AND {p} IS NULL", col.name):
            raise fail(hit, col.name, *_bad_value(col, str(hit[3]), options, slash.get(col.name), where))
        if col.non_negative and (hit := first(f"{p} < 0", col.name)):
            raise fail(hit, col.name, f"'{hit[3]}' is negative; {col.name} must be >= 0", "fix the value in the file")
    names = {c.name for c in present}
    for start, end in table.ordered:
        if start in names and end in names:
            hit = first(f'"{end}:p" < "{start}:p"', end)
            if hit:
                row = con.execute(
                    f'SELECT "{end}:p", "{start}:p" FROM {parsed} WHERE _fi = ? AND _row = ?', [hit[1], hit[2]]
                ).fetchone()
                assert row is not None
                raise fail(
                    hit,
                    end,
                    f"{end} {row[0]} is before {start} {row[1]}",
                    f"fix the row, or leave {end} empty if it is ongoing",
                )


def _slash_orders(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    raw: str,
    found: list[dict[str, str]],
) -> dict[str, str]:
    """Per date column: '%m/%d/%Y' or '%d/%m/%Y' for a/b/YYYY values, decided by the values."""
    if options.date_format:
        return {}
    hint = f'set date_format = "%m/%d/%Y" or "%d/%m/%Y" in revbook.toml [sources.{table.name}]'
    evidence: dict[str, tuple[bool, bool, bool]] = {}
    for col in (c for c in present if c.type == "date"):
        a, b = (f"CAST(regexp_extract({_ident(col.name)}, {_lit(_SLASH)}, {g}) AS INTEGER)" for g in (1, 2))
        sql = (
            f"SELECT bool_or(a > 12), bool_or(b > 12), bool_or(a <> b), min(_row) FILTER (a > 12), "
            f"min(_row) FILTER (b > 12) FROM (SELECT _row, {a} AS a, {b} AS b FROM {raw} "
            f"WHERE regexp_matches({_ident(col.name)}, {_lit(_SLASH)}))"
        )
        eu, us, differ, eu_row, us_row = con.execute(sql).fetchone()  # type: ignore[misc]
        if eu and us:
            raise SourceError(
                f"the dates mix day-first (row {eu_row}) and month-first (row {us_row}) forms",
                table=table.name,
                column=col.name,
                hint=hint,
            )
        evidence[col.name] = (bool(eu), bool(us), bool(differ))
    decided = {v[0] for v in evidence.values() if v[0] or v[1]}
    orders = {}
    for name, (eu, us, differ) in evidence.items():
        if eu or us:
            orders[name] = "%d/%m/%Y" if eu else "%m/%d/%Y"
        elif differ and len(decided) != 1:
            file, row, value = con.execute(
                f"SELECT _file, _row, {_ident(name)} FROM {raw} WHERE regexp_matches({_ident(name)}, {_lit(_SLASH)}) "
                f"AND split_part({_ident(name)}, '/', 1) <> split_part({_ident(name)}, '/', 2) "
                f"ORDER BY _fi, _row LIMIT 1"
            ).fetchone()  # type: ignore[misc]
            raise SourceError(
                f"the dates are ambiguous: '{value}' could be month/day or day/month, and no value is past the 12th",
                file=file,
                row=row,
                value=value,
                table=table.name,
                column=name,
                hint=hint,
            )
        else:
            orders[name] = "%d/%m/%Y" if decided == {True} else "%m/%d/%Y"
    return orders


def _value_sql(col: Column, v: str, options: SourceOptions, slash: str | None) -> str:
    if col.type == "date":
        return _date_sql(v, options.date_format, slash or "%m/%d/%Y")
    if col.type == "decimal":
        return _amount_sql(col, options.decimal)
    if col.type == "integer":
        whole = f"TRY_CAST(split_part({v}, '.', 1) AS BIGINT)"
        return f"CASE WHEN regexp_matches({v}, '^[+-]?[0-9]+(\\.0*)?$') THEN {whole} END"
    if col.type == "boolean":
        return f"CASE WHEN lower({v}) IN {_in(_TRUE)} THEN true WHEN lower({v}) IN {_in(_FALSE)} THEN false END"
    if col.name == "currency":
        return f"CASE WHEN upper({v}) IN {_in(sorted(CURRENCY_MINOR_UNITS))} THEN upper({v}) END"
    if col.choices:
        return f"CASE WHEN lower({v}) IN {_in(col.choices)} THEN lower({v}) END"
    return v


def _date_sql(v: str, date_format: str | None, slash: str) -> str:
    typed = f"WHEN starts_with({v}, {_MARK}) THEN TRY_CAST(substr({v}, 2) AS DATE)"
    if date_format:
        return f"CASE {typed} ELSE TRY_CAST(try_strptime({v}, {_lit(date_format)}) AS DATE) END"
    shapes = [
        (r"\d{4}-\d{1,2}-\d{1,2}", _TIME, "'%Y-%m-%d'"),
        (r"\d{4}/\d{1,2}/\d{1,2}", _TIME, "'%Y/%m/%d'"),
        (r"\d{1,2}\.\d{1,2}\.\d{4}", _TIME, "'%d.%m.%Y'"),
        (r"\d{1,2}/\d{1,2}/\d{4}", _TIME, _lit(slash)),
        (r"\d{1,2}[- ][A-Za-z]{3,9}[- ]\d{4}", "", "['%d-%b-%Y', '%d-%B-%Y', '%d %b %Y', '%d %B %Y']"),
        (r"[A-Za-z]{3,9}\.? \d{1,2},? \d{4}", "", "['%b %d, %Y', '%B %d, %Y', '%b. %d, %Y', '%b %d %Y', '%B %d %Y']"),
    ]
    whens = [
        f"WHEN regexp_matches({v}, {_lit('^' + d + t + '$')}) "
        f"THEN TRY_CAST(try_strptime(regexp_extract({v}, {_lit('^(' + d + ')')}, 1), {fmt}) AS DATE)"
        for d, t, fmt in shapes
    ]
    iso = f"WHEN length({v}) = 10 AND substr({v}, 5, 1) = '-' THEN TRY_CAST({v} AS DATE)"
    return f"CASE {typed} {iso} {' '.join(whens)} END"


def _amount_prep(v: str, col: Column) -> str:
    """The value without parentheses, currency symbols or codes, spaces (and % for percent columns)."""
    symbols = _SYMBOLS + ("%" if "percent" in col.name else "")
    text = f"regexp_replace(regexp_replace({v}, '^\\((.*)\\)$', '\\1'), {_lit('[' + symbols + ']')}, '', 'g')"
    return f"regexp_replace(regexp_replace({text}, '^([+-]?)[A-Za-z]{{3}}', '\\1'), '[A-Za-z]{{3}}$', '')"


def _amount_sql(col: Column, decimal: str | None) -> str:
    s, paren, v = f'"{col.name}:s"', f'"{col.name}:paren"', _ident(col.name)
    body = f"regexp_replace({s}, '^[+-]', '')"
    if decimal == ",":
        plain = f"replace(replace({body}, '.', ''), ',', '.')"
    elif decimal == ".":
        plain = f"replace({body}, ',', '')"
    else:
        comma_thousands = r"^[1-9][0-9]{0,2}(,[0-9]{3})+$|^[1-9][0-9]?(,[0-9]{2})+,[0-9]{3}$"
        plain = (
            f"CASE WHEN contains({body}, ',') AND contains({body}, '.') THEN "
            f"CASE WHEN regexp_matches({body}, ',[0-9]*$') THEN replace(replace({body}, '.', ''), ',', '.') "
            f"ELSE replace({body}, ',', '') END "
            f"WHEN contains({body}, ',') THEN CASE WHEN regexp_matches({body}, {_lit(comma_thousands)}) "
            f"THEN replace({body}, ',', '') ELSE replace({body}, ',', '.') END "
            f"WHEN regexp_matches({body}, '^[1-9][0-9]{{0,2}}(\\.[0-9]{{3}}){{2,}}$') THEN replace({body}, '.', '') "
            f"ELSE {body} END"
        )
    negative = f"({paren} OR starts_with({s}, '-'))"
    valid = (
        f"regexp_matches({plain}, '^([0-9]+\\.?[0-9]*|\\.[0-9]+)$') AND NOT ({paren} AND regexp_matches({s}, '^[+-]'))"
    )
    text = f"CASE WHEN {negative} THEN '-' ELSE '' END || {plain}"
    return (
        f"CASE WHEN starts_with({v}, {_MARK}) THEN TRY_CAST(substr({v}, 2) AS {col.sql_type}) "
        f"WHEN {s} IS NULL THEN TRY_CAST({v} AS {col.sql_type}) "
        f"WHEN {valid} THEN TRY_CAST({text} AS {col.sql_type}) END"
    )


def _bad_value(col: Column, value: str, options: SourceOptions, slash: str | None, where: str) -> tuple[str, str]:
    if col.type == "date":
        expected = options.date_format or (
            f"YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY, {'DD/MM/YYYY' if slash == '%d/%m/%Y' else 'MM/DD/YYYY'}, "
            "31-Jan-2024 or Jan 31, 2024"
        )
        return (
            f"'{value}' is not a valid date; expected {expected}",
            f'fix the value, or set date_format = "..." in revbook.toml {where}',
        )
    if col.type == "decimal":
        sep = f" with decimal '{options.decimal}'" if options.decimal else ""
        return (
            f"'{value}' is not a valid number{sep}",
            f"write amounts like 1234.56 or set decimal in revbook.toml {where}",
        )
    if col.type == "integer":
        return f"'{value}' is not a whole number", "fix the value in the file"
    if col.type == "boolean":
        return f"'{value}' is not a yes/no value", f"use one of: {', '.join(_TRUE + _FALSE)}"
    if col.name == "currency":
        return f"unknown currency '{value}'", "use an ISO 4217 code such as USD, EUR or GBP"
    return f"'{value}' is not one of: {', '.join(col.choices or ())}", "use one of the allowed values"
