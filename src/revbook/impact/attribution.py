"""Expansion attribution: who or what drove each expansion movement (docs/attribution.md).

Each account-month whose movement is ``expansion`` (:func:`revbook.metrics.movements.account_movements_sql`,
the one movement path) is taken apart at line level from the ledger: the lines active on the month's
start snapshot (the previous month's end) against those active on its end snapshot, grouped into
*components* of one product and one pricing model. A component that grew changed in one of five
ways (:data:`CHANGES`): usage (a usage-priced line), a new line (a product or line it did not have),
quantity (more seats or units), plan (another plan at the same quantity or fewer) or price (the same
quantity and plan at a higher price: an uplift, a discount ending). Each growing component is given
a class by the rules of :data:`RULES`, in their order; the classes are :data:`CLASSES`.

The month's expansion ARR (12 x the MRR change, exact) is one row when its components share a class,
one row per class when they differ and no line of the month shrank (each class then holds exactly its
lines' growth), and one ambiguous row when they differ and a line also shrank (the net cannot be
split without a guess). So the rows of a month sum to its expansion, to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..definitions import NO_CSM, NO_VALUE
from ..errors import ConfigError, WorkspaceError
from ..frame import Frame
from ..ledger import active_on
from ..metrics.book import book_of
from ..metrics.movements import account_movements_sql, money
from ..metrics.tables import date_option

if TYPE_CHECKING:
    from ..metrics.book import Book
    from ..store import Store

__all__ = [
    "CHANGES",
    "CLASSES",
    "RULES",
    "Rule",
    "attribution_stage",
    "expansions",
    "rules_markdown",
]

#: the classes an expansion is attributed to, in the order the surfaces show them
CLASSES = ("csm", "ae", "product", "self_serve", "price", "ambiguous")
#: how a component (one product and pricing model of an account) grew over a month
CHANGES = {
    "usage": "a usage-priced line grew (pricing_model usage)",
    "new_line": "a product or line the account did not have at the month's start",
    "quantity": "more seats or units on the same product",
    "plan": "another plan on the same product, at the same quantity or fewer",
    "price": "the same quantity and plan at a higher price (an uplift, a discount ending, a credit ending)",
}


@dataclass(frozen=True)
class Rule:
    """One rule of attribution: its code, the class it gives, the step it belongs to, and its words."""

    code: str
    attribution: str
    step: int
    text: str


#: the rules, in the order they are tried on each growing component (the step is the docs' numbering)
RULES: tuple[Rule, ...] = (
    Rule(
        "deals_disagree",
        "ambiguous",
        1,
        "won expansion deals in the window around the change name different classes",
    ),
    Rule(
        "deal_no_owner",
        "ambiguous",
        1,
        "a won expansion deal in the window has neither an owner role nor a source",
    ),
    Rule(
        "deal_product",
        "product",
        1,
        "a won expansion deal in the window whose source is the product",
    ),
    Rule(
        "deal_self_serve",
        "self_serve",
        1,
        "a won expansion deal in the window whose source is self-serve",
    ),
    Rule("deal_csm", "csm", 1, "a won expansion deal in the window owned (or sourced) by a CSM"),
    Rule("deal_ae", "ae", 1, "a won expansion deal in the window owned (or sourced) by an AE"),
    Rule("usage_growth", "product", 2, "no deal, and the growth is on usage-priced lines: the product drove it"),
    Rule(
        "added_no_touch",
        "self_serve",
        3,
        "no deal, seats, a plan or a line added on non-usage lines, and no CSM touch before the change",
    ),
    Rule(
        "added_after_touch",
        "ambiguous",
        4,
        "no deal, seats, a plan or a line added after a CSM touch: the CSM may have influenced it",
    ),
    Rule(
        "price_only",
        "price",
        5,
        "no deal, and only the price rose (same quantity and plan): a pricing decision, not a sale",
    ),
    Rule(
        "mixed_with_losses",
        "ambiguous",
        6,
        "lines of different classes grew while another line shrank: the net cannot be split without a guess",
    ),
)
RULE_BY_CODE = {r.code: r for r in RULES}
#: deal sources that say no person sold it
NO_SELLER_SOURCES = ("product", "self_serve")
STAGE = "rb_attribution"


def rules_markdown() -> str:
    """The rules as the Markdown table docs/attribution.md holds (a test keeps the two the same)."""
    lines = ["| step | rule | class | when |", "|---|---|---|---|"]
    lines += [f"| {r.step} | `{r.code}` | {r.attribution} | {r.text} |" for r in RULES]
    return "\n".join(lines)


def _names(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _rules_values() -> str:
    rows = ", ".join(f"('{r.code}', '{r.attribution}', '{r.text.replace(chr(39), chr(39) * 2)}')" for r in RULES)
    return f"(SELECT * FROM (VALUES {rows}) AS t(code, attribution, reason))"


def _components_sql(book: Book) -> str:
    """One row per expansion account-month and component (product x pricing model) with its MRR on the
    month's start and end snapshots (minor units), quantities, plans and the date it changed."""
    # an account's expansion, whatever movement_grain says: the components explain the account's change
    moves = account_movements_sql(book, "month", ["owner", "owner_name"], by_subscription=False)
    periods, _, _ = book.spine("month")
    lines = book.ledger()
    none = "'(none)'"
    return f"""
    WITH x AS (
        SELECT r.account_id, r.period, r.start_mrr, r.end_mrr, r.owner, r.owner_name,
               p.label, p.period_start, p.period_end,
               CAST(p.period_start - INTERVAL 1 DAY AS DATE) AS s_day, p.period_end AS e_day
        FROM ({moves}) r JOIN {periods} p ON p.period = r.period
        WHERE r.movement = 'expansion'
    ),
    at_day AS (
        SELECT x.account_id, x.period, x.s_day, x.e_day, 0 AS side, l.*
        FROM x JOIN {lines} l ON l.account_id = x.account_id AND l.mrr <> 0 AND {active_on("x.s_day")}
        UNION ALL
        SELECT x.account_id, x.period, x.s_day, x.e_day, 1 AS side, l.*
        FROM x JOIN {lines} l ON l.account_id = x.account_id AND l.mrr <> 0 AND {active_on("x.e_day")}
    ),
    sided AS (
        SELECT a.account_id, a.period, a.side, a.mrr,
               CASE WHEN a.side = 1 AND a.start_date > a.s_day THEN a.start_date END AS started,
               CASE WHEN a.side = 0 AND a.end_date <= a.e_day THEN a.end_date END AS ended,
               coalesce(a.product, {none}) AS product, coalesce(a.pricing_model, {none}) AS pricing_model,
               CASE WHEN a.side = 0 THEN coalesce(a.plan, {none}) END AS start_plan,
               CASE WHEN a.side = 1 THEN coalesce(a.plan, {none}) END AS end_plan, s.quantity
        FROM at_day a
        LEFT JOIN subscriptions s ON a.source = 'subscription' AND s._file = a._file AND s._row = a._row
    ),
    comp AS (
        SELECT account_id, period, product, pricing_model,
               sum(CASE WHEN side = 0 THEN mrr ELSE 0 END) AS start_mrr,
               sum(CASE WHEN side = 1 THEN mrr ELSE 0 END) AS end_mrr,
               sum(CASE WHEN side = 0 THEN 1 ELSE 0 END) AS start_lines,
               sum(CASE WHEN side = 0 THEN quantity END) AS start_qty,
               sum(CASE WHEN side = 1 THEN quantity END) AS end_qty,
               sum(CASE WHEN quantity IS NULL THEN 1 ELSE 0 END) AS qty_missing,
               string_agg(DISTINCT start_plan, ',' ORDER BY start_plan) AS start_plans,
               string_agg(DISTINCT end_plan, ',' ORDER BY end_plan) AS end_plans,
               max(started) AS started, max(ended) AS ended
        FROM sided GROUP BY account_id, period, product, pricing_model
    )
    SELECT x.account_id, x.period, x.label, x.period_end, x.end_mrr - x.start_mrr AS net,
           coalesce(x.owner, '{NO_VALUE}') AS owner, x.owner_name,
           c.product, c.pricing_model, c.start_mrr, c.end_mrr, c.end_mrr - c.start_mrr AS delta,
           CASE WHEN c.qty_missing = 0 THEN c.start_qty END AS start_qty,
           CASE WHEN c.qty_missing = 0 THEN c.end_qty END AS end_qty,
           CASE WHEN c.pricing_model = 'usage' THEN 'usage'
                WHEN c.start_lines = 0 THEN 'new_line'
                WHEN c.qty_missing = 0 AND c.end_qty > c.start_qty THEN 'quantity'
                WHEN c.start_plans IS DISTINCT FROM c.end_plans THEN 'plan'
                ELSE 'price' END AS change,
           coalesce(c.started, c.ended, x.e_day) AS change_date
    FROM comp c JOIN x ON x.account_id = c.account_id AND x.period = c.period
    """


