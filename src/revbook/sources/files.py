"""Read CSV / TSV / TXT, Parquet and Excel files into a typed DuckDB table of one canonical table.

Every value is parsed in DuckDB SQL, so large files stay fast. The first value that breaks the
contract raises :class:`~revbook.errors.SourceError` naming its file, data row and column.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ..contract import Finding, Table
from ..errors import SourceError
from ._sql import _drop, _ident
from .notices import file_notices, parsed_notices
from .options import SUPPORTED_EXTENSIONS, SourceOptions
from .parsing import _parse, _project, _resolve, _validate
from .presets import rewrite
from .reading import _stage
from .textfile import lines_of
from .typed import _natively_typed, _project_typed

__all__ = ["SUPPORTED_EXTENSIONS", "SourceOptions", "lines_of", "locate", "read_table", "with_line"]

_DEFAULTS = SourceOptions()


def read_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: Sequence[str | Path],
    options: SourceOptions = _DEFAULTS,
    *,
    target: str,
    warnings: list[Finding] | None = None,
) -> int:
    """Read ``files`` into the TEMP table ``target``: the canonical columns found, typed, plus
    ``_file`` and ``_row`` (1-based data row in its file, header not counted). Returns the row count.

    What the read changed or left unread without failing (padding trimmed, an encoding guessed,
    amounts rounded, ...) is appended to ``warnings`` as :class:`~revbook.contract.Finding`; an
    error names the line of the file as well as its data row."""
    notes: list[Finding] = []
    try:
        n = _read(con, table, files, options, target, notes)
    except SourceError as exc:
        raise with_line(exc, options) from None
    if warnings is not None:
        warnings.extend(locate(notes, options))
    return n


def with_line(exc: SourceError, options: SourceOptions = _DEFAULTS) -> SourceError:
    """``exc`` with the line of the file its data row starts on, when the file has lines."""
    if exc.file and exc.row is not None and exc.line is None:
        line = lines_of(exc.file, {exc.row}, encoding=options.encoding, delimiter=options.delimiter).get(exc.row)
        if line is not None:
            exc.line = line
            exc.args = (exc._render(),)
    return exc


def locate(findings: list[Finding], options: SourceOptions = _DEFAULTS) -> list[Finding]:
    """The findings with the line of each example's data row (one pass over each file)."""
    wanted: dict[str, set[int]] = {}
    for f in findings:
        if f.file and f.row is not None and f.line is None:
            wanted.setdefault(f.file, set()).add(f.row)
    lines = {
        file: lines_of(file, rows, encoding=options.encoding, delimiter=options.delimiter)
        for file, rows in wanted.items()
    }
    return [
        dataclasses.replace(f, line=lines[f.file].get(f.row)) if f.file in lines and f.row is not None else f
        for f in findings
    ]


def _named(exc: SourceError, read: str | Path, original: str | Path) -> SourceError:
    """``exc`` naming the user's file rather than a preset's rewrite of it."""
    if exc.file == str(read) and read != original:
        exc.file = str(original)
        exc.args = (exc._render(),)
    return exc


def _read(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: Sequence[str | Path],
    options: SourceOptions,
    target: str,
    warnings: list[Finding],
) -> int:
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
                read = f
                if options.preset:  # another tool's export, rewritten row for row into canonical columns
                    read = rewrite(con, table, f, options.preset, Path(tmp) / f"{i}.preset.csv", warnings)
                try:
                    row_expr, written = _stage(con, table, read, stage, options, Path(tmp) / f"{i}.csv", warnings)
                except SourceError as exc:
                    raise _named(exc, read, f) from None
                described = con.execute(f"DESCRIBE {_ident(stage)}").fetchall()
                types = {r[0]: str(r[1]) for r in described if r[0] not in ("_rb_row", "file_row_number")}
                found.append(_resolve(table, list(types), options, str(f), written))
                parts.append((stage, row_expr, types))
        present = [c for c in table.columns if any(c.name in m for m in found)]
        for i, (f, (stage, row, types)) in enumerate(zip(files, parts, strict=True)):
            warnings.extend(file_notices(con, table, str(f), stage, row, types, found[i], present))
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
            warnings.extend(parsed_notices(con, table, present, options, parsed, typed=True))
        else:
            selects = [
                _project(i, str(f), stage, row, types, found[i], present)
                for i, (f, (stage, row, types)) in enumerate(zip(files, parts, strict=True))
            ]
            raw = f"{tag}_raw"
            temps.append(raw)
            con.execute(f"CREATE TEMP TABLE {raw} AS {' UNION ALL '.join(selects)}")
            _parse(con, table, present, options, raw, parsed, found)
            warnings.extend(parsed_notices(con, table, present, options, parsed, typed=False))
        cols = ", ".join(f'CAST("{c.name}:p" AS {c.sql_type}) AS {_ident(c.name)}' for c in present)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ident(target)} AS SELECT {cols}, _file, CAST(_row AS BIGINT) AS _row "
            f"FROM {parsed}"
        )
        return int(con.execute(f"SELECT count(*) FROM {_ident(target)}").fetchone()[0])  # type: ignore[index]
    finally:
        for name in reversed(temps):
            _drop(con, name)
