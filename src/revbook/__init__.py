"""revbook: the revenue book of a Customer Success organisation.

Open a workspace, load your exports, and read every metric as Arrow, Polars or pandas::

    import revbook

    with revbook.open("revbook.duckdb", config="revbook.toml") as ws:
        ws.load()                                  # the [sources.*] of revbook.toml
        ws.movements(grain="quarter", by="segment").to_polars()
        ws.retention(window=12, by="owner").to_pandas()
"""

from __future__ import annotations

from .config import Config, SourceConfig, load_config
from .errors import ConfigError, ContractError, LedgerError, NotFoundError, RevbookError, SourceError, WorkspaceError
from .frame import Frame
from .workspace import LoadResult, Workspace
from .workspace import open_workspace as open

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "ContractError",
    "Frame",
    "LedgerError",
    "LoadResult",
    "NotFoundError",
    "RevbookError",
    "SourceConfig",
    "SourceError",
    "Workspace",
    "WorkspaceError",
    "load_config",
    "open",
]
