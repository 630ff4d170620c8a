"""Every at-risk flag of an account, point in time, and the episodes they make.

A flag is dated by when it was known: a red composite health band on a month end (the score of
that month end's point-in-time features), a note with a risk signal (dated by the note), a
cancellation request (``subscriptions.cancel_requested_at``), an activity whose type or outcome
is a save's (``[saves] activity_types`` / ``activity_outcomes``, dated by the activity) and an
opportunity in a save stage (``[saves] opportunity_stages``, dated by its creation). Only flags of
accounts paying on the flag date count. Consecutive flags of one account at most ``[saves]
episode_days`` apart are one episode, dated at its first flag.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..config.core import parse_date
from ..errors import ConfigError
from ..frame import Frame
from ..health.backtest import month_ends
from ..health.composite import score_table
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from .saves_model import features_on

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["FLAG_KINDS", "episodes_of", "flags", "window"]

#: the kinds of at-risk flag, in the order a flag_kinds list names them
FLAG_KINDS = ("red_health", "risk_signal", "cancel_request", "save_activity", "save_opportunity")

_SCHEMA = pa.schema(
    [("account_id", pa.string()), ("flag_date", pa.date32()), ("kind", pa.string()), ("detail", pa.string())]
)


def window(store: Store, start: dt.date | str | None, end: dt.date | str | None) -> tuple[dt.date, dt.date]:
    """The flags' window: ``start`` (default ``[saves] lookback_days`` before the as-of date) to
    ``end`` (default and at most the as-of date), both included."""
    as_of = store.config.snapshot_date()
    last = parse_date(end, "end") or as_of
    if last > as_of:
        raise ConfigError(f"end {last} is after the as-of date {as_of}", hint="flags are read up to the as-of date")
    first = parse_date(start, "start") or as_of - dt.timedelta(days=store.config.saves.lookback_days)
    if first > last:
        raise ConfigError(f"start {first} is after end {last}", hint="give --start before --end")
    return first, last


def _q(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _sql_flags(store: Store, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    s = store.config.saves
    counts = store.row_counts()
    between = f"BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'"
    parts = [
        f"""SELECT account_id, cancel_requested_at AS flag_date, 'cancel_request' AS kind,
                   'cancellation requested on ' || string_agg(DISTINCT subscription_id, ', ') AS detail
            FROM subscriptions WHERE cancel_requested_at {between} AND NOT coalesce(is_trial, false)
            GROUP BY ALL"""
    ]
    if counts.get("activities"):
        parts.append(
            f"""SELECT account_id, date, 'save_activity',
                       string_agg(DISTINCT type || coalesce(' (' || outcome || ')', ''), ', ')
                FROM activities WHERE date {between}
                 AND (type IN ({_q(s.activity_types)}) OR outcome IN ({_q(s.activity_outcomes)}))
                GROUP BY ALL"""
        )
    if counts.get("opportunities"):
        parts.append(
            f"""SELECT account_id, created_at, 'save_opportunity',
                       string_agg(DISTINCT opportunity_id || ' (' || stage || ')', ', ')
                FROM opportunities WHERE created_at {between} AND stage IN ({_q(s.opportunity_stages)})
                GROUP BY ALL"""
        )
    rows: list[dict[str, Any]] = []
    for part in parts:
        got = store.con.execute(part).fetchall()
        rows += [dict(zip(_SCHEMA.names, r, strict=True)) for r in got]
    return rows


def _signal_flags(store: Store, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    if not store.row_counts().get("notes"):
        return []
    from ..insights.signals import find_signals

    hits = find_signals(store, since=first, before=last + dt.timedelta(days=1), rules=store.config.signals)
    by_day: dict[tuple[str, dt.date], set[str]] = {}
    for h in hits.to_pylist():
        if h["polarity"] in ("risk", "both"):
            by_day.setdefault((h["account_id"], h["date"]), set()).add(h["rule"])
    return [
        {"account_id": a, "flag_date": d, "kind": "risk_signal", "detail": "note: " + ", ".join(sorted(r))}
        for (a, d), r in by_day.items()
    ]


def _health_flags(store: Store, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    dates = [d for d in month_ends(last, months) if d >= first]
    rows: list[dict[str, Any]] = []
    for d, feats in features_on(store, dates).items():
        scored = score_table(feats, store.config.health).to_pylist()
        rows += [
            {"account_id": r["account_id"], "flag_date": d, "kind": "red_health",
             "detail": f"health score {r['score']:.1f} (red)"}
            for r in scored if r["band"] == "red"
        ]  # fmt: skip
    return rows


def _paying(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flags of accounts paying on the flag date."""
    if not rows:
        return []
    pairs = pa.table(
        {
            "account_id": pa.array([r["account_id"] for r in rows], pa.string()),
            "flag_date": pa.array([r["flag_date"] for r in rows], pa.date32()),
        }
    )
    book = book_of(store)
    book.engine.register("rb_saves_pairs", pairs)
    try:
        mrr = account_mrr_sql(book.ledger(), "rb_saves_pairs", "flag_date")
        got = book.engine.arrow(f"SELECT account_id, flag_date, mrr FROM {mrr}").to_pylist()
    finally:
        book.engine.drop("rb_saves_pairs")
    paying = {(r["account_id"], r["flag_date"]) for r in got if r["mrr"] > 0}
    return [r for r in rows if (r["account_id"], r["flag_date"]) in paying]


