"""Finding the signals in notes: candidates in DuckDB over the whole column (a prefilter on any rule,
sentences of the candidate notes, one regular-expression pass per rule), then each candidate's scope
(:mod:`.scope`) and the model's confidence (:mod:`.model`), over the candidates only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ...config.core import parse_date
from ...errors import ConfigError
from ...frame import Frame
from .model import SignalModel, default_model
from .rules import MAX_SENTENCE, SENTENCE_SPLIT, SignalRule, signal_rules
from .scope import out_of_scope

if TYPE_CHECKING:
    import duckdb

    from ...store import Store

#: a signature block: a line holding only "--" and everything after it (names, titles, disclaimers)
SIGNATURE = r"(?s)\r?\n--[ \t]*\r?\n.*$"
#: the columns of a hit
COLUMNS = (
    "account_id", "date", "author", "source", "rule", "polarity", "sentence", "phrase", "confidence", "out_of_scope",
    "note_row", "sentence_no",
)  # fmt: skip


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _check_patterns(con: duckdb.DuckDBPyConnection, rules: tuple[SignalRule, ...]) -> None:
    import duckdb

    for r in rules:
        for p in (*r.patterns, *r.exclude):
            try:
                con.execute(f"SELECT regexp_matches('', {_q('(?i:' + p + ')')})").fetchone()
            except duckdb.Error as exc:
                raise ConfigError(
                    f"signal rule '{r.name}': pattern '{p}' is not a valid RE2 regular expression ({exc})",
                    hint="RE2 has no look-behind or back-references; see docs/churn-reasons.md",
                ) from None


def _hits_sql(rules: tuple[SignalRule, ...], source: str) -> str:
    """SQL over ``source(row_id, account_id, date, author, source, text)`` giving one row per
    candidate (a rule's pattern in a sentence, none of its exclusions), with the whole sentence for the scope."""
    prefilter = "(?i:" + "|".join(f"(?:{p})" for r in rules for p in r.patterns) + ")"
    parts = []
    for r in rules:
        conds = [f"regexp_matches(s, {_q(r.regex)})"]
        if r.exclude:
            excluded = "(?i:" + "|".join(f"(?:{e})" for e in r.exclude) + ")"
            conds.append(f"NOT regexp_matches(s, {_q(excluded)})")
        parts.append(
            f"SELECT row_id, sentence_no, {_q(r.name)} AS rule, {_q(r.polarity)} AS polarity FROM sentences "
            f"WHERE {' AND '.join(conds)}"
        )
    text = f"regexp_replace(replace(text, {_q(chr(0x2019))}, {_q(chr(39))}), {_q(SIGNATURE)}, '')"
    return f"""
        WITH candidates AS (
            SELECT row_id, {text} AS text FROM {source}
            WHERE text IS NOT NULL AND regexp_matches(text, {_q(prefilter)})
        ),
        split AS (SELECT row_id, regexp_split_to_array(text, {_q(SENTENCE_SPLIT)}) AS parts FROM candidates),
        sentences AS (
            SELECT row_id, unnest(generate_series(1, len(parts))) AS sentence_no, unnest(parts) AS s FROM split
        ),
        hits AS ({" UNION ALL ".join(parts)})
        SELECT n.account_id, n.date, n.author, n.source, h.rule, h.polarity,
               CASE WHEN length(s.s) > {MAX_SENTENCE} THEN left(s.s, {MAX_SENTENCE - 3}) || '...' ELSE trim(s.s) END
                   AS sentence,
               h.row_id AS note_row, h.sentence_no, s.s AS full_sentence
        FROM hits h JOIN sentences s USING (row_id, sentence_no) JOIN {source} n ON n.row_id = h.row_id
        ORDER BY n.date, n.account_id, h.row_id, h.sentence_no, h.rule
    """


def _in_scope(table: pa.Table, rules: tuple[SignalRule, ...], model: SignalModel | None, *, scope: bool) -> pa.Table:
    """The candidates in scope whose note the model is confident enough about, with ``phrase``
    (the words that fired) and ``confidence`` (null for a rule the model has no family for)."""
    by_name = {r.name: r for r in rules}
    keep: list[dict[str, Any]] = []
    for row in table.to_pylist():
        rule = by_name[row["rule"]]
        sentence = row["full_sentence"]
        reason, phrase = out_of_scope(rule.name, rule.regex, sentence, negation_inside=rule.negation_inside)
        if scope and reason is not None:
            continue
        confidence = None
        if model is not None:
            confidence = model.confidence(rule.name, row["sentence"], phrase, reason)
            if scope and confidence is not None and confidence < model.threshold_[rule.name]:
                continue
        row["phrase"], row["confidence"], row["out_of_scope"] = phrase, confidence, reason
        keep.append({c: row[c] for c in COLUMNS})
    fields = {f.name: f for f in table.schema}
    fields["phrase"] = pa.field("phrase", pa.string())
    fields["confidence"] = pa.field("confidence", pa.float64())
    fields["out_of_scope"] = pa.field("out_of_scope", pa.string())
    return pa.Table.from_pylist(keep, schema=pa.schema([fields[c] for c in COLUMNS]))


def model_of(model: SignalModel | str | Path | bool | None) -> SignalModel | None:
    """``model`` as :func:`find_signals` reads it: None or True the shipped model, False none, a
    :class:`SignalModel`, or the path of one saved as JSON."""
    if model is None or model is True:
        return default_model()
    if model is False:
        return None
    if isinstance(model, SignalModel):
        return model
    return SignalModel.load(model)


def _notes_source(
    con: duckdb.DuckDBPyConnection, notes: Any, name: str, since: dt.date | None, before: dt.date | None
) -> str:
    """Register ``notes`` (a Store or an Arrow-like table) as ``name`` with a row_id; return name."""
    filters = ["true"]
    if since is not None:
        filters.append(f"date >= DATE '{since.isoformat()}'")
    if before is not None:
        filters.append(f"date < DATE '{before.isoformat()}'")
    where = " AND ".join(filters)
    if hasattr(notes, "con") and hasattr(notes, "table"):  # a Store
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {name} AS
                SELECT row_number() OVER () AS row_id, account_id, date, author, source, text FROM
                (SELECT * FROM notes WHERE {where} ORDER BY _file, _row)"""
        )
        return name
    table = notes.to_arrow() if hasattr(notes, "to_arrow") and not isinstance(notes, pa.Table) else notes
    if not isinstance(table, pa.Table):
        raise ConfigError("notes must be a Store or a table with account_id, date, text", value=type(notes))
    missing = {"account_id", "date", "text"} - set(table.column_names)
    if missing:
        raise ConfigError(f"notes table lacks column(s): {', '.join(sorted(missing))}", table="notes")
    for c in ("author", "source"):
        if c not in table.column_names:
            table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
    con.register(f"{name}_in", table)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT row_number() OVER () AS row_id, account_id, CAST(date AS DATE) AS date, author, source,
                   CAST(text AS VARCHAR) AS text FROM {name}_in WHERE {where}"""
    )
    return name


