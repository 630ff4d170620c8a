"""From a staged file to canonical values: the canonical columns found in its header, its rows as
trimmed text with the null tokens removed, each value parsed, and the first value that breaks the
contract raised as a :class:`~revbook.errors.SourceError` naming its file, data row and column."""

from __future__ import annotations

import difflib
from collections.abc import Callable

import duckdb

from ..contract import Column, Table
from ..errors import SourceError
from ._sql import _ident, _in, _lit
from .notices import _FLOATS, float_text
from .options import SourceOptions
from .typed import _NUMERIC_TYPES
from .values import _BLANKS, _MARK, _NULLS, _TEXT_NULLS, _amount_prep, _bad_value, _slash_orders, _value_sql


def _resolve(
    table: Table, header: list[str], options: SourceOptions, file: str, written: list[str] | None = None
) -> dict[str, str]:
    """Canonical column -> the file's column. ``written`` is the header as the file spells it (a
    repeated name there is an error when revbook reads that column)."""
    folded: dict[str, str] = {}
    for h in header:
        folded.setdefault(h.strip().casefold(), h)
    has = ", ".join(repr(h) for h in header) or "none"
    where = f"revbook.toml [sources.{table.name}.columns]"
    found: dict[str, str] = {}
    for col in table.columns:
        want = options.columns.get(col.name, col.name)
        hit = want if want in header else folded.get(want.strip().casefold())
        if hit is not None:
            found[col.name] = hit
        elif col.name in options.columns or col.required:
            what = f"column '{want}' (mapped to {col.name})" if want != col.name else f"required column '{col.name}'"
            near = difflib.get_close_matches(want.casefold(), list(folded), n=1, cutoff=0.75)
            guess = f"did you mean '{folded[near[0]]}'? " if near else ""
            raise SourceError(
                f"missing {what}; {guess}the file has columns: {has}",
                file=file,
                table=table.name,
                column=col.name,
                hint=f'rename it in the file, or map it in {where} as {col.name} = "<their column>"',
            )
    if written is not None:
        counts: dict[str, list[int]] = {}
        for j, name in enumerate(written, 1):
            counts.setdefault(name.strip().casefold(), []).append(j)
        for canonical, theirs in found.items():
            positions = counts.get(theirs.strip().casefold(), [])
            if len(positions) > 1:
                raise SourceError(
                    f"the header names column '{theirs}' {len(positions)} times (columns "
                    f"{', '.join(map(str, positions))}); revbook cannot tell which one holds {canonical}",
                    file=file,
                    line=1,
                    table=table.name,
                    column=canonical,
                    hint="rename or remove the extra column in the file",
                )
    if table.one_of and not any(all(c in found for c in group) for group in table.one_of):
        groups = " or ".join("(" + ", ".join(g) + ")" for g in table.one_of)
        raise SourceError(
            f"needs the columns {groups}; the file has columns: {has}",
            file=file,
            table=table.name,
            hint=f'map them in {where} as <canonical> = "<their column>"',
        )
    return found


def _project(
    index: int, file: str, stage: str, row: str, types: dict[str, str], found: dict[str, str], present: list[Column]
) -> str:
    """One file's rows as trimmed text with NULL tokens removed; typed values marked with ``_TYPED``."""
    cols = []
    for col in present:
        name = found.get(col.name)
        if name is None:
            cols.append(f"CAST(NULL AS VARCHAR) AS {_ident(col.name)}")
            continue
        src, kind = _ident(name), types[name].split("(")[0]
        if col.type == "string" and kind in _FLOATS:
            text = float_text(src)
        elif col.type == "decimal" and kind in _NUMERIC_TYPES:
            text = f"{_MARK} || CAST({src} AS VARCHAR)"
        elif col.type == "date" and (kind == "DATE" or kind.startswith("TIMESTAMP")):
            text = f"{_MARK} || CAST(CAST({src} AS DATE) AS VARCHAR)"
        elif col.type in ("decimal", "date"):
            text = f"CAST({src} AS VARCHAR)"
        else:
            text = f"ltrim(CAST({src} AS VARCHAR), {_MARK})"
        cols.append(f"trim({text}, {_lit(_BLANKS)}) AS {_ident(col.name)}")
    nulls = [
        f"CASE WHEN lower({_ident(c.name)}) IN {_in(_TEXT_NULLS if c.type == 'string' else _NULLS)} THEN NULL"
        f" ELSE {_ident(c.name)} END AS {_ident(c.name)}"
        for c in present
    ]
    inner = f"SELECT {index} AS _fi, {_lit(file)} AS _file, {row} AS _row, {', '.join(cols)} FROM {_ident(stage)}"
    return f"SELECT _fi, _file, _row, {', '.join(nulls)} FROM ({inner})"


