"""sorted_slice: the page a full sort would give, whatever the keys, ties, nulls and page."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from revbook.web.paging import sorted_slice


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 300))  # pages in the first quarter and later ones
    small = st.integers(0, 4)  # few distinct values: many ties
    arr = draw(st.lists(st.one_of(st.none(), small.map(lambda v: Decimal(v) / 4)), min_size=n, max_size=n))
    name = draw(st.lists(st.one_of(st.none(), st.sampled_from(["b", "a", "c"])), min_size=n, max_size=n))
    return pl.DataFrame(
        {"account_id": [f"A{i:03d}" for i in draw(st.permutations(range(n)))], "arr": arr, "name": name},
        schema={"account_id": pl.String, "arr": pl.Decimal(10, 2), "name": pl.String},
    )


@settings(max_examples=300, deadline=None)
@given(
    df=frames(),
    key=st.sampled_from(["arr", "name", "account_id"]),
    desc=st.booleans(),
    second=st.sampled_from([[], ["name"]]),
    offset=st.integers(0, 60),
    length=st.integers(1, 20),
)
def test_a_page_is_the_slice_of_the_full_sort(
    df: pl.DataFrame, key: str, desc: bool, second: list[str], offset: int, length: int
) -> None:
    by = [key, *[c for c in second if c != key], "account_id"]
    descending = [desc] + [False] * (len(by) - 1)
    expected = df.sort(by, descending=descending, nulls_last=True).slice(offset, length)
    assert sorted_slice(df, by, descending, offset, length).equals(expected)


def test_an_early_page_is_selected_not_sorted(monkeypatch) -> None:
    """The partial path is the one taken for a first page of a long list (and gives the same rows)."""
    df = pl.DataFrame({"account_id": [f"A{i:04d}" for i in range(1000)], "arr": [i % 7 for i in range(1000)]})
    calls: list[int] = []
    top_k = pl.DataFrame.top_k

    def counting(self: pl.DataFrame, k: int, **kw: object) -> pl.DataFrame:
        calls.append(k)
        return top_k(self, k, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "top_k", counting)
    page = sorted_slice(df, ["arr", "account_id"], [True, False], 50, 50)
    assert calls == [100]
    assert page["arr"].to_list() == [6] * 50  # 143 rows have 6; rows 50..99 of them
    assert page["account_id"][0] == "A0356"  # the 51st of 6, 13, 20, ... by id
    late = sorted_slice(df, ["arr", "account_id"], [True, False], 900, 50)
    assert calls == [100], "a late page sorts everything"
    assert late.equals(df.sort(["arr", "account_id"], descending=[True, False]).slice(900, 50))
