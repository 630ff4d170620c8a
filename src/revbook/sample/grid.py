"""The grid the activity tables are drawn on: every paying account-month with its licensed seats,
and the sample's events (:mod:`revbook.sample.events`); plus the arrow
helpers of those tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ._util import NULL, _date, _decimal, _month_of, _month_start, running_per_account
from .events import CHURN, EXPANSION, events
from .settings import K_CORE, K_SEATS, K_TRIAL, K_USAGE
from .simulation import Book

_KEY = 100_000  # months fit below this in a combined (account, month) key


def _key(acct: np.ndarray, month: np.ndarray) -> np.ndarray:
    return np.asarray(acct, np.int64) * _KEY + np.asarray(month, np.int64)


class _Grid:
    """Each paying account-month (account, month) with its licensed seats, and the events."""

    def __init__(self, book: Book) -> None:
        self.book = book
        ln = book.lines
        last = int(_month_of(np.array([book.as_of]))[0])
        self.last_month = last
        paid = ln["kind"] != K_TRIAL
        acct, start, end = ln["acct"][paid], ln["start"][paid], ln["end"][paid]
        seats = np.where(np.isin(ln["kind"][paid], (K_CORE, K_SEATS)), ln["qty"][paid], 0)
        sm = _month_of(start)
        em = np.where(end == NULL, last + 1, _month_of(np.where(end == NULL, 0, end)))
        # change points of (lines running, seats) per account and month, then levels by running sums
        ev_acct = np.r_[acct, acct]
        ev_month = np.r_[sm, em]
        ev_n = np.r_[np.ones(len(acct), np.int64), -np.ones(len(acct), np.int64)]
        ev_s = np.r_[seats, -seats]
        key = _key(ev_acct, ev_month)
        uniq, inv = np.unique(key, return_inverse=True)
        n_delta = np.bincount(inv, weights=ev_n, minlength=len(uniq)).astype(np.int64)
        s_delta = np.bincount(inv, weights=ev_s, minlength=len(uniq)).astype(np.int64)
        c_acct, c_month = uniq // _KEY, uniq % _KEY
        first = np.r_[True, c_acct[1:] != c_acct[:-1]] if len(uniq) else np.zeros(0, bool)
        n_level = running_per_account(n_delta, first)
        s_level = running_per_account(s_delta, first)
        nxt = np.r_[np.where(c_acct[1:] == c_acct[:-1], c_month[1:], last + 1), last + 1] if len(uniq) else c_month
        span = np.clip(np.minimum(nxt, last + 1) - c_month, 0, None)
        row = np.repeat(np.arange(len(uniq)), span)
        offset = np.arange(len(row)) - np.repeat(np.cumsum(span) - span, span)
        g_acct = c_acct[row]
        g_month = c_month[row] + offset
        running = n_level[row] > 0
        self.acct = g_acct[running]
        self.month = g_month[running]
        self.seats = np.maximum(s_level[row][running], 1)
        self.key = _key(self.acct, self.month)
        ev = events(book)
        self.ev_acct, self.ev_day, self.ev_kind, self.ev_before, self.ev_after = ev
        self.ev_month = _month_of(ev[1])
        # expansions of the usage-priced line alone (no seat or add-on line started that day)
        usage_start = set(_key(ln["acct"][ln["kind"] == K_USAGE], ln["start"][ln["kind"] == K_USAGE]).tolist())
        other = (ln["kind"] != K_USAGE) & (ln["kind"] != K_TRIAL)
        other_start = set(_key(ln["acct"][other], ln["start"][other]).tolist())
        ek = _key(self.ev_acct, self.ev_day).tolist()
        self.ev_usage_only = np.array([k in usage_start and k not in other_start for k in ek], dtype=bool) & (
            self.ev_kind == EXPANSION
        )
        self.churn_first_year = np.zeros(book.n, bool)
        ch = self.ev_kind == CHURN
        early = ch & (self.ev_day - book.paid_start[self.ev_acct] < 366) & (book.paid_start[self.ev_acct] != NULL)
        self.churn_first_year[self.ev_acct[early]] = True
        self.ever_churn = np.zeros(book.n, bool)
        self.ever_churn[self.ev_acct[ch]] = True

    def window(
        self, kind: int, before: int, upto: int, *, only: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Grid rows in the ``before``..``upto`` months before events of ``kind`` (0 = the event's month);
        returns (grid row index, months to the event) of the rows that exist."""
        sel = self.ev_kind == kind
        if only is not None:
            sel &= only
        acct, month = self.ev_acct[sel], self.ev_month[sel]
        rows, lags = [], []
        for lag in range(upto, before + 1):
            k = _key(acct, month - lag)
            pos = np.searchsorted(self.key, k)
            ok = (pos < len(self.key)) & (self.key[np.minimum(pos, len(self.key) - 1)] == k)
            rows.append(pos[ok])
            lags.append(np.full(ok.sum(), lag))
        return np.concatenate(rows), np.concatenate(lags)


def _grid(book: Book) -> _Grid:
    cached = vars(book).get("_activity_grid")
    if cached is None:
        cached = _Grid(book)
        vars(book)["_activity_grid"] = cached
    return cached


def _month_end(book: Book, month: np.ndarray) -> np.ndarray:
    return np.asarray(np.minimum(_month_start(np.asarray(month) + 1) - 1, book.as_of))


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    if valid is None:
        return _date(days)
    return pa.array(np.where(valid, days, 0).astype("datetime64[D]"), type=pa.date32(), mask=~valid)


def _decimals(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _decimal(np.round(np.asarray(values, float) * 10_000).astype(np.int64), valid=valid)


def _strings(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values.astype(object), type=pa.string())
    if valid is None:
        return arr
    return pa.array([v if ok else None for v, ok in zip(values.tolist(), valid.tolist(), strict=True)], pa.string())
