"""The workbook's named styles and the cell helpers every sheet writes with.

Every cell goes through :func:`put`: a :class:`Formula` is the workbook's own formula; any other
text is data, written as text (never a formula, an error value or a number), and when it begins with
a character a spreadsheet reads as a formula it gets the same leading apostrophe as a CSV export
(:func:`revbook.frame.spreadsheet_safe`), so an account named ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import copy
from typing import TYPE_CHECKING, Any

from ...frame import spreadsheet_safe

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "Formula",
    "add_styles",
    "col_letter",
    "forget_styles",
    "link_to",
    "money_format",
    "pass_fail_format",
    "print_setup",
    "put",
    "put_headers",
    "put_title",
    "set_widths",
    "sheet_ref",
]


class Formula(str):
    """A formula the workbook itself writes (``=SUMIFS(...)``); every other string is stored as text."""

    __slots__ = ()


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "CNY": "¥"}


def money_format(currency: str, minor_units: int) -> str:
    number = "#,##0" + ("." + "0" * minor_units if minor_units else "")
    symbol = SYMBOLS.get(currency)
    if symbol:
        return f'"{symbol}"{number};-"{symbol}"{number}'
    return f'{number} "{currency}";-{number} "{currency}"'


def add_styles(wb: Workbook, money_format: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

    fact = Font(color="1F4E9C")  # blue: a value typed in (the facts, the engine's constants)
    engine_fill = PatternFill("solid", fgColor="EDEDED")
    thin = Side(style="thin", color="808080")

    def style(name: str, **kw: Any) -> None:
        wb.add_named_style(NamedStyle(name=name, **kw))

    style("rb_title", font=Font(bold=True, size=14))
    style("rb_note", font=Font(italic=True, color="595959"), alignment=Alignment(wrap_text=False))
    style("rb_label", font=Font(bold=True))
    style(
        "rb_header",
        font=Font(bold=True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor="305496"),
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        border=Border(bottom=thin),
    )
    style(
        "rb_header_engine",
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="BFBFBF"),
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        border=Border(bottom=thin),
    )
    style("rb_text_fact", font=fact)
    style("rb_period_fact", font=fact, number_format="yyyy-mm")
    style("rb_date_fact", font=fact, number_format="yyyy-mm-dd")
    style("rb_period", number_format="yyyy-mm")
    style("rb_money_fact", font=fact, number_format=money_format)
    style("rb_money", number_format=money_format)
    style("rb_money_total", font=Font(bold=True), number_format=money_format, border=Border(top=thin))
    style("rb_money_engine", font=fact, fill=engine_fill, number_format=money_format)
    style("rb_count", number_format="#,##0")
    style("rb_count_engine", font=fact, fill=engine_fill, number_format="#,##0")
    style("rb_ratio", number_format="0.00%")
    style("rb_ratio_engine", font=fact, fill=engine_fill, number_format="0.00%")
    style("rb_tolerance", font=fact, number_format="0.0########")
    style("rb_result", font=Font(bold=True), alignment=Alignment(horizontal="center"))
    style("rb_link", font=Font(color="0563C1", underline="single"))


def pass_fail_format(sheet: Worksheet, ref: str) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    sheet.conditional_formatting.add(
        ref,
        CellIsRule(
            operator="equal",
            formula=['"PASS"'],
            fill=PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE"),
            font=Font(color="006100"),
        ),
    )
    sheet.conditional_formatting.add(
        ref,
        CellIsRule(
            operator="equal",
            formula=['"FAIL"'],
            fill=PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE"),
            font=Font(color="9C0006"),
        ),
    )


# per workbook being written: named style -> the style array of a cell that has it (setting a named
# style by name costs a lookup per cell; copying the array of a cell that has it is the same, faster)
STYLE_CACHE: dict[int, dict[str, Any]] = {}


def put(sheet: Worksheet, row: int, col: int, value: Any, style: str | None = None) -> Any:
    """Write ``value`` to a cell: a :class:`Formula` as a formula, other text as text (made
    spreadsheet-safe), numbers and dates as themselves."""
    if isinstance(value, Formula):
        if not value.startswith("="):
            raise ValueError(f"a formula starts with '=': {value!r}")
        cell = sheet.cell(row=row, column=col, value=str(value))
    elif isinstance(value, str):
        cell = sheet.cell(row=row, column=col, value=spreadsheet_safe(value))
        cell.data_type = "s"  # openpyxl would read '=...' as a formula and '#N/A' as an error
    else:
        cell = sheet.cell(row=row, column=col, value=value)
    if style:
        cache = STYLE_CACHE.setdefault(id(sheet.parent), {})
        known = cache.get(style)
        if known is None:
            cell.style = style
            cache[style] = copy(cell._style)
        else:
            cell._style = copy(known)
    return cell


def forget_styles(wb: Workbook) -> None:
    """Drop the style arrays cached while ``wb`` was written."""
    STYLE_CACHE.pop(id(wb), None)


def put_title(sheet: Worksheet, title: str, note: str) -> None:
    put(sheet, 1, 1, title, "rb_title")
    put(sheet, 2, 1, note, "rb_note")


def put_headers(sheet: Worksheet, row: int, start_col: int, names: Sequence[str], style: str = "rb_header") -> None:
    for i, name in enumerate(names):
        put(sheet, row, start_col + i, name, style)


def set_widths(sheet: Worksheet, widths: Mapping[str, float]) -> None:
    for col, width in widths.items():
        sheet.column_dimensions[col].width = width


def link_to(cell: Any, sheet: str, coordinate: str) -> None:
    from openpyxl.worksheet.hyperlink import Hyperlink

    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!{coordinate}", display=cell.value)
    cell.style = "rb_link"


def print_setup(
    sheet: Worksheet,
    area: str,
    *,
    title_rows: str | None = None,
    title_cols: str | None = None,
    pages_wide: int = 1,
) -> None:
    """How ``sheet`` prints: its ``area`` (e.g. ``A1:I40``) in landscape, ``pages_wide`` pages wide (as
    many pages tall as it takes), the ``title_rows`` / ``title_cols`` repeated on every page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.print_area = area
    sheet.page_setup.orientation = "landscape"  # every sheet is wider than a portrait page
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = pages_wide
    sheet.page_setup.fitToHeight = 0  # as many pages tall as the rows need
    if title_rows:
        sheet.print_title_rows = title_rows
    if title_cols:
        sheet.print_title_cols = title_cols
    sheet.print_options.horizontalCentered = True


def sheet_ref(sheet: str) -> str:
    """A sheet name as a formula reference prefix."""
    return f"'{sheet}'!" if " " in sheet else f"{sheet}!"


def col_letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(n)
    return letter
