"""Why our numbers differ from a total the user supplies (``why_numbers_differ(store, against=<CSV or
mapping>)``), split by the causes revbook can compute from its own data alone.

A user's total (from ChartMogul, a spreadsheet, a BI tool) comes without lines, so the invoice causes
(timing, refunds and credits, one-time charges, trials billed, not invoiced) and Stripe's (tax,
past-due) cannot be computed against it: they stay in ``unexplained``. What revbook can compute is how
much of its own figure a convention other tools differ on makes, month by month, from its lines:

* ``churn_timing``: revbook's MRR minus its MRR under the other ``churn_recognition`` (end of service
  vs cancellation: the lines cancelled but still in service);
* ``delinquent_churn``: with ``past_due_churn_after_days`` set, revbook's MRR minus its MRR without
  it (the accounts cut for an unpaid invoice; 0 when it is off: revbook has no N to try);
* ``discounts``: revbook's MRR minus its MRR under the other ``mrr_price`` (net vs list);
* ``fx``: the MRR of its foreign-currency lines at their start's rate minus at the month's rate.

The causes attributed are the combination that brings revbook's figure nearest the user's total
(fewer causes on a tie; none when no combination brings it nearer: a convention the other tool
shares with revbook explains nothing); ``unexplained`` is the rest, so each month adds up to the
cent. ``accounts=True`` gives the accounts behind each attributed cause (their amounts add up to the
month's cause).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import ConfigError
from ..frame import Frame
from .book import book_of
from .reconcile_split import Key, best_causes, fx_drift, money_array, other_book, snapshots

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["TOTAL_CAUSES", "against_totals", "read_totals"]

#: the causes a difference against a user's total splits into (what revbook computes alone), in order
TOTAL_CAUSES = ("churn_timing", "delinquent_churn", "discounts", "trials", "fx")
OTHER = {"churn_recognition": {"end_of_service": "cancellation", "cancellation": "end_of_service"}}
OTHER |= {"mrr_price": {"net": "list", "list": "net"}}
OTHER |= {"trial_conversion": {"paid_start": "trial_start", "trial_start": "paid_start"}}


def read_totals(path: str | Path) -> dict[str, Decimal]:
    """A user's totals: a CSV with the columns ``period`` (a label such as 2024-03) and ``total``.

    A missing column, an empty or repeated period or a total that is not a number is a ConfigError
    naming the file, the row (1 is the header) and the column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the totals file {p}: {exc.strerror}", hint="give a CSV of period,total"
        ) from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    for column in ("period", "total"):
        if column not in header:
            raise ConfigError(
                f"{p}: row 1 has no column '{column}'", hint="the header must be: period,total (e.g. 2024-03,1250.00)"
            )
    totals: dict[str, Decimal] = {}
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        period = row.get("period", "")
        if not period:
            raise ConfigError(f"{p}: row {n}, column 'period' is empty", hint="give the period label, e.g. 2024-03")
        if period in totals:
            raise ConfigError(f"{p}: row {n}, column 'period' repeats {period}", hint="give each period once")
        try:
            total = Decimal(row.get("total", ""))
        except InvalidOperation:
            total = Decimal("NaN")
        if not total.is_finite():
            raise ConfigError(
                f"{p}: row {n}, column 'total' is not a number: {row.get('total', '')!r}",
                hint="write the amount in the reporting currency with a decimal point, e.g. 1250.00",
            )
        totals[period] = total
    return totals


