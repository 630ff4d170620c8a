"""One owner's book: the rows of a table that belong to one CSM."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..frame import Frame

if TYPE_CHECKING:
    from ..store import Store


def book_accounts(store: Store, owner: str, *, on: dt.date | None = None) -> set[str]:
    """The accounts ``owner`` holds on ``on`` (default: the as-of date) among those paying then."""
    from .tables import mrr

    day = on or store.config.snapshot_date()
    return {
        r["account_id"]
        for r in mrr(store, accounts=True, by="owner").to_pylist()
        if r["owner"] == owner and r["period_end"] == day
    }


def for_owner(frame: Frame, owner: str | None, *, store: Store | None = None, on: dt.date | None = None) -> Frame:
    """The rows of ``frame`` in ``owner``'s book (all of them when ``owner`` is None): by the frame's
    own ``owner`` column when it has one, else by ``account_id`` among :func:`book_accounts` of
    ``store`` on ``on``. The rows keep their order and the frame its name."""
    if owner is None:
        return frame
    table = frame.to_arrow()
    if "owner" in table.column_names:
        return Frame(frame.name, table.filter([o == owner for o in table.column("owner").to_pylist()]))
    if store is None or "account_id" not in table.column_names:
        raise ConfigError(
            f"the {frame.name} table has no owner column",
            hint="pass the workspace (store=) to look up the owner's accounts",
        )
    book = book_accounts(store, owner, on=on)
    return Frame(frame.name, table.filter([a in book for a in table.column("account_id").to_pylist()]))


__all__ = ["book_accounts", "for_owner"]
