"""The read-only MCP server (`revbook mcp`): the tools of :mod:`.tools` over the Model Context
Protocol, for a CS leader's AI assistant.

The workspace is opened read-only, so nothing the assistant asks can change it; one lock serialises
the calls on its one DuckDB connection. A revbook error becomes the tool's error text (the message
and what to do), never a traceback; the ``mcp`` package is imported here only, so ``import revbook``
stays fast.
"""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any

from ..errors import RevbookError
from .tools import TOOLS, Tool

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..workspace import Workspace

__all__ = ["INSTRUCTIONS", "run_stdio", "server"]

INSTRUCTIONS = (
    "revbook answers questions about a SaaS company's recurring revenue and its customers' health from "
    "its own workspace: ARR, NRR, GRR, logo retention, MRR movements, a CSM's book and an account's "
    "health. Quote the figures with the definitions each answer carries; money is exact text in the "
    "answer's currency; ratios are fractions (1.05 is 105%)."
)


def _bound(ws: Workspace, fn: Tool, lock: threading.Lock) -> Tool:
    """``fn`` with the workspace bound: its signature without the first parameter, for the schema."""
    from mcp.server.mcpserver.exceptions import ToolError

    sig = inspect.signature(fn)
    # the annotations are strings (postponed evaluation); the schema needs the types, read in the
    # tool's own module (the first parameter, the workspace, is typed only for type checkers)
    params = [
        p.replace(annotation=eval(p.annotation, fn.__globals__) if isinstance(p.annotation, str) else p.annotation)
        for p in list(sig.parameters.values())[1:]
    ]
    sig = sig.replace(return_annotation=dict[str, Any])

    def call(**arguments: Any) -> dict[str, Any]:
        with lock:
            try:
                return fn(ws, **arguments)
            except RevbookError as err:
                hint = getattr(err, "hint", None)
                raise ToolError(str(err) + (f" ({hint})" if hint and hint not in str(err) else "")) from None

    call.__name__ = fn.__name__
    call.__doc__ = fn.__doc__
    call.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": sig.return_annotation}
    return call


def server(ws: Workspace) -> MCPServer:
    """An MCP server offering :data:`.tools.TOOLS` on ``ws`` (open it read-only)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    from .. import __version__

    app = MCPServer("revbook", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    lock = threading.Lock()
    read_only = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    for name, fn in TOOLS.items():
        app.add_tool(_bound(ws, fn, lock), name=name, description=inspect.getdoc(fn), annotations=read_only)
    return app


def run_stdio(ws: Workspace) -> None:
    """Serve ``ws`` over stdin/stdout until the client closes the stream (what an assistant's MCP
    configuration launches); stdout carries only the protocol."""
    server(ws).run("stdio")
