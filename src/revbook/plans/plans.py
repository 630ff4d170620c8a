"""Account plans: create, edit (optimistic: an edit names the version it edits), the current plan,
its history, and the plan beside the live figures of its KPIs and the journey of each offering.

Every write is a new version row (:mod:`revbook.plans.storage`); nothing is updated in place and
the loaded tables are never written. A create needs a VIP account ([vip], :mod:`revbook.plans.vip`)
unless ``force=True``; an edit of an existing plan does not (an account may leave the ARR band and
keep its plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import ConfigError, NotFoundError
from ..frame import Frame
from ..ledger import active_on
from ..metrics.book import book_of
from . import storage
from .kpis import KPI_METRICS, kpi_status, live_values
from .model import FIELDS, LISTS, MAX_AUTHOR, MAX_TEXT, Plan, Stage, checked_changes, text
from .vip import vip_reasons

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "PlanVersion",
    "create_plan",
    "current_plan",
    "edit_plan",
    "journey_history",
    "offerings",
    "plan_history",
    "plan_view",
    "planned_accounts",
]


@dataclass(frozen=True)
class PlanVersion:
    account_id: str
    version: int
    recorded_at: dt.datetime
    author: str
    note: str | None
    plan: Plan


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _account(store: Store, account_id: object) -> str:
    if not isinstance(account_id, str) or not account_id.strip():
        raise ConfigError("an account id is needed", value=account_id)
    book_of(store)  # a workspace with nothing loaded says so (WorkspaceError)
    found = store.con.execute("SELECT 1 FROM accounts WHERE account_id = ?", [account_id]).fetchone()
    if not found:
        shown = account_id if len(account_id) <= 60 else account_id[:60] + "…"
        raise NotFoundError(
            f"no account {shown!r} in this workspace", value=account_id, hint="list the VIP accounts: revbook plan vip"
        )
    return account_id


def products(store: Store) -> list[str]:
    """Every offering of the book: the products of the subscription lines."""
    rows = store.con.execute(
        "SELECT DISTINCT product FROM subscriptions WHERE product IS NOT NULL AND trim(product) <> '' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def offerings(store: Store, account_id: str, on: dt.date | str | None = None) -> tuple[list[str], list[str]]:
    """(the offerings the account owns on ``on``, those it does not own yet): the products of its
    ledger lines paying that day, and the rest of the book's products."""
    day = store.config.on_date(on)
    lines = book_of(store).ledger()
    paying = active_on(f"DATE '{day}'")
    owned = {
        r[0]
        for r in store.con.execute(
            f"SELECT DISTINCT l.product FROM {lines} l WHERE l.account_id = ? AND l.mrr > 0 AND {paying}",
            [account_id],
        ).fetchall()
    }
    every = products(store)
    return [p for p in every if p in owned], [p for p in every if p not in owned]


def _versions(store: Store, account_id: str) -> list[PlanVersion]:
    return [
        PlanVersion(a, v, at, author, note, Plan.from_json(body))
        for a, v, at, author, note, body in storage.entries(store, account_id)
    ]


def current_plan(store: Store, account_id: str) -> PlanVersion | None:
    """The account's latest plan version, or None when it has no plan."""
    versions = _versions(store, _account(store, account_id))
    return versions[-1] if versions else None


def _merged(base: Plan, changes: Mapping[str, Any], today: dt.date) -> Plan:
    values: dict[str, Any] = {name: changes.get(name, getattr(base, name)) for name in (*LISTS, "kpis")}
    journey = {s.product: s for s in base.journey}
    for product, (stage, since) in changes.get("journey", {}).items():
        old = journey.get(product)
        if old is not None and old.stage == stage and since is None:
            continue  # the same stage again: it keeps the day it was reached
        journey[product] = Stage(product, stage, since or today)
    values["journey"] = tuple(sorted(journey.values(), key=lambda s: s.product))
    return Plan(**values)


def _write(
    store: Store, account_id: str, base: PlanVersion | None, changes: Mapping[str, Any], author: str, note: str | None
) -> PlanVersion:
    today = _today()
    who = text(author, "the author", MAX_AUTHOR)
    why = None if note is None or not str(note).strip() else text(note, "the note", MAX_TEXT)
    checked = checked_changes(changes, products(store), today)
    plan = _merged(base.plan if base else Plan(), checked, today)
    if base is not None and plan == base.plan:
        raise ConfigError(
            f"the edit changes nothing in version {base.version} of the plan of {account_id}",
            hint="give the fields to change: " + ", ".join(FIELDS),
        )
    version, at = storage.append(store, account_id, base.version if base else 0, who, why, plan.to_json())
    return PlanVersion(account_id, version, at, who, why, plan)


def create_plan(
    store: Store,
    account_id: str,
    plan: Mapping[str, Any] | None = None,
    *,
    author: str,
    note: str | None = None,
    force: bool = False,
    on: dt.date | str | None = None,
) -> PlanVersion:
    """Version 1 of the account's plan (fields as :func:`revbook.plans.model.checked_changes` reads
    them). The account must be VIP on ``on`` (default: the as-of date) unless ``force``; an account
    that has a plan already is an error (edit it)."""
    account_id = _account(store, account_id)
    if not force and account_id not in vip_reasons(store, on):
        raise ConfigError(
            f"account {account_id} is not a VIP account ({store.config.vip.describe()})",
            value=account_id,
            hint="add it to [vip] accounts in revbook.toml, or create the plan anyway (--force; force=True; "
            "on the dashboard, tick the box beside your name)",
        )
    return _write(store, account_id, None, plan or {}, author, note)


