"""Terminal tables that fit: each value formatted as people read it, and the columns that fit the width.

A number or an id is never cut: a table keeps the columns whose full values fit the terminal, in their
order of importance, and names the columns it left out. Text columns wrap. The rule that decides how a
value prints is :func:`formatter` (documented in docs/cli.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..definitions import owner_shown

#: a float column with one of these names is a ratio, printed as a percentage
RATIO_NAMES = frozenset(
    {
        "nrr",
        "grr",
        "logo_retention",
        "movement_nrr",
        "gross_revenue_churn",
        "net_revenue_churn",
        "gross_margin",
        "monthly_churn_hazard",
        "survival",
        "ci_lower",
        "ci_upper",
        "confidence",
        "arr_captured_top_decile",
    }
)
#: ... or a name ending in one of these
RATIO_SUFFIXES = ("_rate", "_share", "_retention", "_nrr", "_grr")
#: ... or starting with one of these (``p_``: a probability)
RATIO_PREFIXES = ("share_", "cum_share_", "p_", "survival_", "nrr_", "grr_")
#: a float column whose name contains one of these is money: two decimals
MONEY_PARTS = ("arr", "mrr", "arpa", "cltv", "revenue", "amount")
#: integer columns that are numbers of a row, not quantities: no thousands separator
PLAIN_INT_SUFFIXES = ("_row", "_no", "_id")
#: the fewest columns a wrapping text column keeps (fewer when its longest text is shorter)
TEXT_MIN = 20
#: what an empty value prints as
NONE = "–"
#: text columns naming who holds an account: the data's "(none)" and "unmanaged" print as
#: :data:`revbook.definitions.NO_CSM`, the one word the dashboard and the report show (CSV and JSON
#: keep the data's values)
OWNER_COLUMNS = frozenset(
    {"owner", "csm", "team", "manager", "owner_name", "csm_name", "start_csm", "from_owner", "to_owner"}
)

Format = Callable[[Any], str]


def is_ratio(name: str) -> bool:
    """Whether a float column ``name`` is a ratio (printed as a percentage)."""
    return name in RATIO_NAMES or name.endswith(RATIO_SUFFIXES) or name.startswith(RATIO_PREFIXES)


def percent(value: float | None, digits: int = 1) -> str:
    return NONE if value is None else f"{value * 100:.{digits}f}%"


def _decimals(values: Sequence[float], cap: int) -> int:
    """The fewest decimals (up to ``cap``) that print every value of the column exactly."""
    for digits in range(cap + 1):
        if all(abs(round(v, digits) - v) < 1e-9 for v in values):
            return digits
    return cap


def formatter(name: str, arrow_type: str, values: Sequence[Any], *, ratios: Collection[str] = ()) -> Format:
    """How the values of one column print.

    Decimals (money) print with thousands separators and their own scale (2 decimals); integers with
    thousands separators (row numbers and ids without); ratios (:func:`is_ratio`, or a name in
    ``ratios``) as percentages with one decimal; other floats as integers when every value is whole,
    money with two decimals, else with the fewest decimals that show every value (at most 4, 2 from 100
    up); dates in ISO form; booleans as yes/no; an empty value as a dash.
    """
    present = [v for v in values if v is not None]
    if arrow_type.startswith("decimal"):
        scale = int(arrow_type.rstrip(")").rpartition(",")[2].strip() or 0)
        return lambda v: NONE if v is None else f"{v:,.{scale}f}"
    if arrow_type.startswith(("int", "uint")):
        if name.endswith(PLAIN_INT_SUFFIXES):
            return lambda v: NONE if v is None else str(v)
        return lambda v: NONE if v is None else f"{v:,}"
    if arrow_type in ("double", "float", "halffloat"):
        if name in ratios or is_ratio(name):
            return percent
        finite = [v for v in present if math.isfinite(v)]
        if any(part in name for part in MONEY_PARTS):
            digits = 2
        else:
            cap = 2 if finite and max(abs(v) for v in finite) >= 100 else 4
            digits = _decimals(finite, cap)
        return lambda v: NONE if v is None else f"{v:,.{digits}f}" if math.isfinite(v) else str(v)
    if arrow_type == "bool":
        return lambda v: NONE if v is None else "yes" if v else "no"
    if name in OWNER_COLUMNS:
        return lambda v: plain(owner_shown(v))
    return plain


def plain(value: Any) -> str:
    """A value as text: dates in ISO form, decimals with separators, an empty value as a dash."""
    if value is None:
        return NONE
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.4f}"
    return str(value)


def whole(value: Any) -> str:
    """A number in whole units with thousands separators."""
    return NONE if value is None else f"{value:,.0f}"


@dataclass
class Column:
    """One column of a terminal table: its name, heading and printed cells."""

    name: str
    heading: str
    cells: list[str]
    numeric: bool = False
    #: a column that is never left out (a key: the period, an id, a slice)
    required: bool = False
    wrap: bool = field(init=False)

    def __post_init__(self) -> None:
        # a column of single words (numbers, ids, dates, bands) never wraps; text does
        self.wrap = not self.numeric and any(" " in c for c in self.cells)

    @property
    def min_width(self) -> int:
        head = max((len(w) for w in self.heading.split()), default=0)
        if not self.wrap:
            return max(head, *(len(c) for c in self.cells)) if self.cells else head
        longest = max((len(w) for c in self.cells for w in c.split()), default=0)
        return max(head, longest, min(TEXT_MIN, self.max_width))

    @property
    def max_width(self) -> int:
        return max(len(self.heading), *(len(c) for c in self.cells)) if self.cells else len(self.heading)


#: the columns between two cells of a row (see :func:`table`)
GAP = 2


def table_width(widths: Sequence[int]) -> int:
    return sum(widths) + GAP * max(len(widths) - 1, 0)


def fit(columns: Sequence[Column], priority: Sequence[str], width: int) -> tuple[list[Column], list[str]]:
    """The columns that fit ``width`` at their minimum width, in display order, and the names left out.

    Columns are kept in ``priority`` order (the rest after them, in display order); a required column is
    always kept.
    """
    rank = {name: i for i, name in enumerate(priority)}
    order = sorted(
        range(len(columns)), key=lambda i: (not columns[i].required, rank.get(columns[i].name, len(rank)), i)
    )
    kept: set[int] = set()
    for i in order:
        trial = sorted(kept | {i})
        if columns[i].required or table_width([columns[j].min_width for j in trial]) <= width:
            kept.add(i)
    return [c for i, c in enumerate(columns) if i in kept], [c.name for i, c in enumerate(columns) if i not in kept]


def widths(columns: Sequence[Column], width: int) -> list[int]:
    """Each column's width: its widest cell, the widest wrapping columns narrowed first when they do
    not all fit, never below a column's minimum (so a number or a word is never cut)."""
    out = [c.max_width for c in columns]
    while table_width(out) > width:
        shrinkable = [i for i, c in enumerate(columns) if out[i] > c.min_width]
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda j: out[j])
        out[i] -= 1
    return out


def table(columns: Sequence[Column], col_widths: Sequence[int], *, title: str | None) -> Any:
    """A rich table of ``columns`` at ``col_widths``; cells are text, never markup. Headings wrap at
    spaces; a cell wraps only in a text column (the others are never narrower than their widest cell)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(
        title=Text(title) if title else None,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, GAP - 1, 0, 0),
        header_style="bold",
    )
    for c, w in zip(columns, col_widths, strict=True):
        t.add_column(
            Text(c.heading),
            justify="right" if c.numeric else "left",
            width=w,
            overflow="fold",  # never reached for a number or a word: a column is never narrower than them
        )
    for row in zip(*(c.cells for c in columns), strict=True):
        t.add_row(*(Text(cell) for cell in row))
    return t
