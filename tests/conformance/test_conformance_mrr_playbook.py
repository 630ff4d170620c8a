"""Conformance with a peer: dbt-labs/mrr-playbook (commit f7921cf7f67e57e8eb1ce86dc16fa3a9e03cee94).

The peer's seed data and the outputs of its own logic live in the sibling folder
``shared/conformance/mrr-playbook/`` (see its README). revbook loads the seed the way a user
would (a CSV with a column mapping) and is reconciled with the peer customer by customer and
month by month. Every difference must be one of the documented differences of definition
(docs/conformance.md); anything else fails.

Grain: the peer reads a subscription period as covering month M when it covers M's first day;
revbook snapshots MRR on the month's last day (DESIGN.md "Period snapshot"). With the seed's
dates, all on the 1st of a month with exclusive ends, both read the same months.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from revbook.config import Config, SourceConfig
from revbook.workspace import Workspace

PEER = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "mrr-playbook"

pytestmark = pytest.mark.skipif(
    not PEER.is_dir(),
    reason=f"the peer reference folder {PEER} is absent (the repository is not checked out next to shared/)",
)

# The peer's seed ends by 2020-02: with an as-of after that, its "end of data is churn" is a true end.
SEED_AS_OF = dt.date(2020, 3, 31)
# The probes' run date was 2026-11-23; revbook is asked as of a fixed date inside that month.
PROBE_AS_OF = dt.date(2026, 11, 15)

# The peer's change_category -> revbook's movement ("" = no movement on either side).
CATEGORY = {
    "new": "new",
    "reactivation": "reactivation",
    "upgrade": "expansion",
    "downgrade": "contraction",
    "churn": "churn",
    "": None,
}

# Documented difference 1 (left edge): customers 2, 3 and 4 are active only in 2017. The peer's
# spine starts at its hard-coded 2018-01, so they have no rows; revbook's spine starts at the
# first MRR in the data (2017-09), so it reports them. (customer, month) -> (mrr, movement, change).
LEFT_EDGE_ONLY_IN_REVBOOK: dict[tuple[int, str], tuple[Decimal, str | None, Decimal]] = {
    (2, "2017-09"): (Decimal(25), "new", Decimal(25)),
    (2, "2017-10"): (Decimal(25), None, Decimal(0)),
    (2, "2017-11"): (Decimal(0), "churn", Decimal(-25)),
    (3, "2017-09"): (Decimal(50), "new", Decimal(50)),
    (3, "2017-10"): (Decimal(0), "churn", Decimal(-50)),
    (4, "2017-10"): (Decimal(25), "new", Decimal(25)),
    (4, "2017-11"): (Decimal(0), "churn", Decimal(-25)),
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _month(value: str) -> str:
    """'2019-01-01' -> '2019-01', revbook's month label."""
    return value[:7]


def _open(tmp: Path, csv_path: Path, as_of: dt.date) -> Workspace:
    ws = Workspace(tmp / "w.duckdb", config=Config(as_of=as_of))
    ws.load(
        {
            "subscriptions": SourceConfig(
                table="subscriptions",
                paths=(csv_path,),
                columns={"account_id": "customer_id", "mrr": "monthly_amount"},
            )
        }
    )
    ids = sorted({int(r["customer_id"]) for r in _read_csv(csv_path)})
    ws.load_frames({"accounts": pa.table({"account_id": pa.array([str(i) for i in ids], pa.string())})})
    return ws


@pytest.fixture(scope="module")
def seed_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ws = _open(tmp_path_factory.mktemp("seed"), PEER / "subscription_periods.csv", SEED_AS_OF)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def probe_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ws = _open(tmp_path_factory.mktemp("probes"), PEER / "probes" / "probe_subscription_periods.csv", PROBE_AS_OF)
    yield ws
    ws.close()


# -- revbook's and the peer's view of each customer-month --------------------------------------------