def edit_plan(
    store: Store,
    account_id: str,
    version: int,
    changes: Mapping[str, Any],
    *,
    author: str,
    note: str | None = None,
) -> PlanVersion:
    """The next version of the account's plan: version ``version`` with ``changes`` (a list or the
    KPIs given replace the old ones; a journey entry replaces that offering's stage). ``version``
    must be the latest: an edit of an older one is refused (WorkspaceError), so two people editing
    at once cannot overwrite each other."""
    from .errors import stale

    account_id = _account(store, account_id)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError(
            "the version an edit edits must be a whole number from 1",
            value=version,
            hint=f"see the current version: revbook plan show {account_id}",
        )
    versions = _versions(store, account_id)
    latest = versions[-1] if versions else None
    if latest is None or latest.version != version:
        now = latest.version if latest else 0
        raise stale(account_id, version, now, latest.author if latest else None, latest.recorded_at if latest else None)
    return _write(store, account_id, latest, changes, author, note)


def _changed(before: Plan | None, after: Plan) -> str:
    if before is None:
        return "created"
    names = [n for n in (*LISTS, "kpis") if getattr(before, n) != getattr(after, n)]
    if before.journey != after.journey:
        names.append("journey")
    return ", ".join(names)


def plan_history(store: Store, account_id: str) -> Frame:
    """Every version of the account's plan, newest first: version, recorded_at (UTC), author,
    note and the fields it changed."""
    return _history(_versions(store, _account(store, account_id)))


def _history(versions: list[PlanVersion]) -> Frame:
    rows = [
        {
            "version": v.version,
            "recorded_at": v.recorded_at,
            "author": v.author,
            "note": v.note,
            "changed": _changed(versions[i - 1].plan if i else None, v.plan),
        }
        for i, v in enumerate(versions)
    ]
    schema = pa.schema(
        [
            ("version", pa.int32()),
            ("recorded_at", pa.timestamp("us")),
            ("author", pa.string()),
            ("note", pa.string()),
            ("changed", pa.string()),
        ]
    )
    return Frame("plan_history", pa.Table.from_pylist(list(reversed(rows)), schema=schema))


def journey_history(store: Store, account_id: str) -> Frame:
    """Each offering's stages over the plan's versions, oldest first: product, stage, since (the day
    it was reached), version and author of the version that set it."""
    return _journey(_versions(store, _account(store, account_id)))


def _journey(versions: list[PlanVersion]) -> Frame:
    rows: list[dict[str, Any]] = []
    last: dict[str, Stage] = {}
    for v in versions:
        for s in v.plan.journey:
            if last.get(s.product) != s:
                rows.append(
                    {"product": s.product, "stage": s.stage, "since": s.since, "version": v.version, "author": v.author}
                )
                last[s.product] = s
    rows.sort(key=lambda r: (r["product"], r["version"]))
    schema = pa.schema(
        [
            ("product", pa.string()),
            ("stage", pa.string()),
            ("since", pa.date32()),
            ("version", pa.int32()),
            ("author", pa.string()),
        ]
    )
    return Frame("journey_history", pa.Table.from_pylist(rows, schema=schema))


def planned_accounts(store: Store) -> dict[str, tuple[int, dt.datetime, str]]:
    """account_id -> (latest version, when, by whom) of every account with a plan."""
    out: dict[str, tuple[int, dt.datetime, str]] = {}
    for a, v, at, author, _, _ in storage.entries(store):
        out[a] = (v, at, author)
    return out


def plan_view(store: Store, account_id: str, on: dt.date | str | None = None) -> dict[str, Any]:
    """Everything a plan page shows on ``on`` (default: the as-of date): the account, whether it is
    VIP and why, the current version (None without a plan), each KPI with its live figure and status,
    each offering it does not own yet with its stage and history, and the version history."""
    account_id = _account(store, account_id)
    day = store.config.on_date(on)
    name = store.con.execute("SELECT name FROM accounts WHERE account_id = ?", [account_id]).fetchone()
    versions = _versions(store, account_id)  # one read of the plans file
    current = versions[-1] if versions else None
    live = live_values(store, day).get(account_id, {})
    kpis = []
    for k in current.plan.kpis if current else ():
        metric = KPI_METRICS[k.metric]
        value = live.get(k.metric)
        kpis.append(
            {
                "metric": k.metric,
                "title": metric.title,
                "unit": metric.unit,
                "better": metric.better,
                "definition": metric.definition,
                "target": k.target,
                "due": k.due,
                "live": value,
                "status": kpi_status(k.metric, value, k.target, k.due, day),
            }
        )
    owned, not_owned = offerings(store, account_id, day)
    journeys = _journey(versions).to_pylist()
    offers = []
    for product in not_owned:
        stage = current.plan.stage_of(product) if current else None
        offers.append(
            {
                "product": product,
                "stage": stage.stage if stage else None,
                "since": stage.since if stage else None,
                "history": [j for j in journeys if j["product"] == product],
            }
        )
    reasons = vip_reasons(store, day).get(account_id, ())
    return {
        "account_id": account_id,
        "name": name[0] if name else None,
        "on": day,
        "vip": reasons,
        "rule": store.config.vip.describe(),
        "current": current,
        "kpis": kpis,
        "owned": owned,
        "offerings": offers,
        "journey": journeys,
        "history": _history(versions).to_pylist(),
        "live": {m: live.get(m) for m in KPI_METRICS},
    }