def _convention_parts(store: Store) -> tuple[dict[str, dict[Key, int]], dict[int, tuple[str, object]]]:
    """Per cause, per (account, period): the part of revbook's snapshot MRR the convention makes."""
    config = store.config
    book = book_of(store)
    periods, _, _ = book.spine("month")
    ours = snapshots(book, "month")
    parts: dict[str, dict[Key, int]] = {}
    conventions = [("churn_timing", "churn_recognition"), ("discounts", "mrr_price")]
    parts["trials"] = {}
    if config.mrr_source == "subscriptions":  # invoices carry no trial lines to date a conversion by
        conventions.append(("trials", "trial_conversion"))
    for cause, setting in conventions:
        theirs = other_book(store, config.with_(**{setting: OTHER[setting][getattr(config, setting)]}))
        parts[cause] = {k: ours.get(k, 0) - theirs.get(k, 0) for k in set(ours) | set(theirs)}
    parts["delinquent_churn"] = {}
    if config.past_due_churn_after_days:
        theirs = other_book(store, config.with_(past_due_churn_after_days=0))
        parts["delinquent_churn"] = {k: ours.get(k, 0) - theirs.get(k, 0) for k in set(ours) | set(theirs)}
    parts["fx"] = fx_drift(book, periods, config.reporting_currency)
    spine = book.engine.arrow(f"SELECT period, label, period_end FROM {periods}").to_pylist()
    return parts, {int(p["period"]): (str(p["label"]), p["period_end"]) for p in spine}


def against_totals(store: Store, theirs: dict[str, Decimal], *, accounts: bool = False) -> Frame:
    """revbook's MRR per month beside the user's total, the difference split by TOTAL_CAUSES
    (``accounts``: the accounts behind each attributed cause)."""
    from .tables import mrr

    mu = store.config.minor_units
    ours = mrr(store).to_arrow().to_pylist()
    known = {str(r["period"]) for r in ours}
    unknown = sorted(set(theirs) - known)
    if unknown:
        raise ConfigError(
            f"the totals name periods revbook has no MRR for: {', '.join(unknown[:3])}",
            hint=f"use period labels between {min(known, default='-')} and {max(known, default='-')}",
        )
    quantum = Decimal(1).scaleb(-mu)
    parts, labels = _convention_parts(store)
    by_label = {label: p for p, (label, _) in labels.items()}
    month: dict[str, dict[str, int]] = {}
    for r in ours:
        label = str(r["period"])
        if label not in theirs:
            continue
        row: dict[str, int] = defaultdict(int)
        row["revbook_mrr"] = int(Decimal(r["mrr"]).scaleb(mu))
        row["total"] = int(theirs[label].quantize(quantum, rounding=ROUND_HALF_EVEN).scaleb(mu))
        row["difference"] = gap = row["revbook_mrr"] - row["total"]
        p = by_label[label]
        candidates = {c: sum(v for (_, q), v in parts[c].items() if q == p) for c in TOTAL_CAUSES}
        row.update(best_causes(gap, candidates))
        row["unexplained"] = gap - sum(row[c] for c in TOTAL_CAUSES)
        month[label] = row
    if accounts:
        return _behind(month, parts, labels, mu)
    data: dict[str, object] = {
        "period": list(month),
        "period_end": [labels[by_label[label]][1] for label in month],
    }
    for c in ("revbook_mrr", "total", "difference", *TOTAL_CAUSES, "unexplained"):
        data[c] = money_array([row[c] for row in month.values()], mu)
    return Frame("why_numbers_differ_total", pa.table(data))


def _behind(
    month: dict[str, dict[str, int]], parts: dict[str, dict[Key, int]], labels: dict[int, tuple[str, object]], mu: int
) -> Frame:
    """One row per account and month with a part of an attributed cause."""
    out: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cause in TOTAL_CAUSES:
        for (account, p), amount in parts[cause].items():
            label = labels.get(p, ("", None))[0]
            if amount and label in month and month[label][cause]:
                out[(p, account)][cause] = amount
    keys = sorted(out)
    data: dict[str, object] = {
        "period": [labels[p][0] for p, _ in keys],
        "period_end": [labels[p][1] for p, _ in keys],
        "account_id": [a for _, a in keys],
    }
    for c in TOTAL_CAUSES:
        data[c] = money_array([out[k][c] for k in keys], mu)
    return Frame("why_numbers_differ_total_accounts", pa.table(data))