def flags(store: Store, *, start: dt.date | str | None = None, end: dt.date | str | None = None) -> Frame:
    """Every at-risk flag from ``start`` to ``end`` (:func:`window`): one row per account, flag date
    and kind (:data:`FLAG_KINDS`) with its ``detail``, of accounts paying on the flag date, in date order."""
    first, last = window(store, start, end)
    rows = _health_flags(store, first, last) + _signal_flags(store, first, last) + _sql_flags(store, first, last)
    rows = _paying(store, rows)
    rows.sort(key=lambda r: (r["flag_date"], r["account_id"], FLAG_KINDS.index(r["kind"])))
    return Frame("flags", pa.Table.from_pylist(rows, schema=_SCHEMA))


def episodes_of(flag_rows: list[dict[str, Any]], episode_days: int) -> list[dict[str, Any]]:
    """Consecutive flags of one account at most ``episode_days`` apart as one episode: account_id,
    flag_date (its first flag), last_flag, flags (how many), flag_dates (each distinct flag date, in
    order), flag_kinds (the kinds, in :data:`FLAG_KINDS` order, comma-separated) and detail (the first
    flag's)."""
    out: list[dict[str, Any]] = []
    current: dict[str, dict[str, Any]] = {}
    for r in sorted(flag_rows, key=lambda r: (r["account_id"], r["flag_date"], FLAG_KINDS.index(r["kind"]))):
        ep = current.get(r["account_id"])
        if ep is None or (r["flag_date"] - ep["last_flag"]).days > episode_days:
            ep = {"account_id": r["account_id"], "flag_date": r["flag_date"], "last_flag": r["flag_date"],
                  "flags": 0, "flag_dates": [], "kinds": set(), "detail": r["detail"]}  # fmt: skip
            current[r["account_id"]] = ep
            out.append(ep)
        if not ep["flag_dates"] or ep["flag_dates"][-1] != r["flag_date"]:
            ep["flag_dates"].append(r["flag_date"])
        ep["last_flag"], ep["flags"] = r["flag_date"], ep["flags"] + 1
        ep["kinds"].add(r["kind"])
    for ep in out:
        kinds = ep.pop("kinds")
        ep["flag_kinds"] = ", ".join(k for k in FLAG_KINDS if k in kinds)
    out.sort(key=lambda e: (e["flag_date"], e["account_id"]))
    return out
