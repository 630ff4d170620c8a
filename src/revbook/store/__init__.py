"""The store: the workspace's DuckDB file, its canonical tables, atomic loads and derived stages."""

from __future__ import annotations

from .workspace import META_TABLE, LoadResult, Store

__all__ = ["META_TABLE", "LoadResult", "Store"]
