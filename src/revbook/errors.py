"""revbook's exceptions.

::

    RevbookError
    ├── ConfigError(RevbookError, ValueError)      revbook.toml or an option is wrong
    ├── ContractError(RevbookError, ValueError)    input data breaks the data contract
    │   └── SourceError(ContractError)             a file cannot be read or a value parsed
    ├── NotFoundError(RevbookError, LookupError)   an account, CSM, team or slice value the workspace lacks
    ├── WorkspaceError(RevbookError, RuntimeError) the workspace file is missing, locked or stale
    ├── LedgerError(RevbookError, ValueError)      the ledger cannot be built (e.g. a missing FX rate)
    └── WorkbookError(RevbookError, RuntimeError)  the Excel workbook cannot be written, recalculated or read

Each error carries its context as attributes (``file``, ``row``: the data row, header not
counted; ``line``: the line of the file, when it has lines; ``column``, ``table``, ``value``)
and a message that says what to do next. The CLI prints the message on one line and exits
with status 2; the dashboard answers 400 for a ``ConfigError``, 404 for a ``NotFoundError``
and 409 for any other (see :mod:`revbook.web.app`).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContractError",
    "LedgerError",
    "NotFoundError",
    "RevbookError",
    "SourceError",
    "WorkbookError",
    "WorkspaceError",
]


class RevbookError(Exception):
    """The root of every error revbook raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        file: str | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        self.table = table
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.value = value
        self.hint = hint
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        elif self.table:
            where.append(self.table)
        if self.row is not None and self.line is not None:
            where.append(f"data row {self.row} (line {self.line})")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return text


class ConfigError(RevbookError, ValueError):
    """revbook.toml, a column mapping or a keyword option is invalid."""


class ContractError(RevbookError, ValueError):
    """Input data breaks the data contract (a missing column, an end before a start, ...)."""


class SourceError(ContractError):
    """A source file cannot be read, or one of its values cannot be parsed."""


class NotFoundError(RevbookError, LookupError):
    """A well-formed name (an account id, a CSM, a team, a slice value) the workspace does not have."""


class WorkspaceError(RevbookError, RuntimeError):
    """The workspace file is missing, not a revbook workspace, or in use."""


class LedgerError(RevbookError, ValueError):
    """The ledger cannot be built from the loaded tables (e.g. no FX rate for a line)."""


class WorkbookError(RevbookError, RuntimeError):
    """The workbook cannot be written, recalculated (e.g. LibreOffice is missing) or read back."""
