"""The warnings of one read: what revbook changed or left unread without failing the load. Text
trimmed of padding, ids that arrived as floating-point numbers (1001.0 read as 1001), amounts
rounded to the column's places, one date column in several shapes, and a column of the file that
is not read though its name is close to a canonical one."""

from __future__ import annotations

import difflib

import duckdb

from ..contract import Column, Finding, Table
from ._sql import _ident, _lit
from .options import SourceOptions
from .values import _BLANKS, _DATE_SHAPES, _MARK, _amount_sql

__all__ = ["file_notices", "float_ids", "parsed_notices"]

_FLOATS = ("FLOAT", "DOUBLE", "REAL")


def float_ids(types: dict[str, str], found: dict[str, str], present: list[Column]) -> set[str]:
    """Text columns (ids, names) whose source column is floating-point: 1001.0 is read as 1001."""
    return {c.name for c in present if c.type == "string" and c.name in found and types[found[c.name]] in _FLOATS}


def _values(n: int) -> str:
    return "1 value" if n == 1 else f"{n:,} values"


def float_text(src: str) -> str:
    """The text of a floating-point id: whole numbers without '.0' (1001.0 -> '1001')."""
    return (
        f"CASE WHEN {src} = trunc({src}) AND abs({src}) < 1e18 THEN CAST(CAST({src} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({src} AS VARCHAR) END"
    )


def file_notices(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    file: str,
    stage: str,
    row: str,
    types: dict[str, str],
    found: dict[str, str],
    present: list[Column],
) -> list[Finding]:
    """Padding trimmed from text values, float ids, and unread columns that look misspelled."""
    out: list[Finding] = []
    texts = [c for c in present if c.type == "string" and c.name in found and types[found[c.name]] == "VARCHAR"]
    floats = float_ids(types, found, present)
    checks = []
    for c in texts:
        src = _ident(found[c.name])
        # what the read trims (the same blanks): a value it changes, not left empty by it
        trimmed = f"trim({src}, {_lit(_BLANKS)})"
        checks.append((c, "padded", f"{src} <> {trimmed} AND {trimmed} <> ''"))
    for name in floats:
        col = table.column(name)
        checks.append((col, "float_id", f"{_ident(found[name])} IS NOT NULL"))
    if checks:
        # a cheap pass first: numbering the rows can mean a sort, worth it only for a finding
        seen = con.execute(f"SELECT {', '.join(f'bool_or({cond})' for _, _, cond in checks)} FROM {_ident(stage)}")
        hits = seen.fetchone() or ()
        checks = [check for check, hit in zip(checks, hits, strict=True) if hit]
    if checks:
        aggs = ", ".join(
            f"count(*) FILTER ({cond}), min(_r) FILTER ({cond}), "
            f"arg_min(CAST({_ident(found[c.name])} AS VARCHAR), _r) FILTER ({cond})"
            for c, _, cond in checks
        )
        values = con.execute(f"SELECT {aggs} FROM (SELECT {row} AS _r, * FROM {_ident(stage)})").fetchone()
        assert values is not None
        for i, (col, kind, _) in enumerate(checks):
            n, first, example = values[3 * i : 3 * i + 3]
            if not n:
                continue
            if kind == "padded":
                message = f"{_values(n)} of {col.name} had spaces around them, trimmed ('{example}' read as "
                message += f"'{str(example).strip(_BLANKS)}')"
                hint = "trim the values in the export if the spaces were not meant; ids must match exactly"
            else:
                message = f"{col.name} arrived as floating-point numbers; whole ones read without '.0' ('{example}')"
                hint = "export ids as text so they match the other tables exactly"
            out.append(Finding("warning", kind, table.name, message, hint, n, file, int(first), None, col.name))
    used = set(found.values())
    for name in types:
        if name in used or name.startswith("_rb"):
            continue
        missing = [c.name for c in table.columns if c.name not in found]
        near = difflib.get_close_matches(name.strip().casefold(), missing, n=1, cutoff=0.8)
        if near:
            out.append(
                Finding(
                    "warning",
                    "unread_column",
                    table.name,
                    f"column '{name}' is not read; did you mean '{near[0]}'?",
                    f'rename it, or map it in revbook.toml [sources.{table.name}.columns] as {near[0]} = "{name}"',
                    0,
                    file,
                    column=name,
                )
            )
    return out


