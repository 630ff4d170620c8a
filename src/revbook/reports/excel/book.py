"""The Book change sheet: each CSM's book over the year as facts, and formulas that add them up.

A book's change (end − start) is not its growth: new accounts and transfers move it too. The sheet
puts revbook's figures of each CSM's book (``impact.book.book_change``) in as facts and adds them
up with formulas: the end from its parts (the identity column must be 0), the change, and how much
of the change is not growth of the accounts held at the start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...definitions import NO_CSM, owner_shown
from .facts import FIRST_ROW, HEADER_ROW, Check, Facts, num
from .style import Formula, col_letter, print_setup, put, put_headers, put_title, set_widths

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["PARTS", "book_sheet"]

#: the facts of a row, in the order the end adds up from: (book_change column, header, sign)
PARTS: tuple[tuple[str, str, str], ...] = (
    ("start_arr", "ARR at the start", "+"),
    ("new_arr", "new", "+"),
    ("transferred_in_arr", "transferred in", "+"),
    ("transferred_out_arr", "transferred out", "-"),
    ("growth_of_held_arr", "growth of the accounts held", "+"),
    ("growth_of_transferred_in_arr", "growth of the accounts transferred in", "+"),
    ("reactivated_arr", "reactivated", "+"),
)


def book_sheet(wb: Workbook, facts: Facts, checks: list[Check]) -> None:
    sh = wb["Book change"]
    mu = facts.minor_units
    span = f"{facts.book[0]['window_start']} to {facts.book[0]['window_end']}" if facts.book else "no window"
    put_title(
        sh,
        f"The change of each CSM's book, {span} (ARR)",
        "Blue: revbook's figures of each book (facts). Black: formulas. The end adds up from its parts (the identity "
        "must be 0); the change (end - start) is not growth: only the growth of the accounts held is the CSM's.",
    )
    cols = [
        "CSM",
        "name",
        *(header for _, header, _ in PARTS),
        "ARR at the end",
        "end from its parts",
        "identity (must be 0)",
        "change (end - start)",
        "of the change, not growth of the accounts held",
    ]
    put_headers(sh, HEADER_ROW, 1, cols)
    first_part, end_col = 3, 3 + len(PARTS)
    parts_col, identity_col, change_col, other_col = end_col + 1, end_col + 2, end_col + 3, end_col + 4
    growth_col = first_part + [k for k, _, _ in PARTS].index("growth_of_held_arr")
    for i, row in enumerate(facts.book):
        r = FIRST_ROW + i
        owner = owner_shown(row["owner"])
        put(sh, r, 1, owner, "rb_text_fact")
        put(sh, r, 2, row["owner_name"] if owner != NO_CSM else NO_CSM, "rb_text_fact")
        for j, (key, _, _) in enumerate(PARTS):
            put(sh, r, first_part + j, num(row[key]), "rb_money_fact")
        put(sh, r, end_col, num(row["end_arr"]), "rb_money_fact")
        terms = "".join(f"{sign}{col_letter(first_part + j)}{r}" for j, (_, _, sign) in enumerate(PARTS))
        put(sh, r, parts_col, Formula(f"=ROUND({terms.lstrip('+')},{mu})"), "rb_money")
        put(
            sh,
            r,
            identity_col,
            Formula(f"=ROUND({col_letter(parts_col)}{r}-{col_letter(end_col)}{r},{mu})"),
            "rb_money",
        )
        start, end = f"{col_letter(first_part)}{r}", f"{col_letter(end_col)}{r}"
        put(sh, r, change_col, Formula(f"=ROUND({end}-{start},{mu})"), "rb_money")
        growth = f"{col_letter(growth_col)}{r}"
        put(sh, r, other_col, Formula(f"=ROUND({col_letter(change_col)}{r}-{growth},{mu})"), "rb_money")
        checks.append(
            Check(
                "Book change",
                str(owner),
                "start+new+in-out+growth-end",
                "Book change",
                f"{col_letter(identity_col)}{r}",
                0,
                "money",
            )
        )
    last = FIRST_ROW + len(facts.book) - 1
    t = last + 1
    put(sh, t, 1, "total", "rb_label")
    for c in range(first_part, other_col + 1):
        put(sh, t, c, Formula(f"=ROUND(SUM({col_letter(c)}{FIRST_ROW}:{col_letter(c)}{last}),{mu})"), "rb_money_total")
    sh.freeze_panes = f"C{FIRST_ROW}"
    set_widths(sh, {"A": 12, "B": 22} | {col_letter(c): 16 for c in range(first_part, other_col + 1)})
    print_setup(sh, f"A1:{col_letter(other_col)}{t}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sh.row_dimensions[HEADER_ROW].height = 45