Row = tuple[Decimal, Decimal, str | None, Decimal]  # (mrr, previous mrr, movement, change)


def _revbook_rows(ws: Workspace) -> dict[tuple[int, str], Row]:
    """(customer, month) -> (mrr, start mrr, movement, mrr change) for every month revbook reports."""
    mrr = {(int(r["account_id"]), r["period"]): r["mrr"] for r in ws.mrr(accounts=True).to_pylist()}
    assert len(mrr) == len(ws.mrr(accounts=True)), "revbook's account MRR grain is not unique"
    moves: dict[tuple[int, str], Row] = {}
    for r in ws.account_movements().to_pylist():
        key = (int(r["account_id"]), r["period"])
        assert key not in moves, f"revbook's account_movements grain is not unique at {key}"
        assert mrr.get(key, Decimal(0)) == r["end_mrr"], f"mrr() and account_movements() disagree at {key}"
        moves[key] = (r["end_mrr"], r["start_mrr"], r["movement"], r["end_mrr"] - r["start_mrr"])
    assert set(mrr) <= set(moves), "an account-month with MRR is missing from account_movements()"
    return moves


def _peer_rows(path: Path) -> dict[tuple[int, str], Row]:
    rows: dict[tuple[int, str], Row] = {}
    for r in _read_csv(path):
        key = (int(r["customer_id"]), _month(r["date_month"]))
        assert key not in rows, f"the peer's grain is not unique at {key}"
        rows[key] = (
            Decimal(r["mrr"]),
            Decimal(r["previous_month_mrr"]),
            CATEGORY[r["change_category"]],
            Decimal(r["mrr_change"]),
        )
    return rows


# A month the peer lists with no covering period (a gap, 0 -> 0) is a month revbook has no row for:
# both say MRR 0 and no movement.
NO_ROW: Row = (Decimal(0), Decimal(0), None, Decimal(0))


def _reconcile(ws: Workspace) -> tuple[dict[tuple[int, str], Row], dict[tuple[int, str], Row], set[tuple[int, str]]]:
    ours = _revbook_rows(ws)
    theirs = _peer_rows(PEER / "mrr.csv")
    keys = set(ours) | set(theirs)
    differ = {k for k in keys if ours.get(k, NO_ROW) != theirs.get(k)}
    return ours, theirs, differ


# -- 1. customer x month --------------------------------------------------------------------------------


def test_seed_loads_as_a_user_would(seed_ws: Workspace) -> None:
    counts = seed_ws.row_counts()
    assert counts["subscriptions"] == 121
    assert counts["accounts"] == 55
    ledger = seed_ws.ledger().to_pylist()
    assert len(ledger) == 121
    # every seed line ends before the as-of date, so every end is a true end (no line is open-ended)
    assert all(r["end_date"] is not None for r in ledger)
    assert sum(r["mrr"] for r in ledger) == Decimal(5205)


def test_customer_months_identical_except_the_left_edge(seed_ws: Workspace) -> None:
    ours, theirs, differ = _reconcile(seed_ws)
    assert len(theirs) == 410
    # The only differences are revbook-only rows for the 2017-only customers, with these exact values.
    assert differ == set(LEFT_EDGE_ONLY_IN_REVBOOK)
    for key, (mrr, movement, change) in LEFT_EDGE_ONLY_IN_REVBOOK.items():
        assert key not in theirs
        assert ours[key][0] == mrr and ours[key][2] == movement and ours[key][3] == change
    # Nothing is in the peer that revbook lacks, except the peer's 0 -> 0 gap months.
    peer_only = set(theirs) - set(ours)
    assert all(theirs[k] == NO_ROW for k in peer_only)
    assert len(peer_only) == 7
    # 410 identical customer-months out of 417 (the union), 7 differences, all explained.
    assert len(set(ours) | set(theirs)) == 417
    assert len(set(ours) | set(theirs)) - len(differ) == 410
    # The peer's renewal_amount is min(mrr, previous mrr) = revbook's min(end_mrr, start_mrr).
    for r in _read_csv(PEER / "mrr.csv"):
        mrr, start, _, _ = ours.get((int(r["customer_id"]), _month(r["date_month"])), NO_ROW)
        assert Decimal(r["renewal_amount"]) == min(mrr, start)


