"""Signals as point-in-time features of every account on a scoring date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...config.core import parse_date
from ...frame import Frame
from .rules import SignalRule, signal_rules
from .scan import _q, find_signals

if TYPE_CHECKING:
    from ...store import Store


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
    day = parse_date(as_of_date, "as_of_date")
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
