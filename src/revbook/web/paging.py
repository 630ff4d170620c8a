"""One page of a sorted list without sorting the whole list.

A page of the account list at a million accounts is 50 rows; sorting every row to show them cost
most of the page's answer. ``sorted_slice`` gives exactly the rows of
``df.sort(by, descending=..., nulls_last=True).slice(offset, length)``: where the page lies in the
first quarter of the list and the sort keys after the first have no nulls, it takes the first
``offset + length`` rows with Polars' ``top_k`` (a partial selection) and sorts only those; otherwise
it sorts everything. The last key should make the order total (an id), so that the page is the same
on every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

PARTIAL_UP_TO = 0.25  # share of the list a page may end at and still be selected rather than sorted


def sorted_slice(
    df: pl.DataFrame, by: Sequence[str], descending: Sequence[bool], offset: int, length: int
) -> pl.DataFrame:
    """Rows ``offset .. offset + length`` of ``df`` sorted by ``by`` (each ascending or descending), nulls last."""
    import polars as pl

    by, descending = list(by), list(descending)
    need = offset + length

    def full() -> pl.DataFrame:
        return df.sort(by, descending=descending, nulls_last=True).slice(offset, length)

    if need > df.height * PARTIAL_UP_TO:
        return full()
    # a row whose first key is null sorts after every other; nulls in a later key would need the same care
    present = df.filter(pl.col(by[0]).is_not_null())
    if present.height < need or any(present[c].null_count() for c in by[1:]):
        return full()
    top = present.top_k(need, by=by, reverse=[not d for d in descending])
    return top.sort(by, descending=descending, nulls_last=True).slice(offset, length)