def test_left_edge_customers_are_the_only_pre_2018_activity(seed_ws: Workspace) -> None:
    ours, theirs, _ = _reconcile(seed_ws)
    assert min(m for _, m in theirs) == "2018-01"
    before = {c for c, m in ours if m < "2018-01"}
    assert before == {2, 3, 4}
    assert {c for c, _ in theirs} == set(range(1, 56)) - {2, 3, 4}
    assert {c for c, _ in ours} == set(range(1, 56))


@pytest.mark.parametrize(
    ("peer", "revbook"),
    [
        ("new", "new"),
        ("reactivation", "reactivation"),
        ("upgrade", "expansion"),
        ("downgrade", "contraction"),
        ("churn", "churn"),
    ],
)
def test_category_counts_and_amounts_match(seed_ws: Workspace, peer: str, revbook: str) -> None:
    ours, _, _ = _reconcile(seed_ws)
    peer_rows = [r for r in _read_csv(PEER / "mrr.csv") if r["change_category"] == peer]
    ours_in_spine = [v for (_, m), v in ours.items() if m >= "2018-01" and v[2] == revbook]
    assert len(ours_in_spine) == len(peer_rows)
    assert sum(v[3] for v in ours_in_spine) == sum(Decimal(r["mrr_change"]) for r in peer_rows)


def test_category_totals(seed_ws: Workspace) -> None:
    ours, _, _ = _reconcile(seed_ws)
    counts = Counter(v[2] for v in ours.values() if v[2] is not None)
    # the peer's counts (52 new, 3 reactivation, 30 upgrade, 27 downgrade, 55 churn) plus the
    # left edge's 3 new and 3 churn in 2017
    assert counts == {"new": 55, "reactivation": 3, "expansion": 30, "contraction": 27, "churn": 58}


# -- 2. the monthly summary -------------------------------------------------------------------------------


SUMMARY_MAP = {
    # revbook column: (peer column, sign)
    "start_mrr": ("mrr_start", 1),
    "new_mrr": ("new_mrr", 1),
    "reactivation_mrr": ("reactivation_mrr", 1),
    "expansion_mrr": ("upgrade_mrr", 1),
    "contraction_mrr": ("downgrade_mrr", -1),
    "churn_mrr": ("churn_mrr", -1),
    "end_mrr": ("mrr_end", 1),
    "end_accounts": ("active_customers_end", 1),
    "new_accounts": ("new_customers", 1),
    "reactivated_accounts": ("reactivated_customers", 1),
    "expanded_accounts": ("upgrade_customers", 1),
    "contracted_accounts": ("downgrade_customers", 1),
    "churned_accounts": ("churned_customers", 1),
}


def test_monthly_summary_matches_2018_01_to_2020_02(seed_ws: Workspace) -> None:
    peer = _read_csv(PEER / "derived_monthly_summary.csv")
    ours = seed_ws.movements(start="2018-01-01", end="2020-02-29").to_pylist()
    assert [r["period"] for r in ours] == [_month(r["date_month"]) for r in peer]
    assert len(ours) == 26
    prev_end = 0
    for o, p in zip(ours, peer, strict=True):
        for col, (pcol, sign) in SUMMARY_MAP.items():
            assert o[col] == sign * Decimal(p[pcol]), f"{o['period']} {col}: revbook {o[col]}, peer {pcol} {p[pcol]}"
        assert o["start_accounts"] == prev_end
        prev_end = int(p["active_customers_end"])
        # the identity, exactly
        assert (
            o["start_mrr"]
            + o["new_mrr"]
            + o["reactivation_mrr"]
            + o["expansion_mrr"]
            - o["contraction_mrr"]
            - o["churn_mrr"]
            == o["end_mrr"]
        )
    totals = {m["period"]: m["mrr"] for m in seed_ws.mrr(start="2018-01-01", end="2020-02-29").to_pylist()}
    assert totals == {_month(p["date_month"]): Decimal(p["mrr_end"]) for p in peer}


