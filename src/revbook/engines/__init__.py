"""Where the metric definitions run: DuckDB (the reference) and Spark, behind one :class:`Engine`."""

from __future__ import annotations

from .duckdb import REFERENCE_DIALECT, DuckDBEngine, Engine, portable

__all__ = ["REFERENCE_DIALECT", "DuckDBEngine", "Engine", "portable"]
