"""Why our numbers differ from the CRM's ARR field (``why_numbers_differ(store, against="crm")``).

A CRM connector with ``[<crm>.fields] arr`` set keeps each company's ARR field as it stood on the day
of each sync: an ``account_history`` row, attribute ``crm_arr``, valid_from = the sync day
(revbook.sources.crm_map). A value read on a day is known from that day only, so the comparison is
made on each day a sync read the field, never earlier: for account ``a`` and read day ``d``
(on or before the as-of date), in minor units of the reporting currency:

* ``revbook_arr``: 12 x the account's MRR on ``d`` (``ledger.account_mrr_sql``), the workspace's
  conventions; ``crm_arr``: the value read on ``d`` (assumed in the reporting currency, rounded
  half-even to its minor units); ``difference`` = revbook_arr - crm_arr;
* ``not_in_crm``: revbook has ARR on ``d`` but the CRM has none for it (no row read that day, an
  empty field or 0): the whole difference;
* revbook's ARR is 0 on ``d`` but the CRM holds some: ``trials`` when a trial line is active then
  (revbook counts a trial at 0), else ``churned`` when the account had MRR before ``d`` (churned in
  revbook, ARR still in the CRM), else ``not_in_revbook`` (no MRR ever by ``d``: a deal not billed
  yet, or an id the billing tables do not use); the whole difference;
* both have ARR: ``discounts`` = revbook_arr minus the ARR at the other price convention
  (``mrr_price`` list vs net) and ``fx`` = 12 x the MRR of the account's foreign-currency lines at
  their start's rate minus at the rate of ``d``, each attributed when it is part of the combination
  that brings revbook's figure nearest the CRM's (``best_causes``: a convention the CRM shares with
  revbook explains nothing);
* ``unexplained``: the difference less all of the above, so each row adds up to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyarrow as pa

from ..contract import CRM_ARR_ATTRIBUTE
from ..errors import WorkspaceError
from ..frame import Frame
from ..ledger import account_mrr_sql
from .book import Book, book_of
from .reconcile_split import best_causes, fx_drift, money_array, trial_only

if TYPE_CHECKING:
    from ..config import Config
    from ..engines import Engine
    from ..store import Store

__all__ = ["CRM_CAUSES", "against_crm"]

#: the causes a difference against the CRM's ARR field splits into, in the order of the columns
CRM_CAUSES = ("not_in_crm", "not_in_revbook", "churned", "trials", "discounts", "fx")
MONTHS = 12
EPOCH = "DATE '1970-01-01'"

DayKey = tuple[str, int]  # (account_id, days since 1970-01-01)


def _days(snap: dt.date) -> str:
    """The read days as a relation of (period: days since 1970, period_end: the day)."""
    return f"""(SELECT DISTINCT date_diff('day', {EPOCH}, valid_from) AS period, valid_from AS period_end
        FROM account_history WHERE attribute = '{CRM_ARR_ATTRIBUTE}' AND valid_from <= DATE '{snap.isoformat()}')"""


def _arr_on(engine: Engine, lines: str, days: str) -> dict[DayKey, int]:
    """12 x each account's MRR on each read day, minor units (accounts with MRR only)."""
    sql = account_mrr_sql(lines, days, "period_end", every_account=True)
    rows = engine.arrow(f"SELECT account_id, date_diff('day', {EPOCH}, period_end) AS day, mrr FROM {sql}")
    return {(str(r["account_id"]), int(r["day"])): MONTHS * int(r["mrr"]) for r in rows.to_pylist() if r["mrr"]}


def _arr_at_other_price(store: Store, config: Config, days: str) -> dict[DayKey, int]:
    """The same ARR at the other mrr_price (list <-> net), on a cursor of its own."""
    from ..engines.duckdb import DuckDBEngine

    cursor = store.con.cursor()
    try:
        engine = DuckDBEngine(cursor)
        other = Book(engine, config.with_(mrr_price="net" if config.mrr_price == "list" else "list"))
        return _arr_on(engine, other.ledger(), days)
    finally:
        cursor.close()


