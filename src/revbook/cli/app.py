"""The Typer app every command group registers on, and the one place library errors become messages."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup


class RevbookGroup(TyperGroup):
    """The root command: a library error raised by any command (or sub-command) becomes one line on
    stderr and exit status 2, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        from ..errors import RevbookError

        try:
            return super().invoke(ctx)
        except RevbookError as exc:
            from rich.markup import escape

            from .output import console

            console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    name="revbook",
    cls=RevbookGroup,
    help="Exact revenue retention for Customer Success: MRR movements, NRR/GRR, cohorts, from your billing data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

__all__ = ["RevbookGroup", "app"]
