"""Reports over a workspace: the one-file HTML report (``write_report``); chart specs shared with the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["write_report"]


def write_report(ws: Workspace, path: str | Path) -> Path:
    """Write the self-contained HTML report of ``ws`` to ``path`` (see :mod:`revbook.reports.html`)."""
    from .html import write_report as write

    return write(ws, path)
