"""why_numbers_differ(against="crm"): revbook's ARR beside the CRM's ARR field on each day a sync read it.

The worked example of docs/reconciliation.md "Against the CRM's ARR field": one planted difference
of each cause on the sync of 2024-03-15, and a sync of 2024-01-15 that a later value never rewrites."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from revbook import Config, RevbookError, Workspace, WorkspaceError
from revbook.config.crm import HubspotSettings
from revbook.errors import ConfigError
from revbook.metrics.reconcile import CRM_CAUSES
from revbook.sources.crm_map import Company, Crm, contract_rows, load_crm

D = dt.date
JAN, MAR, APR = D(2024, 1, 15), D(2024, 3, 15), D(2024, 4, 15)


def _company() -> dict[str, pa.Table]:
    subs = [
        # account, start, end, mrr, currency, discount %, trial
        ("A", D(2024, 1, 1), None, "100", "USD", None, False),  # the CRM agrees
        ("N", D(2024, 1, 1), None, "50", "USD", None, False),  # not in the CRM
        ("C", D(2024, 1, 1), D(2024, 3, 1), "80", "USD", None, False),  # churned March 1, ARR left in the CRM
        ("T", D(2024, 3, 1), D(2024, 4, 1), "100", "USD", None, True),  # a trial the CRM counts at price
        ("P", D(2024, 3, 20), None, "200", "USD", None, False),  # billed from March 20: not yet on the 15th
        ("D", D(2024, 3, 1), None, "100", "USD", "10", False),  # 10 % off; the CRM keeps list price
        ("X", D(2024, 1, 1), None, "100", "EUR", None, False),  # EUR, revbook at the 1.10 of its start
        ("U", D(2024, 3, 1), None, "100", "USD", None, False),  # the CRM says 1,500: nothing explains it
    ]
    crm = [
        ("A", JAN, "1200"),
        ("C", JAN, "960"),
        ("X", JAN, "1320"),
        ("A", MAR, "1200"),
        ("N", MAR, ""),  # the field is empty
        ("C", MAR, "960"),
        ("T", MAR, "1200"),
        ("P", MAR, "2400"),
        ("D", MAR, "1200"),
        ("X", MAR, "1440"),  # EUR 1,200 at March's 1.20
        ("U", MAR, "1500"),
        ("A", APR, "999999"),  # read after the as-of date: never compared
    ]
    return {
        "accounts": pa.table({"account_id": [s[0] for s in subs]}),
        "subscriptions": pa.table(
            {
                "account_id": [s[0] for s in subs],
                "subscription_id": [f"S{s[0]}" for s in subs],
                "start_date": [s[1] for s in subs],
                "end_date": [s[2] for s in subs],
                "mrr": [s[3] for s in subs],
                "currency": [s[4] for s in subs],
                "discount_percent": [s[5] for s in subs],
                "is_trial": [s[6] for s in subs],
            }
        ),
        "account_history": pa.table(
            {
                "account_id": [c[0] for c in crm],
                "attribute": ["crm_arr"] * len(crm),
                "value": [c[2] or None for c in crm],
                "valid_from": [c[1] for c in crm],
            }
        ),
        "fx_rates": pa.table(
            {"currency": ["EUR", "EUR"], "date": [D(2024, 1, 1), D(2024, 3, 1)], "rate_to_reporting": ["1.10", "1.20"]}
        ),
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    with Workspace(tmp_path_factory.mktemp("crm") / "c.duckdb", config=Config(as_of=D(2024, 3, 31))) as w:
        w.load_frames(_company())
        yield w


def test_each_read_day_is_split_to_the_cent(ws):
    jan, mar = ws.why_numbers_differ(against="crm").to_pylist()
    assert (jan["read_on"], mar["read_on"]) == (JAN, MAR)  # April's value is after the as-of date
    # January 15: A 1,200 + N 600 + C 960 + X 1,320 (EUR 100 x 1.10 x 12) in revbook; the CRM lacks N
    assert (jan["revbook_arr"], jan["crm_arr"], jan["difference"]) == (
        Decimal("4080.00"),
        Decimal("3480.00"),
        Decimal("600.00"),
    )
    assert jan["not_in_crm"] == Decimal("600.00") and jan["unexplained"] == 0
    # March 15: revbook A 1,200 + N 600 + D 1,080 + X 1,320 + U 1,200 = 5,400 (C churned, T a trial, P not started)
    # CRM: A 1,200 + C 960 + T 1,200 + P 2,400 + D 1,200 + X 1,440 + U 1,500 = 9,900
    assert (mar["revbook_arr"], mar["crm_arr"], mar["difference"]) == (
        Decimal("5400.00"),
        Decimal("9900.00"),
        Decimal("-4500.00"),
    )
    assert {c: mar[c] for c in CRM_CAUSES} == {
        "not_in_crm": Decimal("600.00"),  # N: 50 x 12, the CRM's field is empty
        "not_in_revbook": Decimal("-2400.00"),  # P: billed only from March 20
        "churned": Decimal("-960.00"),  # C: churned March 1 in revbook, 960 still in the CRM
        "trials": Decimal("-1200.00"),  # T: revbook counts a trial at 0
        "discounts": Decimal("-120.00"),  # D: revbook 90 x 12 net, the CRM 100 x 12 list
        "fx": Decimal("-120.00"),  # X: (110 - 120) x 12, EUR 100 at 1.10 (start) vs 1.20 (March 15)
    }
    assert mar["unexplained"] == Decimal("-300.00")  # U: 1,200 vs 1,500


def test_each_cause_names_its_account_and_every_row_adds_up(ws):
    rows = ws.why_numbers_differ(against="crm", accounts=True).to_pylist()
    march = [r for r in rows if r["read_on"] == MAR]
    assert {c: {r["account_id"] for r in march if r[c]} for c in (*CRM_CAUSES, "unexplained")} == {
        "not_in_crm": {"N"},
        "not_in_revbook": {"P"},
        "churned": {"C"},
        "trials": {"T"},
        "discounts": {"D"},
        "fx": {"X"},
        "unexplained": {"U"},
    }
    assert {r["account_id"] for r in rows if r["read_on"] == JAN} == {"N"}  # A, C and X agreed then
    for r in rows + ws.why_numbers_differ(against="crm").to_pylist():
        assert r["difference"] == r["revbook_arr"] - r["crm_arr"]
        assert r["difference"] == sum(r[c] for c in (*CRM_CAUSES, "unexplained"))


def test_a_convention_that_would_widen_the_gap_is_not_a_cause(tmp_path):
    """D's CRM value is the net price revbook already uses: the list price would move away from it."""
    frames = _company()
    history = frames["account_history"].to_pylist()
    for h in history:
        if h["account_id"] == "D" and h["valid_from"] == MAR:
            h["value"] = "1080"
    frames["account_history"] = pa.Table.from_pylist(history, schema=frames["account_history"].schema)
    with Workspace(tmp_path / "d.duckdb", config=Config(as_of=D(2024, 3, 31))) as w:
        w.load_frames(frames)
        rows = w.why_numbers_differ(against="crm", accounts=True).to_pylist()
        assert "D" not in {r["account_id"] for r in rows}
    # at list price revbook's D is 1,200; the CRM's net 1,080 is then a discount of +120
    with Workspace(tmp_path / "d.duckdb", config=Config(as_of=D(2024, 3, 31), mrr_price="list")) as w:
        (d,) = [r for r in w.why_numbers_differ(against="crm", accounts=True).to_pylist() if r["account_id"] == "D"]
    assert (d["difference"], d["discounts"], d["unexplained"]) == (Decimal("120.00"), Decimal("120.00"), 0)


