"""The invoice split of the reconciliation (revbook.metrics.reconcile, docs/reconciliation.md) and the
helpers the other splits (Stripe, a user's total, a CRM's ARR field) share: a second book's MRR under
other conventions, FX re-pricing, the trial lines, exact minor units."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import WorkspaceError
from .book import Book, book_of

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store

__all__ = [
    "CAUSES",
    "STRIPE_CAUSES",
    "Key",
    "best_causes",
    "fx_drift",
    "minor",
    "money_array",
    "other_book",
    "rate_sql",
    "snapshots",
    "split_against_invoices",
    "trial_only",
]

#: the causes a difference against invoices splits into, in the order of the columns
CAUSES = (
    "timing",
    "churn_timing",
    "delinquent_churn",
    "discounts",
    "refunds_credits",
    "fx",
    "trials",
    "one_time",
    "not_invoiced",
)
#: the causes only Stripe's own invoices show
STRIPE_CAUSES = ("tax", "past_due_failed")

Key = tuple[str, int]  # (account_id, period)


def other_book(store: Store, config: Config) -> dict[Key, int]:
    """Snapshot MRR per (account, period) of a second book under ``config``, on a cursor of its own."""
    from ..engines.duckdb import DuckDBEngine

    cursor = store.con.cursor()
    try:
        other = Book(DuckDBEngine(cursor), config)
        rows = cursor.execute(f"SELECT account_id, period, mrr FROM {other.snapshots('month')}").fetchall()
    finally:
        cursor.close()
    return {(str(a), int(p)): int(m) for a, p, m in rows}


def snapshots(book: Book, grain: str) -> dict[Key, int]:
    rows = book.engine.arrow(f"SELECT account_id, period, mrr FROM {book.snapshots(grain)}").to_pylist()
    return {(str(r["account_id"]), int(r["period"])): int(r["mrr"]) for r in rows}


def minor(amount: Decimal, rate: Decimal, mu: int) -> int:
    return int((amount * rate * (10**mu)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def rate_sql(currency: str, day: str, rep: str) -> str:
    return f"""CASE WHEN {currency} = '{rep}' THEN CAST(1 AS DECIMAL(18, 8)) ELSE
        (SELECT f.rate_to_reporting FROM fx_rates f WHERE f.currency = {currency} AND f.date <= {day}
         ORDER BY f.date DESC, f.rate_to_reporting DESC LIMIT 1) END"""


def _invoiced(store: Store, book: Book, periods: str) -> list[dict[str, object]]:
    """Each invoice line dated in a period of the spine, with its rate on its invoice date and on its
    service start (None without a service period)."""
    rep = store.config.reporting_currency
    cur = f"upper(coalesce(i.currency, '{rep}'))"
    lines: list[dict[str, object]] = book.engine.arrow(
        f"""SELECT i.account_id, p.period, i.amount, i._file, i._row,
                   (i.service_start IS NOT NULL AND i.service_end IS NOT NULL) AS recurring,
                   {rate_sql(cur, "i.invoice_date", rep)} AS rate_invoiced,
                   CASE WHEN i.service_start IS NULL THEN NULL ELSE {rate_sql(cur, "i.service_start", rep)} END
                       AS rate_start
            FROM invoices i JOIN {periods} p ON i.invoice_date BETWEEN p.period_start AND p.period_end
            WHERE i.invoice_date <= DATE '{store.config.snapshot_date().isoformat()}'
            ORDER BY i._file, i._row"""
    ).to_pylist()
    return lines


def trial_only(book: Book, periods: str) -> set[Key]:
    """(account, period) pairs with a trial line active on the period's snapshot date."""
    lines = book.ledger()
    rows = book.engine.arrow(
        f"""SELECT DISTINCT l.account_id, p.period FROM {lines} l JOIN {periods} p
            ON l.is_trial AND l.start_date <= p.period_end AND coalesce(l.end_date, DATE '9999-12-31') > p.period_end"""
    ).to_pylist()
    return {(str(r["account_id"]), int(r["period"])) for r in rows}


def fx_drift(book: Book, periods: str, rep: str) -> dict[Key, int]:
    """Per (account, period): the MRR of its foreign-currency lines on the snapshot date at their
    start's rate minus at that date's rate (each line re-priced in minor units, half-even)."""
    rows = book.engine.arrow(
        f"""SELECT l.account_id, p.period, l.mrr, l.fx_rate, {rate_sql("l.currency", "p.period_end", rep)} AS rate
            FROM {book.ledger()} l JOIN {periods} p
              ON l.mrr <> 0 AND l.currency IS NOT NULL AND l.currency <> '{rep}'
             AND l.start_date <= p.period_end AND coalesce(l.end_date, DATE '9999-12-31') > p.period_end"""
    ).to_pylist()
    drift: dict[Key, int] = defaultdict(int)
    for r in rows:
        month = (Decimal(int(r["mrr"])) * Decimal(str(r["rate"])) / Decimal(str(r["fx_rate"]))).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        drift[(str(r["account_id"]), int(r["period"]))] += int(r["mrr"]) - int(month)
    return drift


