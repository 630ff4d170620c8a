"""Which accounts are VIP on a date: the [vip] rule of revbook.toml (ARR band, segments, a list)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..frame import Frame
from ..ledger import account_mrr_sql
from ..metrics.book import book_of

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["unknown_listed", "vip_accounts", "vip_reasons"]


def _accounts_on(store: Store, on: dt.date) -> list[dict[str, Any]]:
    """Every account of the accounts table with its name and its ARR on ``on`` (exact, 0 when not paying)."""
    lines = book_of(store).ledger()
    mrr = account_mrr_sql(lines, f"(SELECT DATE '{on}' AS day)", "day", every_account=True)
    rows = store.con.execute(
        f"SELECT a.account_id, a.name, coalesce(m.mrr, 0) FROM accounts a LEFT JOIN {mrr} m "
        "ON m.account_id = a.account_id ORDER BY a.account_id"
    ).fetchall()
    scale = Decimal(1).scaleb(-store.config.minor_units)
    return [{"account_id": r[0], "name": r[1], "arr": Decimal(12 * int(r[2])) * scale} for r in rows]


def vip_reasons(store: Store, on: dt.date | str | None = None) -> dict[str, tuple[str, ...]]:
    """account_id -> the rules that make it VIP on ``on`` ("arr", "segment", "list"), VIP accounts only."""
    return {r["account_id"]: tuple(r["rules"].split(", ")) for r in _vip_rows(store, store.config.on_date(on))}


def _vip_rows(store: Store, on: dt.date) -> list[dict[str, Any]]:
    """The VIP accounts on ``on`` with their rules, computed once per date and kept until the next load."""
    return store.derived(f"plans.vip:{on}", lambda s: _build(s, on))


def _build(store: Store, on: dt.date) -> list[dict[str, Any]]:
    rule = store.config.vip
    if not rule.has_rule:
        return []
    rows = _accounts_on(store, on)
    if not rows:
        return []
    ids = [r["account_id"] for r in rows]
    segments = book_of(store).slices_at(ids, on, ["segment"])["segment"].to_pylist()
    listed = set(rule.accounts)
    out = []
    for r, segment in zip(rows, segments, strict=True):
        rules = []
        banded = rule.min_arr is not None or rule.max_arr is not None
        if (
            banded
            and r["arr"] > 0
            and (rule.min_arr is None or r["arr"] >= rule.min_arr)
            and (rule.max_arr is None or r["arr"] <= rule.max_arr)
        ):
            rules.append("arr")
        if segment is not None and str(segment).lower() in rule.segments:
            rules.append("segment")
        if r["account_id"] in listed:
            rules.append("list")
        if rules:
            out.append({**r, "segment": segment, "rules": ", ".join(rules)})
    return out


def vip_accounts(store: Store, on: dt.date | str | None = None) -> Frame:
    """The VIP accounts on ``on`` (default: the as-of date), largest ARR first: account_id, name,
    segment, arr (exact, reporting currency) and rules (which of "arr", "segment", "list" hold).

    The rule is [vip] of revbook.toml: ARR within [min_arr, max_arr] (a paying account), or a
    segment in ``segments``, or an id in ``accounts`` (the union). A listed id no account has is
    left out (``revbook plan vip`` names it)."""
    on = store.config.on_date(on)
    rows = sorted(_vip_rows(store, on), key=lambda r: (-r["arr"], r["account_id"]))
    scale = store.config.minor_units
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("name", pa.string()),
            ("segment", pa.string()),
            ("arr", pa.decimal128(18, scale)),
            ("rules", pa.string()),
        ]
    )
    return Frame("vip_accounts", pa.Table.from_pylist(rows, schema=schema))


def unknown_listed(store: Store) -> list[str]:
    """The ids of [vip] accounts that no account of the workspace has."""
    listed = store.config.vip.accounts
    if not listed:
        return []
    known = {r[0] for r in store.con.execute("SELECT account_id FROM accounts").fetchall()}
    return [a for a in listed if a not in known]
