"""The incremental load: the kept stages after it are those of a full rebuild, row for row, and
only the accounts whose inputs changed are recomputed (the others' rows untouched)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from revbook import Config, Workspace
from revbook.metrics import incremental as incremental_module
from revbook.metrics.book import stage_key
from revbook.metrics.incremental import DIGEST
from revbook.store import stages
from support import write

START = dt.date(2024, 1, 1)
AS_OF = dt.date(2024, 9, 15)

#: the conventions that change the stages, sampled
CONVENTIONS = st.fixed_dictionaries(
    {
        "churn_grace_days": st.sampled_from([0, 10]),
        "trial_conversion": st.sampled_from(["paid_start", "trial_start"]),
        "churn_recognition": st.sampled_from(["end_of_service", "cancellation"]),
        "intra_month": st.sampled_from(["net", "gross"]),
        "reactivation_as_new_after_months": st.sampled_from([0, 2]),
        "fiscal_year_start_month": st.sampled_from([1, 4]),
        "cohort_slice": st.sampled_from(["year", "quarter"]),
        "movement_grain": st.sampled_from(["account", "subscription"]),
    }
)


def _day(offset: int) -> str:
    return (START + dt.timedelta(days=offset)).isoformat()


@st.composite
def lines(draw: st.DrawFn, account: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, 300))
        length = draw(st.one_of(st.none(), st.integers(15, 300)))
        cancel = draw(st.one_of(st.none(), st.integers(0, 330)))
        out.append(
            {
                "account_id": account,
                "plan": draw(st.sampled_from(["basic", "pro"])),
                "start": start,
                "end": None if length is None else start + length,
                "mrr": draw(st.integers(10, 500)),
                "trial": draw(st.booleans()) and draw(st.booleans()),
                "cancel": cancel,
            }
        )
    return out


@st.composite
def companies(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 8))
    ids = [f"A{i}" for i in range(n)]
    company: dict[str, Any] = {
        "accounts": {a: draw(st.sampled_from(["smb", "mid_market"])) for a in ids},
        "lines": [line for a in ids for line in draw(lines(a))],
        "history": [],
        "owners": [],
        "teams": {p: draw(st.sampled_from(["north", "south"])) for p in ("P1", "P2", "P3")},
    }
    for a in ids:
        if draw(st.booleans()):
            company["history"].append((a, draw(st.sampled_from(["smb", "enterprise"])), draw(st.integers(0, 330))))
        if draw(st.booleans()):
            start = draw(st.integers(0, 200))
            end = draw(st.one_of(st.none(), st.integers(start + 1, 330)))
            company["owners"].append([a, draw(st.sampled_from(["P1", "P2", "P3"])), start, end])
    return company


EDITS = st.sampled_from(["add_line", "price", "segment", "owner", "remove_line", "team", "end_line"])


@st.composite
def edited(draw: st.DrawFn, company: dict[str, Any]) -> dict[str, Any]:
    """``company`` after a few random edits."""
    c = {
        k: (dict(v) if isinstance(v, dict) else [list(x) if isinstance(x, list) else x for x in v])
        for k, v in company.items()
    }
    c["lines"] = [dict(line) for line in company["lines"]]
    ids = sorted(c["accounts"])
    for edit in draw(st.lists(EDITS, max_size=3)):
        a = draw(st.sampled_from(ids))
        if edit == "add_line":
            c["lines"].extend(draw(lines(a))[:1])
        elif edit in ("price", "end_line", "remove_line") and c["lines"]:
            i = draw(st.integers(0, len(c["lines"]) - 1))
            if edit == "price":
                c["lines"][i]["mrr"] += draw(st.integers(1, 100))
            elif edit == "end_line":
                c["lines"][i]["end"] = c["lines"][i]["start"] + draw(st.integers(10, 400))
            elif len(c["lines"]) > 1:
                del c["lines"][i]
        elif edit == "segment":
            # one value per account and day, as the contract asks: a second edit on the same day replaces the first
            day = draw(st.integers(0, 330))
            c["history"] = [h for h in c["history"] if (h[0], h[2]) != (a, day)]
            c["history"].append((a, draw(st.sampled_from(["smb", "enterprise", "mid_market"])), day))
        elif edit == "owner" and c["owners"]:
            c["owners"][draw(st.integers(0, len(c["owners"]) - 1))][1] = draw(st.sampled_from(["P1", "P2", "P3"]))
        elif edit == "team":
            p = draw(st.sampled_from(["P1", "P2", "P3"]))
            c["teams"][p] = "east" if c["teams"][p] != "east" else "west"
    return c


def files(company: dict[str, Any], where: Path) -> dict[str, Path]:
    where.mkdir(parents=True, exist_ok=True)
    subs = ["account_id,subscription_id,plan,start_date,end_date,mrr,currency,is_trial,cancel_requested_at"]
    for i, line in enumerate(company["lines"]):
        end = "" if line["end"] is None else _day(line["end"])
        cancel = "" if line["cancel"] is None else _day(line["cancel"])
        trial = "true" if line["trial"] else "false"
        subs.append(
            f"{line['account_id']},S{i},{line['plan']},{_day(line['start'])},{end},{line['mrr']},USD,{trial},{cancel}"
        )
    out = {
        "accounts": write(
            where / "accounts.csv",
            "account_id,segment\n" + "".join(f"{a},{s}\n" for a, s in sorted(company["accounts"].items())),
        ),
        "subscriptions": write(where / "subscriptions.csv", "\n".join(subs) + "\n"),
        "people": write(
            where / "people.csv",
            "owner_id,name,team\n" + "".join(f"{p},{p}n,{t}\n" for p, t in company["teams"].items()),
        ),
    }
    if company["history"]:
        rows = "".join(f"{a},segment,{v},{_day(d)}\n" for a, v, d in company["history"])
        out["account_history"] = write(where / "history.csv", "account_id,attribute,value,valid_from\n" + rows)
    if company["owners"]:
        rows = "".join(f"{a},{p},csm,{_day(s)},{'' if e is None else _day(e)}\n" for a, p, s, e in company["owners"])
        out["owners"] = write(where / "owners.csv", "account_id,owner_id,role,start_date,end_date\n" + rows)
    return out


def kept_tables(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    names = stages.kept(ws.con, stage_key(ws))
    assert names, "the load kept its stages"
    out = {}
    for name in [*names, DIGEST]:
        cols = [r[0] for r in ws.con.execute(f"DESCRIBE {stages.SCHEMA}.{name}").fetchall()]
        read = ", ".join(f'"{c}"' for c in cols if c not in ("_file", "file"))  # where a row was read from
        rows = ws.con.execute(f"SELECT {read} FROM {stages.SCHEMA}.{name}").fetchall()
        out[name] = sorted(rows, key=repr)
    return out


def load(path: Path, config: Config, sources: dict[str, Path]) -> Workspace:
    ws = Workspace(path, config=config)
    ws.load(sources, replace=True)
    return ws


@settings(
    max_examples=50,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), company=companies(), conventions=CONVENTIONS, move=st.integers(0, 75))
def test_an_incremental_load_keeps_what_a_rebuild_keeps(tmp_path_factory, data, company, conventions, move):
    tmp = tmp_path_factory.mktemp("inc")
    if conventions["intra_month"] == "gross":
        conventions = {**conventions, "movement_grain": "account"}  # gross works at account grain only
    config = dataclasses.replace(Config(as_of=AS_OF), **conventions)
    later = dataclasses.replace(config, as_of=AS_OF + dt.timedelta(days=move))
    second = data.draw(edited(company))
    with load(tmp / "w.duckdb", config, files(company, tmp / "first")):
        pass
    # every share of changed accounts updated in place: the digests are what is judged
    with (
        mock.patch.object(incremental_module, "MOST_CHANGED", 1.0),
        load(tmp / "w.duckdb", later, files(second, tmp / "second")) as ws,
    ):
        outcome = ws.kept_stages
        incremental = kept_tables(ws)
    with load(tmp / "fresh.duckdb", later, files(second, tmp / "second")) as ws:
        assert ws.kept_stages is not None and ws.kept_stages.reason == "no stages were kept before"
        rebuilt = kept_tables(ws)
    assert (
        outcome is None
        or outcome.recomputed is not None
        or "accounts changed" in outcome.reason
        or (outcome.reason == "the first month of the book moved")
    )
    event("unchanged" if outcome is None else "recomputed" if outcome.recomputed is not None else outcome.reason)
    assert incremental == rebuilt


def _company(n: int = 4) -> dict[str, Any]:
    ids = [f"A{i}" for i in range(n)]
    return {
        "accounts": dict.fromkeys(ids, "smb"),
        "lines": [
            {"account_id": a, "plan": "basic", "start": 31 * i, "end": None, "mrr": 100, "trial": False, "cancel": None}
            for i, a in enumerate(ids)
        ],
        "history": [],
        "owners": [[a, "P1", 0, None] for a in ids],
        "teams": {"P1": "north", "P2": "south", "P3": "north"},
    }


def _rows(ws: Workspace, name: str, where: str) -> list[tuple[Any, ...]]:
    return sorted(ws.con.execute(f"SELECT * FROM {stages.SCHEMA}.{name} WHERE {where}").fetchall(), key=repr)


def test_one_account_edited_is_the_one_recomputed(tmp_path: Path):
    company = _company()
    with load(tmp_path / "w.duckdb", Config(as_of=AS_OF), files(company, tmp_path / "a")) as ws:
        assert str(ws.kept_stages) == "kept stages: rebuilt (no stages were kept before)"
        names = [n for n in stages.kept(ws.con, stage_key(ws)) if n.startswith(("rb_changes_", "rb_state_"))]
        before = {n: _rows(ws, n, "account_id <> 'A2'") for n in names}
    company["lines"][2]["mrr"] = 250  # A2's price
    with load(tmp_path / "w.duckdb", Config(as_of=AS_OF), files(company, tmp_path / "b")) as ws:
        assert ws.kept_stages == stages.Outcome(accounts=4, recomputed=1)
        assert str(ws.kept_stages) == "kept stages: 1 of 4 accounts recomputed"
        assert {n: _rows(ws, n, "account_id <> 'A2'") for n in names} == before
        assert _rows(ws, "rb_changes_month", "account_id = 'A2'") == [("A2", 2024 * 12 + 2, 25000, None)]  # in cents
        last = f"SELECT mrr FROM {stages.SCHEMA}.rb_level_month_all ORDER BY period DESC"
        assert ws.con.execute(last).fetchone() == (3 * 10000 + 25000,)


def test_a_later_as_of_date_recomputes_the_accounts_it_reads_anew(tmp_path: Path):
    company = _company()
    company["lines"][1]["end"] = 31 + 270  # A1's line ends 2024-10-28: open on the first as-of date, ended after
    company["owners"][3][3] = 280  # A3's owner leaves 2024-10-07
    with load(tmp_path / "w.duckdb", Config(as_of=AS_OF), files(company, tmp_path / "a")):
        pass
    with load(tmp_path / "w.duckdb", Config(as_of=dt.date(2024, 10, 31)), files(company, tmp_path / "a")) as ws:
        assert ws.kept_stages == stages.Outcome(accounts=4, recomputed=2)
        assert ws.con.execute(
            f"SELECT mrr FROM {stages.SCHEMA}.rb_level_month_all ORDER BY period DESC"
        ).fetchone() == (30000,)  # A1 ended: 3 x 100.00


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("setting", "a setting or revbook's code changed"),
        ("as_of_back", "the as-of date moved back"),
        ("first_month", "the first month of the book moved"),
        ("most_accounts", "3 of 4 accounts changed, more than half"),
    ],
)
def test_the_full_rebuild_says_why(tmp_path: Path, change: str, reason: str):
    company = _company()
    with load(tmp_path / "w.duckdb", Config(as_of=AS_OF), files(company, tmp_path / "a")):
        pass
    config = Config(as_of=AS_OF)
    if change == "setting":
        config = dataclasses.replace(config, churn_grace_days=10)
    elif change == "as_of_back":
        config = Config(as_of=AS_OF - dt.timedelta(days=1))
    elif change == "first_month":
        company["lines"][1]["start"] = -40  # A1 starts before the book's first month
    else:
        for line in company["lines"][:3]:
            line["mrr"] += 1
    with load(tmp_path / "w.duckdb", config, files(company, tmp_path / "b")) as ws:
        assert ws.kept_stages == stages.Outcome(accounts=4, recomputed=None, reason=reason)
        assert str(ws.kept_stages) == f"kept stages: rebuilt ({reason})"
        incremental = kept_tables(ws)
    with load(tmp_path / "fresh.duckdb", config, files(company, tmp_path / "b")) as ws:
        assert kept_tables(ws) == incremental
