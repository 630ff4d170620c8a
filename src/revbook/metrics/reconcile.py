"""Why our numbers differ: revbook's MRR beside another figure, the difference split by cause.

``why_numbers_differ(store, against=...)`` returns one row per period: revbook's MRR at the
period's snapshot date, the other figure (the amount invoiced in the period, or a total the user
supplies), the difference and the difference split by cause, each a column; with
``accounts=True`` one row per account and period instead, the accounts behind each cause.
Every cause is computed from the data (docs/reconciliation.md gives each rule) and
``unexplained`` is the rest, so each row adds up to the cent. ``reconcile(store)`` (below) is the
older, narrower table: subscription MRR against invoice MRR, per account and period.

The splits live beside it: against invoices in :mod:`.reconcile_split` (with the helpers all share),
against a user's total in :mod:`.reconcile_totals` (the causes revbook computes alone), against the
CRM's ARR field (``against="crm"``, per day a sync read it) in :mod:`.reconcile_crm`.

Against invoices, for account ``a`` and period ``p`` with snapshot date ``e`` (all in minor units of
the reporting currency, each invoice line converted and rounded half-even once):

* ``one_time``: minus the charges invoiced in ``p`` without a service period (revenue, never MRR);
* ``refunds_credits``: minus the negative lines invoiced in ``p`` (credits and refunds);
* ``fx``: revbook's MRR of the account's foreign-currency lines on ``e`` at their start's rate
  minus at the rate of ``e`` (MRR fixes FX at the line's start; a month's total uses the month's
  rate), plus each recurring line invoiced in ``p`` at its service start's rate minus at its
  invoice date's rate;
* ``timing``: the account's invoice MRR on ``e`` (each invoice line spread over its service period)
  minus what was billed for service in ``p`` at the line-start rate (an annual invoice billed up
  front, a month with no invoice);
* ``churn_timing``: with ``churn_recognition = "cancellation"``, the account's MRR under that
  convention minus its MRR at end of service (the lines cancelled but still in service on ``e``);
* ``delinquent_churn``: with ``past_due_churn_after_days`` set, the account's MRR minus its MRR
  without it (cut for an invoice unpaid past its due date; the other causes are measured without it);
* ``discounts``: with ``mrr_price = "list"``, its MRR at list price minus at net price;
* ``trials``: with ``trial_conversion = "trial_start"``, its MRR minus its MRR with conversions dated
  at the paid start; and, when that MRR on ``e`` is 0 and a trial line is active then, minus its
  invoice MRR on ``e`` (billed during what revbook counts as a trial);
* ``not_invoiced``: an account with no invoice line at all (in any period) has nothing to compare
  with: its whole difference is this cause and every other cause is 0 for it;
* ``unexplained``: the difference less all of the above.

Against Stripe (``against="stripe"``, a workspace synced by the Stripe connector, which keeps
Stripe's own invoices), the figure compared with is Stripe's *collected* amount (``amount_paid``)
of the invoices dated in ``p`` (not draft or void), beside Stripe's invoiced ``total``; the split
above gains two causes and ``unexplained`` takes what the invoice lines and Stripe's totals do not
share (an invoice-level adjustment):

* ``tax``: minus the tax of those invoices (in Stripe's total, never in MRR);
* ``past_due_failed``: their total minus their amount paid (invoiced, not collected: open,
  past-due, failed or uncollectible invoices).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import ConfigError, WorkspaceError
from ..frame import Frame
from .book import Book, book_of
from .reconcile_crm import CRM_CAUSES, against_crm
from .reconcile_split import CAUSES, STRIPE_CAUSES, Key, minor, money_array, split_against_invoices
from .reconcile_totals import TOTAL_CAUSES, against_totals, read_totals

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["CAUSES", "CRM_CAUSES", "STRIPE_CAUSES", "TOTAL_CAUSES", "read_totals", "reconcile", "why_numbers_differ"]


def _stripe_totals(store: Store, book: Book, periods: str) -> dict[Key, dict[str, int]]:
    """Per (account, period): Stripe's invoiced total, tax and amount paid of the invoices dated in the
    period (effective_at, else created; not draft or void), each at the FX rate of its date."""
    import json

    from ..contract import CURRENCY_MINOR_UNITS
    from ..sources.stripe import OBJECTS
    from ..sources.stripe_map import to_date

    kept = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [OBJECTS]
    ).fetchone()
    if not kept or not kept[0]:
        raise WorkspaceError(
            "the workspace has no Stripe objects to reconcile with",
            hint="load it with the Stripe connector (revbook connect stripe), or use --against invoices",
        )
    config = store.config
    rep, mu = config.reporting_currency, config.minor_units
    spine = book.engine.arrow(f"SELECT period, period_start, period_end FROM {periods}").to_pylist()
    rates = store.con.execute("SELECT currency, date, rate_to_reporting FROM fx_rates ORDER BY date").fetchall()
    out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (text,) in store.con.execute(f"SELECT json FROM {OBJECTS} WHERE kind = 'invoices' ORDER BY id").fetchall():
        inv = json.loads(text)
        day = to_date(inv.get("effective_at") or inv.get("created"))
        if inv.get("status") in ("draft", "void") or day is None or day > config.snapshot_date():
            continue
        period = next((int(p["period"]) for p in spine if p["period_start"] <= day <= p["period_end"]), None)
        if period is None:
            continue
        currency = str(inv.get("currency") or rep).upper()
        rate = Decimal(1)
        if currency != rep:
            known = [Decimal(str(r)) for c, d, r in rates if str(c).upper() == currency and d <= day]
            if not known:
                raise WorkspaceError(
                    f"Stripe invoice {inv.get('id')}: no FX rate for {currency} on or before {day}",
                    hint=f"load fx_rates with a {currency} rate dated on or before {day}",
                )
            rate = known[-1]
        digits = CURRENCY_MINOR_UNITS.get(currency, 2)
        row = out[(str(inv["customer"] if isinstance(inv["customer"], str) else inv["customer"]["id"]), period)]
        for name, field in (("stripe_invoiced", "total"), ("tax", "tax"), ("stripe_collected", "amount_paid")):
            row[name] += minor(Decimal(str(inv.get(field) or 0)).scaleb(-digits), rate, mu)
    return out


def why_numbers_differ(
    store: Store, *, against: str | Path | dict[str, Decimal] = "invoices", grain: str = "month", accounts: bool = False
) -> Frame:
    """revbook's MRR beside invoices (``against="invoices"``) or a user's totals (a CSV path of
    period,total or a mapping of period label to total), the difference split by cause.

    ``accounts=True``: one row per account and period with a difference or a cause (invoices only)."""
    if grain != "month":
        raise ConfigError(f"the reconciliation is monthly, not '{grain}'", hint="use grain='month'")
    if store.engine_name != "duckdb":
        raise WorkspaceError(
            "reconciliation runs on the DuckDB engine only", hint="open the workspace with engine='duckdb'"
        )
    mu = store.config.minor_units
    if against in ("invoices", "stripe"):
        rows, book, periods = split_against_invoices(store)
        columns: tuple[str, ...] = ("revbook_mrr", "invoiced", "difference", *CAUSES, "unexplained")
        if against == "stripe":
            stripe = _stripe_totals(store, book, periods)
            for key in set(stripe) - set(rows):
                rows[key]["revbook_mrr"] = 0
            for key, row in rows.items():
                st = stripe.get(key, {})
                row["stripe_invoiced"], row["stripe_collected"] = (
                    st.get("stripe_invoiced", 0),
                    st.get("stripe_collected", 0),
                )
                row["tax"] = -st.get("tax", 0)
                row["past_due_failed"] = row["stripe_invoiced"] - row["stripe_collected"]
                row["difference"] = row["revbook_mrr"] - row["stripe_collected"]
                row["unexplained"] = row["difference"] - sum(row[c] for c in (*CAUSES, *STRIPE_CAUSES))
            columns = (
                "revbook_mrr",
                "invoiced",
                "stripe_invoiced",
                "stripe_collected",
                "difference",
                *CAUSES,
                *STRIPE_CAUSES,
                "unexplained",
            )
        spine = book.engine.arrow(f"SELECT period, label, period_end FROM {periods} ORDER BY period").to_pylist()
        labels = {int(p["period"]): (str(p["label"]), p["period_end"]) for p in spine}
        cause_columns = (*CAUSES, *STRIPE_CAUSES) if against == "stripe" else CAUSES
        if accounts:
            keys = sorted(
                (k for k, r in rows.items() if k[1] in labels and any(r[c] for c in ("difference", *cause_columns))),
                key=lambda k: (k[1], k[0]),
            )
            data: dict[str, object] = {
                "period": [labels[k[1]][0] for k in keys],
                "period_end": [labels[k[1]][1] for k in keys],
                "account_id": [k[0] for k in keys],
            }
            for c in columns:
                data[c] = money_array([rows[k][c] for k in keys], mu)
            return Frame("why_numbers_differ_accounts", pa.table(data))
        totals: dict[int, dict[str, int]] = {p: defaultdict(int) for p in labels}
        for (_, period), row in rows.items():
            if period in totals:
                for c in columns:
                    totals[period][c] += row[c]
        order = sorted(totals)
        data = {"period": [labels[p][0] for p in order], "period_end": [labels[p][1] for p in order]}
        for c in columns:
            data[c] = money_array([totals[p][c] for p in order], mu)
        return Frame("why_numbers_differ", pa.table(data))
    if against == "crm":
        return against_crm(store, accounts=accounts)
    theirs = read_totals(against) if isinstance(against, str | Path) else dict(against)
    return against_totals(store, theirs, accounts=accounts)


def reconcile(store: Store, *, grain: str = "month") -> Frame:
    """Subscription MRR against invoice MRR, per account and period, for accounts in both.

    The workspace's ``mrr_source`` feeds every metric; the other source is read here only, to
    show where the two disagree (a missing invoice, a price the contract does not show).
    """
    from ..engines.duckdb import DuckDBEngine
    from .movements import money

    if store.engine_name != "duckdb":
        raise WorkspaceError(
            "reconciliation runs on the DuckDB engine only", hint="open the workspace with engine='duckdb'"
        )
    counts = store.row_counts()
    if not (counts["subscriptions"] and counts["invoices"]):
        raise WorkspaceError(
            "reconciliation needs both subscriptions and invoices", hint="load the table that is empty"
        )
    main = book_of(store)
    other_source = "invoices" if store.config.mrr_source == "subscriptions" else "subscriptions"
    # temp tables are per connection: the other source's stages live on a cursor of their own
    cursor = store.con.cursor()
    try:
        other = Book(DuckDBEngine(cursor), store.config.with_(mrr_source=other_source))
        theirs = cursor.execute(f"SELECT account_id, period, mrr FROM {other.snapshots(grain)}").to_arrow_table()
    finally:
        cursor.close()
    main.engine.register("rb_reconcile_other", theirs)
    periods, _, _ = main.spine(grain)
    mu = store.config.minor_units
    ours, their = (
        ("s", "o") if store.config.mrr_source == "subscriptions" else ("o", "s")
    )  # which side is subscriptions
    sql = f"""
        WITH both_sources AS (
            SELECT DISTINCT s.account_id FROM subscriptions s JOIN invoices i ON i.account_id = s.account_id
        ),
        s AS (SELECT account_id, period, mrr FROM {main.snapshots(grain)}),
        o AS (SELECT account_id, period, mrr FROM rb_reconcile_other)
        SELECT p.label AS period, p.period_end, coalesce(s.account_id, o.account_id) AS account_id,
               {money(f"coalesce({ours}.mrr, 0)", mu)} AS subscriptions_mrr,
               {money(f"coalesce({their}.mrr, 0)", mu)} AS invoices_mrr,
               {money(f"coalesce({ours}.mrr, 0) - coalesce({their}.mrr, 0)", mu)} AS difference
        FROM s FULL OUTER JOIN o ON o.account_id = s.account_id AND o.period = s.period
        JOIN {periods} p ON p.period = coalesce(s.period, o.period)
        WHERE coalesce(s.account_id, o.account_id) IN (SELECT account_id FROM both_sources)
        ORDER BY coalesce(s.period, o.period), 3
    """
    return Frame("reconcile", main.engine.arrow(sql))
