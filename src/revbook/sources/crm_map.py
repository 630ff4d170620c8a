"""What the HubSpot and Salesforce connectors do the same way: source-neutral CRM records (companies,
owners and each change of an account's owner, deals, notes, activities) mapped into the contract's
accounts, owners, people, opportunities, notes and activities, then loaded through
:meth:`revbook.store.Store.load_frames` (the same checks as files, atomic).

The rules (docs/connectors.md):

- ``account_id`` is the CRM's own id, or the property ``[<crm>.fields] account_id`` names (the id the
  billing tables use); a company without that property is left out, with its deals, notes and
  activities (a warning counts them). A parent, a deal's or a note's company is translated the same way.
- Owners: an account's owner history is a list of changes (date, owner or none). Each owner holds
  the account from the date of its change to the date of the next (exclusive); the last change of a
  day wins; no owner after a change ends the period. The owner's role is ``owner_roles`` of their
  team (HubSpot) or user role (Salesforce), else ``default_role`` ("" leaves them out, a warning).
  ``people`` holds the owners that own an account or a deal.
- Deals: ``deal_kinds`` maps the deal type to expansion or renewal; other deals are not read (new
  business is not a CS deal). ``closed_at`` and ``won`` are given only once the deal is closed.
  ``owner_role`` is the deal owner's role; ``source`` the deal source mapped by ``deal_sources``
  (a value already one of csm, ae, product, self_serve passes as it is; any other is left empty, a warning).
- Notes of one account, day and author are joined into one (blank lines between); an activity of the
  same account, day and type as an earlier one is left out (a warning counts them).
- ARR: with ``[<crm>.fields] arr`` set, each company's ARR field as it was on the day of the sync is
  an ``account_history`` row (attribute ``crm_arr``, valid_from = the sync day, UTC; empty when the
  field is): a value read today is known from today only, never in the past, so each sync adds a day
  and the rows of earlier syncs (and every other attribute) stay. A value that is not a number is
  left empty (a warning counts them).
- A CRM has no billing: only these tables are loaded; subscriptions, invoices and the rest stay as they are.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..config.crm import DEAL_SOURCES, CrmSettings
from ..contract import CRM_ARR_ATTRIBUTE, TABLES
from .connectors import Loads, Synced

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = [
    "CRM_TABLES",
    "Activity",
    "Company",
    "Crm",
    "Deal",
    "Note",
    "Person",
    "contract_rows",
    "load_crm",
    "plain_text",
    "slug",
    "to_date",
    "to_decimal",
]

#: the contract tables a CRM connector loads (and only these)
CRM_TABLES = ("accounts", "people", "owners", "opportunities", "notes", "activities")


@dataclass(frozen=True)
class Company:
    crm_id: str
    #: the id billing uses ([<crm>.fields] account_id), or the CRM id; None: the property is empty
    account_id: str | None
    name: str | None = None
    segment: str | None = None
    region: str | None = None
    industry: str | None = None
    parent_crm_id: str | None = None
    created_at: dt.date | None = None
    #: the ARR field's value as the CRM gives it ([<crm>.fields] arr), None: empty or not read
    arr: object = None


@dataclass(frozen=True)
class Person:
    owner_id: str
    name: str | None = None
    #: the owner's team (HubSpot) or user role (Salesforce), which owner_roles maps to a role
    team: str | None = None
    manager: str | None = None


@dataclass(frozen=True)
class Deal:
    crm_id: str
    company_crm_id: str | None
    kind_value: str | None
    amount: Decimal | None
    stage: str | None
    created_at: dt.date | None
    closed_at: dt.date | None
    closed: bool
    won: bool
    owner_id: str | None
    source_value: str | None = None


@dataclass(frozen=True)
class Note:
    company_crm_id: str | None
    date: dt.date | None
    author: str | None
    source: str
    text: str


@dataclass(frozen=True)
class Activity:
    company_crm_id: str | None
    date: dt.date | None
    type: str
    outcome: str | None = None


@dataclass
class Crm:
    """What a connector read, before mapping: the same shape for every CRM."""

    companies: list[Company]
    people: dict[str, Person]
    #: (company CRM id, date, owner id or None), in the source's order within a day
    owner_changes: list[tuple[str, dt.date, str | None]]
    deals: list[Deal]
    notes: list[Note]
    activities: list[Activity]
    #: the day (UTC) the CRM was read: the valid_from of its ARR values; None: today
    read_on: dt.date | None = None


# -- values ----------------------------------------------------------------------------------
def to_date(value: object) -> dt.date | None:
    """A CRM date or timestamp as a calendar date (UTC): a datetime, an ISO text, epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if text.isdigit() and len(text) >= 12:
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC).date()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    # Salesforce writes +0000, HubSpot Z
    text = text.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    return to_date(dt.datetime.fromisoformat(text))


