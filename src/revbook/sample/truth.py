"""The planted truths of the sample company, for tests that score revbook's "who moved the number"
(revbook.impact) against what was planted: never read by the product. What each truth is, and how it
shows in the tables, is in :mod:`revbook.sample.plants`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ._util import _date, _decimal
from .plants import SOURCES, plan_of
from .settings import SampleConfig
from .simulation import build
from .staff import _staff_plan

__all__ = ["Truths", "truths"]


@dataclass(frozen=True)
class Truths:
    """What the sample planted (account ids as in the tables, money in USD)."""

    #: account_id, date (the day the MRR rose), source (csm, ae, product, self_serve), arr_delta (USD)
    expansions: pa.Table
    #: account_id, date (the save_play activity's), credible (bool: the account was really at risk)
    saves: pa.Table
    #: "flattered", "strong" and (when planted) "weak" -> the CSM's owner_id
    csms: dict[str, str]
    #: the whales: the enterprise accounts given a large seat addition in the last months
    whales: tuple[str, ...]
    #: the CSM window's start: the planted books are the CSMs' accounts from this day
    window_start: dt.date
    #: the planted book of each CSM in ``csms`` at the window start (account ids)
    books: dict[str, tuple[str, ...]]


def truths(config: SampleConfig | None = None, /, **overrides: object) -> Truths:
    """The truths planted in the sample of ``config`` (the options of :func:`revbook.sample.generate`)."""
    book = build(config, **overrides)
    plan = plan_of(book)
    staff = _staff_plan(book)
    cents = plan.x_usd_cents * 12  # ARR in USD cents
    expansions = pa.table(
        {
            "account_id": book.ids_of(plan.x_acct),
            "date": _date(plan.x_day),
            "source": pa.array(np.asarray(SOURCES, object)[plan.x_source], pa.string()),
            "arr_delta": _decimal(cents, pa.decimal128(18, 2)),
        }
    )
    saves = pa.table(
        {
            "account_id": book.ids_of(plan.s_acct),
            "date": _date(plan.s_day),
            "credible": pa.array(plan.s_credible),
        }
    )
    csms = {role: str(staff.ids[csm].as_py()) for role, csm in staff.planted.items()}
    whales = tuple(str(a) for a in book.ids_of(np.sort(book.whales["acct"])).to_pylist())
    books = {role: tuple(str(a) for a in book.ids_of(plan.books[role]).to_pylist()) for role in staff.planted}
    return Truths(
        expansions=expansions,
        saves=saves,
        csms=csms,
        whales=whales,
        window_start=dt.date(1970, 1, 1) + dt.timedelta(days=plan.window_start),
        books=books,
    )
