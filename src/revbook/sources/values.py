"""The value parsers: SQL that turns the text of a cell into a canonical date, amount, whole
number, flag, currency or choice (several date shapes, day-first or month-first slashes decided by
the values, thousands and decimal separators, currency symbols, parentheses for negatives), and the
message naming what was expected when a value cannot be read."""

from __future__ import annotations

import duckdb

from ..contract import CURRENCY_MINOR_UNITS, Column, Table
from ..errors import SourceError
from ._sql import _ident, _in, _lit
from .options import SourceOptions

_NULLS = ("", "null", "na", "n/a", "none")
#: in text columns "NA" is a value (North America, Namibia): only an empty cell or NULL is missing
_TEXT_NULLS = ("", "null")
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
#: prefix of a value that arrived typed (an Excel number or date, a Parquet number or date):
#: its text is canonical and must not go through the text heuristics
_TYPED = "\x1f"
_MARK = "chr(31)"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)?"
_SLASH = r"^(\d{1,2})/(\d{1,2})/\d{4}" + _TIME + "$"
_BLANKS = " \t\r\n\u00a0\ufeff"
_SYMBOLS = r"\s\x{00A0}\x{202F}'$€£¥₹₩₽₺₪₫₱₦₴"


def _slash_orders(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    raw: str,
    found: list[dict[str, str]],
) -> dict[str, str]:
    """Per date column: '%m/%d/%Y' or '%d/%m/%Y' for a/b/YYYY values, decided by the values."""
    if options.date_format:
        return {}
    hint = f'set date_format = "%m/%d/%Y" or "%d/%m/%Y" in revbook.toml [sources.{table.name}]'
    evidence: dict[str, tuple[bool, bool, bool]] = {}
    for col in (c for c in present if c.type == "date"):
        a, b = (f"CAST(regexp_extract({_ident(col.name)}, {_lit(_SLASH)}, {g}) AS INTEGER)" for g in (1, 2))
        sql = (
            f"SELECT bool_or(a > 12), bool_or(b > 12), bool_or(a <> b), min(_row) FILTER (a > 12), "
            f"min(_row) FILTER (b > 12) FROM (SELECT _row, {a} AS a, {b} AS b FROM {raw} "
            f"WHERE regexp_matches({_ident(col.name)}, {_lit(_SLASH)}))"
        )
        eu, us, differ, eu_row, us_row = con.execute(sql).fetchone()  # type: ignore[misc]
        if eu and us:
            raise SourceError(
                f"the dates mix day-first (row {eu_row}) and month-first (row {us_row}) forms",
                table=table.name,
                column=col.name,
                hint=hint,
            )
        evidence[col.name] = (bool(eu), bool(us), bool(differ))
    decided = {v[0] for v in evidence.values() if v[0] or v[1]}
    orders = {}
    for name, (eu, us, differ) in evidence.items():
        if eu or us:
            orders[name] = "%d/%m/%Y" if eu else "%m/%d/%Y"
        elif differ and len(decided) != 1:
            file, row, value = con.execute(
                f"SELECT _file, _row, {_ident(name)} FROM {raw} WHERE regexp_matches({_ident(name)}, {_lit(_SLASH)}) "
                f"AND split_part({_ident(name)}, '/', 1) <> split_part({_ident(name)}, '/', 2) "
                f"ORDER BY _fi, _row LIMIT 1"
            ).fetchone()  # type: ignore[misc]
            raise SourceError(
                f"the dates are ambiguous: '{value}' could be month/day or day/month, and no value is past the 12th",
                file=file,
                row=row,
                value=value,
                table=table.name,
                column=name,
                hint=hint,
            )
        else:
            orders[name] = "%d/%m/%Y" if decided == {True} else "%m/%d/%Y"
    return orders


