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
