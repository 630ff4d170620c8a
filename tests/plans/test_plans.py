"""Account plans: the VIP rule, create / edit / history on hand-built data, the live KPIs, the
decision journey, optimistic versions, every validation, and that loads and plans never meet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import Config, ConfigError, NotFoundError, Workspace
from revbook.config import VipSettings
from revbook.errors import WorkspaceError
from revbook.plans import (
    create_plan,
    current_plan,
    edit_plan,
    journey_history,
    kpi_status,
    offerings,
    plan_history,
    plan_view,
    plans_path,
    unknown_listed,
    vip_accounts,
)
from revbook.plans.storage import ALIAS
from support import write

AS_OF = dt.date(2024, 12, 31)
TODAY = dt.datetime.now(dt.UTC).date()
VIP = VipSettings.from_mapping({"min_arr": 100000, "segments": ["mid_market"], "accounts": ["C", "GHOST"]})


def files(folder: Path, *, a_core: str = "9000") -> dict[str, Path]:
    """A pays core 9,000 a month since June 2023 and analytics 1,000 since June 2024 (ARR 120,000 on
    the as-of date, 108,000 a year before); B and C are small; D (mid_market) pays nothing."""
    folder.mkdir(exist_ok=True)
    return {
        "accounts": write(
            folder / "accounts.csv",
            "account_id,name,segment\nA,Acme,enterprise\nB,Bolt,smb\nC,Cobalt,smb\nD,Delta,mid_market\n",
        ),
        "subscriptions": write(
            folder / "subscriptions.csv",
            "account_id,subscription_id,product,start_date,end_date,mrr\n"
            f"A,S1,core,2023-06-01,,{a_core}\n"
            "A,S2,analytics,2024-06-01,,1000\n"
            "B,S3,core,2024-01-01,,500\n"
            "C,S4,sso,2024-02-01,,300\n"
            "C,S5,core,2024-02-01,,200\n",
        ),
    }


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF, vip=VIP)) as w:
        w.load(files(tmp_path / "data"))
        yield w


A_PLAN = {
    "challenges": ["Renewal in March with a new CFO"],
    "goals": ["Expand to the EMEA team"],
    "kpis": [
        {"metric": "arr", "target": 150000, "due": "2025-06-30"},
        {"metric": "nrr_12m", "target": "1.1", "due": "2025-06-30"},
        {"metric": "open_tickets", "target": 0, "due": "2025-03-31"},
    ],
    "journey": {"sso": "awareness"},
}


def test_vip_is_the_union_of_band_segment_and_list(ws: Workspace) -> None:
    rows = vip_accounts(ws).to_pylist()
    assert [(r["account_id"], r["arr"], r["rules"]) for r in rows] == [
        ("A", Decimal("120000.00"), "arr"),  # 12 x (9,000 + 1,000), over min_arr
        ("C", Decimal("6000.00"), "list"),  # 12 x 500, named
        ("D", Decimal("0.00"), "segment"),  # mid_market, paying nothing
    ]
    assert unknown_listed(ws) == ["GHOST"]
    # on 2024-05-31 A paid 9,000 a month: ARR 108,000, still in the band
    assert vip_accounts(ws, "2024-05-31").to_pylist()[0]["arr"] == Decimal("108000.00")
    with Workspace(ws.path, config=Config(as_of=AS_OF)) as none:
        assert len(vip_accounts(none)) == 0  # no [vip] rule: no VIP account


def test_create_edit_history_worked_example(ws: Workspace) -> None:
    first = create_plan(ws, "A", A_PLAN, author="ana", note="kick-off")
    assert (first.version, first.author, first.note) == (1, "ana", "kick-off")
    assert first.plan.goals == ("Expand to the EMEA team",)
    assert [(s.product, s.stage, s.since) for s in first.plan.journey] == [("sso", "awareness", TODAY)]
    second = edit_plan(ws, "A", 1, {"plays": ["Exec sponsor QBR"], "journey": {"sso": "consideration"}}, author="bo")
    assert second.version == 2
    assert second.plan.goals == first.plan.goals  # fields not given are kept
    assert second.plan.kpis == first.plan.kpis
    third = edit_plan(
        ws, "A", 2, {"goals": ["Expand to EMEA", "Adopt SSO"], "journey": {"sso": "consideration"}}, author="ana"
    )
    assert current_plan(ws, "A") == third
    history = plan_history(ws, "A").to_pylist()
    assert [(h["version"], h["author"], h["changed"]) for h in history] == [
        (3, "ana", "goals"),  # the same stage again keeps its day: journey unchanged
        (2, "bo", "plays, journey"),
        (1, "ana", "created"),
    ]
    assert [(j["stage"], j["version"], j["author"]) for j in journey_history(ws, "A").to_pylist()] == [
        ("awareness", 1, "ana"),
        ("consideration", 2, "bo"),
    ]
    # every version is a row of its own; none was changed in place
    with ws.con.cursor() as cur:
        cur.execute(f"ATTACH '{plans_path(ws)}' AS p (READ_ONLY)")
        assert cur.execute("SELECT version, author FROM p.plan_entries ORDER BY version").fetchall() == [
            (1, "ana"),
            (2, "bo"),
            (3, "ana"),
        ]
        cur.execute("DETACH p")


def test_a_stage_keeps_the_day_given(ws: Workspace) -> None:
    create_plan(ws, "A", {"journey": {"sso": {"stage": "familiarity", "since": "2024-11-02"}}}, author="ana")
    (stage,) = current_plan(ws, "A").plan.journey  # type: ignore[union-attr]
    assert (stage.stage, stage.since) == ("familiarity", dt.date(2024, 11, 2))


def test_the_plan_shows_each_kpi_live_against_its_target(ws: Workspace) -> None:
    create_plan(ws, "A", A_PLAN, author="ana")
    view = plan_view(ws, "A")
    got = {k["metric"]: (k["live"], k["status"]) for k in view["kpis"]}
    assert got["arr"] == (Decimal("120000.00"), "open")  # below 150,000, not due yet
    live, status = got["nrr_12m"]
    assert live == pytest.approx(10000 / 9000, abs=1e-4) and status == "met"  # 1.1111 >= 1.1
    assert got["open_tickets"] == (None, "no figure")  # no tickets loaded
    assert view["vip"] == ("arr",)
    assert view["owned"] == ["analytics", "core"]
    assert [(o["product"], o["stage"]) for o in view["offerings"]] == [("sso", "awareness")]
    # a KPI after its due date that was not met is missed; lower is better for open tickets
    assert kpi_status("arr", Decimal(100), Decimal(150), dt.date(2024, 6, 30), AS_OF) == "missed"
    assert kpi_status("open_tickets", 0, Decimal(0), dt.date(2024, 6, 30), AS_OF) == "met"
    assert kpi_status("open_tickets", 3, Decimal(1), dt.date(2025, 6, 30), AS_OF) == "open"


def test_offerings_are_the_book_s_products_the_account_does_not_own(ws: Workspace) -> None:
    assert offerings(ws, "A") == (["analytics", "core"], ["sso"])
    assert offerings(ws, "A", "2024-05-31") == (["core"], ["analytics", "sso"])  # analytics from June
    assert offerings(ws, "D") == ([], ["analytics", "core", "sso"])


def test_a_stale_edit_is_refused_and_writes_nothing(ws: Workspace) -> None:
    create_plan(ws, "A", A_PLAN, author="ana")
    edit_plan(ws, "A", 1, {"plays": ["QBR"]}, author="bo")
    with pytest.raises(WorkspaceError, match=r"at version 2 by bo .* not version 1") as err:
        edit_plan(ws, "A", 1, {"plays": ["Something else"]}, author="carla")
    assert "apply your change to version 2" in (err.value.hint or "")
    assert [h["version"] for h in plan_history(ws, "A").to_pylist()] == [2, 1]
    assert current_plan(ws, "A").plan.plays == ("QBR",)  # type: ignore[union-attr]
    with pytest.raises(WorkspaceError, match="already has a plan"):
        create_plan(ws, "A", A_PLAN, author="ana")
    with pytest.raises(WorkspaceError, match="has no plan to edit"):
        edit_plan(ws, "C", 1, {"plays": ["x"]}, author="ana")


def test_a_create_needs_a_vip_account_unless_forced(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="B is not a VIP account") as err:
        create_plan(ws, "B", {"goals": ["x"]}, author="ana")
    assert "--force" in (err.value.hint or "")
    assert current_plan(ws, "B") is None
    assert create_plan(ws, "B", {"goals": ["x"]}, author="ana", force=True).version == 1
    with pytest.raises(NotFoundError, match="no account 'NOPE'"):
        create_plan(ws, "NOPE", {"goals": ["x"]}, author="ana", force=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kpis": [{"metric": "arrr", "target": 1, "due": "2025-01-01"}]}, "unknown KPI metric 'arrr'"),
        ({"kpis": [{"metric": "arr", "target": 1, "due": "2025-13-01"}]}, "must be a date like"),
        ({"kpis": [{"metric": "arr", "target": 1}]}, "the due date of KPI arr is missing"),
        (
            {"kpis": [{"metric": "arr", "target": "lots", "due": "2025-01-01"}]},
            "the target of KPI arr must be a number",
        ),
        ({"kpis": [{"metric": "arr", "target": 1, "due": "2025-01-01", "owner": "x"}]}, "unknown keys: owner"),
        ({"journey": {"sso": "interest"}}, "'interest' is not a stage of the decision journey"),
        ({"journey": {"crm": "awareness"}}, "unknown offering 'crm'"),
        ({"journey": {"sso": {"stage": "awareness", "since": "2999-01-01"}}}, "is in the future"),
        ({"goals": ["x" * 501]}, "501 characters long, over the limit of 500"),
        ({"goals": [""]}, "goals item 1 is empty"),
        ({"goals": "one goal"}, "goals must be a list of texts"),
        ({"goals": ["g"] * 31}, "31 items, over the limit of 30"),
        ({"goal": ["x"]}, "a plan has no field 'goal'; did you mean 'goals'?"),
    ],
)
def test_bad_input_is_refused_with_its_reason(ws: Workspace, fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        create_plan(ws, "A", fields, author="ana")
    assert current_plan(ws, "A") is None  # nothing written


def test_bad_author_note_and_version(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="the author is empty"):
        create_plan(ws, "A", A_PLAN, author=" ")
    with pytest.raises(ConfigError, match="the author is 101 characters"):
        create_plan(ws, "A", A_PLAN, author="a" * 101)
    with pytest.raises(ConfigError, match="the note is 501 characters"):
        create_plan(ws, "A", A_PLAN, author="ana", note="n" * 501)
    create_plan(ws, "A", A_PLAN, author="ana")
    with pytest.raises(ConfigError, match="a whole number from 1"):
        edit_plan(ws, "A", 0, {"goals": ["x"]}, author="ana")
    with pytest.raises(ConfigError, match="changes nothing"):
        edit_plan(ws, "A", 1, {"goals": list(A_PLAN["goals"])}, author="ana")


def test_a_reload_keeps_the_plans_and_plans_never_touch_the_loaded_tables(ws: Workspace, tmp_path: Path) -> None:
    def tables() -> list[str]:
        rows = ws.con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'w'").fetchall()
        return sorted(r[0] for r in rows)

    before, counts = tables(), ws.row_counts()
    create_plan(ws, "A", A_PLAN, author="ana")
    edit_plan(ws, "A", 1, {"plays": ["QBR"]}, author="bo")
    assert tables() == before and ws.row_counts() == counts  # the workspace file holds no plan
    assert plans_path(ws).exists() and plans_path(ws).name == "w.plans.duckdb"
    assert ALIAS not in {r[0] for r in ws.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    # A's core line grows: the load replaces the subscriptions, the plans stay
    (result,) = [r for r in ws.load(files(tmp_path / "data", a_core="12000")) if r.table == "subscriptions"]
    assert not result.skipped
    assert [h["version"] for h in plan_history(ws, "A").to_pylist()] == [2, 1]
    kpis = {k["metric"]: k["live"] for k in plan_view(ws, "A")["kpis"]}
    assert kpis["arr"] == Decimal("156000.00")  # the live figure is the new load's: 12 x 13,000


def test_a_read_only_workspace_takes_plan_writes(ws: Workspace) -> None:
    """The dashboard and the commands open the workspace read-only; the plans file is attached to write."""
    path, cfg = ws.path, ws.config
    ws.close()
    with Workspace(path, config=cfg, read_only=True) as ro:
        assert create_plan(ro, "A", A_PLAN, author="ana").version == 1
        with pytest.raises(Exception, match="read-only"):
            ro.con.execute("DELETE FROM subscriptions")
    with Workspace(path, config=cfg, read_only=True) as ro:
        assert current_plan(ro, "A").version == 1  # type: ignore[union-attr]