def test_as_of_inside_the_last_month_reads_only_true_ends(tmp_path: Path) -> None:
    """As of 2019-12-15 the peer's 2019-12 row (17 churns, all lines that ended 2019-12-01) is reproduced;
    the lines ending 2020-01-01 are still running on the snapshot date, and nothing later is read."""
    peer = {_month(r["date_month"]): r for r in _read_csv(PEER / "derived_monthly_summary.csv")}["2019-12"]
    with _open(tmp_path, PEER / "subscription_periods.csv", dt.date(2019, 12, 15)) as ws:
        rows = ws.movements(start="2018-01-01").to_pylist()
    assert rows[-1]["period"] == "2019-12" and str(rows[-1]["period_end"]) == "2019-12-15"
    for col, (pcol, sign) in SUMMARY_MAP.items():
        assert rows[-1][col] == sign * Decimal(peer[pcol]), col
    assert rows[-1]["churned_accounts"] == 17 and rows[-1]["end_mrr"] == Decimal(1255)


def test_monthly_summary_outside_the_peer_spine(seed_ws: Workspace) -> None:
    """revbook's spine runs from the first MRR (2017-09) to the as-of month (2020-03)."""
    rows = {r["period"]: r for r in seed_ws.movements().to_pylist()}
    assert min(rows) == "2017-09" and max(rows) == "2020-03"
    assert len(rows) == 4 + 26 + 1
    pick = ("start_mrr", "new_mrr", "churn_mrr", "end_mrr", "new_accounts", "churned_accounts", "end_accounts")
    got = {p: tuple(rows[p][c] for c in pick) for p in ("2017-09", "2017-10", "2017-11", "2017-12", "2020-03")}
    assert got == {
        "2017-09": (0, 75, 0, 75, 2, 0, 2),
        "2017-10": (75, 25, 50, 50, 1, 1, 2),
        "2017-11": (50, 0, 50, 0, 0, 2, 0),
        "2017-12": (0, 0, 0, 0, 0, 0, 0),
        "2020-03": (0, 0, 0, 0, 0, 0, 0),
    }
    # the 2017 activity never reaches the peer's window, so 2018-01 starts from 0 on both sides
    assert rows["2018-01"]["start_mrr"] == 0


# -- 3. the probes ----------------------------------------------------------------------------------------


def _probe_peer() -> dict[int, list[tuple[str, str | None, Decimal, Decimal]]]:
    """customer -> [(month, revbook-named category, mrr, change)] from the peer's probe output."""
    out: dict[int, list[tuple[str, str | None, Decimal, Decimal]]] = {}
    for r in _read_csv(PEER / "probes" / "probe_mrr.csv"):
        out.setdefault(int(r["customer_id"]), []).append(
            (_month(r["date_month"]), CATEGORY[r["change_category"]], Decimal(r["mrr"]), Decimal(r["mrr_change"]))
        )
    return out


def _probe_ours(ws: Workspace, customer: int) -> list[tuple[str, str, Decimal]]:
    """[(month, movement, signed change)] of one probe customer in revbook."""
    return [
        (r["period"], r["movement"], r["end_mrr"] - r["start_mrr"])
        for r in ws.account_movements().to_pylist()
        if int(r["account_id"]) == customer and r["movement"] is not None
    ]


def _probe_mrr(ws: Workspace, customer: int) -> dict[str, Decimal]:
    return {r["period"]: r["mrr"] for r in ws.mrr(accounts=True).to_pylist() if int(r["account_id"]) == customer}


