"""How good the signals are: precision and recall on a labelled set (:func:`signal_accuracy`),
and what follows them in the book against the base rate (:func:`signal_lift`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ...definitions import LOSSES_SQL
from ...frame import Frame
from ...metrics import tables
from .rules import SignalRule, signal_rules
from .scan import find_signals

if TYPE_CHECKING:
    from ...store import Store


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
    hard_negative_fires (the fewer the better), hard_negative_pass_rate; a final ``(all)`` row over
    the rules the labels cover (a rule with no labelled note cannot be judged: its row is there, its
    fires are not in the total).
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
                       sum(hard_negative_fires) FROM per_rule WHERE positives + hard_negatives > 0
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
    mv = tables.account_movements(ws, grain="month", by_subscription=False).to_arrow()
    as_of = ws.config.snapshot_date()
    con = ws.con.cursor()
    try:
        con.register("rb_hits", hits)
        con.register("rb_mv", mv)
        con.register("rb_h", pa.table({"horizon_days": pa.array(list(horizons), pa.int32())}))
        sql = f"""
            WITH ev AS (
                SELECT account_id, date_trunc('month', period_end)::DATE AS m_start, period_end AS m_end,
                       movement IN ({LOSSES_SQL}) AS risk, movement = 'expansion' AS expansion
                FROM rb_mv WHERE movement IN ({LOSSES_SQL}, 'expansion')
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
