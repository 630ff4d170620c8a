"""How to read the files of one table, and the file types revbook reads."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..config import ReadOptions

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
PARQUET_EXTENSIONS = (".parquet",)
EXCEL_EXTENSIONS = (".xlsx", ".xls", ".xlsm")
SUPPORTED_EXTENSIONS = CSV_EXTENSIONS + PARQUET_EXTENSIONS + EXCEL_EXTENSIONS


@dataclass(frozen=True)
class SourceOptions(ReadOptions):
    """How to read the files of one table (``revbook.toml [sources.<table>]``), and the currency of
    amounts whose rows name none."""

    default_currency: str = "USD"

    @classmethod
    def of(cls, source: ReadOptions, *, default_currency: str) -> SourceOptions:
        """The reading options of ``source`` (a ``SourceConfig``) with ``default_currency``."""
        values = {f.name: getattr(source, f.name) for f in fields(ReadOptions)}
        return cls(**{**values, "columns": dict(source.columns)}, default_currency=default_currency)