def _parse(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    raw: str,
    parsed: str,
    found: list[dict[str, str]],
) -> None:
    """Create ``parsed`` with a ``"<col>:p"`` typed value per column; raise on the first bad value."""
    slash = _slash_orders(con, table, present, options, raw, found)
    prep, exprs = [], []
    for col in present:
        v = _ident(col.name)
        if col.type == "decimal":
            plain = f"TRY_CAST({v} AS {col.sql_type}) IS NULL" if options.decimal != "," else "true"
            prep.append(f'CASE WHEN {plain} THEN {_amount_prep(v, col)} END AS "{col.name}:s"')
            prep.append(f"{v} LIKE '(%)' AS \"{col.name}:paren\"")
        exprs.append(f'{_value_sql(col, v, options, slash.get(col.name))} AS "{col.name}:p"')
    nonempty = " OR ".join(f"{_ident(c.name)} IS NOT NULL" for c in present)
    prep_sql = ", " + ", ".join(prep) if prep else ""
    con.execute(
        f"CREATE TEMP TABLE {parsed} AS SELECT *, {', '.join(exprs)} "
        f"FROM (SELECT *{prep_sql} FROM {raw} WHERE {nonempty})"
    )
    _validate(con, table, present, options, parsed, found, slash)


_PRICES = ("mrr", "amount", "unit_price")


_Hit = tuple[str, int, int, str | None]


def _check_prices(
    table: Table,
    present: list[Column],
    first: Callable[[str, str], _Hit | None],
    fail: Callable[[_Hit, str, str, str | None], SourceError],
) -> None:
    """A paid line needs one whole price group (mrr, or amount and months, or unit price, quantity
    and months); an empty price would count as no MRR without a word."""
    names = {c.name for c in present}
    groups = [g for g in table.one_of if all(c in names for c in g)]
    if not groups:
        return
    priced = " OR ".join("(" + " AND ".join(f'"{c}:p" IS NOT NULL' for c in g) + ")" for g in groups)
    trial = 'NOT coalesce("is_trial:p", false) AND ' if "is_trial" in names else ""
    for column in groups[0]:
        if hit := first(f'{trial}NOT ({priced}) AND "{column}:p" IS NULL', column):
            listed = " or ".join("(" + ", ".join(g) + ")" for g in groups)
            raise fail(
                hit,
                column,
                f"the line has no price: {column} is empty (a paid line needs {listed})",
                "fill in the price, or mark a free line with is_trial = true",
            )


def _validate(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    parsed: str,
    found: list[dict[str, str]],
    slash: dict[str, str],
) -> None:
    """Raise on the first empty required value, unreadable value, negative amount or end before start."""

    def first(where: str, column: str) -> tuple[str, int, int, str | None] | None:
        value = f"ltrim(CAST({_ident(column)} AS VARCHAR), {_MARK})"
        sql = f"SELECT _file, _fi, _row, {value} FROM {parsed} WHERE {where} ORDER BY _fi, _row LIMIT 1"
        hit = con.execute(sql).fetchone()
        return None if hit is None else (hit[0], int(hit[1]), int(hit[2]), hit[3])

    def fail(hit: tuple[str, int, int, str | None], col: str, message: str, hint: str | None) -> SourceError:
        file, fi, row, value = hit
        their = found[fi].get(col, col)
        message += "" if their == col else f" (file column '{their}')"
        return SourceError(message, file=file, row=row, column=col, value=value, table=table.name, hint=hint)

    where = f"[sources.{table.name}]"
    for col in present:
        v, p = _ident(col.name), f'"{col.name}:p"'
        if col.required and (hit := first(f"{v} IS NULL", col.name)):
            raise fail(hit, col.name, f"required column '{col.name}' is empty", "fill it in or remove the row")
        if col.type == "string" and (hit := first(f"contains({v}, chr(0))", col.name)):
            shown = str(hit[3]).replace("\x00", "\\0")
            raise fail(
                (*hit[:3], shown), col.name, "the value holds a NUL byte (\\0)", "remove the NUL bytes from the export"
            )
        if hit := first(f"{v} IS NOT NULL AND {p} IS NULL", col.name):
            raise fail(hit, col.name, *_bad_value(col, str(hit[3]), options, slash.get(col.name), where))
        if col.non_negative and (hit := first(f"{p} < 0", col.name)):
            credit = table.name == "subscriptions" and col.name in _PRICES
            raise fail(
                hit,
                col.name,
                f"'{hit[3]}' is negative; {col.name} must be >= 0",
                "a subscription line is never a credit: record credits as invoice lines with a negative amount"
                if credit
                else "fix the value in the file",
            )
        if col.positive and (hit := first(f"{p} <= 0", col.name)):
            raise fail(hit, col.name, f"'{hit[3]}' is not above 0; {col.name} must be > 0", "fix the value in the file")
    _check_prices(table, present, first, fail)
    names = {c.name for c in present}
    for start, end in table.ordered:
        if start in names and end in names:
            hit = first(f'"{end}:p" < "{start}:p"', end)
            if hit:
                row = con.execute(
                    f'SELECT "{end}:p", "{start}:p" FROM {parsed} WHERE _fi = ? AND _row = ?', [hit[1], hit[2]]
                ).fetchone()
                assert row is not None
                raise fail(
                    hit,
                    end,
                    f"{end} {row[0]} is before {start} {row[1]}",
                    f"fix the row, or leave {end} empty if it is ongoing",
                )
