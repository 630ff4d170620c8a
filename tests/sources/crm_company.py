"""The fixture company of the CRM connector tests, as the files a user would load.

Four accounts (104 is a child of 101), three owners (Ada and Bo in Customer Success, Cy in Sales;
Ada has since left), a change of owner on 101 (Ada to Bo on 2024-07-01) and on 102 (Cy, an AE, to
Bo on 2024-03-01), three CS deals (an expansion won, a renewal won, an expansion still open) beside a
new-business deal the connectors do not read, notes (two of one day joined) and two activities.
Acme EU's owner is an integration user whose team or role owner_roles does not map: with
``default_role = ""`` it is left out (a CRM gives every account an owner from its creation, so the
first owner's start is the account's creation date).
Each connector test serves the same company in its API's object shapes and checks that the
connector loads exactly these tables. ``{ada}``... are the CRM's own ids of owners and deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from support import write

AS_OF = dt.date(2024, 12, 31)

SUBSCRIPTIONS = """account_id,subscription_id,start_date,end_date,mrr
101,S1,2024-01-01,,500
101,S2,2024-07-01,,100
102,S3,2024-02-01,,1000
103,S4,2024-03-01,,200
104,S5,2024-02-01,,50
"""

CRM_FILES = {
    "accounts": """account_id,name,segment,region,industry,created_at,parent_account_id
101,Acme,enterprise,na,Software,2024-01-01,
102,Brick,mid_market,emea,Construction,2024-01-20,
103,Cobalt,smb,na,,2024-03-01,
104,Acme EU,enterprise,emea,Software,2024-01-25,101
""",
    "people": """owner_id,name,team
{ada},Ada Lovelace,Customer Success
{bo},Bo Diddley,Customer Success
{cy},Cy Young,Sales
""",
    "owners": """account_id,owner_id,role,start_date,end_date
101,{ada},csm,2024-01-01,2024-07-01
101,{bo},csm,2024-07-01,
102,{cy},ae,2024-01-20,2024-03-01
102,{bo},csm,2024-03-01,
103,{ada},csm,2024-03-01,
""",
    "opportunities": """account_id,opportunity_id,kind,arr_delta,stage,created_at,closed_at,won,owner_role,source
101,{o901},expansion,1200,{won},2024-05-01,2024-06-20,true,csm,csm
102,{o902},renewal,12000,{won},2024-10-01,2024-12-15,true,csm,
103,{o904},expansion,600,{open},2024-11-01,,,ae,ae
""",
    "notes": """account_id,date,author,source,text
101,2024-06-10,{bo},note,Great QBR & they want more seats
102,2024-09-01,{bo},note,Budget review: they are considering a cheaper competitor
103,2024-08-01,{ada},note,"Kick-off done

Asked about SSO"
""",
    "activities": """account_id,date,type,outcome
101,2024-06-05,qbr,
102,2024-09-02,call,completed
""",
}


def billing(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write(folder / "subscriptions.csv", SUBSCRIPTIONS)


def crm_files(folder: Path, ids: Mapping[str, str]) -> dict[str, Path]:
    """The CRM tables as CSV files, with the CRM's own owner and deal ids."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write(folder / f"{name}.csv", body.format(**ids)) for name, body in CRM_FILES.items()}


def rows(ws, name: str) -> list[tuple]:
    """A loaded table's rows, in a stable order (a connector's and files' load orders differ)."""
    return sorted(tuple("" if v is None else str(v) for v in r.values()) for r in ws.table(name).to_pylist())
