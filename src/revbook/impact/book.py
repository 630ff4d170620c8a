"""The change of each CSM's book over a window, with the arithmetic shown (docs/concentration.md).

Who holds an account on a date is the metrics' owner slice on that date (:meth:`Book.slices_of`: the
latest CSM assignment in force, ``(none)`` when there is none); its ARR on a date is 12 x
:func:`revbook.ledger.account_mrr_sql`. Over the window from ``start`` to ``end`` an account's holder
changes only on the dates an owners row of it starts or ends, so each account's window splits into
*spells*, runs of days with one holder. A spell begins at the window's start or on a transfer date (the
day the new assignment is in force: the old one's end date, which is exclusive), and ends at the
window's end or at the next transfer. A transfer is valued at the account's ARR on the *eve* of the
transfer date, the last day the old holder held it: what changes on the transfer date itself is the
new holder's. Each spell is one of:

- *held*: the holder held the account at the window's start, paying then: its ARR then is the book's
  start; its change until the spell ends is the growth of the accounts held;
- *new*: the account first paid during the spell (after the window's start): all its ARR when the
  spell ends is new (it entered at zero);
- *transferred in*: the holder gained the account after the start, paying on the eve of the
  transfer: that ARR is transferred in; its change after that is the growth of the accounts
  transferred in;
- *reactivated*: any other spell (the account was at zero when the spell began and had paid before):
  its ARR when the spell ends.

A spell that ends before the window's end is transferred out at that eve's ARR; one that runs to the
end is the book's end (ARR on the end date). So for every holder, to the cent::

    end = start + new + transferred in - transferred out
          + growth of the accounts held + growth of the accounts transferred in + reactivated

and the transfers of all holders (``(none)`` among them) net to zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..definitions import NO_VALUE
from ..errors import ConfigError, NotFoundError, WorkspaceError
from ..frame import Frame
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from ..metrics.tables import date_option
from .concentration import amount_text, percent_text, with_cents

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Change", "arithmetic", "book_change"]

ROLES = ("csm",)


@dataclass
class Change:
    """One holder's book change, in minor units (ARR) and accounts."""

    start: int = 0
    new: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    growth_of_held: int = 0
    growth_of_transferred_in: int = 0
    reactivated: int = 0
    end: int = 0
    start_accounts: int = 0
    new_accounts: int = 0
    transferred_in_accounts: int = 0
    transferred_out_accounts: int = 0
    end_accounts: int = 0


def arithmetic(
    *,
    start: Decimal,
    new: Decimal,
    transferred_in: Decimal,
    transferred_out: Decimal,
    growth_of_held: Decimal,
    end: Decimal,
    growth_of_transferred_in: Decimal = Decimal(0),
    reactivated: Decimal = Decimal(0),
) -> str:
    """The book's change written out as the sum it is, from its figures ("5,200,000 at the end =
    4,000,000 at the start + 800,000 new + ..."); the two terms after the growth of the accounts held
    are written only when they are not zero. Figures that do not add up are a ValueError: the text
    never states a change the figures do not make."""
    total = start + new + transferred_in - transferred_out + growth_of_held + growth_of_transferred_in + reactivated
    if total != end:
        raise ValueError(f"the book's figures do not add up: they make {total}, not the end {end}")
    cents = with_cents(
        start, new, transferred_in, transferred_out, growth_of_held, end, growth_of_transferred_in, reactivated
    )

    def money(value: Decimal) -> str:
        return amount_text(value, cents=cents)

    def signed(value: Decimal, what: str, negative: str) -> str:
        return f" + {money(value)} {what}" if value >= 0 else f" - {money(-value)} {negative}"

    text = (
        f"{money(end)} at the end = {money(start)} at the start + {money(new)} new"
        f" + {money(transferred_in)} transferred in - {money(transferred_out)} transferred out"
        + signed(growth_of_held, "growth of the accounts held", "shrinkage of the accounts held")
    )
    if growth_of_transferred_in:
        text += signed(
            growth_of_transferred_in,
            "growth of the accounts transferred in",
            "shrinkage of the accounts transferred in",
        )
    if reactivated:
        text += f" + {money(reactivated)} reactivated"
    return text


def _window(store: Store, start: str | dt.date | None, end: str | dt.date | None) -> tuple[dt.date, dt.date]:
    as_of = store.config.snapshot_date()
    e = dt.date.fromisoformat(date_option(end, "end") or as_of.isoformat())
    if start is None:
        # a year before the end, on the same day (28 February for 29 February)
        s = e.replace(year=e.year - 1, day=min(e.day, 28)) if e.month == 2 else e.replace(year=e.year - 1)
    else:
        s = dt.date.fromisoformat(date_option(start, "start") or "")
    if e > as_of:
        raise WorkspaceError(f"the end {e} is after the as-of date {as_of}", hint="end the window on or before it")
    if s >= e:
        raise ConfigError(f"the window's start {s} is not before its end {e}", hint="give --start before --end")
    return s, e