def _value_sql(col: Column, v: str, options: SourceOptions, slash: str | None) -> str:
    if col.type == "date":
        return _date_sql(v, options.date_format, slash or "%m/%d/%Y")
    if col.type == "decimal":
        return _amount_sql(col, options.decimal)
    if col.type == "integer":
        whole = f"TRY_CAST(split_part({v}, '.', 1) AS BIGINT)"
        return f"CASE WHEN regexp_matches({v}, '^[+-]?[0-9]+(\\.0*)?$') THEN {whole} END"
    if col.type == "boolean":
        return f"CASE WHEN lower({v}) IN {_in(_TRUE)} THEN true WHEN lower({v}) IN {_in(_FALSE)} THEN false END"
    if col.name == "currency":
        return f"CASE WHEN upper({v}) IN {_in(sorted(CURRENCY_MINOR_UNITS))} THEN upper({v}) END"
    if col.choices:
        return f"CASE WHEN lower({v}) IN {_in(col.choices)} THEN lower({v}) END"
    return v


#: the date shapes read without a date_format: (name, pattern, time suffix, strptime format(s))
_DATE_SHAPES: tuple[tuple[str, str, str, str | None], ...] = (
    ("YYYY-MM-DD", r"\d{4}-\d{1,2}-\d{1,2}", _TIME, "'%Y-%m-%d'"),
    ("YYYY/MM/DD", r"\d{4}/\d{1,2}/\d{1,2}", _TIME, "'%Y/%m/%d'"),
    ("DD.MM.YYYY", r"\d{1,2}\.\d{1,2}\.\d{4}", _TIME, "'%d.%m.%Y'"),
    ("a/b/YYYY", r"\d{1,2}/\d{1,2}/\d{4}", _TIME, None),
    ("31-Jan-2024", r"\d{1,2}[- ][A-Za-z]{3,9}[- ]\d{4}", "", "['%d-%b-%Y', '%d-%B-%Y', '%d %b %Y', '%d %B %Y']"),
    (
        "Jan 31, 2024",
        r"[A-Za-z]{3,9}\.? \d{1,2},? \d{4}",
        "",
        "['%b %d, %Y', '%B %d, %Y', '%b. %d, %Y', '%b %d %Y', '%B %d %Y']",
    ),
)


def _date_sql(v: str, date_format: str | None, slash: str) -> str:
    typed = f"WHEN starts_with({v}, {_MARK}) THEN TRY_CAST(substr({v}, 2) AS DATE)"
    if date_format:
        return f"CASE {typed} ELSE TRY_CAST(try_strptime({v}, {_lit(date_format)}) AS DATE) END"
    shapes = [(d, t, _lit(slash) if fmt is None else fmt) for _, d, t, fmt in _DATE_SHAPES]
    whens = [
        f"WHEN regexp_matches({v}, {_lit('^' + d + t + '$')}) "
        f"THEN TRY_CAST(try_strptime(regexp_extract({v}, {_lit('^(' + d + ')')}, 1), {fmt}) AS DATE)"
        for d, t, fmt in shapes
    ]
    iso = f"WHEN length({v}) = 10 AND substr({v}, 5, 1) = '-' THEN TRY_CAST({v} AS DATE)"
    return f"CASE {typed} {iso} {' '.join(whens)} END"


def _amount_prep(v: str, col: Column) -> str:
    """The value without parentheses, currency symbols or codes, spaces (and % for percent columns)."""
    symbols = _SYMBOLS + ("%" if "percent" in col.name else "")
    text = f"regexp_replace(regexp_replace({v}, '^\\((.*)\\)$', '\\1'), {_lit('[' + symbols + ']')}, '', 'g')"
    codes = "(?i:" + "|".join(sorted(CURRENCY_MINOR_UNITS)) + ")"
    return f"regexp_replace(regexp_replace({text}, '^([+-]?){codes}', '\\1'), '{codes}$', '')"