def _moves(rows: list[tuple[str, str | None, Decimal, Decimal]]) -> list[tuple[str, str, Decimal]]:
    return [(m, c, ch) for m, c, _, ch in rows if c is not None]


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


D = Decimal


def test_probe_customers(probe_ws: Workspace) -> None:
    assert probe_ws.row_counts()["subscriptions"] == 11
    peer = _probe_peer()
    # 101 and 103 are not in the peer's output (101: no rows; 103, the overlap probe, was left out)
    assert sorted(peer) == [102, 104, 105, 106, 107, 108, 109]
    accounts = {int(r["account_id"]) for r in probe_ws.account_movements().to_pylist()}
    assert accounts == {101, 102, 104, 105, 106, 107, 108, 109}


def test_probe_101_open_ended_line_keeps_paying(probe_ws: Workspace) -> None:
    # peer: an open-ended only period gives no rows at all
    assert 101 not in _probe_peer()
    # revbook: new in 2019-01, 50 every month through the as-of month, never churned
    assert _probe_ours(probe_ws, 101) == [("2019-01", "new", D(50))]
    mrr = _probe_mrr(probe_ws, 101)
    assert list(mrr) == _months("2019-01", "2026-11")
    assert len(mrr) == 95 and set(mrr.values()) == {D(50)}


def test_probe_102_closed_then_open_ended(probe_ws: Workspace) -> None:
    # peer: cut at the closed period's end, shown as churned while still paying
    assert _moves(_probe_peer()[102]) == [("2019-01", "new", D(50)), ("2019-03", "churn", D(-50))]
    # revbook: 50, then 60 from 2019-03 (an expansion of 10), paying through the as-of month
    assert _probe_ours(probe_ws, 102) == [("2019-01", "new", D(50)), ("2019-03", "expansion", D(10))]
    mrr = _probe_mrr(probe_ws, 102)
    assert list(mrr) == _months("2019-01", "2026-11")
    assert mrr["2019-02"] == D(50) and mrr["2019-03"] == D(60) and mrr["2026-11"] == D(60)


def test_probe_104_mid_month_dates(probe_ws: Workspace) -> None:
    # peer: a line starting 2019-01-15 is not active on 2019-01-01, so it is new in February
    assert _probe_peer()[104] == [
        ("2019-01", None, D(0), D(0)),
        ("2019-02", "new", D(30), D(30)),
        ("2019-03", None, D(30), D(0)),
        ("2019-04", "churn", D(0), D(-30)),
    ]
    # revbook: active on January's last day, so new in January; ended 2019-04-15, so churn in April
    assert _probe_ours(probe_ws, 104) == [("2019-01", "new", D(30)), ("2019-04", "churn", D(-30))]
    assert _probe_mrr(probe_ws, 104) == {"2019-01": D(30), "2019-02": D(30), "2019-03": D(30)}


def test_probe_105_zero_priced_period_is_not_active(probe_ws: Workspace) -> None:
    # peer: two inactive rows at 0, then new when paid; revbook has no row for the free months
    assert _probe_peer()[105][:2] == [("2019-01", None, D(0), D(0)), ("2019-02", None, D(0), D(0))]
    assert _moves(_probe_peer()[105]) == [("2019-03", "new", D(40)), ("2019-05", "churn", D(-40))]
    assert _probe_ours(probe_ws, 105) == [("2019-03", "new", D(40)), ("2019-05", "churn", D(-40))]
    assert _probe_mrr(probe_ws, 105) == {"2019-03": D(40), "2019-04": D(40)}