def _crm_values(store: Store, snap: dt.date, mu: int) -> dict[DayKey, int]:
    """The CRM's ARR read on each day, in minor units; an empty field is absent."""
    rows = store.con.execute(
        f"""SELECT account_id, date_diff('day', {EPOCH}, valid_from), value, _file, _row FROM account_history
            WHERE attribute = ? AND valid_from <= ? AND value IS NOT NULL AND trim(value) <> ''""",
        [CRM_ARR_ATTRIBUTE, snap],
    ).fetchall()
    quantum = Decimal(1).scaleb(-mu)
    out: dict[DayKey, int] = {}
    for account, day, value, file, row in rows:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise WorkspaceError(
                f"{file}: row {row}: the {CRM_ARR_ATTRIBUTE} of {account} is not a number: {value!r}",
                hint=f"give {CRM_ARR_ATTRIBUTE} values as decimals in the reporting currency, e.g. 12000.00",
            )
        out[(str(account), int(day))] = int(amount.quantize(quantum, rounding=ROUND_HALF_EVEN).scaleb(mu))
    return out


def split_against_crm(store: Store) -> dict[DayKey, dict[str, int]]:
    """Per (account, read day): revbook_arr, crm_arr, difference, each of CRM_CAUSES and unexplained."""
    config = store.config
    snap, mu = config.snapshot_date(), config.minor_units
    theirs = _crm_values(store, snap, mu)
    read = store.con.execute(
        "SELECT count(*) FROM account_history WHERE attribute = ? AND valid_from <= ?", [CRM_ARR_ATTRIBUTE, snap]
    ).fetchone()
    if not read or not read[0]:
        raise WorkspaceError(
            f"the workspace has no CRM ARR values read on or before {snap}",
            hint='set the ARR field ([hubspot.fields] arr = "arr", or [salesforce.fields] arr = "ARR__c") '
            "and run revbook connect hubspot (or salesforce)",
        )
    book = book_of(store)
    days = _days(snap)
    ours = _arr_on(book.engine, book.ledger(), days)
    other_price = _arr_at_other_price(store, config, days)
    drift = fx_drift(book, days, config.reporting_currency)
    trials = trial_only(book, days)
    earlier = book.engine.arrow(
        f"""SELECT DISTINCT l.account_id, p.period FROM {book.ledger()} l JOIN {days} p
            ON l.mrr > 0 AND l.start_date < p.period_end"""
    ).to_pylist()
    had_mrr = {(str(r["account_id"]), int(r["period"])) for r in earlier}

    rows: dict[DayKey, dict[str, int]] = {}
    for key in set(ours) | set(theirs):
        r, c = ours.get(key, 0), theirs.get(key, 0)
        row: dict[str, int] = defaultdict(int)
        row["revbook_arr"], row["crm_arr"], row["difference"] = r, c, r - c
        if r and not c:
            row["not_in_crm"] = r - c
        elif c and not r:
            cause = "trials" if key in trials else "churned" if key in had_mrr else "not_in_revbook"
            row[cause] = r - c
        elif r and c:
            candidates = {"discounts": r - other_price.get(key, 0), "fx": MONTHS * drift.get(key, 0)}
            row.update(best_causes(r - c, candidates))
        row["unexplained"] = row["difference"] - sum(row[k] for k in CRM_CAUSES)
        rows[key] = row
    return rows


def against_crm(store: Store, *, accounts: bool = False) -> Frame:
    """One row per read day (``accounts``: per account and read day with a difference): revbook's ARR
    beside the CRM's ARR field, the difference split by cause to the cent."""
    rows = split_against_crm(store)
    mu = store.config.minor_units
    columns = ("revbook_arr", "crm_arr", "difference", *CRM_CAUSES, "unexplained")
    epoch = dt.date(1970, 1, 1)
    if accounts:
        keys = sorted((k for k, r in rows.items() if r["difference"]), key=lambda k: (k[1], k[0]))
        data: dict[str, object] = {
            "read_on": pa.array([epoch + dt.timedelta(days=k[1]) for k in keys], pa.date32()),
            "account_id": [k[0] for k in keys],
        }
        for c in columns:
            data[c] = money_array([rows[k][c] for k in keys], mu)
        return Frame("why_numbers_differ_crm_accounts", pa.table(data))
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_, day), row in rows.items():
        for c in columns:
            totals[day][c] += row[c]
    order = sorted(totals)
    data = {"read_on": pa.array([epoch + dt.timedelta(days=d) for d in order], pa.date32())}
    for c in columns:
        data[c] = money_array([totals[d][c] for d in order], mu)
    return Frame("why_numbers_differ_crm", pa.table(data))
