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


#: the CSMs of :func:`impact_company` and their teams
IMPACT_OWNERS = {"P1": "Ada", "P2": "Bo", "P3": "Cy", "P4": "Di", "P5": "Ed", "P6": "Fy", "P7": "Gu"}
IMPACT_TEAMS = {"P1": "East", "P2": "East", "P3": "West", "P4": "West", "P5": "West", "P6": "North", "P7": "North"}


def impact_company(folder: Path) -> dict[str, Path]:
    """The hand-built company of the impact statements' worked examples (tests/impact/test_statements.py
    has what each CSM illustrates), as CSV exports in ``folder / "data"``."""
    subs: list[str] = []
    accounts: list[tuple[str, str, str]] = []  # id, segment, owner

    def line(account: str, start: str, end: str = "", amount: str = "100", period: str = "1", model: str = "") -> None:
        subs.append(f"{account},S{len(subs) + 1},core,basic,{start},{end},{amount},{period},USD,{model}")

    for i in range(1, 6):
        accounts += [(f"A{i}", "enterprise", "P1"), (f"B{i}", "enterprise", "P1"), (f"C{i}", "enterprise", "P1")]
        line(f"A{i}", "2023-06-01")
        line(f"B{i}", "2023-06-01", "2024-03-01")
        line(f"C{i}", "2024-06-01")
    for i in range(1, 20):
        accounts.append((f"D{i}", "smb", "P2"))
        line(f"D{i}", "2023-06-01")
    accounts += [("E1", "smb", "P2"), ("F1", "smb", "P2")]
    line("E1", "2023-06-01", "2024-02-01")
    line("F1", "2024-05-01", "2024-09-01")
    for i in range(1, 10):
        accounts.append((f"G{i}", "smb", "P3"))
        line(f"G{i}", "2023-06-01")
    accounts += [("H1", "smb", "P3"), ("I1", "smb", "P3")]
    line("H1", "2023-06-01", "2024-03-01")
    line("I1", "2024-06-01")
    for i in range(1, 11):
        accounts += [(f"J{i}", "smb", "P4"), (f"K{i}", "smb", "P5"), (f"M{i}", "mid_market", "P7")]
        line(f"J{i}", "2023-06-01", "2024-08-01", model="usage")
        line(f"J{i}", "2024-08-01", amount="200", model="usage")
        line(f"K{i}", "2023-06-01")
        line(f"M{i}", "2023-09-01", "2024-09-01", amount="1200", period="12")
        if i < 10:
            line(f"M{i}", "2024-09-01", amount="1560", period="12")
    for i in range(1, 4):
        accounts.append((f"L{i}", "smb", "P6"))
        line(f"L{i}", "2023-06-01")
    data = folder / "data"
    data.mkdir()
    surveys = [f"K{i},2024-03-01,nps,3" for i in range(1, 11)] + [f"K{i},2024-10-01,nps,10" for i in range(1, 11)]
    activities = [f"A{i},2024-08-15,qbr,completed" for i in range(1, 6)] + ["M1,2024-07-15,save_play,completed"]
    return {
        "accounts": write(
            data / "accounts.csv", "account_id,name,segment\n" + "".join(f"{a},{a},{s}\n" for a, s, _ in accounts)
        ),
        "subscriptions": write(
            data / "subscriptions.csv",
            "account_id,subscription_id,product,plan,start_date,end_date,amount,billing_period_months,currency,"
            "pricing_model\n" + "\n".join(subs) + "\n",
        ),
        "owners": write(
            data / "owners.csv",
            "account_id,owner_id,role,start_date,end_date\n"
            + "".join(f"{a},{o},csm,2023-01-01,\n" for a, _, o in accounts),
        ),
        "people": write(
            data / "people.csv",
            "owner_id,name,team\n" + "".join(f"{o},{n},{IMPACT_TEAMS[o]}\n" for o, n in IMPACT_OWNERS.items()),
        ),
        "surveys": write(data / "surveys.csv", "account_id,date,kind,score\n" + "\n".join(surveys) + "\n"),
        "activities": write(data / "activities.csv", "account_id,date,type,outcome\n" + "\n".join(activities) + "\n"),
    }