def _timeline(store: Store, s: dt.date, e: dt.date) -> tuple[pa.Table, pa.Table]:
    """Each account's candidate dates (the start, and the owners' start and end dates inside the window)
    with its holder on each and its MRR: on the start, and on the eve of every later date (a transfer is
    valued on the last day the old holder held the account); each account's MRR at the end and its
    first paying day."""
    book = book_of(store)
    lines = book.ledger()
    engine = book.engine
    start, end = f"DATE '{s.isoformat()}'", f"DATE '{e.isoformat()}'"
    rows = "rb_book_change_days"
    inside = f"> {start} AND {{0}} <= {end}"
    engine.materialize(
        rows,
        f"""
        WITH acc AS (SELECT DISTINCT account_id FROM {lines}),
        d AS (
            SELECT account_id, {start} AS day FROM acc
            UNION SELECT o.account_id, o.start_date FROM owners o JOIN acc a ON a.account_id = o.account_id
                  WHERE o.role = 'csm' AND o.start_date {inside.format("o.start_date")}
            UNION SELECT o.account_id, o.end_date FROM owners o JOIN acc a ON a.account_id = o.account_id
                  WHERE o.role = 'csm' AND o.end_date IS NOT NULL AND o.end_date {inside.format("o.end_date")}
        )
        SELECT account_id, row_number() OVER (ORDER BY account_id, day) AS period, day AS period_end,
               CAST(0 AS BIGINT) AS mrr
        FROM d
        """,
    )
    sliced = None
    try:
        sliced = book.slices_of(rows, ["owner", "owner_name"])
        days = engine.arrow(
            f"""
            SELECT r.account_id, r.period_end AS day, sl.owner, sl.owner_name,
                   CASE WHEN r.period_end = {start} THEN m.mrr ELSE eve.mrr END AS mrr
            FROM {rows} r
            JOIN {sliced} sl ON sl.account_id = r.account_id AND sl.period = r.period
            JOIN {account_mrr_sql(lines, rows, "period_end")} m
              ON m.account_id = r.account_id AND m.period_end = r.period_end
            JOIN {account_mrr_sql(lines, rows, "period_end", days_before=1)} eve
              ON eve.account_id = r.account_id AND eve.period_end = r.period_end
            ORDER BY r.account_id, r.period_end
            """
        )
    finally:
        for name in (rows, *([sliced] if sliced else [])):
            engine.drop(name)
            book._built.discard(name)
    ends = engine.arrow(
        f"""
        WITH acc AS (SELECT DISTINCT account_id, {end} AS day FROM {lines}),
        starts AS (SELECT DISTINCT account_id, start_date AS day FROM {lines} WHERE mrr > 0),
        paid AS (
            SELECT account_id, min(day) AS first_paid FROM {account_mrr_sql(lines, "starts", "day")} m
            WHERE mrr > 0 GROUP BY account_id
        )
        SELECT e.account_id, e.mrr AS end_mrr, p.first_paid
        FROM {account_mrr_sql(lines, "acc", "day")} e LEFT JOIN paid p ON p.account_id = e.account_id
        """
    )
    return days, ends


def _changes(days: pa.Table, ends: pa.Table, s: dt.date, e: dt.date) -> tuple[dict[str, Change], dict[str, str]]:
    """Each holder's :class:`Change` (in MRR minor units) from the spells of every account."""
    # the sums of BIGINT minor units arrive as whole decimals: ints, so that every sum stays exact
    end_mrr = {r["account_id"]: (int(r["end_mrr"]), r["first_paid"]) for r in ends.to_pylist()}
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in days.to_pylist():
        by_account[r["account_id"]].append({**r, "mrr": int(r["mrr"])})
    changes: dict[str, Change] = defaultdict(Change)
    names: dict[str, str] = {}
    for account, points in by_account.items():
        mrr_end, first_paid = end_mrr.get(account, (0, None))
        spells: list[tuple[dict[str, Any], dict[str, Any] | None]] = []  # (first day, first day after)
        for p in points:
            if not spells or p["owner"] != spells[-1][0]["owner"]:
                if spells:
                    spells[-1] = (spells[-1][0], p)
                spells.append((p, None))
        for begin, after in spells:
            holder = begin["owner"]
            names[holder] = begin["owner_name"]
            c = changes[holder]
            entry = begin["mrr"]
            leave = mrr_end if after is None else after["mrr"]
            last_day = e if after is None else after["day"] - dt.timedelta(days=1)
            if first_paid is not None and s < first_paid and begin["day"] <= first_paid <= last_day:
                c.new += leave
                c.new_accounts += 1
            elif begin["day"] == s and entry > 0:
                c.start += entry
                c.start_accounts += 1
                c.growth_of_held += leave - entry
            elif begin["day"] > s and entry > 0:
                c.transferred_in += entry
                c.transferred_in_accounts += 1
                c.growth_of_transferred_in += leave - entry
            else:
                c.reactivated += leave
            if after is None:
                c.end += leave
                c.end_accounts += leave > 0
            else:
                c.transferred_out += leave
                c.transferred_out_accounts += leave > 0
    return changes, names


