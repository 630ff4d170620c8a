"""The store: the workspace's DuckDB file, its canonical tables, atomic loads and derived stages."""

from __future__ import annotations

from .workspace import FINDINGS_TABLE, META_TABLE, LoadResult, Store

__all__ = ["FINDINGS_TABLE", "META_TABLE", "LoadResult", "Store"]