def test_probe_106_current_customer_does_not_churn_at_the_run_month(probe_ws: Workspace) -> None:
    # peer: churn in the run month (2026-11) although the period runs to 2099
    assert _moves(_probe_peer()[106]) == [("2026-01", "new", D(70)), ("2026-11", "churn", D(-70))]
    # revbook: still 70 at the as-of snapshot (2026-11-15); the line is open-ended from revbook's view
    assert _probe_ours(probe_ws, 106) == [("2026-01", "new", D(70))]
    mrr = _probe_mrr(probe_ws, 106)
    assert list(mrr) == _months("2026-01", "2026-11") and set(mrr.values()) == {D(70)}
    last = probe_ws.movements(start="2026-11-01").to_pylist()
    assert [(r["period"], str(r["period_end"]), r["churned_accounts"]) for r in last] == [("2026-11", "2026-11-15", 0)]
    assert last[0]["end_mrr"] == D(50 + 60 + 70)  # 101, 102 and 106 are paying on the as-of date


def test_probe_107_active_before_2018(probe_ws: Workspace) -> None:
    # peer: the left edge is ignored, the customer is "new" in 2018-01
    assert _moves(_probe_peer()[107]) == [("2018-01", "new", D(40)), ("2018-03", "churn", D(-40))]
    # revbook: the data start in 2017-06, so the customer is new then, and 2018-01 is no movement
    assert _probe_ours(probe_ws, 107) == [("2017-06", "new", D(40)), ("2018-03", "churn", D(-40))]
    assert list(_probe_mrr(probe_ws, 107)) == _months("2017-06", "2018-02")
    jan = probe_ws.movements(start="2018-01-01", end="2018-01-31").to_pylist()
    assert [(r["start_mrr"], r["new_mrr"], r["end_mrr"], r["new_accounts"]) for r in jan] == [(D(40), D(0), D(40), 0)]


def test_probe_108_reactivation_is_the_whole_new_mrr(probe_ws: Workspace) -> None:
    expected = [
        ("2019-01", "new", D(50)),
        ("2019-02", "churn", D(-50)),
        ("2019-03", "reactivation", D(80)),
        ("2019-04", "churn", D(-80)),
    ]
    assert _moves(_probe_peer()[108]) == expected
    assert _probe_ours(probe_ws, 108) == expected
    # the return at a higher price is all reactivation; no part of it is split off as expansion
    # (the month's one expansion, of 10, is probe 102's)
    mar = probe_ws.movements(start="2019-03-01", end="2019-03-31").to_pylist()[0]
    assert (mar["reactivation_mrr"], mar["reactivated_accounts"]) == (D(80), 1)
    assert (mar["expansion_mrr"], mar["expanded_accounts"]) == (D(10), 1)


def test_probe_109_one_month(probe_ws: Workspace) -> None:
    expected = [("2019-06", "new", D(25)), ("2019-07", "churn", D(-25))]
    assert _moves(_probe_peer()[109]) == expected
    assert _probe_ours(probe_ws, 109) == expected
    assert _probe_mrr(probe_ws, 109) == {"2019-06": D(25)}


def test_overlapping_periods_are_summed(tmp_path: Path) -> None:
    """The peer's overlap probe (103) is not stored, its output not being deterministic; revbook sums overlaps.

    Input written here in the peer's seed format: 50 from 2019-01 to 2019-04, plus 30 from 2019-02 to 2019-03.
    """
    src = tmp_path / "overlap.csv"
    src.write_text(
        "subscription_id,customer_id,start_date,end_date,monthly_amount\n"
        "1,103,2019-01-01,2019-04-01,50\n"
        "2,103,2019-02-01,2019-03-01,30\n",
        encoding="utf-8",
    )
    with _open(tmp_path, src, PROBE_AS_OF) as ws:
        assert _probe_ours(ws, 103) == [
            ("2019-01", "new", D(50)),
            ("2019-02", "expansion", D(30)),
            ("2019-03", "contraction", D(-30)),
            ("2019-04", "churn", D(-50)),
        ]
        assert _probe_mrr(ws, 103) == {"2019-01": D(50), "2019-02": D(80), "2019-03": D(50)}
