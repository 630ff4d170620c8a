"""The public API is small and pinned: a change to it is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import revbook

EXPECTED = [
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


def test_all_is_pinned_and_sorted():
    assert revbook.__all__ == EXPECTED
    assert sorted(revbook.__all__) == revbook.__all__
    for name in EXPECTED:
        assert getattr(revbook, name) is not None


def test_errors_inherit_the_builtin_they_resemble():
    assert issubclass(revbook.ContractError, ValueError)
    assert issubclass(revbook.SourceError, revbook.ContractError)
    assert issubclass(revbook.ConfigError, ValueError)
    assert issubclass(revbook.WorkspaceError, RuntimeError)
    assert issubclass(revbook.NotFoundError, LookupError)
    errors = (
        revbook.ConfigError,
        revbook.ContractError,
        revbook.LedgerError,
        revbook.NotFoundError,
        revbook.WorkspaceError,
    )
    for cls in errors:
        assert issubclass(cls, revbook.RevbookError)


def test_error_message_names_file_row_column_and_fix():
    err = revbook.SourceError("not a date", file="subs.csv", row=12, column="start_date", hint="use YYYY-MM-DD")
    assert str(err) == "subs.csv, row 12, column 'start_date': not a date; use YYYY-MM-DD"
    assert (err.file, err.row, err.column) == ("subs.csv", 12, "start_date")


def test_import_stays_light():
    """Heavy libraries are imported where they are used, not by `import revbook`."""
    code = (
        "import sys, revbook; heavy = [m for m in ('pandas', 'polars', 'pyarrow', 'duckdb', 'sqlglot', 'openpyxl')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