def _amount_sql(col: Column, decimal: str | None, sql_type: str | None = None) -> str:
    s, paren, v = f'"{col.name}:s"', f'"{col.name}:paren"', _ident(col.name)
    to = sql_type or col.sql_type
    body = f"regexp_replace({s}, '^[+-]', '')"
    if decimal == ",":
        plain = f"replace(replace({body}, '.', ''), ',', '.')"
    elif decimal == ".":
        plain = f"replace({body}, ',', '')"
    else:
        comma_thousands = r"^[1-9][0-9]{0,2}(,[0-9]{3})+$|^[1-9][0-9]?(,[0-9]{2})+,[0-9]{3}$"
        plain = (
            f"CASE WHEN contains({body}, ',') AND contains({body}, '.') THEN "
            f"CASE WHEN regexp_matches({body}, ',[0-9]*$') THEN replace(replace({body}, '.', ''), ',', '.') "
            f"ELSE replace({body}, ',', '') END "
            f"WHEN contains({body}, ',') THEN CASE WHEN regexp_matches({body}, {_lit(comma_thousands)}) "
            f"THEN replace({body}, ',', '') ELSE replace({body}, ',', '.') END "
            f"WHEN regexp_matches({body}, '^[1-9][0-9]{{0,2}}(\\.[0-9]{{3}}){{2,}}$') THEN replace({body}, '.', '') "
            f"ELSE {body} END"
        )
    negative = f"({paren} OR starts_with({s}, '-'))"
    valid = (
        f"regexp_matches({plain}, '^([0-9]+\\.?[0-9]*|\\.[0-9]+)$') AND NOT ({paren} AND regexp_matches({s}, '^[+-]'))"
    )
    text = f"CASE WHEN {negative} THEN '-' ELSE '' END || {plain}"
    return (
        f"CASE WHEN starts_with({v}, {_MARK}) THEN TRY_CAST(substr({v}, 2) AS {to}) "
        f"WHEN {s} IS NULL THEN TRY_CAST({v} AS {to}) "
        f"WHEN {valid} THEN TRY_CAST({text} AS {to}) END"
    )


_LARGEST = {"DECIMAL(18,4)": "99,999,999,999,999.9999", "DECIMAL(18,8)": "9,999,999,999.99999999"}


def _too_large(value: str, col: Column) -> bool:
    """A number that reads but does not fit the column's decimal type (1e15 in DECIMAL(18,4))."""
    text = value.lstrip(_TYPED).strip().strip("()").replace(",", "").replace(" ", "").lstrip("+-")
    try:
        number = float(text)
    except ValueError:
        return False
    digits = 18 - int(col.sql_type.split(",")[1].rstrip(")"))
    return bool(abs(number) >= 10**digits)


def _bad_value(col: Column, value: str, options: SourceOptions, slash: str | None, where: str) -> tuple[str, str]:
    if col.type == "date":
        expected = options.date_format or (
            f"YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY, {'DD/MM/YYYY' if slash == '%d/%m/%Y' else 'MM/DD/YYYY'}, "
            "31-Jan-2024 or Jan 31, 2024"
        )
        return (
            f"'{value}' is not a valid date; expected {expected}",
            f'fix the value, or set date_format = "..." in revbook.toml {where}',
        )
    if col.type == "decimal":
        sep = f" with decimal '{options.decimal}'" if options.decimal else ""
        if _too_large(value, col):
            return (
                f"'{value}' is too large: {col.name} holds at most {_LARGEST[col.sql_type]}",
                "check the value (a misplaced decimal mark, or cents written as units?)",
            )
        return (
            f"'{value}' is not a valid number{sep}",
            f"write amounts like 1234.56 or set decimal in revbook.toml {where}",
        )
    if col.type == "integer":
        return f"'{value}' is not a whole number", "fix the value in the file"
    if col.type == "boolean":
        return f"'{value}' is not a yes/no value", f"use one of: {', '.join(_TRUE + _FALSE)}"
    if col.name == "currency":
        return f"unknown currency '{value}'", "use an ISO 4217 code such as USD, EUR or GBP"
    return f"'{value}' is not one of: {', '.join(col.choices or ())}", "use one of the allowed values"
