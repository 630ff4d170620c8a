"""Trigger phrases in notes: rules, hits, accuracy, lift, and point-in-time features.

A rule is a set of regular expressions (RE2 syntax, which DuckDB runs; matched case-insensitively)
with a polarity: ``risk``, ``expansion`` or ``both``. A sentence fires a rule when one pattern
matches and none of these holds:

- a negation up to three words before the phrase ("we are **not** being acquired", "**no** budget
  cuts", "they **won't** add another department"), or inside it ("our champion is **not** leaving");
- a hypothetical up to six words before it ("**if** we were acquired", "**whether** they get
  acquired", "**in case** of layoffs");
- one of the rule's exclusions ("the merger of two internal teams").

Everything runs in DuckDB over the whole column (a prefilter on any rule, then sentences of the
candidate notes, then one regular-expression pass per rule): no Python loop over notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..config.insights import signal_overrides
from ..errors import ConfigError
from ..frame import Frame
from ..metrics import tables

if TYPE_CHECKING:
    import duckdb

    from ..store import Store

__all__ = [
    "DEFAULT_RULES",
    "SignalRule",
    "find_signals",
    "signal_accuracy",
    "signal_features",
    "signal_lift",
    "signal_rules",
]

NEGATION = r"(?:\bnot|\bno|\bnever|\bwithout|\bnor|\bnone|\bcannot|n't)"
HYPOTHETICAL = r"(?:\bif|\bwhether|\bin case|\bsuppose|\bsupposing|\bhypothetically|\bunless|\bin the event)"
#: up to {} words between a negation / hypothetical and the phrase (no punctuation crossed)
WORDS = r"(?:\s+[\w']+){{0,{}}}?\s+"
#: sentences end at . ! ? ; followed by space or the end, or at a line break
SENTENCE_SPLIT = r"[.!?;]+(?:\s+|$)|[\r\n]+"
#: the longest sentence returned in a hit (longer ones are cut, with "...")
MAX_SENTENCE = 1000


@dataclass(frozen=True)
class SignalRule:
    name: str
    polarity: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    #: a negation inside the matched phrase also blocks it (off for phrases that are negative by
    #: nature, such as "not using all the functionality")
    negation_inside: bool = True
    description: str = ""

    @property
    def regex(self) -> str:
        return "(?i:" + "|".join(f"(?:{p})" for p in self.patterns) + ")"


_NAME = r"[a-z][\w&.-]+"
DEFAULT_RULES: tuple[SignalRule, ...] = (
    SignalRule(
        "acquisition",
        "risk",
        (
            r"\b(?:being|been|was|were|is|are|got|get|getting|gets) (?:acquired|bought)\b",
            r"\bacquired by\b",
            r"\bbought (?:out )?by\b",
            r"\bacquisition (?:by|of)\b",
            r"\bacquisit?ion\b",
            r"\bmerg(?:er|ing) with\b",
            r"\bmerger\b",
            r"\bnew parent company\b",
        ),
        exclude=(
            r"merger of (?:the |our |their )?(?:two )?(?:internal|teams|departments)",
            r"\binternal (?:team )?merger\b",
            r"merg\w* (?:the |two )?(?:teams|departments|branches|pull)",
        ),
        description="acquisition or merger of the customer",
    ),
    SignalRule(
        "champion_left",
        "risk",
        (
            r"\b(?:champion|main contact|sponsor|admin|point of contact)\b[^.;]{0,40}?"
            r"\b(?:is leaving|leaving|has left|left|resigned|quit|departed|moving on|moved on)\b",
            r"\bnew (?:vp|cto|cfo|ceo|coo|cio|head of|director|chief)\b",
            r"\b(?:resigned|has left the company|left the company)\b",
        ),
        description="new executive, or the champion / main contact left",
    ),
    SignalRule(
        "budget_cut",
        "risk",
        (
            r"\bbudget (?:cut|cuts|freeze|reductions?)\b",
            r"\bbudget (?:was |got |has been |is being )?(?:cut|slashed|reduced|frozen)\b",
            r"\bspending freeze\b",
            r"\bcut(?:ting)? costs\b",
            r"\bcost[- ]cutting\b",
        ),
        description="budget cut or spending freeze",
    ),
    SignalRule(
        "layoffs_reorg",
        "risk",
        (
            r"\blaid off\b",
            r"\blayoffs?\b",
            r"\breorgani[sz]ation\b",
            r"\breorg\b",
            r"\brestructur(?:ed|ing)\b",
            r"\bredundancies\b",
        ),
        description="layoffs or reorganisation",
    ),
    SignalRule(
        "competitor",
        "risk",
        (
            r"\b(?:evaluating|trial+ing|piloting|demo of|comparison with|comparing (?:us )?(?:with|to|against)"
            r"|switching to|moving to|in talks with)\s+" + _NAME,
            r"\b(?:evaluating|considering|looking at) (?:other|another|alternative) "
            r"(?:vendors?|tools?|solutions?|platforms?)\b",
            r"\bcompetitors?\b",
        ),
        exclude=(
            r"\b(?:evaluating|piloting|moving to|switching to) (?:the|our|a|an|their|it|this|that) "
            r"(?:new )?(?:dashboard|feature|plan|module|workflow|report|api)",
        ),
        description="a competitor named or being evaluated",
    ),
    SignalRule(
        "underuse",
        "both",
        (
            r"\b(?:not|n't|don'?t|dont|doesn'?t) (?:using|use|utili[sz]ing) (?:all|most|much|many|half|the)\b",
            r"\bonly using (?:about |around )?(?:half|a fraction|some|part)\b",
            r"\blow adoption\b",
            r"\bnot using all\b",
        ),
        negation_inside=False,
        description="not using all the functionality: a risk and a cross-sell / enablement opening",
    ),
    SignalRule(
        "new_team",
        "expansion",
        (
            r"\bnew (?:office|team|region|product line|business unit|subsidiary|location)\b",
            r"\bopening (?:a |an )?(?:new )?(?:office|site|location)\b",
            r"\bexpanding (?:into|to) (?:a |the )?(?:new )?\w+",
            r"\blaunching a new\b",
        ),
        description="a new team, office, region or product line",
    ),
    SignalRule(
        "expansion_intent",
        "expansion",
        (
            r"\b(?:add|adding|buy|more|additional|extra) (?:\d+ )?(?:more |additional |extra )?"
            r"(?:seats|licen[cs]es|users)\b",
            r"\banother (?:department|team|division|business unit)\b",
            r"\broll (?:it )?out (?:to|too)\b",
            r"\bupgrad(?:e|ing) to\b",
            r"\bwants? (?:access|to roll)\b",
        ),
        description="expansion intent: more seats, another department, an upgrade",
    ),
)


def signal_rules(overrides: Mapping[str, object] | None = None) -> tuple[SignalRule, ...]:
    """The rules: :data:`DEFAULT_RULES` with ``overrides`` (name -> fields, or ``False`` to drop).

    Fields: ``patterns`` (replace the defaults), ``add_patterns`` (added), ``polarity``,
    ``exclude``, ``negation_inside``, ``description``.
    """
    rules = {r.name: r for r in DEFAULT_RULES}
    for name, spec in signal_overrides(overrides).items():
        if spec is None:
            rules.pop(name, None)
            continue
        base = rules.get(name) or SignalRule(name, spec.polarity or "risk", ())
        patterns = (base.patterns if spec.patterns is None else spec.patterns) + spec.add_patterns
        if not patterns:
            raise ConfigError(f"[signals.{name}] needs at least one pattern")
        rules[name] = SignalRule(
            name,
            spec.polarity or base.polarity,
            patterns,
            base.exclude if spec.exclude is None else spec.exclude,
            base.negation_inside if spec.negation_inside is None else spec.negation_inside,
            base.description if spec.description is None else spec.description,
        )
    if not rules:
        raise ConfigError("no signal rules left", hint="keep at least one rule in [signals]")
    return tuple(rules.values())


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
    """SQL over ``source(row_id, account_id, date, author, source, text)`` giving one row per hit."""
    prefilter = "(?i:" + "|".join(f"(?:{p})" for r in rules for p in r.patterns) + ")"
    parts = []
    for r in rules:
        t = r.regex
        negated = "(?i:" + NEGATION + WORDS.format(3) + t + ")"
        hypothetical = "(?i:" + HYPOTHETICAL + WORDS.format(6) + t + ")"
        conds = [
            f"regexp_matches(s, {_q(t)})",
            f"NOT regexp_matches(s, {_q(negated)})",
            f"NOT regexp_matches(s, {_q(hypothetical)})",
        ]
        if r.negation_inside:
            inside = "(?i:" + NEGATION + r"\b)"
            conds.append(f"NOT regexp_matches(regexp_extract(s, {_q(t)}), {_q(inside)})")
        if r.exclude:
            excluded = "(?i:" + "|".join(f"(?:{e})" for e in r.exclude) + ")"
            conds.append(f"NOT regexp_matches(s, {_q(excluded)})")
        parts.append(
            f"SELECT row_id, sentence_no, {_q(r.name)} AS rule, {_q(r.polarity)} AS polarity FROM sentences "
            f"WHERE {' AND '.join(conds)}"
        )
    return f"""
        WITH candidates AS (
            SELECT row_id, replace(text, '\u2019', '''') AS text FROM {source}
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
               h.row_id AS note_row, h.sentence_no
        FROM hits h JOIN sentences s USING (row_id, sentence_no) JOIN {source} n ON n.row_id = h.row_id
        ORDER BY n.date, n.account_id, h.row_id, h.sentence_no, h.rule
    """


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


def _as_date(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} must be a date like 2025-01-31", value=value) from None


def find_signals(
    source: Store | Any,
    *,
    since: str | dt.date | None = None,
    before: str | dt.date | None = None,
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
) -> Frame:
    """Every rule hit in the notes: account_id, date, author, source, rule, polarity, sentence,
    note_row (the note's position), sentence_no.

    ``source`` is a Store (its ``notes`` table) or any Arrow-like table with account_id, date,
    text (author, source optional). ``since`` keeps notes dated on or after it, ``before`` those
    dated strictly before it. ``rules`` overrides the defaults (``[signals]`` of revbook.toml).
    Note text is data: HTML stays as written, nothing is rendered or run.
    """
    import duckdb

    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    s, b = _as_date(since, "since"), _as_date(before, "before")
    own = not (hasattr(source, "con") and hasattr(source, "table"))
    con = duckdb.connect() if own else source.con.cursor()
    try:
        _check_patterns(con, rule_set)
        name = _notes_source(con, source, "rb_notes_scan", s, b)
        return Frame("signals", con.execute(_hits_sql(rule_set, name)).to_arrow_table())
    finally:
        con.close()


# -- accuracy --------------------------------------------------------------------------------------


def signal_accuracy(
    notes: Store | Any,
    labels: pa.Table,
    *,
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
) -> Frame:
    """Precision and recall of each rule on a labelled set, with the hard negatives' figures.

    ``labels(account_id, date, author, rule, kind)`` (e.g. ``revbook.sample.labels()``'s
    ``labels_signals``): ``kind`` = positive (the note states the trigger) or hard_negative (a
    negation, hypothetical or look-alike of the rule). A note counts once per rule. Columns: rule,
    polarity, positives, fired, true_positives, precision, recall, f1, hard_negatives,
    hard_negative_fires (the fewer the better), hard_negative_pass_rate; a final ``(all)`` row.
    """
    import duckdb

    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    hits = find_signals(notes, rules=rule_set).to_arrow()
    con = duckdb.connect()
    try:
        con.register("h", hits)
        con.register("l", labels)
        con.register("r", pa.table({"rule": [r.name for r in rule_set], "polarity": [r.polarity for r in rule_set]}))
        sql = """
            WITH fired AS (SELECT DISTINCT account_id, date, coalesce(author, '') AS author, rule FROM h),
            lab AS (SELECT DISTINCT account_id, date, coalesce(author, '') AS author, rule, kind FROM l),
            per_rule AS (
                SELECT r.rule, r.polarity,
                    (SELECT count(*) FROM lab WHERE lab.rule = r.rule AND kind = 'positive') AS positives,
                    (SELECT count(*) FROM fired f WHERE f.rule = r.rule) AS fired,
                    (SELECT count(*) FROM fired f JOIN lab USING (account_id, date, author, rule)
                       WHERE f.rule = r.rule AND kind = 'positive') AS true_positives,
                    (SELECT count(*) FROM lab WHERE lab.rule = r.rule AND kind = 'hard_negative') AS hard_negatives,
                    (SELECT count(*) FROM fired f JOIN lab USING (account_id, date, author, rule)
                       WHERE f.rule = r.rule AND kind = 'hard_negative') AS hard_negative_fires
                FROM r
            ),
            allr AS (
                SELECT * FROM per_rule UNION ALL
                SELECT '(all)', '', sum(positives), sum(fired), sum(true_positives), sum(hard_negatives),
                       sum(hard_negative_fires) FROM per_rule
            )
            SELECT rule, polarity, CAST(positives AS BIGINT) AS positives, CAST(fired AS BIGINT) AS fired,
                   CAST(true_positives AS BIGINT) AS true_positives,
                   true_positives / nullif(fired, 0) AS precision, true_positives / nullif(positives, 0) AS recall,
                   2 * true_positives / nullif(fired + positives, 0) AS f1,
                   CAST(hard_negatives AS BIGINT) AS hard_negatives,
                   CAST(hard_negative_fires AS BIGINT) AS hard_negative_fires,
                   1 - hard_negative_fires / nullif(hard_negatives, 0) AS hard_negative_pass_rate
            FROM allr"""
        return Frame("signal_accuracy", con.execute(sql).to_arrow_table())
    finally:
        con.close()


# -- lift -------------------------------------------------------------------------------------------


def signal_lift(
    ws: Store,
    *,
    horizons: tuple[int, ...] = (90, 180),
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
) -> Frame:
    """What follows each signal: churn-or-contraction rate and expansion rate within each horizon
    after it, against the base rate, with the lift (rate / base).

    Unit: a note (hit notes for a signal; every note of a paying account for the base, so both come
    from the same sampling: a CSM writing about an account). An event follows within H days when
    the account's churn / contraction / expansion movement (month grain) falls in a month that ends
    after the note and starts at most H days after it. Notes whose horizon runs past the as-of date
    are left out (their outcome is not known yet). Columns: rule, polarity, horizon_days, notes,
    risk_rate, base_risk_rate, risk_lift, expansion_rate, base_expansion_rate, expansion_lift.
    """
    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    hits = find_signals(ws, rules=rule_set).to_arrow()
    mv = tables.account_movements(ws, grain="month").to_arrow()
    as_of = ws.config.snapshot_date()
    con = ws.con.cursor()
    try:
        con.register("rb_hits", hits)
        con.register("rb_mv", mv)
        con.register("rb_h", pa.table({"horizon_days": pa.array(list(horizons), pa.int32())}))
        sql = f"""
            WITH ev AS (
                SELECT account_id, date_trunc('month', period_end)::DATE AS m_start, period_end AS m_end,
                       movement IN ('churn', 'contraction') AS risk, movement = 'expansion' AS expansion
                FROM rb_mv WHERE movement IN ('churn', 'contraction', 'expansion')
            ),
            paying AS (SELECT DISTINCT account_id, date_trunc('month', period_end)::DATE AS m FROM rb_mv
                       WHERE start_mrr > 0 OR end_mrr > 0),
            base_notes AS (
                SELECT DISTINCT n.account_id, n.date FROM notes n
                JOIN paying p ON p.account_id = n.account_id AND p.m = date_trunc('month', n.date)::DATE
            ),
            hit_notes AS (SELECT DISTINCT rule, polarity, account_id, date FROM rb_hits),
            units AS (
                SELECT rule, polarity, account_id, date FROM hit_notes
                UNION ALL SELECT '(base)', '', account_id, date FROM base_notes
            ),
            outcome AS (
                SELECT u.rule, u.polarity, h.horizon_days, u.account_id, u.date,
                       coalesce(bool_or(e.risk), false) AS risk, coalesce(bool_or(e.expansion), false) AS expansion
                FROM units u CROSS JOIN rb_h h
                LEFT JOIN ev e ON e.account_id = u.account_id AND e.m_end > u.date
                     AND e.m_start <= u.date + h.horizon_days
                WHERE u.date + h.horizon_days <= DATE '{as_of.isoformat()}'
                GROUP BY ALL
            ),
            rates AS (
                SELECT rule, polarity, horizon_days, CAST(count(*) AS BIGINT) AS notes,
                       avg(CAST(risk AS INT)) AS risk_rate, avg(CAST(expansion AS INT)) AS expansion_rate
                FROM outcome GROUP BY ALL
            )
            SELECT r.rule, r.polarity, r.horizon_days, r.notes, r.risk_rate, b.risk_rate AS base_risk_rate,
                   r.risk_rate / nullif(b.risk_rate, 0) AS risk_lift,
                   r.expansion_rate, b.expansion_rate AS base_expansion_rate,
                   r.expansion_rate / nullif(b.expansion_rate, 0) AS expansion_lift
            FROM rates r JOIN rates b ON b.rule = '(base)' AND b.horizon_days = r.horizon_days
            ORDER BY r.rule = '(base)' DESC, r.rule, r.horizon_days"""
        return Frame("signal_lift", con.execute(sql).to_arrow_table())
    finally:
        con.close()


# -- point-in-time features ----------------------------------------------------------------------------


def signal_features(
    ws: Store,
    as_of_date: str | dt.date,
    *,
    windows: tuple[int, ...] = (90, 180),
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
) -> Frame:
    """Signals as features of every account on a scoring date, from notes dated strictly before it.

    Columns: account_id, as_of, then per rule and window ``<rule>_<w>d`` (hit notes in the last w
    days), ``risk_signals_<w>d``, ``expansion_signals_<w>d`` (``both`` counts in each), and
    ``days_since_risk_signal`` (null when none). A note dated on or after ``as_of_date`` is never read.
    """
    day = _as_date(as_of_date, "as_of_date")
    assert day is not None
    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    longest = max(windows)
    hits = find_signals(ws, since=day - dt.timedelta(days=longest), before=day, rules=rule_set).to_arrow()
    cols = []
    for w in windows:
        since = f"DATE '{(day - dt.timedelta(days=w)).isoformat()}'"
        for r in rule_set:
            cols.append(
                f"CAST(count(DISTINCT h.note_row) FILTER (WHERE h.rule = {_q(r.name)} AND h.date >= {since}) AS BIGINT)"
                f' AS "{r.name}_{w}d"'
            )
        for pol in ("risk", "expansion"):
            cols.append(
                f"CAST(count(DISTINCT h.note_row) FILTER (WHERE h.polarity IN ({_q(pol)}, 'both')"
                f" AND h.date >= {since})"
                f" AS BIGINT) AS {pol}_signals_{w}d"
            )
    con = ws.con.cursor()
    try:
        con.register("rb_hits", hits)
        sql = f"""SELECT a.account_id, DATE '{day.isoformat()}' AS as_of, {", ".join(cols)},
                         CAST(DATE '{day.isoformat()}' - max(h.date) FILTER (WHERE h.polarity IN ('risk', 'both'))
                              AS BIGINT) AS days_since_risk_signal
                  FROM (SELECT DISTINCT account_id FROM accounts) a
                  LEFT JOIN rb_hits h ON h.account_id = a.account_id
                  GROUP BY a.account_id ORDER BY a.account_id"""
        return Frame("signal_features", con.execute(sql).to_arrow_table())
    finally:
        con.close()
