"""The plans' errors that more than one module raises."""

from __future__ import annotations

import datetime as dt

from ..errors import WorkspaceError

__all__ = ["stale"]


def stale(account_id: str, base: int, now: int, author: str | None, at: dt.datetime | None) -> WorkspaceError:
    """An edit of version ``base`` when the plan is at version ``now``."""
    if base == 0:
        return WorkspaceError(
            f"account {account_id} already has a plan (version {now})",
            value=account_id,
            hint=f"edit it instead: revbook plan edit {account_id} --version {now} ...",
        )
    by = f" by {author} at {at:%Y-%m-%d %H:%M} UTC" if author and at else ""
    if now == 0:
        return WorkspaceError(
            f"account {account_id} has no plan to edit", value=account_id, hint="create it first: revbook plan create"
        )
    return WorkspaceError(
        f"the plan of {account_id} is at version {now}{by}, not version {base}: your edit is of an old version "
        "and was not saved",
        value=base,
        hint=f"reload the plan (revbook plan show {account_id}, or its page), apply your change to version {now} "
        "and save again",
    )
