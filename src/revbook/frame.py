"""A metric table, handed out as Arrow, Polars or pandas, or written to a file.

Exports are safe to open in a spreadsheet: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (OWASP's list of what a spreadsheet reads as a formula) is written to CSV
(and to the Excel workbook) with a leading apostrophe, so ``=1+1`` arrives as the text ``'=1+1``.
Numbers, dates and money stay typed and untouched (-2.50 is a number, not text); Parquet, JSON and
the Arrow/Polars/pandas frames hold the exact values, for programs rather than spreadsheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow as pa

__all__ = ["FORMULA_STARTS", "Frame", "spreadsheet_safe", "spreadsheet_safe_table"]

#: the first characters that make a spreadsheet read a text cell as a formula (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: what goes before such a text so that it stays text
SAFE_PREFIX = "'"


def spreadsheet_safe(value: str) -> str:
    """``value`` as a spreadsheet cell shows it as text: with a leading apostrophe when it begins with
    one of :data:`FORMULA_STARTS`, else unchanged."""
    return SAFE_PREFIX + value if value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe_table(table: pa.Table) -> pa.Table:
    """``table`` with :func:`spreadsheet_safe` applied to every text column (nulls stay null); the other
    columns, numbers and dates among them, are the same arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pattern = "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_STARTS) + "]"  # a character class
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_string_view(kind):
            column, kind = column.cast(pa.string()), pa.string()
        if _is_text(kind) and column.null_count < len(column):
            risky = pc.match_substring_regex(column, pattern)
            column = pc.if_else(risky, pc.binary_join_element_wise(SAFE_PREFIX, column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


class Frame:
    """One metric table. ``to_arrow()`` is exact (money as DECIMAL); the others convert from it."""

    def __init__(self, name: str, table: pa.Table) -> None:
        self.name = name
        self._table = table

    def __repr__(self) -> str:
        return f"<Frame {self.name}: {self._table.num_rows} rows x {self._table.num_columns} columns>"

    def __len__(self) -> int:
        rows: int = self._table.num_rows
        return rows

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)

    @property
    def columns(self) -> list[str]:
        return list(self._table.column_names)

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_polars(self) -> polars.DataFrame:
        import polars as pl

        return pl.from_arrow(self._table)  # type: ignore[return-value]

    def to_pandas(self) -> pandas.DataFrame:
        return self._table.to_pandas()

    def to_pylist(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._table.to_pylist()
        return rows

    def write(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write as CSV, Parquet or JSON (by ``format`` or the file's extension).

        CSV is for spreadsheets: its text cells go through :func:`spreadsheet_safe`; Parquet and JSON
        hold the exact values."""
        path = Path(path)
        fmt = format or path.suffix.lstrip(".").lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(self._table, path)
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            pcsv.write_csv(spreadsheet_safe_table(self._table), path)
        elif fmt == "json":
            import json

            path.write_text(json.dumps(self.to_pylist(), default=str, indent=1), encoding="utf-8")
        else:
            from .errors import ConfigError

            raise ConfigError(f"unknown output format '{fmt}'", hint="use csv, parquet or json")
        return path
