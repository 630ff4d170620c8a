"""What the HTML report and the web dashboard share: number formats, the glossary, Vega-Lite specs.

Every spec is built from rows the library returned (``ws.mrr()``, ``ws.movements()``,
``ws.retention()``, ``ws.cohorts()``, ...): nothing here computes a metric, it only lays out
figures the library computed. A spec is a plain dict (Vega-Lite 5); its ``$schema`` URL is an
identifier, never fetched. ``href`` functions make a mark a link to the accounts behind it
(the dashboard passes them; the report, a file, does not). One module per page's feature:
:mod:`.revenue`, :mod:`.retention`, :mod:`.churn`; :mod:`.common` has the formats and colours.
"""

from __future__ import annotations

from ... import definitions
from .churn import pareto, rule_label, signal_lift_bars
from .common import MOVEMENT_COLORS, SMALL_COHORT, money, money_compact, pct, period_shown, shown_value, spec_json
from .retention import cohort_heatmaps, retention_by_slice, retention_trend
from .revenue import account_timeline, arr_trend, movement_bars, waterfall

__all__ = [
    "GLOSSARY",
    "MOVEMENT_COLORS",
    "SMALL_COHORT",
    "account_timeline",
    "arr_trend",
    "cohort_heatmaps",
    "money",
    "money_compact",
    "movement_bars",
    "pareto",
    "pct",
    "period_shown",
    "retention_by_slice",
    "retention_trend",
    "rule_label",
    "shown_value",
    "signal_lift_bars",
    "spec_json",
    "waterfall",
]

#: key -> (label, definition) of the revenue terms (revbook.definitions; docs/definitions.md has the worked examples)
GLOSSARY: dict[str, tuple[str, str]] = definitions.glossary(definitions.GLOSSARY)
