"""The incremental load: recompute the kept change points and states of the accounts whose inputs changed.

A load after which only the tables' contents and/or the as-of date moved forward (the same
settings and stage code, :func:`revbook.metrics.book.settings_key`) compares, per account, a
digest of everything its change points and states read (:func:`digest_sql`) with the one the
last load kept (``rb_account_digest``). Only the accounts whose digest differs (or that appear or
disappear) are built again, by the stages' own definitions, on a second connection whose
``rb_lines``, ``accounts``, ``account_history`` and ``owners`` hold those accounts' rows only
(temporary tables that shadow the workspace's), over the whole book's month spine. Their rows
of the kept ``rb_changes_*`` and ``rb_state_*`` are replaced; every other account's rows are
the same. The ledger, the month levels and the findings are rebuilt whole (the levels sum over the states; both are
cheap beside the states).

Where the as-of date enters: the ledger drops the lines that start after it and leaves open the
ones that end after it (its lines are digested as built, so clipped); the states read the
account_history rows and the owner assignments that start on or before it (an assignment that
ends after it is still open then), and look slices up on each period's snapshot date, which
for the last period is the as-of date. The digest reads those rows clipped the same way: an
account whose clipped rows are the same under the old and the new as-of date has the same
change points and states under both (every one of its candidate periods is at or before the
old as-of date's period, and no row of it falls between the two dates).

The full rebuild stays (:func:`refusal`, :func:`update`) when nothing was kept before, a setting
or the code changed, the as-of date moved back, the book's first month moved (the month spine
starts elsewhere, which every account's states read) or more than half of the accounts changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..store.stages import SCHEMA, Base, Outcome
from .book import GRAINS, Book, settings_key

if TYPE_CHECKING:
    import duckdb

    from ..config import Config
    from ..store import Store

__all__ = ["DIGEST", "digest_sql", "keep_digest", "refusal", "update"]

#: the kept table of each account's digest: (account_id, digest)
DIGEST = "rb_account_digest"
_NEXT = f"{SCHEMA}.{DIGEST}_next"
_CHANGED = f"{SCHEMA}.rb_account_changed"
#: the workspace tables the states read per account, shadowed on the second connection
_PER_ACCOUNT = ("accounts", "account_history", "owners")
#: above this share of the accounts changed, the stages are rebuilt whole (cheaper than replacing most rows)
MOST_CHANGED = 0.5


def digest_sql(as_of: dt.date) -> str:
    """(account_id, digest) of every account with a ledger line, an accounts row, account_history
    rows or owner assignments: the sum of a 64-bit hash of each row it reads, as of ``as_of``
    (its ledger lines as built; the history and the owner assignments clipped as the states
    read them, each assignment with its owner's name and team)."""
    day = f"DATE '{as_of.isoformat()}'"
    return f"""
    SELECT account_id, sum(h) AS digest FROM (
        SELECT account_id, hash('line', subscription_id, plan, start_date, end_date, mrr) AS h
        FROM {SCHEMA}.rb_lines
        UNION ALL
        SELECT account_id, hash('account', segment, region, industry) FROM accounts
        UNION ALL
        SELECT account_id, hash('history', attribute, value, valid_from) FROM account_history
        WHERE valid_from <= {day}
        UNION ALL
        SELECT o.account_id, hash('owner', o.owner_id, o.role, o.start_date,
                                  CASE WHEN o.end_date > {day} THEN NULL ELSE o.end_date END, pe.name, pe.team)
        FROM owners o LEFT JOIN people pe ON pe.owner_id = o.owner_id
        WHERE o.start_date <= {day}
    ) r
    GROUP BY account_id
    """


def refusal(config: Config, base: Base | None) -> str | None:
    """Why the kept stages cannot be updated in place before the ledger is built (None: they may)."""
    if base is None:
        return "no stages were kept before"
    if base.settings_key != settings_key(config):
        return "a setting or revbook's code changed"
    if config.snapshot_date() < base.as_of:
        return "the as-of date moved back"
    return None


def keep_digest(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> int:
    """Keep each account's digest for the next load (the one :func:`update` computed, else
    computed now); the number of accounts."""
    exists = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = '{SCHEMA}' AND table_name = '{DIGEST}_next'"
    ).fetchone()
    if not exists or not exists[0]:
        con.execute(f"CREATE OR REPLACE TABLE {_NEXT} AS {digest_sql(as_of)}")
    con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{DIGEST}")
    con.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
    con.execute(f"ALTER TABLE {_NEXT} RENAME TO {DIGEST}")
    return int(con.execute(f"SELECT count(*) FROM {SCHEMA}.{DIGEST}").fetchone()[0])  # type: ignore[index]


def update(store: Store, book: Book, base: Base, old: Sequence[str]) -> Outcome | str:
    """Recompute the change points and states of the accounts whose digest changed, in the kept
    tables ``old`` (those of the last load), once ``book`` (the whole book's, reading ``old``) has
    built its ledger. The outcome, or why the stages must be rebuilt instead (some of ``old`` may
    then have been updated already)."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TABLE {_NEXT} AS {digest_sql(book.as_of)}")
    con.execute(
        f"""CREATE OR REPLACE TABLE {_CHANGED} AS
        SELECT coalesce(n.account_id, o.account_id) AS account_id
        FROM {_NEXT} n FULL JOIN {SCHEMA}.{DIGEST} o ON o.account_id = n.account_id
        WHERE n.digest IS DISTINCT FROM o.digest"""
    )
    accounts = int(con.execute(f"SELECT count(*) FROM {_NEXT}").fetchone()[0])  # type: ignore[index]
    changed = int(con.execute(f"SELECT count(*) FROM {_CHANGED}").fetchone()[0])  # type: ignore[index]
    if changed > MOST_CHANGED * accounts:
        return f"{changed:,} of {accounts:,} accounts changed, more than half"
    cur = con.cursor()
    try:
        ids = f"SELECT account_id FROM {_CHANGED}"
        cur.execute(f"CREATE TEMP TABLE rb_lines AS SELECT * FROM {SCHEMA}.rb_lines WHERE account_id IN ({ids})")
        for table in _PER_ACCOUNT:  # shadow the workspace's: these accounts' rows only
            cur.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {table} WHERE account_id IN ({ids})")
        from ..engines.duckdb import DuckDBEngine
        from .states import shared_dimensions, states

        sub = Book(DuckDBEngine(cur), store.config)
        sub._built.add("ledger")
        for grain in GRAINS:
            sub.changes(grain)
        if not _replace(cur, sub, [n for n in old if n.startswith("rb_changes_")], ids):
            return "the kept set holds other stages"
        first = book.spine("month")[1]
        if first != base.first_month:
            return "the first month of the book moved"
        sub.first_periods["month"] = first
        for grain in GRAINS:
            states(sub, grain, shared_dimensions())
        states(sub, "month", ())
        if not _replace(cur, sub, [n for n in old if n.startswith("rb_state_")], ids):
            return "the kept set holds other stages"
    finally:
        cur.close()
    return Outcome(accounts, changed)


def _replace(cur: duckdb.DuckDBPyConnection, sub: Book, names: Sequence[str], ids: str) -> bool:
    """Replace the changed accounts' rows of each kept table ``names`` with ``sub``'s (a DELETE
    and an INSERT: at a fifth of the accounts changed, faster than writing each table again as
    the other accounts' rows and the new ones). False, and nothing replaced, when ``sub`` did not
    build one of them (a kept set of another shape: it is rebuilt instead)."""
    if any(name not in sub._built for name in names):
        return False
    for name in names:
        cur.execute(f"DELETE FROM {SCHEMA}.{name} WHERE account_id IN ({ids})")
        cur.execute(f"INSERT INTO {SCHEMA}.{name} SELECT * FROM temp.main.{name}")
    return True