def parsed_notices(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: list[Column],
    options: SourceOptions,
    parsed: str,
    *,
    typed: bool,
) -> list[Finding]:
    """Amounts rounded to the column's places, and date columns mixing shapes (per file)."""
    out: list[Finding] = []
    for col in present:
        v, p = _ident(col.name), f'"{col.name}:p"'
        if col.type == "decimal":
            places = col.sql_type.split(",")[1].rstrip(")")
            # only values with more digits after a separator than the column keeps can have been rounded
            long = "true" if typed else f"regexp_matches({v}, '[.,][0-9]{{{int(places) + 1}}}')"
            exact = f"TRY_CAST({v} AS DECIMAL(38,12))" if typed else _amount_sql(col, options.decimal, "DECIMAL(38,12)")
            sql = (
                f"SELECT _file, count(*), min(_row), arg_min(ltrim(CAST({v} AS VARCHAR), {_MARK}), _row), "
                f"arg_min(CAST({p} AS VARCHAR), _row) "
                f"FROM (SELECT * FROM {parsed} WHERE {p} IS NOT NULL AND {long}) WHERE {exact} <> {p} "
                "GROUP BY _file, _fi ORDER BY _fi"
            )
            for file, n, row, value, kept in con.execute(sql).fetchall():
                out.append(
                    Finding(
                        "warning",
                        "rounded",
                        table.name,
                        f"{_values(n)} of {col.name} {'has' if n == 1 else 'have'} more than {places} decimal "
                        f"places, rounded ('{value}' kept as {kept})",
                        "round the values in the export if the extra places matter",
                        n,
                        file,
                        int(row),
                        None,
                        col.name,
                        str(value),
                    )
                )
        elif col.type == "date" and not typed and not options.date_format:
            shape = " ".join(
                f"WHEN regexp_matches({v}, {_lit('^' + d + t + '$')}) THEN {_lit(name)}"
                for name, d, t, _ in _DATE_SHAPES
            )
            sql = (
                f"SELECT _file, _fi, s, count(*), min(_row), arg_min({v}, _row) FROM (SELECT _file, _fi, _row, {v}, "
                f"CASE WHEN length({v}) = 10 AND substr({v}, 5, 1) = '-' THEN 'YYYY-MM-DD' {shape} END AS s "
                f"FROM {parsed} WHERE {p} IS NOT NULL AND NOT starts_with({v}, {_MARK})) "
                "GROUP BY ALL ORDER BY _fi, count(*) DESC, s"
            )
            per_file: dict[int, list[tuple[str, str, int, int, str]]] = {}
            for file, fi, s, n, row, value in con.execute(sql).fetchall():
                per_file.setdefault(fi, []).append((file, s, n, row, value))
            for shapes in per_file.values():
                if len(shapes) < 2:
                    continue
                file, _, _, row, value = shapes[1]
                listed = ", ".join(f"{s} ({n:,})" for _, s, n, _, _ in shapes)
                out.append(
                    Finding(
                        "warning",
                        "mixed_date_formats",
                        table.name,
                        f"{col.name} mixes date formats: {listed}; each value was read by its own shape",
                        f'check the rarer ones; write one format, or set date_format = "..." in revbook.toml '
                        f"[sources.{table.name}] to insist on one",
                        sum(n for _, _, n, _, _ in shapes[1:]),
                        file,
                        int(row),
                        None,
                        col.name,
                        str(value),
                    )
                )
    return out
