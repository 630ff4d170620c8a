"""`revbook workbook`, `serve`, `mcp`, `report`: the Excel workbook, the web dashboard, the assistant's
MCP server, the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import RevbookCommand, app
from .options import AsOfOpt, ConfigOpt, WorkspaceOpt, load_config, open_workspace
from .output import console, say

if TYPE_CHECKING:
    from ..config import Config

#: how to install the LibreOffice that checks the workbook's formulas
INSTALL_LIBREOFFICE = (
    "Debian or Ubuntu: sudo apt-get install --no-install-recommends libreoffice-calc-nogui; "
    "macOS: brew install --cask libreoffice"
)


def _libreoffice_found() -> bool:
    """Whether LibreOffice is where the workbook's recalculation looks for it (REVBOOK_SOFFICE, then
    soffice or libreoffice on PATH; see reports/excel/libreoffice.py)."""
    import os
    import shutil

    return bool(os.environ.get("REVBOOK_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice"))


def _existing(cfg: Config) -> Config:
    """``cfg``, when its workspace exists (a server never creates an empty one)."""
    from ..errors import WorkspaceError

    if not cfg.workspace.exists():
        raise WorkspaceError(f"no workspace at {cfg.workspace}", hint="run `revbook demo` or `revbook load` first")
    return cfg


@app.command(cls=RevbookCommand)
def workbook(
    out: Annotated[
        Path | None, typer.Option(help="the .xlsx file to write (default: revbook.xlsx next to the workspace)")
    ] = None,
    months: Annotated[int, typer.Option(help="months of account-level data in the workbook")] = 24,
    recalc: Annotated[
        bool, typer.Option("--recalc/--no-recalc", help="recalculate with LibreOffice and verify the Checks sheet")
    ] = True,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the auditable Excel workbook: live formulas over account-level data, and a Checks sheet."""
    from ..reports.excel import check_results, recalculate, write_workbook

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws, console(stderr=True).status("writing the workbook..."):
        path = write_workbook(ws, out, months=months)
    if not recalc:
        say(f"workbook: {path} (formulas compute when Excel or LibreOffice opens it)")
        return
    if not _libreoffice_found():
        say(f"workbook: {path}")
        say(
            "its formulas compute when Excel or LibreOffice opens it; to check them here, install LibreOffice "
            f"({INSTALL_LIBREOFFICE}) or set REVBOOK_SOFFICE to its soffice, and run this again "
            "(--no-recalc skips the check)",
            style="dim",
        )
        return
    with console(stderr=True).status("recalculating with LibreOffice..."):
        path = recalculate(path)
    results = check_results(path)
    failed = [name for name, result in results[1:] if result != "PASS"]
    say(f"workbook: {path}")
    say(f"checks: {len(results) - 1 - len(failed)} of {len(results) - 1} PASS")
    for name in failed[:20]:
        say(f"FAIL {name}", style="red")
    if failed:
        raise typer.Exit(1)


@app.command(cls=RevbookCommand)
def serve(
    host: Annotated[str, typer.Option(help="address to bind; other than loopback needs a token")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    token: Annotated[
        str | None, typer.Option(envvar="REVBOOK_TOKEN", help="access token (required off loopback)")
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Serve the read-only web dashboard over the workspace."""
    from ..errors import ConfigError
    from ..web import serve as serve_app
    from ..web.security import is_loopback

    cfg = _existing(load_config(config, workspace, as_of))
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"serving on {host} needs an access token",
            hint="set REVBOOK_TOKEN (or pass --token), or serve on 127.0.0.1",
        )
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    say(f"revbook dashboard on {url} (Ctrl+C to stop)", stderr=True)
    serve_app(cfg.workspace, config=cfg, host=host, port=port, token=token)


@app.command(cls=RevbookCommand)
def mcp(
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Serve the workspace read-only to an AI assistant over MCP (stdio): figures with definitions."""
    from ..assistant.server import run_stdio

    cfg = _existing(load_config(config, workspace, as_of))
    with open_workspace(cfg, read_only=True) as ws:
        run_stdio(ws)


@app.command(cls=RevbookCommand)
def report(
    out: Annotated[Path, typer.Option(help="the HTML file to write")] = Path("revbook-report.html"),
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the one-file HTML report: headline, trends, waterfall, retention, cohorts, data quality."""
    from ..reports import write_report

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws, console(stderr=True).status("writing the report..."):
        path = write_report(ws, out)
    say(f"report: {path.resolve()}")