def split_against_invoices(store: Store) -> tuple[dict[Key, dict[str, int]], Book, str]:
    """Per (account, period): revbook_mrr, invoiced and each cause, in minor units."""
    config = store.config
    if config.mrr_source != "subscriptions":
        raise WorkspaceError(
            "the reconciliation against invoices explains subscription MRR",
            hint='set mrr_source = "subscriptions" (the invoices are then the figure compared with)',
        )
    counts = store.row_counts()
    if not (counts["subscriptions"] and counts["invoices"]):
        raise WorkspaceError("reconciling against invoices needs subscriptions and invoices", hint="load both")
    book = book_of(store)
    periods, _, _ = book.spine("month")
    mu = config.minor_units
    ours = snapshots(book, "month")
    # the conventions' causes are measured without delinquent churn, which is a cause of its own
    paid = config.with_(past_due_churn_after_days=0)
    unpaid_kept = ours if paid == config else other_book(store, paid)
    inv_mrr = other_book(store, paid.with_(mrr_source="invoices"))
    eos = paid.with_(churn_recognition="end_of_service")
    at_service_end = unpaid_kept if eos == paid else other_book(store, eos)
    net = eos.with_(mrr_price="net")
    at_net = at_service_end if net == eos else other_book(store, net)
    # trial_conversion = "trial_start" counts a converted trial's paid MRR from the trial's start
    paid_start = net.with_(trial_conversion="paid_start")
    at_paid_start = at_net if paid_start == net else other_book(store, paid_start)
    trials = trial_only(book, periods)
    drift = fx_drift(book, periods, config.reporting_currency)

    rows: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    billed: dict[Key, int] = defaultdict(int)
    for line in _invoiced(store, book, periods):
        key = (str(line["account_id"]), int(str(line["period"])))
        amount = Decimal(str(line["amount"]))
        if line["rate_invoiced"] is None or (line["recurring"] and line["rate_start"] is None):
            raise WorkspaceError(
                f"{line['_file']}: row {line['_row']}: no FX rate for the invoice line's currency",
                hint="load fx_rates with a rate dated on or before its invoice date and service start",
            )
        at_invoice = minor(amount, Decimal(str(line["rate_invoiced"])), mu)
        row = rows[key]
        row["invoiced"] += at_invoice
        if amount < 0:
            row["refunds_credits"] -= at_invoice
        elif not line["recurring"]:
            row["one_time"] -= at_invoice
        else:
            at_start = minor(amount, Decimal(str(line["rate_start"])), mu)
            row["fx"] += at_start - at_invoice
            billed[key] += at_start
    for key in (
        set(ours)
        | set(unpaid_kept)
        | set(inv_mrr)
        | set(billed)
        | set(at_service_end)
        | set(at_net)
        | set(at_paid_start)
        | set(drift)
    ):
        row = rows[key]
        r, v = ours.get(key, 0), inv_mrr.get(key, 0)
        row["revbook_mrr"] = r
        row["timing"] = v - billed.get(key, 0)
        row["delinquent_churn"] = r - unpaid_kept.get(key, 0)
        row["churn_timing"] = unpaid_kept.get(key, 0) - at_service_end.get(key, 0)
        row["fx"] += drift.get(key, 0)
        row["discounts"] = at_service_end.get(key, 0) - at_net.get(key, 0)
        row["trials"] = at_net.get(key, 0) - at_paid_start.get(key, 0)
        if key in trials and at_paid_start.get(key, 0) == 0 and v:
            row["trials"] -= v
    invoices = book.engine.arrow("SELECT DISTINCT account_id FROM invoices").to_pylist()
    invoiced_accounts = {str(r["account_id"]) for r in invoices}
    for (account, _), row in rows.items():
        row["difference"] = row["revbook_mrr"] - row["invoiced"]
        if account not in invoiced_accounts:
            for c in CAUSES:
                row[c] = 0
            row["not_invoiced"] = row["difference"]
        row["unexplained"] = row["difference"] - sum(row[c] for c in CAUSES)
    return rows, book, periods


def best_causes(gap: int, candidates: dict[str, int]) -> dict[str, int]:
    """The candidate causes that together explain most of ``gap`` (an amount revbook's figure exceeds
    another's by): the subset whose sum leaves the least unexplained, fewer causes on a tie, then the
    candidates' order; none when no subset leaves less than ``gap`` itself (a convention the other
    figure shares with revbook explains nothing)."""
    from itertools import combinations

    names = [c for c, v in candidates.items() if v]
    best: tuple[int, int, list[int]] = (abs(gap), 0, [])
    for size in range(1, len(names) + 1):
        for chosen in combinations(range(len(names)), size):
            left = abs(gap - sum(candidates[names[i]] for i in chosen))
            if (left, size, list(chosen)) < best and left < abs(gap):
                best = (left, size, list(chosen))
    return {names[i]: candidates[names[i]] for i in best[2]}


def money_array(values: list[int], mu: int) -> pa.Array:
    unit = Decimal(1).scaleb(-mu)
    return pa.array([Decimal(v) * unit for v in values], type=pa.decimal128(18, mu))
