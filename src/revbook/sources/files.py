"""Read CSV / TSV / TXT, Parquet and Excel files into a typed DuckDB table of one canonical table.

Every value is parsed in DuckDB SQL, so large files stay fast. The first value that breaks the
contract raises :class:`~revbook.errors.SourceError` naming its file, data row and column.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ..contract import Table
from ..errors import SourceError
from ._sql import _drop, _ident
from .options import SUPPORTED_EXTENSIONS, SourceOptions
from .parsing import _parse, _project, _resolve, _validate
from .reading import _stage
from .typed import _natively_typed, _project_typed

__all__ = ["SUPPORTED_EXTENSIONS", "SourceOptions", "read_table"]

_DEFAULTS = SourceOptions()


def read_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: Sequence[str | Path],
    options: SourceOptions = _DEFAULTS,
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
