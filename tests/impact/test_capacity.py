"""Capacity: each account's complexity weight and each CSM's load, on a hand-built book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import Config, Workspace
from revbook.config import CsmImpactSettings
from revbook.impact.capacity import account_weights, capacity
from support import write

ON = dt.date(2025, 6, 30)


def _files(folder: Path) -> dict[str, Path]:
    """A: smb, two products, an escalated case open on the date (an open risk and an escalation in
    the last 90 days). B: enterprise, its contract ends in 46 days (a renewal due); its escalated
    case was opened and closed in February. C: mid_market, a cancellation requested (an open risk).
    D: no segment, an escalated case opened in May and closed (an escalation, no open risk).
    E: no CSM."""
    return {
        "accounts": write(
            folder / "accounts.csv",
            "account_id,name,segment\nA,a,smb\nB,b,enterprise\nC,c,mid_market\nD,d,\nE,e,smb\n",
        ),
        "subscriptions": write(
            folder / "subscriptions.csv",
            "account_id,subscription_id,product,start_date,end_date,amount,billing_period_months,"
            "contract_end_date,cancel_requested_at\n"
            "A,S1,core,2025-01-01,,100,1,,\nA,S2,addon,2025-03-01,,50,1,,\n"
            "B,S3,core,2024-08-15,,12000,12,2025-08-15,\n"
            "C,S4,core,2025-01-01,,300,1,,2025-06-10\n"
            "D,S5,core,2025-01-01,,80,1,,\n"
            "E,S6,core,2025-01-01,,90,1,,\n",
        ),
        "tickets": write(
            folder / "tickets.csv",
            "account_id,ticket_id,opened_at,closed_at,escalated\n"
            "A,T1,2025-06-01,,true\nB,T2,2025-02-01,2025-02-10,true\nD,T3,2025-05-01,2025-05-20,true\n"
            "D,T4,2025-06-20,,false\n",
        ),
        "owners": write(
            folder / "owners.csv",
            "account_id,owner_id,role,start_date,end_date\n"
            "A,P1,csm,2025-01-01,\nB,P1,csm,2024-08-01,\nC,P2,csm,2025-01-01,\nD,P2,csm,2025-01-01,\n",
        ),
        "people": write(folder / "people.csv", "owner_id,name,team\nP1,Ada,Pod\nP2,Bo,Pod\n"),
    }


@pytest.fixture
def ws(tmp_path):
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=ON)) as w:
        w.load(_files(tmp_path))
        yield w


def test_worked_example_of_capacity_weights(ws):
    acc = {r["account_id"]: r for r in account_weights(ws).to_arrow().to_pylist()}
    # smb 1.0 + one product beyond the first 0.25 + open risk 1.0 + one escalation 0.25
    assert acc["A"]["products"] == 2 and acc["A"]["open_escalated"] == 1 and acc["A"]["open_risk"]
    assert acc["A"]["weight"] == 2.5
    # enterprise 2.5 + renewal due 0.5 (the February escalation is outside the 90 days and closed)
    assert acc["B"]["renewal_due"] and not acc["B"]["open_risk"] and acc["B"]["escalations_90d"] == 0
    assert acc["B"]["weight"] == 3.0
    # mid_market 1.5 + open risk 1.0 (a cancellation requested: its health is capped in the red band)
    assert acc["C"]["cancel_requested"] and acc["C"]["health_band"] == "red" and acc["C"]["weight"] == 2.5
    # no segment 1.0 + open risk 1.0 + one escalation in the last 90 days 0.25: its escalated case is
    # closed, but its health is red: support is its only component, two cases in 90 days, one escalated,
    # one still open: 100 - 25 - 25 - 12.5 = 37.5 (docs/health.md)
    assert acc["D"]["health_band"] == "red" and acc["D"]["open_risk"]
    assert acc["D"]["segment"] == "(none)" and acc["D"]["weight"] == 2.25
    assert acc["E"]["owner"] == "(none)"


def test_capacity_per_csm_with_the_load_against_the_median(ws):
    rows = capacity(ws).to_arrow().to_pylist()
    assert [r["owner"] for r in rows] == ["P1", "P2"]  # highest load first; E has no CSM
    p1, p2 = rows
    assert (p1["accounts"], p1["load"], p1["load_per_account"]) == (2, 5.5, 2.75)
    assert (p2["accounts"], p2["load"], p2["load_per_account"]) == (2, 4.75, 2.38)
    # the median of 5.5 and 4.75 is 5.125
    assert p1["load_vs_median"] == round(5.5 / 5.125, 3) and p2["load_vs_median"] == round(4.75 / 5.125, 3)
    assert p1["managed_arr"] == Decimal("13800.00") and p2["managed_arr"] == Decimal("4560.00")
    assert (p1["open_risks"], p1["renewals_due"], p1["escalations_90d"], p1["multi_product"]) == (1, 1, 1, 1)
    assert (p2["open_risks"], p2["renewals_due"], p2["escalations_90d"], p2["multi_product"]) == (2, 0, 1, 0)
    assert capacity(ws, owner="P2").to_arrow().to_pylist() == [p2]


def test_capacity_weights_come_from_the_settings(tmp_path):
    weights = CsmImpactSettings(segment_weights={"smb": 3.0}, other_segment_weight=0.5, risk_weight=0.0)
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=ON, csm_impact=weights)) as ws:
        ws.load(_files(tmp_path))
        acc = {r["account_id"]: r["weight"] for r in account_weights(ws).to_arrow().to_pylist()}
    # A: smb 3.0 + 0.25 + 0.25; B: unlisted segment 0.5 + 0.5; C: 0.5; D: 0.5 + 0.25
    assert acc == {"A": 3.5, "B": 1.0, "C": 0.5, "D": 0.75, "E": 3.0}


def test_capacity_is_read_on_a_date(ws):
    early = {r["account_id"]: r for r in account_weights(ws, on="2025-02-05").to_arrow().to_pylist()}
    # on 5 February: A has one product, C has asked for nothing, B's case is open and escalated
    assert early["A"]["products"] == 1 and not early["C"]["cancel_requested"]
    assert early["B"]["open_escalated"] == 1 and early["B"]["open_risk"]