def test_without_crm_values_it_says_how_to_read_them(tmp_path):
    frames = {k: v for k, v in _company().items() if k != "account_history"}
    with Workspace(tmp_path / "n.duckdb", config=Config(as_of=D(2024, 3, 31))) as w:
        w.load_frames(frames)
        with pytest.raises(WorkspaceError, match="no CRM ARR values") as err:
            w.why_numbers_differ(against="crm")
    assert "[hubspot.fields] arr" in (err.value.hint or "")


def _crm(read_on: dt.date, arr: dict[str, object]) -> Crm:
    companies = [Company(crm_id=f"c{a}", account_id=a, arr=v) for a, v in arr.items()]
    return Crm(companies, {}, [], [], [], [], read_on=read_on)


def test_a_sync_adds_its_day_of_arr_and_keeps_earlier_days(tmp_path):
    settings = HubspotSettings.from_mapping({"fields": {"arr": "arr"}})
    rows, warnings = contract_rows(_crm(JAN, {"A": "1200.50", "B": "n/a", "C": None}), settings)
    assert rows["account_history"] == [
        {"account_id": "A", "attribute": "crm_arr", "value": "1200.50", "valid_from": JAN},
        {"account_id": "B", "attribute": "crm_arr", "value": None, "valid_from": JAN},
        {"account_id": "C", "attribute": "crm_arr", "value": None, "valid_from": JAN},
    ]
    assert any("1 companies have an 'arr' that is not a number" in w for w in warnings)
    # without the field mapped, no ARR is read
    assert contract_rows(_crm(JAN, {"A": "1"}), HubspotSettings())[0]["account_history"] == []

    with Workspace(tmp_path / "s.duckdb", config=Config(as_of=D(2024, 3, 31))) as w:
        w.load_frames(
            {
                "accounts": pa.table({"account_id": ["A", "B"]}),
                "subscriptions": pa.table(
                    {"account_id": ["A"], "subscription_id": ["SA"], "start_date": [D(2024, 1, 1)], "mrr": ["100"]}
                ),
                "account_history": pa.table(
                    {"account_id": ["A"], "attribute": ["segment"], "value": ["smb"], "valid_from": [D(2024, 1, 1)]}
                ),
            }
        )
        load_crm(w, _crm(JAN, {"A": "1200", "B": "300"}), settings, started=0.0)
        load_crm(w, _crm(MAR, {"A": "1500", "B": "300"}), settings, started=0.0)
        load_crm(w, _crm(MAR, {"A": "1300", "B": "300"}), settings, started=0.0)  # the day read again
        history = w.con.execute(
            "SELECT account_id, attribute, value, valid_from FROM account_history ORDER BY 2, 1, 4"
        ).fetchall()
        assert history == [
            ("A", "crm_arr", "1200", JAN),
            ("A", "crm_arr", "1300", MAR),
            ("B", "crm_arr", "300", JAN),
            ("B", "crm_arr", "300", MAR),
            ("A", "segment", "smb", D(2024, 1, 1)),
        ]
        jan, mar = w.why_numbers_differ(against="crm").to_pylist()
    # A's 1,300 read in March is not what the CRM said in January
    assert (jan["difference"], jan["not_in_revbook"]) == (Decimal("-300.00"), Decimal("-300.00"))
    assert (mar["difference"], mar["unexplained"]) == (Decimal("-400.00"), Decimal("-100.00"))


def test_the_arr_field_is_a_checked_mapping():
    assert HubspotSettings.from_mapping({"fields": {"arr": "arr"}}).field_for("arr") == "arr"
    assert HubspotSettings().field_for("arr") == ""
    with pytest.raises(ConfigError, match=r"unknown key 'ar' in \[hubspot.fields\]"):
        HubspotSettings.from_mapping({"fields": {"ar": "arr"}})


def test_a_crm_arr_that_is_not_a_number_rejects_the_load(tmp_path):
    frames = _company()
    history = frames["account_history"].to_pylist()
    history[0]["value"] = "12k"
    frames["account_history"] = pa.Table.from_pylist(history, schema=frames["account_history"].schema)
    w = Workspace(tmp_path / "b.duckdb", config=Config(as_of=D(2024, 3, 31)))
    with w, pytest.raises(RevbookError, match="crm_arr value in account_history is not a number"):
        w.load_frames(frames)