def to_decimal(value: object) -> Decimal | None:
    """A CRM amount as an exact Decimal (never a float's binary value); empty as None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def plain_text(body: str | None) -> str:
    """A note body (HubSpot writes HTML) as plain text."""
    if not body:
        return ""
    text = re.sub(r"<\s*(br|/p|/div|/li)\s*/?>", "\n", body, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def slug(value: str | None) -> str | None:
    """A CRM picklist value as a contract value: lower case, words joined by '_' ("Closed Won" -> closed_won)."""
    if value is None or not str(value).strip():
        return None
    return re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_") or None


def _role(person: Person | None, settings: CrmSettings) -> str | None:
    if person is None:
        return settings.default_role or None
    role = settings.owner_roles.get(person.team or "")
    return role or settings.default_role or None


# -- mapping ---------------------------------------------------------------------------------
def contract_rows(crm: Crm, settings: CrmSettings) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The CRM's records as rows of the contract tables (CRM_TABLES), and the warnings for the user."""
    warnings: list[str] = []
    ids = {c.crm_id: c.account_id for c in crm.companies if c.account_id}
    no_id = sum(1 for c in crm.companies if not c.account_id)
    if no_id:
        warnings.append(
            f"{no_id} companies have no {settings.field_for('account_id')!r} and are left out, "
            "with their deals, notes and activities"
        )
    accounts = []
    unknown_parent = 0
    for c in crm.companies:
        if not c.account_id:
            continue
        parent = ids.get(c.parent_crm_id) if c.parent_crm_id else None
        unknown_parent += bool(c.parent_crm_id and parent is None)
        accounts.append(
            {
                "account_id": c.account_id,
                "name": c.name,
                "segment": c.segment,
                "region": c.region,
                "industry": c.industry,
                "created_at": c.created_at,
                "parent_account_id": parent,
            }
        )
    if unknown_parent:
        warnings.append(f"{unknown_parent} accounts name a parent that was not read; their parent is left empty")

    owned: set[str] = set()
    left_out: set[str] = set()
    owners = _owner_periods(crm, ids, settings, owned, left_out)
    opportunities = _opportunities(crm, ids, settings, owned, left_out, warnings)
    if left_out:
        warnings.append(
            f"{len(left_out)} owners have a team or role that owner_roles does not map and default_role is '': "
            "left out of owners and of deals' owner_role"
        )
    people = [
        {"owner_id": p.owner_id, "name": p.name, "team": p.team, "manager": p.manager}
        for p in sorted(crm.people.values(), key=lambda p: p.owner_id)
        if p.owner_id in owned
    ]
    rows: dict[str, list[dict[str, Any]]] = {
        "accounts": accounts,
        "people": people,
        "owners": owners,
        "opportunities": opportunities,
        "notes": _notes(crm.notes, ids),
        "activities": _activities(crm.activities, ids, warnings),
        "account_history": _arr_rows(crm, settings, warnings),
    }
    return rows, warnings


def _arr_rows(crm: Crm, settings: CrmSettings, warnings: list[str]) -> list[dict[str, Any]]:
    """One crm_arr row per company read (the ARR field's value on the sync day, or empty)."""
    if not settings.field_for("arr"):
        return []
    day = crm.read_on or dt.datetime.now(dt.UTC).date()
    values: dict[str, Decimal | None] = {}
    bad = 0
    for c in crm.companies:
        if not c.account_id:
            continue
        value = to_decimal(c.arr)
        if c.arr not in (None, "") and (value is None or not value.is_finite()):
            bad += 1
            value = None
        values[c.account_id] = value
    if bad:
        warnings.append(f"{bad} companies have an {settings.field_for('arr')!r} that is not a number: left empty")
    return [
        {"account_id": a, "attribute": CRM_ARR_ATTRIBUTE, "value": None if v is None else str(v), "valid_from": day}
        for a, v in values.items()
    ]


def _earlier_history(store: Loads, day: dt.date) -> list[dict[str, Any]]:
    """The account_history rows already loaded, but the crm_arr rows of ``day`` (this sync replaces them)."""
    rows = store.con.execute(
        "SELECT account_id, attribute, value, valid_from FROM account_history"
        " WHERE NOT (attribute = ? AND valid_from = ?) ORDER BY account_id, attribute, valid_from",
        [CRM_ARR_ATTRIBUTE, day],
    ).fetchall()
    return [{"account_id": a, "attribute": t, "value": v, "valid_from": f} for a, t, v, f in rows]


def _owner_periods(
    crm: Crm, ids: dict[str, str], settings: CrmSettings, owned: set[str], left_out: set[str]
) -> list[dict[str, Any]]:
    by_company: dict[str, dict[dt.date, str | None]] = defaultdict(dict)
    for company, day, owner in crm.owner_changes:
        if company in ids:
            by_company[company][day] = owner  # the last change of a day wins
    rows: list[dict[str, Any]] = []
    for company, changes in by_company.items():
        days = sorted(changes)
        for i, day in enumerate(days):
            owner = changes[day]
            if not owner or (i and changes[days[i - 1]] == owner):
                continue
            end = next((d for d in days[i + 1 :] if changes[d] != owner), None)
            role = _role(crm.people.get(owner), settings)
            if role is None:
                left_out.add(owner)
                continue
            owned.add(owner)
            rows.append(
                {"account_id": ids[company], "owner_id": owner, "role": role, "start_date": day, "end_date": end}
            )
    return rows


