"""Helpers shared by the tests (importable as `support`: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

AS_OF = dt.date(2024, 12, 31)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path
