"""`revbook impact`: verified impact statements of a CSM, a team or a segment, and the claims refused."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import RevbookCommand, app
from .options import AsOfOpt, ConfigOpt, OutOpt, WorkspaceOpt, load_config, open_workspace
from .output import say


class ImpactFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    csv = "csv"
    json = "json"


def _title(rows: list[dict[str, Any]], scope: str) -> str:
    if not rows:
        return f"Impact statements: {scope}"
    r = rows[0]
    return (
        f"Impact statements: {scope}, the months {r['window_start']} to {r['window_end']} "
        f"against {r['before_start']} to {r['window_start']}"
    )


def text_lines(rows: list[dict[str, Any]], scope: str) -> list[str]:
    """The text reading: the verified statements, each with its provenance, then the refusals with reasons."""
    from ..impact.statements import provenance

    verified = [r for r in rows if r["status"] == "verified"]
    refused = [r for r in rows if r["status"] == "refused"]
    lines = [_title(rows, scope), "", f"Verified ({len(verified)})"]
    lines += [f"  {i}. {r['text']}\n     {provenance(r)}" for i, r in enumerate(verified, 1)] or ["  none"]
    lines += ["", f"Refused ({len(refused)})"]
    lines += [f"  - {r['text']}\n    refused ({r['rule']}): {r['reason']}" for r in refused] or ["  none"]
    return lines


def markdown(rows: list[dict[str, Any]], scope: str, *, refused: bool = False) -> str:
    """What a CSM pastes into a review: the verified statements as bullets with their provenance; with
    ``refused``, the refusals and their reasons after them."""
    from ..impact.statements import provenance

    out = [f"## {_title(rows, scope)}", ""]
    verified = [r for r in rows if r["status"] == "verified"]
    out += [f"- {r['text']}  \n  _{provenance(r)}_" for r in verified] or ["_No statement passed the checks._"]
    if refused:
        out += ["", "### Refused", ""]
        out += [
            f"- ~~{r['text']}~~  \n  refused (`{r['rule']}`): {r['reason']}" for r in rows if r["status"] == "refused"
        ]
    return "\n".join(out) + "\n"


@app.command(cls=RevbookCommand)
def impact(
    owner: Annotated[str | None, typer.Option(help="a CSM's owner id (their book at each window's start)")] = None,
    team: Annotated[str | None, typer.Option(help="a team instead of a CSM")] = None,
    segment: Annotated[str | None, typer.Option(help="a segment instead of a CSM")] = None,
    window: Annotated[
        int | None, typer.Option(help="months of each window (default [impact_statements] window)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="the windows end on the last month end by this date")] = None,
    format: Annotated[ImpactFormat, typer.Option(help="text, markdown, csv or json")] = ImpactFormat.text,
    out: OutOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help="also the refused statements (markdown, csv, json; text always lists them)")
    ] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Impact statements measured from the data: [action] + [segment] + [metric, before -> after] +
    [method], each with its provenance and interval, and the claims refused with the reason (an activity
    count, a level without a change, a change inside the noise, product-driven expansion, satisfaction
    without retention, saves never at risk). Without --owner, --team or --segment: every CSM."""
    from ..frame import Frame

    cfg = load_config(config, workspace, as_of)
    scope = f"owner {owner}" if owner else f"team {team}" if team else f"segment {segment}" if segment else "every CSM"
    with open_workspace(cfg, read_only=True) as ws:
        frame = ws.impact_statements(owner=owner, team=team, segment=segment, window=window, end=end)
    rows = frame.to_pylist()
    if format is ImpactFormat.text:
        _write("\n".join(text_lines(rows, scope)) + "\n", out, rich=True)
    elif format is ImpactFormat.markdown:
        _write(markdown(rows, scope, refused=all_), out)
    else:
        table = frame.to_arrow()
        if not all_:
            table = table.filter([s == "verified" for s in table["status"].to_pylist()])
        shown = Frame(frame.name, table)
        if out is not None:
            shown.write(out, format=format.value)
            say(f"wrote {len(shown):,} rows to {out}", stderr=True)
        else:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                sys.stdout.write(shown.write(Path(tmp) / f"out.{format.value}", format=format.value).read_text("utf-8"))


def _write(text: str, out: Path | None, *, rich: bool = False) -> None:
    if out is not None:
        out.write_text(text, encoding="utf-8")
        say(f"wrote {out}", stderr=True)
    elif rich:
        for line in text.rstrip("\n").split("\n"):
            say(line)
    else:
        sys.stdout.write(text)
