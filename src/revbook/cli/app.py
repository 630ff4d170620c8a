"""The Typer app every command group registers on, and the one place library errors become messages."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def _no_type(ctx: Any) -> None:
    return None


def _untagged(params: list[Any]) -> list[Any]:
    """The options and arguments without their type tags in --help (``<str>``, ``<bool>``, ``<int>``,
    ``<path>``): the help text says what each takes. A choice keeps its list of values."""
    for param in params:
        if param.type_descriptor.is_choice:
            continue
        if isinstance(param, TyperOption):
            param.metavar = ""
        elif isinstance(param, TyperArgument):
            # an argument's metavar is its name in messages ("Missing argument 'PATH'"): only its tag goes
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
    return params


class RevbookCommand(TyperCommand):
    """A command whose --help lists its options without type tags."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untagged(super().get_params(ctx))


class HelpGroup(TyperGroup):
    """A command group whose --help lists its options without type tags."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untagged(super().get_params(ctx))


class RevbookGroup(HelpGroup):
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

__all__ = ["HelpGroup", "RevbookCommand", "RevbookGroup", "app"]
