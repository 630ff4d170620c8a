from __future__ import annotations

from pathlib import Path

import pytest

from revbook import Config, Workspace
from support import AS_OF, write


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as w:
        yield w


@pytest.fixture
def small_files(tmp_path: Path) -> dict[str, Path]:
    """A three-account company as a user's CSV exports, with canonical column names."""
    data = tmp_path / "data"
    data.mkdir()
    return {
        "accounts": write(
            data / "accounts.csv",
            "account_id,name,segment,region\nA,Acme & Co,smb,na\nB,Brügge GmbH,mid_market,emea\nC,Cobalt,smb,na\n",
        ),
        "subscriptions": write(
            data / "subscriptions.csv",
            "account_id,subscription_id,product,plan,start_date,end_date,amount,billing_period_months,currency\n"
            "A,S1,core,basic,2024-01-01,2024-04-01,100,1,USD\n"
            "A,S2,core,pro,2024-04-01,,150,1,USD\n"
            'B,S3,core,pro,2024-02-15,2025-02-15,"12,000.00",12,EUR\n'
            "C,S4,core,basic,2024-03-01,2024-06-01,50,1,USD\n",
        ),
        "fx_rates": write(
            data / "fx.csv", "date,currency,rate_to_reporting\n2024-01-01,EUR,1.10\n2024-06-01,EUR,1.20\n"
        ),
        "owners": write(
            data / "owners.csv",
            "account_id,owner_id,role,start_date,end_date\nA,P1,csm,2024-01-01,2024-07-01\nA,P2,csm,2024-07-01,\n"
            "B,P2,csm,2024-01-01,\n",
        ),
        "people": write(data / "people.csv", "owner_id,name,team\nP1,Ada,SMB Pod\nP2,Bo,Mid-Market\n"),
    }
