"""The churns, contractions and expansions of the sample's own subscription lines: the text and the
activity tables are planted on them.

They are found as the ledger will see them: an account's month-end MRR (local currency) as a step
function; a *churn* is a drop to zero that is not refilled the next month (a late renewal is not a
churn), dated at the end of the last paid line; a *contraction* is a drop of more than 10% that stays
above zero, dated at the day the line ended; an *expansion* is a rise of more than 10%, dated at the
day the larger line started.
"""

from __future__ import annotations

import numpy as np

from ._util import NULL, _month_of, running_per_account
from .settings import K_ADDON, K_TRIAL, K_USAGE
from .simulation import Book

CHURN, CONTRACTION, EXPANSION = 0, 1, 2


def events(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(acct, day, kind, mrr_before, mrr_after) in local cents of churns, contractions, expansions
    (``kind`` is ``CHURN``, ``CONTRACTION`` or ``EXPANSION``), by account then day."""

    ln = book.lines
    kind = ln["kind"]
    per_seat = (kind != K_ADDON) & (kind != K_USAGE)
    mrr = np.where(
        kind == K_USAGE,
        ln["mrr"],
        np.where(kind == K_ADDON, ln["amount"] / np.maximum(ln["bp"], 1), 0.0),
    ).astype(float)
    seat = ln["unit"] * ln["qty"] / np.maximum(ln["bp"], 1) * (100 - ln["disc"]) / 100
    mrr = np.where(per_seat & (kind != K_TRIAL), seat, mrr)
    mrr = np.where(kind == K_TRIAL, 0.0, mrr)
    ok = mrr > 0
    acct, start, end, mrr = ln["acct"][ok], ln["start"][ok], ln["end"][ok], mrr[ok]
    ends = end != NULL
    e_acct = np.r_[acct, acct[ends]]
    e_month = np.r_[_month_of(start), _month_of(end[ends])]
    e_delta = np.r_[mrr, -mrr[ends]]
    e_start_day = np.r_[start, np.full(ends.sum(), NULL)]
    e_end_day = np.r_[np.full(len(start), NULL), end[ends]]
    o = np.lexsort((e_month, e_acct))
    e_acct, e_month, e_delta = e_acct[o], e_month[o], e_delta[o]
    e_start_day, e_end_day = e_start_day[o], e_end_day[o]
    key = e_acct * 100_000 + e_month
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    grp = np.cumsum(first) - 1
    g_idx = np.flatnonzero(first)
    g_acct, g_month = e_acct[g_idx], e_month[g_idx]
    delta = np.bincount(grp, weights=e_delta) if len(grp) else np.zeros(0)
    last_end = np.full(len(g_idx), NULL, np.int64)
    np.maximum.at(last_end, grp, e_end_day)
    last_start = np.full(len(g_idx), NULL, np.int64)
    np.maximum.at(last_start, grp, e_start_day)
    # the level at each change point, running per account
    new_acct = np.r_[True, g_acct[1:] != g_acct[:-1]] if len(g_acct) else np.zeros(0, bool)
    level = np.round(running_per_account(delta, new_acct), 2)
    prev = np.where(new_acct, 0.0, np.r_[0.0, level[:-1]])
    nxt_same = np.r_[g_acct[1:] == g_acct[:-1], False]
    nxt_month = np.r_[g_month[1:], 0]
    refilled = nxt_same & (nxt_month == g_month + 1)
    churn = (prev > 0) & (level <= 0.5) & ~refilled
    contraction = (prev > 0) & (level > 0.5) & (level < 0.9 * prev)
    expansion = (prev > 0) & (level > 1.1 * prev)
    kind_out = np.where(churn, CHURN, np.where(contraction, CONTRACTION, np.where(expansion, EXPANSION, -1)))
    day = np.where(kind_out == EXPANSION, last_start, last_end)
    keep = (kind_out >= 0) & (day != NULL)
    return g_acct[keep], day[keep], kind_out[keep], prev[keep], level[keep]
