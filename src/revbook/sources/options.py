"""How to read the files of one table, and the file types revbook reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
PARQUET_EXTENSIONS = (".parquet",)
EXCEL_EXTENSIONS = (".xlsx", ".xls", ".xlsm")
SUPPORTED_EXTENSIONS = CSV_EXTENSIONS + PARQUET_EXTENSIONS + EXCEL_EXTENSIONS


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
