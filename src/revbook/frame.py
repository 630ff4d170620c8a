"""A metric table, handed out as Arrow, Polars or pandas, or written to a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow as pa

__all__ = ["Frame"]


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
        """Write as CSV, Parquet or JSON (by ``format`` or the file's extension)."""
        path = Path(path)
        fmt = format or path.suffix.lstrip(".").lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(self._table, path)
        elif fmt == "csv":
            import pyarrow.csv as pcsv

            pcsv.write_csv(self._table, path)
        elif fmt == "json":
            import json

            path.write_text(json.dumps(self.to_pylist(), default=str, indent=1), encoding="utf-8")
        else:
            from .errors import ConfigError

            raise ConfigError(f"unknown output format '{fmt}'", hint="use csv, parquet or json")
        return path