def book_change(
    store: Store,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    owner: str | None = None,
    role: str = "csm",
) -> Frame:
    """Per CSM (``owner``: one CSM's row), the change of their book from ``start`` (default: a year
    before the end) to ``end`` (default: the as-of date): managed ARR at the start and the end, ARR
    and accounts new, transferred in and out, the growth of the accounts held at the start (and
    ``held_nrr``, their ARR when the window or their spell ended over their ARR at the start), the
    growth of the accounts transferred in, reactivated ARR, and the ``arithmetic`` that adds them up.
    Accounts without a CSM are the row ``(none)``, last; every row's figures add up to the cent."""
    if role not in ROLES:
        raise ConfigError(
            f"the book's change is read for the CSM role, not {role!r}",
            hint="role='csm': the owners rows with role csm, as the owner slice reads them",
        )
    s, e = _window(store, start, end)
    engine = book_of(store).engine
    if owner is not None:
        known = engine.arrow("SELECT owner_id FROM owners WHERE role = 'csm' AND owner_id = ? LIMIT 1", [owner])
        if not known.num_rows:
            raise NotFoundError(
                f"no CSM '{owner}' in the owners table", hint="give an owner_id of the owners table (role csm)"
            )
    days, ends = _timeline(store, s, e)
    changes, names = _changes(days, ends, s, e)
    # a holder with nothing to show (an account held at zero all window) has no row
    shown = {h for h, c in changes.items() if c != Change()}
    holders = sorted(shown - {NO_VALUE}) + ([NO_VALUE] if NO_VALUE in shown else [])
    if owner is not None:
        holders = [owner]
        if owner not in names:
            found = engine.arrow("SELECT name FROM people WHERE owner_id = ? AND name IS NOT NULL", [owner])
            names[owner] = str(found.column("name")[0]) if found.num_rows else owner
    return Frame("book_change", _table(store, holders, changes, names, s, e))


#: the money columns of :func:`book_change`, in order, each a field of :class:`Change`
MONEY = (
    "start",
    "new",
    "transferred_in",
    "transferred_out",
    "growth_of_held",
    "growth_of_transferred_in",
    "reactivated",
    "end",
)
#: the money columns that have an account count beside them
COUNTED = ("start", "new", "transferred_in", "transferred_out", "end")


def _table(
    store: Store, holders: list[str], changes: Mapping[str, Change], names: Mapping[str, str], s: dt.date, e: dt.date
) -> pa.Table:
    mu = store.config.minor_units
    money_type = pa.decimal128(18, mu)
    schema: list[tuple[str, pa.DataType]] = [
        ("owner", pa.string()),
        ("owner_name", pa.string()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
    ]
    for k in MONEY:
        if k in COUNTED:
            schema.append((f"{k}_accounts", pa.int64()))
        schema.append((f"{k}_arr", money_type))
    schema += [("change_arr", money_type), ("held_nrr", pa.float64()), ("arithmetic", pa.string())]
    cols: dict[str, list[Any]] = {name: [] for name, _ in schema}
    for h in holders:
        c = changes.get(h, Change())
        figures = {k: Decimal(12 * getattr(c, k)).scaleb(-mu) for k in MONEY}
        cols["owner"].append(h)
        cols["owner_name"].append(names.get(h, h))
        cols["window_start"].append(s)
        cols["window_end"].append(e)
        for k in MONEY:
            if k in COUNTED:
                cols[f"{k}_accounts"].append(getattr(c, f"{k}_accounts"))
            cols[f"{k}_arr"].append(figures[k])
        cols["change_arr"].append(figures["end"] - figures["start"])
        cols["held_nrr"].append((c.start + c.growth_of_held) / c.start if c.start else None)
        cols["arithmetic"].append(arithmetic(**figures))
    return pa.table({name: pa.array(cols[name], kind) for name, kind in schema})


def held_sentence(row: Mapping[str, Any]) -> str:
    """One row of :func:`book_change` in a sentence: the change of the book and how much of it the
    accounts held at the start made (never the change itself called growth)."""
    change, growth = row["change_arr"], row["growth_of_held_arr"]
    cents = with_cents(change, growth)
    direction = "grew" if change >= 0 else "shrank"
    sign = "+" if growth >= 0 else "-"
    return (
        f"the book {direction} by {amount_text(abs(change), cents=cents)}; the accounts held at the start made"
        f" {sign}{amount_text(abs(growth), cents=cents)} of it (held NRR {percent_text(row['held_nrr'])})"
    )