def _opportunities(
    crm: Crm, ids: dict[str, str], settings: CrmSettings, owned: set[str], left_out: set[str], warnings: list[str]
) -> list[dict[str, Any]]:
    kinds = settings.kinds()
    rows: list[dict[str, Any]] = []
    other, orphan, unmapped = 0, 0, set()
    for d in crm.deals:
        kind = kinds.get(d.kind_value or "")
        if kind is None:
            other += 1
            continue
        account = ids.get(d.company_crm_id or "")
        if account is None:
            orphan += 1
            continue
        role = None
        if d.owner_id:
            role = _role(crm.people.get(d.owner_id), settings)
            (owned if role else left_out).add(d.owner_id)
        source = None
        if d.source_value:
            source = settings.deal_sources.get(d.source_value) or (
                slug(d.source_value) if slug(d.source_value) in DEAL_SOURCES else None
            )
            if source is None:
                unmapped.add(d.source_value)
        rows.append(
            {
                "account_id": account,
                "opportunity_id": d.crm_id,
                "kind": kind,
                "arr_delta": d.amount,
                "stage": slug(d.stage),
                "created_at": d.created_at,
                "closed_at": d.closed_at if d.closed else None,
                "won": d.won if d.closed else None,
                "owner_role": role,
                "source": source,
            }
        )
    if other:
        warnings.append(f"{other} deals are of a type deal_kinds does not map (new business?) and are not read")
    if orphan:
        warnings.append(f"{orphan} expansion or renewal deals have no company that was read and are left out")
    if unmapped:
        shown = ", ".join(sorted(unmapped)[:3])
        warnings.append(f"deal sources not in deal_sources are left empty: {shown}")
    return rows


def _notes(notes: Iterable[Note], ids: dict[str, str]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, dt.date, str | None], dict[str, Any]] = {}
    for n in notes:
        account = ids.get(n.company_crm_id or "")
        if account is None or n.date is None or not n.text.strip():
            continue
        key = (account, n.date, n.author)
        if key in merged:
            merged[key]["text"] += "\n\n" + n.text
        else:
            merged[key] = {"account_id": account, "date": n.date, "author": n.author, "source": n.source}
            merged[key]["text"] = n.text
    return list(merged.values())


def _activities(activities: Iterable[Activity], ids: dict[str, str], warnings: list[str]) -> list[dict[str, Any]]:
    kept: dict[tuple[str, dt.date, str], dict[str, Any]] = {}
    repeated = 0
    for a in activities:
        account = ids.get(a.company_crm_id or "")
        if account is None or a.date is None:
            continue
        key = (account, a.date, a.type)
        if key in kept:
            repeated += 1
            continue
        kept[key] = {"account_id": account, "date": a.date, "type": a.type, "outcome": a.outcome}
    if repeated:
        warnings.append(f"{repeated} activities repeat an account, day and type already read and are left out")
    return list(kept.values())


# -- loading ---------------------------------------------------------------------------------
def _frame(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    import pyarrow as pa

    types = {"string": pa.string(), "date": pa.date32(), "decimal": pa.string(), "boolean": pa.bool_()}
    columns = {}
    for column in TABLES[name].columns:
        values = [row.get(column.name) for row in rows]
        if column.type == "decimal":
            values = [None if v is None else str(v) for v in values]
        columns[column.name] = pa.array(values, type=types.get(column.type, pa.string()))
    return pa.table(columns)


def load_crm(store: Loads, crm: Crm, settings: CrmSettings, *, started: float, replace: bool = False) -> Synced:
    """Map ``crm`` into the contract and load its tables through ``store.load_frames`` (the same
    checks as files, all or none). Only the CRM's tables are given, so billing stays as it is; a
    table the CRM has no rows for is not loaded (a load may not empty it). With an ARR field, the
    account_history rows already there are loaded again with the sync day's crm_arr rows."""
    rows, warnings = contract_rows(crm, settings)
    frames = {name: _frame(name, rows[name]) for name in CRM_TABLES if rows[name]}
    if rows["account_history"]:  # the ARR field: a day added to the history, nothing else changed
        day = rows["account_history"][0]["valid_from"]
        frames["account_history"] = _frame("account_history", _earlier_history(store, day) + rows["account_history"])
    results = store.load_frames(frames, force=True, replace=replace)
    for result in results:
        warnings += [f"{f.table}: {f.message}" for f in result.warnings if f.severity != "info"]
    return Synced({r.table: r.rows for r in results}, time.perf_counter() - started, tuple(warnings))
