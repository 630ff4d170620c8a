"""A workspace whose text is hostile to spreadsheets (importable as `hostile`: tests/ is on pytest's pythonpath):
account names, segments, owner names, teams and notes that a spreadsheet would run as formulas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from revbook import Config, Workspace

AS_OF = dt.date(2024, 12, 31)
#: what an attacker types into a CRM field (OWASP's CSV-injection examples); the load trims a leading
#: tab or carriage return, so those two are tested on frames written directly
HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://example.com","x")']
TAB_AND_CR = ["\tTAB", "\rCR"]
#: an account id a spreadsheet would read as a number and one it would read as a formula
IDS = ["A0", "A1", "-7", "A3", "=1+2"]


def hostile_workspace(directory: Path) -> Workspace:
    """Five accounts, each with one hostile value as its name, segment, CSM name, team and note; MRR
    100.00, 200.00, ... from 2024-01-01; the last churns on 2024-06-01."""
    n = len(HOSTILE)
    ws = Workspace(directory / "hostile.duckdb", config=Config(as_of=AS_OF))
    ws.load_frames(
        {
            "accounts": pa.table({"account_id": IDS, "name": HOSTILE, "segment": HOSTILE}),
            "subscriptions": pa.table(
                {
                    "account_id": IDS,
                    "subscription_id": [f"S{i}" for i in range(n)],
                    "start_date": [dt.date(2024, 1, 1)] * n,
                    "end_date": pa.array([None] * (n - 1) + [dt.date(2024, 6, 1)], pa.date32()),
                    "mrr": [f"{100 * (i + 1)}" for i in range(n)],
                }
            ),
            "owners": pa.table(
                {
                    "account_id": IDS,
                    "owner_id": [f"P{i}" for i in range(n)],
                    "role": ["csm"] * n,
                    "start_date": [dt.date(2024, 1, 1)] * n,
                }
            ),
            "people": pa.table({"owner_id": [f"P{i}" for i in range(n)], "name": HOSTILE, "team": HOSTILE}),
            "notes": pa.table(
                {
                    "account_id": IDS,
                    "date": [dt.date(2024, 5, 1)] * n,
                    "text": [f"{h} we are being acquired by a rival" for h in HOSTILE],
                }
            ),
        }
    )
    return ws


def risky(cell: str) -> bool:
    """A CSV or sheet cell a spreadsheet would read as a formula: text beginning with = + - @, tab or CR
    that is not a plain number."""
    if not cell or cell[0] not in "=+-@\t\r":
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False
