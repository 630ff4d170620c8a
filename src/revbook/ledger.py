"""The ledger: each account's MRR as a step function of time, in the reporting currency.

Stages (each a temp table, each a definition in portable SQL; see docs/definitions.md):

1. ``rb_priced``: every source line with its exact monthly price before rounding, as a
   numerator ``x`` (local currency x FX rate x 10^minor units, exact DECIMAL) and a denominator
   ``d`` (billing months, or an invoice's service period in calendar months fractional by days,
   multiplied out so that ``d`` is exact).
2. ``rb_lines``: one row per ledger line: its MRR in minor units of the reporting currency,
   rounded once, half-even, then constant for the line's life (DESIGN.md "money"); the exact
   monthly value before rounding stays as ``value_num / value_den`` for recognised revenue.
   Lines are clipped to the as-of date: nothing that starts later is read, and a line
   still running on that date is open-ended.
3. ``rb_bridges``: churn-grace bridges, lines that fill a gap of at most N days at the MRR the
   account had on the gap's eve; added to ``rb_lines`` with ``source = 'grace'``. Then, with
   ``past_due_churn_after_days = N``, ``rb_delinquent``: each account's spells from an invoice's
   due date + N to its payment, cut out of its lines (delinquent churn, then a reactivation).
4. ``rb_revenue_only`` (invoices as the MRR source): invoice lines without a service period,
   revenue on their invoice date and never MRR (DESIGN.md "credits"), in minor units of the
   reporting currency, rounded once, half-even, at the FX rate of the invoice date. With
   ``invoice_service_months = N`` such a line is instead read as N months of service from its
   invoice date, a line of ``rb_lines`` like any other (a credit without one stays revenue only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import LedgerError

if TYPE_CHECKING:
    from .config import Config
    from .engines import Engine

__all__ = ["REVENUE_ONLY", "account_mrr_sql", "active_on", "build_ledger", "div_half_even", "month_index"]

FAR_FUTURE = "DATE '9999-12-31'"
#: the stage of invoice lines without a service period: revenue on the invoice date, never MRR
REVENUE_ONLY = "rb_revenue_only"
#: an invoice line without a complete service period
NO_SERVICE_PERIOD = "(service_start IS NULL OR service_end IS NULL)"


def active_on(day: str, line: str = "l") -> str:
    """A ledger line is active on ``day`` when ``start_date <= day < end_date`` (no end: ongoing)."""
    return f"{line}.start_date <= {day} AND coalesce({line}.end_date, {FAR_FUTURE}) > {day}"


def account_mrr_sql(
    lines: str, rows: str, day: str, name: str = "mrr", *, every_account: bool = False, days_before: int = 0
) -> str:
    """(account_id, <day>, <name>): each account's MRR in minor units on the dates of ``rows``.

    docs/definitions.md "MRR of an account on a date": the sum of its lines active that day,
    credits included (a credit with a service period lowers MRR for that period), and 0 when the
    credits exceed the lines. ``rows`` holds (account_id, <day>) pairs, each of which gets a row;
    with ``every_account`` it holds only <day>, and every account with a line active on it gets one.
    ``days_before``: the MRR that many days before each date (still keyed by the date).
    """
    on = f"q.{day} - {int(days_before)}" if days_before else f"q.{day}"
    if every_account:
        return f"""(SELECT l.account_id, q.{day}, greatest(coalesce(sum(l.mrr), 0), 0) AS {name}
            FROM (SELECT DISTINCT {day} FROM {rows}) q
            JOIN {lines} l ON l.mrr <> 0 AND {active_on(on)}
            GROUP BY l.account_id, q.{day})"""
    return f"""(SELECT q.account_id, q.{day}, greatest(coalesce(sum(l.mrr), 0), 0) AS {name}
            FROM (SELECT DISTINCT account_id, {day} FROM {rows}) q
            LEFT JOIN {lines} l ON l.account_id = q.account_id AND l.mrr <> 0
                 AND {active_on(on)}
            GROUP BY q.account_id, q.{day})"""


def month_index(date_sql: str) -> str:
    """Months since year 0: consecutive integers, so period arithmetic is integer arithmetic."""
    return f"(year({date_sql}) * 12 + month({date_sql}) - 1)"


def div_half_even(x: str, d: str, source: str) -> str:
    """``source`` with a column ``q``: x / d rounded half to even, exactly, for DECIMAL x and d > 0.

    A DOUBLE estimate of the quotient is corrected with exact DECIMAL products, so the result
    never depends on floating point (DuckDB's DECIMAL division returns DOUBLE). Each step is a
    layer of its own so that no expression is evaluated twice.

    ``d`` is taken at ``x``'s type, DECIMAL(38, 22), so that every comparison is between equal
    types: Spark compares DECIMAL(38, 22) with DECIMAL(38, 4) at a common type of fewer decimals,
    and a remainder of 0.999986 then compares equal to 1 (a line 7e-7 cents below a half cent
    rounded up).
    """
    d = f"CAST({d} AS DECIMAL(38, 22))"
    q0 = f"SELECT *, CAST(floor(CAST({x} AS DOUBLE) / CAST({d} AS DOUBLE)) AS BIGINT) AS q0 FROM {source}"
    q1 = (
        f"SELECT *, q0 - CASE WHEN q0 * {d} > {x} THEN 1 ELSE 0 END + CASE WHEN (q0 + 1) * {d} <= {x} THEN 1 ELSE 0 END"
        f" AS q1 FROM ({q0}) l0"
    )
    twice_r = f"2 * ({x} - q1 * {d})"
    return (
        f"SELECT *, q1 + CASE WHEN {twice_r} > {d} OR ({twice_r} = {d} AND q1 % 2 <> 0) THEN 1 ELSE 0 END AS q"
        f" FROM ({q1}) l1"
    )


def _anchor(start: str, k: str) -> str:
    """start + k calendar months, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    mi = f"({month_index(start)} + {k})"
    y, m = f"CAST({mi} // 12 AS INT)", f"CAST({mi} % 12 + 1 AS INT)"
    day = f"CAST(least(day({start}), day(last_day(make_date({y}, {m}, 1)))) AS INT)"
    return f"make_date({y}, {m}, {day})"


def _subscription_lines_sql(config: Config) -> str:
    """The subscription lines as the ledger prices them. ``churn_recognition = "cancellation"`` ends a
    line on the day its cancellation was requested (never before its start) instead of when its
    service ends; ``mrr_price = "list"`` prices it before its discounts."""
    rep = config.reporting_currency
    end = "end_date"
    if config.churn_recognition == "cancellation":
        end = """CASE WHEN cancel_requested_at IS NOT NULL AND (end_date IS NULL OR cancel_requested_at < end_date)
                      THEN greatest(cancel_requested_at, start_date) ELSE end_date END AS end_date"""
    listed = config.mrr_price == "list"
    discount_percent = "0" if listed else "coalesce(discount_percent, 0)"
    discount_amount = "0" if listed else "coalesce(discount_amount, 0)"
    return f"""
    SELECT account_id, 'subscription' AS source, subscription_id,
           coalesce(line_id, CAST(_row AS VARCHAR)) AS line_id, product, plan, pricing_model,
           start_date, {end}, upper(coalesce(currency, '{rep}')) AS currency,
           coalesce(is_trial, false) AS is_trial, _file, _row,
           CASE WHEN mrr IS NOT NULL THEN CAST(mrr AS DECIMAL(38, 8))
                WHEN amount IS NOT NULL THEN CAST(amount AS DECIMAL(38, 8))
                ELSE CAST(CAST(unit_price AS DECIMAL(38, 4)) * quantity AS DECIMAL(38, 8)) END AS gross,
           CASE WHEN mrr IS NOT NULL THEN CAST(1 AS DECIMAL(38, 4))
                ELSE CAST(billing_period_months AS DECIMAL(38, 4)) END AS months,
           CAST({discount_percent} AS DECIMAL(38, 4)) AS discount_percent,
           CAST({discount_amount} AS DECIMAL(38, 4)) AS discount_amount,
           CAST(1 AS DECIMAL(38, 4)) AS spread_factor
    FROM subscriptions
    """


def _invoices_sql(config: Config) -> str:
    """The invoices; with ``invoice_service_months = N``, a charge with neither service date gets
    N calendar months of service from its invoice date (service_end inclusive, so the day before
    invoice_date + N months). A credit without a service period stays revenue only (DESIGN.md)."""
    n = config.invoice_service_months
    if not n:
        return "invoices"
    neither = "service_start IS NULL AND service_end IS NULL AND amount >= 0"
    return f"""(SELECT account_id, invoice_id, line_id, invoice_date, amount, currency, product, plan, _file, _row,
               CASE WHEN {neither} THEN invoice_date ELSE service_start END AS service_start,
               CASE WHEN {neither} THEN {_anchor("invoice_date", str(int(n)))} - 1 ELSE service_end END
                   AS service_end
        FROM invoices)"""


def _invoice_lines_sql(config: Config) -> str:
    rep = config.reporting_currency
    # An invoice line covers service_start .. service_end inclusive; its length in calendar
    # months is m whole months from service_start plus the remaining days over the length of
    # the month that follows: MRR = amount / (m + rem / dim) = amount * dim / (m * dim + rem).
    end_x = "(service_end + 1)"
    k0 = f"({month_index(end_x)} - {month_index('service_start')})"
    m = f"({k0} - CASE WHEN {_anchor('service_start', k0)} > {end_x} THEN 1 ELSE 0 END)"
    return f"""
    SELECT account_id, 'invoice' AS source, coalesce(invoice_id, CAST(_row AS VARCHAR)) AS subscription_id,
           coalesce(line_id, CAST(_row AS VARCHAR)) AS line_id, product, plan, NULL AS pricing_model,
           service_start AS start_date, service_end + 1 AS end_date,
           upper(coalesce(currency, '{rep}')) AS currency, false AS is_trial, _file, _row,
           CAST(amount AS DECIMAL(38, 8)) AS gross,
           CAST(m * dim + date_diff('day', a_m, end_x) AS DECIMAL(38, 4)) AS months,
           CAST(0 AS DECIMAL(38, 4)) AS discount_percent, CAST(0 AS DECIMAL(38, 4)) AS discount_amount,
           CAST(dim AS DECIMAL(38, 4)) AS spread_factor
    FROM (
        SELECT *, date_diff('day', a_m, {_anchor("service_start", "m + 1")}) AS dim
        FROM (
            SELECT *, {_anchor("service_start", "m")} AS a_m
            FROM (SELECT *, {m} AS m, {end_x} AS end_x FROM {_invoices_sql(config)} inv
                  WHERE NOT {NO_SERVICE_PERIOD}) i0
        ) i1
    ) i2
    """


def _first(engine: Engine, sql: str) -> tuple[Any, ...] | None:
    """The first row of a query, or None: how a validation finds the row to name in its error."""
    rows = engine.arrow(sql).to_pylist()
    return tuple(rows[0].values()) if rows else None


def build_ledger(engine: Engine, config: Config) -> None:
    """Build ``rb_lines`` (and the stages before it) from the workspace's canonical tables."""
    as_of = config.snapshot_date().isoformat()
    scale = 10**config.minor_units
    source = _subscription_lines_sql(config) if config.mrr_source == "subscriptions" else _invoice_lines_sql(config)
    engine.materialize("rb_source", source)

    bad = _first(
        engine,
        """SELECT _file, _row, CASE WHEN gross IS NULL THEN 'mrr' ELSE 'billing_period_months' END
           FROM rb_source WHERE gross IS NULL OR months IS NULL OR months <= 0 ORDER BY _file, _row LIMIT 1""",
    )
    if bad:
        what = "a price" if bad[2] == "mrr" else "a billing_period_months above 0"
        raise LedgerError(
            f"the line has no {what}",
            file=bad[0],
            row=bad[1],
            column=bad[2],
            hint="give mrr, or amount with billing_period_months, or unit_price, quantity and billing_period_months",
        )

    # FX: the latest rate on or before the line's start date, fixed for the line's life.
    _price_in_reporting_currency(engine, config, "rb_priced", "rb_source")

    # Exact at every step: the price after discounts has scale 14, times the (whole) spread factor
    # and the FX rate (scale 8) it has scale 22, leaving 16 digits for the minor units.
    net = "CAST(CAST(gross * (100 - discount_percent) * 0.01 AS DECIMAL(38, 14)) - discount_amount AS DECIMAL(38, 14))"
    spread = f"CAST({net} * CAST(spread_factor AS BIGINT) AS DECIMAL(38, 14))"
    x = f"CAST(CAST({spread} * fx_rate AS DECIMAL(38, 22)) * {scale} AS DECIMAL(38, 22))"
    grace = config.churn_grace_days > 0
    delinquent = config.past_due_churn_after_days > 0
    kept = "rb_lines_paid" if delinquent else "rb_lines"  # the lines before the delinquent cut
    lines = "rb_lines_unbridged" if grace else kept
    at_trial_start = config.trial_conversion == "trial_start" and config.mrr_source == "subscriptions"
    _check_fits(engine, "rb_priced", scale)
    engine.materialize(
        "rb_lines_unconverted" if at_trial_start else lines,
        f"""
        SELECT account_id, source, subscription_id, line_id, product, plan, pricing_model, currency, is_trial,
               start_date,
               CASE WHEN end_date > DATE '{as_of}' THEN NULL ELSE end_date END AS end_date,
               end_date AS end_date_recorded,
               fx_rate,
               CASE WHEN is_trial THEN CAST(0 AS BIGINT) ELSE q END AS mrr,
               CASE WHEN is_trial THEN CAST(0 AS DECIMAL(38, 22)) ELSE x END AS value_num,
               months AS value_den,
               _file, _row
        FROM ({div_half_even("x", "months", f"(SELECT *, {x} AS x FROM rb_priced) p")}) r
        WHERE end_date IS NULL OR end_date > start_date
        """,
    )
    if at_trial_start:
        _date_conversions_at_trial_start(engine, "rb_lines_unconverted", lines, per_subscription=config.by_subscription)
    if grace:
        _add_grace_bridges(engine, config.churn_grace_days, kept, per_subscription=config.by_subscription)
    if delinquent:
        _cut_delinquent(engine, config, kept)
    if config.mrr_source == "invoices":
        _revenue_only(engine, config)


#: the columns of ``rb_lines``, in order
LINE_COLUMNS = (
    "account_id, source, subscription_id, line_id, product, plan, pricing_model, currency, is_trial, start_date,"
    " end_date, end_date_recorded, fx_rate, mrr, value_num, value_den, _file, _row"
)


def _date_conversions_at_trial_start(engine: Engine, source: str, name: str, *, per_subscription: bool) -> None:
    """``trial_conversion = "trial_start"``: an account's conversion is dated at its trial's start.

    A *converted trial* is the trial line (``is_trial``) that runs up to the account's first paid
    start (it starts before that date and ends on or after it, or is open): it carries, until the
    first paid start, the MRR of the account's paid lines that start on that date, so the new MRR is
    dated in the trial's first month and the paid start itself moves nothing. Its revenue stays 0
    (``value_num``), and the paid lines keep their dates and FX rates. A trial with no paid line
    dated on or before the as-of date stays at 0 MRR: a conversion is read only once it is known.
    Of two trial lines that both reach the first paid start, the earlier one converts.
    ``per_subscription`` (``movement_grain = "subscription"``): the converted trial takes the
    subscription id of the largest paid line, so the conversion is that subscription's new MRR."""
    replaced = {
        "end_date": "CASE WHEN c.account_id IS NULL THEN l.end_date ELSE c.first_paid END AS end_date",
        "mrr": "CASE WHEN c.account_id IS NULL THEN l.mrr ELSE c.mrr END AS mrr",
    }
    if per_subscription:
        replaced["subscription_id"] = (
            "CASE WHEN c.account_id IS NULL THEN l.subscription_id ELSE c.subscription_id END AS subscription_id"
        )
    cols = ", ".join(replaced.get(col, f"l.{col}") for col in (c.strip() for c in LINE_COLUMNS.split(",")))
    engine.materialize(
        name,
        f"""
        WITH paid AS (
            SELECT account_id, min(start_date) AS first_paid FROM {source} WHERE NOT is_trial AND mrr > 0
            GROUP BY account_id
        ),
        converting AS (
            SELECT p.account_id, p.first_paid, CAST(sum(l.mrr) AS BIGINT) AS mrr,
                   arg_max(l.subscription_id, l.mrr) AS subscription_id
            FROM paid p JOIN {source} l
              ON l.account_id = p.account_id AND NOT l.is_trial AND l.mrr > 0 AND l.start_date = p.first_paid
            GROUP BY p.account_id, p.first_paid
        ),
        trials AS (
            SELECT t.account_id, t.line_id, t._row, t._file, c.first_paid, c.mrr, c.subscription_id,
                   row_number() OVER (PARTITION BY t.account_id ORDER BY t.start_date, t.line_id, t._row) AS rn
            FROM {source} t JOIN converting c
              ON c.account_id = t.account_id AND t.is_trial AND t.start_date < c.first_paid
             AND coalesce(t.end_date, {FAR_FUTURE}) >= c.first_paid
        )
        SELECT {cols}
        FROM {source} l
        LEFT JOIN (SELECT * FROM trials WHERE rn = 1) c
          ON c.account_id = l.account_id AND l.is_trial AND c.line_id = l.line_id AND c._row = l._row
         AND coalesce(c._file, '') = coalesce(l._file, '')
        """,
    )
    engine.drop(source)


def _price_in_reporting_currency(engine: Engine, config: Config, name: str, source: str) -> None:
    """``name``: the lines of ``source`` dated on or before the as-of date, each with ``fx_rate``, the
    latest rate on or before its ``start_date``; a line with no such rate stops the build, naming it."""
    rep = config.reporting_currency
    engine.materialize(
        name,
        f"""
        SELECT s.*, CASE WHEN s.currency = '{rep}' THEN CAST(1 AS DECIMAL(18, 8))
                         ELSE fx.rate_to_reporting END AS fx_rate
        FROM {source} s
        LEFT JOIN (
            SELECT currency, date AS valid_from, rate_to_reporting,
                   lead(date) OVER (PARTITION BY currency ORDER BY date) AS valid_to
            FROM (SELECT currency, date, max(rate_to_reporting) AS rate_to_reporting
                  FROM fx_rates GROUP BY currency, date) r
        ) fx ON fx.currency = s.currency AND s.currency <> '{rep}'
            AND fx.valid_from <= s.start_date AND (fx.valid_to IS NULL OR s.start_date < fx.valid_to)
        WHERE s.start_date <= DATE '{config.snapshot_date().isoformat()}'
        """,
    )
    missing = _first(
        engine,
        f"SELECT currency, start_date, _file, _row FROM {name} WHERE fx_rate IS NULL ORDER BY start_date LIMIT 1",
    )
    if missing:
        raise LedgerError(
            f"no FX rate for {missing[0]} on or before {missing[1]}",
            file=missing[2],
            row=missing[3],
            column="currency",
            hint=f"load fx_rates with a {missing[0]} rate dated on or before {missing[1]}",
        )


def _check_fits(engine: Engine, name: str, scale: int) -> None:
    """A line's price in minor units must fit 16 digits (DECIMAL(38, 22)): name the first that does not."""
    too_big = _first(
        engine,
        f"""SELECT _file, _row FROM {name}
            WHERE abs(CAST(gross AS DOUBLE) * CAST(fx_rate AS DOUBLE) * {scale}) >= 1e15
            ORDER BY _file, _row LIMIT 1""",
    )
    if too_big:
        raise LedgerError(
            "the line's price in the reporting currency's minor units has more than 15 digits",
            file=too_big[0],
            row=too_big[1],
            hint="check the amount and its currency; revbook holds prices up to 10^15 minor units exactly",
        )


def _revenue_only(engine: Engine, config: Config) -> None:
    """``rb_revenue_only``: invoice lines without a service period, revenue on their invoice date.

    (account_id, invoice_date, revenue in minor units, _file, _row): the amount at the FX rate of
    the invoice date, rounded once, half-even; lines dated after the as-of date are not read.
    """
    rep = config.reporting_currency
    engine.materialize(
        "rb_revenue_only_source",
        f"""SELECT account_id, invoice_date AS start_date, upper(coalesce(currency, '{rep}')) AS currency,
                   CAST(amount AS DECIMAL(38, 14)) AS gross, _file, _row
            FROM {_invoices_sql(config)} inv WHERE {NO_SERVICE_PERIOD}""",
    )
    _price_in_reporting_currency(engine, config, "rb_revenue_only_priced", "rb_revenue_only_source")
    engine.drop("rb_revenue_only_source")
    _check_fits(engine, "rb_revenue_only_priced", 10**config.minor_units)
    x = f"CAST(CAST(gross * fx_rate AS DECIMAL(38, 22)) * {10**config.minor_units} AS DECIMAL(38, 22))"
    engine.materialize(
        REVENUE_ONLY,
        f"""SELECT account_id, start_date AS invoice_date, CAST(q AS BIGINT) AS revenue, _file, _row
            FROM ({div_half_even("x", "1", f"(SELECT *, {x} AS x FROM rb_revenue_only_priced) p")}) r""",
    )
    engine.drop("rb_revenue_only_priced")


def _add_grace_bridges(engine: Engine, days: int, out: str = "rb_lines", *, per_subscription: bool = False) -> None:
    """Bridge gaps of at most ``days`` days between an account's paid spells at the eve's MRR, into
    ``out``. ``per_subscription`` (``movement_grain = "subscription"``): one bridge per subscription
    active on the eve, at its MRR then and with its id, so each subscription carries on across the gap."""
    sub_id, sub_key, sub_line = "NULL AS subscription_id", "", ""
    if per_subscription:
        sub_id, sub_key, sub_line = "l.subscription_id", ", l.subscription_id", " || ':' || l.subscription_id"
    engine.materialize(
        "rb_bridges",
        f"""
        WITH paid AS (
            SELECT account_id, start_date, coalesce(end_date, {FAR_FUTURE}) AS end_date
            FROM rb_lines_unbridged WHERE mrr > 0
        ),
        ordered AS (
            SELECT *, max(end_date) OVER (PARTITION BY account_id ORDER BY start_date, end_date
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_to
            FROM paid
        ),
        gaps AS (
            SELECT account_id, covered_to AS gap_start, start_date AS gap_end
            FROM ordered
            WHERE covered_to IS NOT NULL AND start_date > covered_to
              AND date_diff('day', covered_to, start_date) <= {days}
        )
        SELECT g.account_id, 'grace' AS source, {sub_id},
               'grace:' || CAST(g.gap_start AS VARCHAR){sub_line} AS line_id,
               arg_max(l.product, l.mrr) AS product, arg_max(l.plan, l.mrr) AS plan,
               NULL AS pricing_model, NULL AS currency, false AS is_trial,
               g.gap_start AS start_date, g.gap_end AS end_date, g.gap_end AS end_date_recorded,
               CAST(NULL AS DECIMAL(18, 8)) AS fx_rate,
               CAST(sum(l.mrr) AS BIGINT) AS mrr, CAST(0 AS DECIMAL(38, 22)) AS value_num,
               CAST(1 AS DECIMAL(38, 4)) AS value_den, NULL AS _file, CAST(NULL AS BIGINT) AS _row
        FROM gaps g JOIN rb_lines_unbridged l
          ON l.account_id = g.account_id AND {active_on("g.gap_start - 1")}
        GROUP BY g.account_id, g.gap_start, g.gap_end{sub_key}
        """,
    )
    engine.materialize(out, "SELECT * FROM rb_lines_unbridged UNION ALL SELECT * FROM rb_bridges")


_LINE_KEYS = "l.account_id, l.source, l.subscription_id, l.line_id, l.product, l.plan, l.pricing_model, l.currency"
_LINE_VALUES = "l.fx_rate, l.mrr, l.value_num, l.value_den, l._file, l._row"


def _cut_delinquent(engine: Engine, config: Config, lines: str) -> None:
    """``past_due_churn_after_days = N``: ``rb_lines`` is ``lines`` less each account's delinquent spells.

    An invoice line with a due date, an amount above 0 and no payment by due date + N (paid later,
    or not by the as-of date) makes its account delinquent from due date + N until the day it is
    paid (open-ended when unpaid on the as-of date; a payment after it is not known then). The
    account's priced lines are cut out of each such spell (overlapping spells merged): its MRR is 0
    from due date + N (delinquent churn) and comes back on the payment day (a reactivation).
    Lines at 0 (trials) are left as they are."""
    n = int(config.past_due_churn_after_days)
    as_of = f"DATE '{config.snapshot_date().isoformat()}'"
    engine.materialize(
        "rb_delinquent",
        f"""
        WITH late AS (
            SELECT account_id, due_date + {n} AS cut_from,
                   CASE WHEN paid_date <= {as_of} THEN paid_date ELSE {FAR_FUTURE} END AS cut_to
            FROM invoices
            WHERE due_date IS NOT NULL AND amount > 0 AND due_date + {n} <= {as_of}
              AND (paid_date IS NULL OR paid_date > due_date + {n})
        ),
        ordered AS (
            SELECT *, max(cut_to) OVER (PARTITION BY account_id ORDER BY cut_from, cut_to
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_to
            FROM late
        ),
        islands AS (
            SELECT *, sum(CASE WHEN covered_to IS NULL OR cut_from > covered_to THEN 1 ELSE 0 END)
                      OVER (PARTITION BY account_id ORDER BY cut_from, cut_to ROWS UNBOUNDED PRECEDING) AS island
            FROM ordered
        )
        SELECT account_id, min(cut_from) AS cut_from, max(cut_to) AS cut_to FROM islands GROUP BY account_id, island
        """,
    )
    engine.materialize(
        "rb_lines_numbered",
        f"""SELECT *, row_number() OVER (ORDER BY account_id, start_date, source, subscription_id, line_id, _row)
                   AS rb_n FROM {lines}""",
    )
    end = f"coalesce(l.end_date, {FAR_FUTURE})"
    whole = f"p.p_to >= {end}"
    engine.materialize(
        "rb_lines",
        f"""
        WITH cut AS (
            SELECT l.rb_n, d.cut_from, d.cut_to,
                   lag(d.cut_to) OVER (PARTITION BY l.rb_n ORDER BY d.cut_from) AS prev_to
            FROM rb_lines_numbered l JOIN rb_delinquent d
              ON d.account_id = l.account_id AND l.mrr <> 0 AND d.cut_from < {end} AND d.cut_to > l.start_date
        ),
        pieces AS (
            SELECT rb_n, coalesce(prev_to, DATE '0001-01-01') AS p_from, cut_from AS p_to FROM cut
            UNION ALL
            SELECT rb_n, max(cut_to) AS p_from, {FAR_FUTURE} AS p_to FROM cut GROUP BY rb_n
        )
        SELECT {_LINE_KEYS}, l.is_trial, greatest(l.start_date, p.p_from) AS start_date,
               CASE WHEN {whole} THEN l.end_date ELSE p.p_to END AS end_date,
               CASE WHEN {whole} THEN l.end_date_recorded ELSE p.p_to END AS end_date_recorded,
               {_LINE_VALUES}
        FROM rb_lines_numbered l JOIN pieces p ON p.rb_n = l.rb_n
        WHERE greatest(l.start_date, p.p_from) < least({end}, p.p_to)
        UNION ALL
        SELECT {_LINE_KEYS}, l.is_trial, l.start_date, l.end_date, l.end_date_recorded, {_LINE_VALUES}
        FROM rb_lines_numbered l WHERE l.rb_n NOT IN (SELECT rb_n FROM cut)
        """,
    )
    engine.drop("rb_lines_numbered")