def find_signals(
    source: Store | Any,
    *,
    since: str | dt.date | None = None,
    before: str | dt.date | None = None,
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
    model: SignalModel | str | Path | bool | None = None,
    scope: bool = True,
) -> Frame:
    """Every signal in the notes: account_id, date, author, source, rule, polarity, sentence,
    phrase (the words that fired), confidence (the model's), out_of_scope (null for a signal; with
    ``scope=False``, the scope check a candidate fails), note_row (the note's position), sentence_no.

    ``source`` is a Store (its ``notes`` table) or any Arrow-like table with account_id, date,
    text (author, source optional). ``since`` keeps notes dated on or after it, ``before`` those
    dated strictly before it. ``rules`` overrides the defaults (``[signals]`` of revbook.toml).
    A candidate is kept when its phrase is in scope and the model's confidence reaches the
    family's threshold (``scope=False`` keeps every candidate, with its verdicts, for review).
    ``model``: None or True, the shipped model; a :class:`SignalModel` or the path of one saved as
    JSON; False, rules and scope alone.
    Note text is data: HTML stays as written, nothing is rendered or run.
    """
    import duckdb

    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    scorer = model_of(model)
    s, b = parse_date(since, "since"), parse_date(before, "before")
    own = not (hasattr(source, "con") and hasattr(source, "table"))
    con = duckdb.connect() if own else source.con.cursor()
    try:
        _check_patterns(con, rule_set)
        name = _notes_source(con, source, "rb_notes_scan", s, b)
        candidates = con.execute(_hits_sql(rule_set, name)).to_arrow_table()
    finally:
        con.close()
    return Frame("signals", _in_scope(candidates, rule_set, scorer, scope=scope))
