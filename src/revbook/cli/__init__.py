"""The `revbook` command: thin, it parses, calls the library and prints.

Each command group is a module that registers its commands on the app of :mod:`.app`; library errors
become one clear line on stderr and exit status 2, never a traceback (:class:`.app.RevbookGroup`).
"""

from __future__ import annotations

import importlib
import sys

from .app import app

#: the command groups, in the order `revbook --help` lists their commands
GROUPS = (
    "setup",
    "metrics",
    "surfaces",
    "survival",
    "insights",
    "cs",
    "csm",
    "catalogue",
    "attribution",
    "concentration",
    "saves",
    "connect",
    "plans",
    "export",
    "impact",
    "forecast",
    "renewals",
)

for _group in GROUPS:
    importlib.import_module(f"{__name__}.{_group}")


def main() -> None:
    """The console script: the app, with Ctrl+C as exit status 130."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["GROUPS", "app", "main"]

if __name__ == "__main__":
    main()