def _classified_sql(book: Book) -> str:
    """Each component of an expansion month with its class, rule and evidence (deals, touches)."""
    st = book.config.attribution
    as_of = book.as_of.isoformat()
    seller = _names(NO_SELLER_SOURCES)
    return f"""
    WITH c AS ({_components_sql(book)}),
    months AS (
        SELECT account_id, period,
               max(CASE WHEN delta > 0 AND change <> 'usage' THEN 1 ELSE 0 END) AS non_usage_growth,
               max(CASE WHEN delta < 0 THEN 1 ELSE 0 END) AS has_loss
        FROM c GROUP BY account_id, period
    ),
    grown AS (
        SELECT c.*, m.non_usage_growth, m.has_loss FROM c
        JOIN months m ON m.account_id = c.account_id AND m.period = c.period
        WHERE c.delta > 0
    ),
    deals AS (
        SELECT account_id, opportunity_id, closed_at, owner_role, source,
               CASE WHEN source IN ({seller}) THEN source
                    WHEN owner_role IN ('csm', 'ae') THEN owner_role
                    WHEN source IN ('csm', 'ae') THEN source END AS deal_class
        FROM opportunities
        WHERE kind = 'expansion' AND won AND closed_at IS NOT NULL AND closed_at <= DATE '{as_of}'
    ),
    candidates AS (
        SELECT g.account_id, g.period, g.product, g.pricing_model, d.opportunity_id, d.owner_role, d.source,
               d.deal_class, date_diff('day', d.closed_at, g.change_date) AS days_from_close,
               rank() OVER (PARTITION BY d.opportunity_id
                            ORDER BY abs(date_diff('day', d.closed_at, g.change_date))) AS nearness
        FROM grown g JOIN deals d ON d.account_id = g.account_id
         AND d.closed_at BETWEEN g.change_date - {st.deal_days_before} AND g.change_date + {st.deal_days_after}
        WHERE g.change <> 'usage' OR g.non_usage_growth = 0
    ),
    kept AS (
        SELECT *, row_number() OVER (PARTITION BY account_id, period, product, pricing_model
                                     ORDER BY abs(days_from_close), opportunity_id) AS nearest
        FROM candidates WHERE nearness = 1
    ),
    matched AS (
        SELECT account_id, period, product, pricing_model, count(*) AS deals,
               count(DISTINCT coalesce(deal_class, '?')) AS deal_classes,
               min(deal_class) AS deal_class,
               max(CASE WHEN deal_class IS NULL THEN 1 ELSE 0 END) AS unowned,
               string_agg(opportunity_id, ', ' ORDER BY opportunity_id) AS opportunity_id,
               max(CASE WHEN nearest = 1 THEN owner_role END) AS owner_role,
               max(CASE WHEN nearest = 1 THEN source END) AS source,
               max(CASE WHEN nearest = 1 THEN days_from_close END) AS days_from_close
        FROM kept
        GROUP BY account_id, period, product, pricing_model
    ),
    touches AS (
        SELECT g.account_id, g.period, g.product, g.pricing_model, count(*) AS touches
        FROM grown g JOIN activities a ON a.account_id = g.account_id
         AND a.date BETWEEN g.change_date - {st.touch_days} AND g.change_date
         AND lower(a.type) IN ({_names(st.touch_types)})
         AND lower(coalesce(a.outcome, '')) NOT IN ({_names(st.missed_outcomes)})
        GROUP BY g.account_id, g.period, g.product, g.pricing_model
    )
    SELECT g.*, coalesce(m.deals, 0) AS deals, m.opportunity_id, m.owner_role, m.source, m.days_from_close,
           coalesce(t.touches, 0) AS touches,
           CASE WHEN m.deals IS NOT NULL AND m.deal_classes > 1 THEN 'deals_disagree'
                WHEN m.deals IS NOT NULL AND m.unowned = 1 THEN 'deal_no_owner'
                WHEN m.deals IS NOT NULL THEN 'deal_' || m.deal_class
                WHEN g.change = 'usage' THEN 'usage_growth'
                WHEN g.change = 'price' THEN 'price_only'
                WHEN coalesce(t.touches, 0) = 0 THEN 'added_no_touch'
                ELSE 'added_after_touch' END AS rule
    FROM grown g
    LEFT JOIN matched m USING (account_id, period, product, pricing_model)
    LEFT JOIN touches t USING (account_id, period, product, pricing_model)
    """


