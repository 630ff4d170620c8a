"""The read-only MCP server: revbook's figures with their definitions, through the protocol."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from revbook import Config, Workspace
from revbook.assistant.server import server
from revbook.assistant.tools import TOOLS
from support import AS_OF


@pytest.fixture
def workspace(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        w.load(small_files)
    return tmp_path / "w.duckdb"


def _calls(path: Path, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async def run() -> list[Any]:
        with Workspace(path, config=Config(as_of=AS_OF), read_only=True) as w:
            async with Client(server(w)) as client:
                return [await client.call_tool(name, args) for name, args in calls]

    return asyncio.run(run())


def _json(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)  # type: ignore[no-any-return]


def test_every_tool_is_read_only_and_takes_no_query(workspace):
    async def run() -> Any:
        with Workspace(workspace, config=Config(as_of=AS_OF), read_only=True) as w:
            async with Client(server(w)) as client:
                return await client.list_tools()

    tools = {t.name: t for t in asyncio.run(run()).tools}
    assert set(tools) == set(TOOLS)
    for t in tools.values():
        assert t.annotations.read_only_hint and not t.annotations.destructive_hint
        assert t.description
        assert not set(t.input_schema.get("properties", {})) & {"sql", "query", "expression"}


def test_the_book_of_a_csm_worked_example(workspace):
    """On 2024-12-31 P2 (Bo) holds A (pro, 150 USD a month: ARR 1,800.00) and B (12,000 EUR a year,
    1,000 EUR a month at 1.10, the rate when the line began: ARR 13,200.00); C left in June. Money
    comes as exact text."""
    (book,) = _calls(workspace, [("book", {"owner": "P2"})])
    got = _json(book)
    assert [(r["account_id"], r["arr"]) for r in got["figures"]] == [("B", "13200.00"), ("A", "1800.00")]
    assert got["totals"] == {"accounts": 2, "arr": "15000.00", "arr_in_red_health": "0.00"}
    assert got["as_of"] == "2024-12-31" and got["currency"] == "USD"
    assert got["definitions"]["rum"].startswith("Revenue under management (RUM): The ARR of paying accounts")


def test_headline_and_retention_are_the_workspaces_own_figures(workspace):
    headline, retention = _calls(workspace, [("headline", {}), ("retention", {"window": 12, "by": "segment"})])
    with Workspace(workspace, config=Config(as_of=AS_OF), read_only=True) as w:
        want = w.headline()
        rows = w.retention(window=12, by=["segment"]).to_pylist()
    got = _json(headline)["figures"][0]
    assert Decimal(got["arr"]) == want["arr"] and got["accounts"] == want["accounts"]
    assert got["nrr_12m"] == pytest.approx(want["nrr_12m"])
    last = max(r["period_end"] for r in rows)
    by_segment = {r["segment"]: r for r in _json(retention)["figures"]}
    assert by_segment.keys() == {r["segment"] for r in rows if r["period_end"] == last}
    for r in rows:
        if r["period_end"] == last:
            assert Decimal(by_segment[r["segment"]]["start_mrr"]) == r["start_mrr"]
            assert by_segment[r["segment"]]["grr"] == pytest.approx(r["grr"])
    assert {"nrr", "grr", "logo_retention"} <= set(_json(retention)["definitions"])


def test_bad_arguments_get_the_allowed_values_and_change_nothing(workspace):
    before = hashlib.sha256(workspace.read_bytes()).hexdigest()
    bad_slice, bad_window, no_account, no_owner, no_term = _calls(
        workspace,
        [
            ("retention", {"by": "segment; DROP TABLE accounts"}),
            ("retention", {"window": 7}),
            ("account_health", {"account_id": "Z"}),
            ("book", {"owner": "P9"}),
            ("define", {"term": "ebitda"}),
        ],
    )
    assert bad_slice.is_error and "slice by one of: segment, region" in bad_slice.content[0].text
    assert bad_window.is_error and "1, 3, 6, 12, 24 or 36" in bad_window.content[0].text
    assert no_account.is_error and "account 'Z' is not paying on 2024-12-31" in no_account.content[0].text
    assert no_owner.is_error and "P2" in no_owner.content[0].text
    assert no_term.is_error and "nrr" in no_term.content[0].text
    for result in (bad_slice, bad_window, no_account, no_owner, no_term):
        assert "Traceback" not in result.content[0].text
    assert hashlib.sha256(workspace.read_bytes()).hexdigest() == before


def test_account_health_and_definitions(workspace):
    health, define = _calls(workspace, [("account_health", {"account_id": "A"}), ("define", {"term": "grr"})])
    row = _json(health)["figures"][0]
    assert row["account_id"] == "A" and row["arr"] == "1800.00" and row["owner"] == "P2"
    assert set(row) >= {"stage", "health_score", "health_band", "health_drivers"}
    assert list(_json(define)["definitions"]) == ["grr"]


def test_revbook_mcp_speaks_the_protocol_over_stdio(workspace, tmp_path):
    """The command an assistant's configuration launches: a real subprocess on stdin/stdout."""
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from revbook.cli import main; main()",
            "mcp",
            "--workspace",
            str(workspace),
            "--as-of",
            "2024-12-31",
        ],
        cwd=str(tmp_path),
    )

    async def run() -> Any:
        async with Client(params) as client:
            return await client.call_tool("book", {"owner": "P2"})

    assert _json(asyncio.run(run()))["totals"]["arr"] == "15000.00"


def test_revbook_mcp_without_a_workspace_says_what_to_do(tmp_path):
    from typer.testing import CliRunner

    from revbook.cli import app

    result = CliRunner().invoke(app, ["mcp", "--workspace", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "no workspace at" in result.output and "revbook demo" in result.output
