"""Helpers shared by the sample's modules: dates and months as int64 numbers, and arrow arrays.

Dates are int64 days since 1970-01-01 with ``NULL`` (-1) for none; months are int64 months since
1970-01; money is int64 cents.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = -1  # a null date (days) in the int arrays

_DATE = pa.date32()
_MONEY = pa.decimal128(18, 4)
_RATE = pa.decimal128(18, 8)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _month_index(d: dt.date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def _month_start(month: np.ndarray) -> np.ndarray:
    return np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _day_of(month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """The day ``dom`` of ``month``, clipped to the month's last day."""
    first = _month_start(month)
    length = _month_start(np.asarray(month) + 1) - first
    return np.asarray(first + np.minimum(dom, length) - 1)


def _month_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _dom_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(np.asarray(days, dtype=np.int64) - _month_start(_month_of(days)) + 1)


def running_per_account(delta: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running sums of ``delta`` restarting where ``first`` is true (rows sorted by account, then
    time; ``first`` marks each account's first row): an account's level at each change."""
    total = np.cumsum(delta)
    base = np.maximum.accumulate(np.where(first, np.arange(len(delta)), 0))
    offset = np.where(base > 0, total[np.maximum(base - 1, 0)], 0)
    return total - offset


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(numbers, np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _date(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, np.int64)
    return pa.array(days.astype(np.int32), mask=days == NULL).cast(_DATE)


def _decimal(units: np.ndarray, type_: pa.DataType = _MONEY, valid: np.ndarray | None = None) -> pa.Array:
    """A decimal array from int64 values already scaled by 10**scale."""
    v = np.ascontiguousarray(units, np.int64)
    raw = np.empty(2 * len(v), np.int64)
    raw[0::2], raw[1::2] = v, v >> 63
    arr = pa.Array.from_buffers(type_, len(v), [None, pa.py_buffer(raw)])
    if valid is not None and not valid.all():
        arr = pc.if_else(pa.array(valid), arr, pa.scalar(None, type_))
    return arr


def _money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _decimal(np.asarray(cents, np.int64) * 100, _MONEY, valid)


def _pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(idx, np.int64)))


def _words(text: str, *extra: str) -> list[str]:
    return [*text.split(), *extra]