def attribution_stage(book: Book) -> str:
    """``rb_attribution``: one row per expansion account-month and class, in minor units (``delta``),
    with its rule and evidence; built once per loaded workspace and kept with the book's stages."""
    if STAGE in book._built:
        return STAGE
    if book.engine.dialect != "duckdb":
        raise WorkspaceError(
            "expansion attribution runs on the DuckDB engine only", hint="open the workspace with engine='duckdb'"
        )
    book.engine.materialize(
        STAGE,
        f"""
        WITH k AS (
            SELECT k.*, r.attribution FROM ({_classified_sql(book)}) k JOIN {_rules_values()} r ON r.code = k.rule
        ),
        months AS (
            SELECT account_id, period, count(DISTINCT attribution) AS classes, max(has_loss) AS has_loss
            FROM k GROUP BY account_id, period
        ),
        keyed AS (
            SELECT k.*, CASE WHEN m.classes > 1 AND m.has_loss = 1 THEN 'ambiguous' ELSE k.attribution END AS cls,
                   CASE WHEN m.classes > 1 AND m.has_loss = 1 THEN 'mixed_with_losses' END AS mixed_rule,
                   m.classes
            FROM k JOIN months m USING (account_id, period)
        ),
        ranked AS (
            SELECT *,
                   row_number() OVER (PARTITION BY account_id, period, cls ORDER BY delta DESC, rule) AS largest,
                   row_number() OVER (PARTITION BY account_id, period, cls
                                      ORDER BY CASE WHEN days_from_close IS NULL THEN 1 ELSE 0 END,
                                               abs(days_from_close), opportunity_id) AS nearest
            FROM keyed
        )
        SELECT account_id, period, cls AS attribution,
               coalesce(max(mixed_rule), max(CASE WHEN largest = 1 THEN rule END)) AS rule,
               min(label) AS label, min(period_end) AS period_end, min(owner) AS owner, min(owner_name) AS owner_name,
               CASE WHEN max(classes) = 1 OR max(mixed_rule) IS NOT NULL THEN min(net) ELSE sum(delta) END AS delta,
               string_agg(DISTINCT change, '+' ORDER BY change) AS change,
               string_agg(DISTINCT product, ', ' ORDER BY product) AS products,
               max(change_date) AS change_date,
               string_agg(DISTINCT opportunity_id, ', ' ORDER BY opportunity_id) AS opportunity_id,
               max(CASE WHEN nearest = 1 THEN owner_role END) AS owner_role,
               max(CASE WHEN nearest = 1 THEN source END) AS source,
               max(CASE WHEN nearest = 1 THEN days_from_close END) AS days_from_close,
               max(touches) AS touches,
               sum(start_qty) AS quantity_start, sum(end_qty) AS quantity_end
        FROM ranked GROUP BY account_id, period, cls
        """,
    )
    book._built.add(STAGE)
    return STAGE


