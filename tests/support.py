"""Helpers shared by the tests (importable as `support`: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path
from typing import Any

AS_OF = dt.date(2024, 12, 31)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


#: the client address of in-process requests: the loopback, as a local browser's
LOCAL = ("127.0.0.1", 50000)


def get(
    app: Any, url: str, *, client: tuple[str, int] = LOCAL, host: str = "127.0.0.1", cookies: Any = None, **kw: Any
) -> Any:
    """One request to the dashboard's ASGI app, in process (``method=`` for other than GET)."""
    import httpx

    async def run() -> Any:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}", cookies=cookies) as c:
            return await c.request(kw.pop("method", "GET"), url, **kw)

    return asyncio.run(run())


def text_of(html: str) -> str:
    """A page's text without its tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def sample_workspace(folder: Path, *, as_of: dt.date, **sample_options: Any) -> Path:
    """A workspace file in ``folder`` holding the sample company (``revbook.sample.write`` options,
    e.g. ``accounts=300, text=True``), loaded as a user loads exported files."""
    from revbook import Config, Workspace, sample

    paths = sample.write(folder / "data", **sample_options)
    with Workspace(folder / "w.duckdb", config=Config(as_of=as_of)) as ws:
        ws.load(dict(paths))
    return folder / "w.duckdb"


#: the RavenStack dataset beside the repository (../shared/datasets/ravenstack, with its README)
RAVENSTACK = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "ravenstack"
#: its columns mapped into the contract, as a user maps them in revbook.toml
RAVENSTACK_CONFIG = """
[workspace]
path = "ravenstack.duckdb"
as_of = "2024-12-31"

[sources.accounts]
path = "{data}/ravenstack_accounts.csv"
[sources.accounts.columns]
name = "account_name"
created_at = "signup_date"
region = "country"
segment = "plan_tier"

[sources.subscriptions]
path = "{data}/ravenstack_subscriptions.csv"
[sources.subscriptions.columns]
mrr = "mrr_amount"
plan = "plan_tier"
quantity = "seats"
"""


def ravenstack_config(folder: Path) -> Path:
    """``folder/revbook.toml`` mapping RavenStack (its workspace: ``folder/ravenstack.duckdb``)."""
    path = folder / "revbook.toml"
    path.write_text(RAVENSTACK_CONFIG.format(data=RAVENSTACK.as_posix()), encoding="utf-8")
    return path