def expansions(
    store: Store,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    owner: str | None = None,
) -> Frame:
    """One row per expansion account-month and class ("attribution"): who or what drove the expansion,
    the rule that decided and its evidence. ``start``/``end`` keep the months whose end is within them;
    ``owner`` keeps the accounts that CSM held at the month's start."""
    book = book_of(store)
    stage = attribution_stage(book)
    mu = store.config.minor_units
    filters = ["true"]
    if (s := date_option(start, "start")) is not None:
        filters.append(f"period_end >= DATE '{s}'")
    if (e := date_option(end, "end")) is not None:
        filters.append(f"period_end <= DATE '{e}'")
    params: list[object] = []
    if owner is not None:
        if not owner.strip():
            raise ConfigError("owner must be a CSM's owner id", hint="see `revbook metrics retention --by owner`")
        filters.append("owner = ?")
        params.append(owner)
    order = ", ".join(f"'{c}'" for c in CLASSES)
    sql = f"""
        SELECT a.label AS period, a.period_end, a.account_id,
               CASE WHEN a.owner = '{NO_VALUE}' THEN '{NO_CSM}' ELSE a.owner END AS csm,
               CASE WHEN a.owner = '{NO_VALUE}' THEN '{NO_CSM}' ELSE coalesce(a.owner_name, a.owner) END AS csm_name,
               {money("12 * a.delta", mu)} AS arr_delta, a.attribution, a.rule, r.reason,
               a.change, a.products, a.change_date, a.opportunity_id, a.owner_role, a.source,
               CAST(a.days_from_close AS BIGINT) AS days_from_close, CAST(a.touches AS BIGINT) AS touches,
               a.quantity_start, a.quantity_end
        FROM {stage} a JOIN {_rules_values()} r ON r.code = a.rule
        WHERE {" AND ".join(filters)}
        ORDER BY a.period, a.account_id, list_position([{order}], a.attribution)
    """
    return Frame("attribution", book.engine.arrow(sql, params))
