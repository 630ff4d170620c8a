"""Stripe's objects (customers, subscriptions with their items and prices, coupons and discounts,
invoices with their lines, credit notes) mapped into the data contract's accounts, subscriptions and
invoices (docs/connectors.md, "Stripe", has the table of every choice made here).

Pure functions over the objects as Stripe's API returns them (JSON dicts), so the mapping is tested
without a client. A value that cannot be mapped is a warning the user sees, never dropped in silence.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..contract import CURRENCY_MINOR_UNITS

__all__ = ["Mapped", "map_objects", "to_date"]

Obj = Mapping[str, Any]
_DAY = 86_400
#: subscription statuses that never started paid or trial service
_NEVER_STARTED = ("incomplete", "incomplete_expired")
#: invoice and credit-note statuses that bill nothing
_NOT_BILLED = ("draft", "void")
#: customer metadata keys read into the accounts table's slices
_METADATA = ("segment", "region", "industry")

ACCOUNT_COLUMNS = ("account_id", "name", "segment", "region", "industry", "created_at")
SUBSCRIPTION_COLUMNS = (
    "account_id",
    "subscription_id",
    "line_id",
    "product",
    "plan",
    "start_date",
    "end_date",
    "unit_price",
    "quantity",
    "billing_period_months",
    "discount_percent",
    "discount_amount",
    "is_trial",
    "currency",
    "cancel_requested_at",
)
INVOICE_COLUMNS = (
    "account_id",
    "invoice_id",
    "line_id",
    "invoice_date",
    "service_start",
    "service_end",
    "amount",
    "currency",
    "product",
    "plan",
    "due_date",
    "paid_date",
)


@dataclass
class Mapped:
    """The contract tables' rows (column -> value dicts) and what the user should know."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def to_date(ts: object) -> dt.date | None:
    """A Stripe timestamp (seconds since the epoch) as its UTC calendar date."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(int(str(ts)), tz=dt.UTC).date()


def _money(minor: object, currency: str) -> Decimal:
    """An amount in the currency's minor units (Stripe's integers, or a decimal string) as a decimal."""
    digits = CURRENCY_MINOR_UNITS.get(currency.upper(), 2)
    return Decimal(str(minor)).scaleb(-digits)


def _months(recurring: Obj) -> tuple[Decimal | None, str | None]:
    """A price's billing period in months, and a warning when it is not a whole number of months."""
    interval, count = recurring.get("interval"), Decimal(str(recurring.get("interval_count") or 1))
    if interval == "month":
        return count, None
    if interval == "year":
        return count * 12, None
    if interval == "week":
        return (count * 12 / 52).quantize(Decimal("0.000001")), "weekly"
    if interval == "day":
        return (count * 12 / 365).quantize(Decimal("0.000001")), "daily"
    return None, None


def _list(value: object) -> list[Any]:
    """The objects of an embedded list ({"object": "list", "data": [...]}) or a plain array."""
    if isinstance(value, Mapping):
        return [*(value.get("data") or [])]
    return [*value] if isinstance(value, list | tuple) else []


def map_objects(objects: Mapping[str, Sequence[Obj]]) -> Mapped:
    """The contract rows of Stripe's objects, by kind: customers, coupons, subscriptions, invoices, credit_notes."""
    out = Mapped()
    coupons = {c["id"]: c for c in objects.get("coupons", ())}
    for customer in sorted(objects.get("customers", ()), key=lambda c: str(c["id"])):
        out.accounts.append(_account(customer))
    known = {a["account_id"] for a in out.accounts}
    for sub in sorted(objects.get("subscriptions", ()), key=lambda s: str(s["id"])):
        out.subscriptions.extend(_subscription_lines(sub, coupons, out.warnings))
    invoice_lines: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}
    for inv in sorted(objects.get("invoices", ()), key=lambda i: str(i["id"])):
        if inv.get("status") in _NOT_BILLED:
            skipped[f"{inv.get('status')} invoice"] = skipped.get(f"{inv.get('status')} invoice", 0) + 1
            continue
        for row in _invoice_rows(inv, out.warnings):
            invoice_lines[row["line_id"]] = row
            out.invoices.append(row)
    for note in sorted(objects.get("credit_notes", ()), key=lambda n: str(n["id"])):
        if note.get("status") == "void":
            skipped["void credit note"] = skipped.get("void credit note", 0) + 1
            continue
        out.invoices.extend(_credit_rows(note, invoice_lines, out.warnings))
    for what, n in sorted(skipped.items()):
        out.warnings.append(f"{n} {what}{'s' if n > 1 else ''} not loaded: {'nothing was billed'}")
    for table in ("subscriptions", "invoices"):
        orphans = sorted({r["account_id"] for r in getattr(out, table)} - known)
        if orphans:
            out.warnings.append(
                f"{len(orphans)} customer(s) behind {table} were not read ({', '.join(orphans[:5])}): "
                "their rows load under the customer id with no account details"
            )
            out.accounts.extend({"account_id": a} for a in orphans)
            known.update(orphans)
    return out


def _account(customer: Obj) -> dict[str, Any]:
    meta = {str(k).lower(): v for k, v in (customer.get("metadata") or {}).items()}
    row: dict[str, Any] = {
        "account_id": customer["id"],
        "name": customer.get("name") or customer.get("description"),
        "created_at": to_date(customer.get("created")),
    }
    row.update({k: (str(meta[k]) if meta.get(k) not in (None, "") else None) for k in _METADATA})
    return row


def _coupon(discount: Obj | str, coupons: Mapping[str, Obj]) -> Obj | None:
    """The coupon a discount applies: embedded (``coupon``, ``source.coupon``) or looked up by id."""
    if isinstance(discount, str):
        return None
    coupon: Any = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
    if isinstance(coupon, str):
        return coupons.get(coupon)
    return coupon if isinstance(coupon, Mapping) else None


@dataclass(frozen=True)
class _Off:
    """One discount on a line: a percent or an amount per billing period, over [start, end)."""

    start: dt.date
    end: dt.date | None
    percent: Decimal | None
    amount: Decimal | None


def _discounts(
    sub: Obj, item: Obj, first: bool, line_start: dt.date, warnings: list[str], coupons: Mapping[str, Obj]
) -> list[_Off]:
    """The discounts on ``item``: its own, and the subscription's (an amount off the subscription goes
    on its first, largest line; a percent off applies to every line)."""
    found: list[tuple[Obj | str, bool]] = [(d, False) for d in _list(item.get("discounts"))]
    whole = _list(sub.get("discounts")) or ([sub["discount"]] if sub.get("discount") else [])
    found += [(d, True) for d in whole]
    price = item.get("price") or {}
    currency = str(price.get("currency") or sub.get("currency") or "").upper()
    months, _ = _months(price.get("recurring") or {})
    offs: list[_Off] = []
    seen: set[str] = set()
    for discount, on_subscription in found:
        key = discount if isinstance(discount, str) else str(discount.get("id"))
        if key in seen:
            continue
        seen.add(key)
        coupon = _coupon(discount, coupons)
        if coupon is None or isinstance(discount, str):
            warnings.append(
                f"subscription {sub['id']}: discount {key} was not expanded or its coupon not read; not applied"
            )
            continue
        start = to_date(discount.get("start")) or line_start
        end = to_date(discount.get("end"))
        if coupon.get("duration") == "once" and end is None and months:
            end = _add_months(start, months)
        if coupon.get("percent_off") is not None:
            offs.append(_Off(start, end, Decimal(str(coupon["percent_off"])), None))
        elif coupon.get("amount_off") is not None:
            if on_subscription and not first:
                continue
            if str(coupon.get("currency") or "").upper() != currency:
                warnings.append(
                    f"subscription {sub['id']}: coupon {coupon['id']} is in {str(coupon.get('currency')).upper()}, "
                    f"the line in {currency}; not applied"
                )
                continue
            offs.append(_Off(start, end, None, _money(coupon["amount_off"], currency)))
    return offs


def _add_months(day: dt.date, months: Decimal) -> dt.date:
    whole = int(months)
    if whole != months:
        return day + dt.timedelta(days=int((months * 365 / 12).to_integral_value()))
    y, m = divmod(day.month - 1 + whole, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _subscription_lines(sub: Obj, coupons: Mapping[str, Obj], warnings: list[str]) -> list[dict[str, Any]]:
    status = sub.get("status")
    if status in _NEVER_STARTED:
        warnings.append(f"subscription {sub['id']} is {status} (its first payment never succeeded): not loaded")
        return []
    if status == "paused":
        warnings.append(
            f"subscription {sub['id']} is paused: Stripe gives no pause date, so it loads as active until its end"
        )
    start_sub = to_date(sub.get("start_date") or sub.get("created"))
    assert start_sub is not None
    ended = to_date(sub.get("ended_at"))
    items = sorted(_list(sub.get("items")), key=_item_size, reverse=True)
    if isinstance(sub.get("items"), Mapping) and sub["items"].get("has_more"):
        warnings.append(f"subscription {sub['id']} has more than {len(items)} items; only those were read")
    rows: list[dict[str, Any]] = []
    for k, item in enumerate(items):
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or (
            {"interval": price.get("interval"), "interval_count": price.get("interval_count")}
            if price.get("interval")
            else {}
        )
        where = f"subscription {sub['id']} item {item.get('id')}"
        if recurring.get("usage_type") == "metered":
            warnings.append(f"{where}: a metered price has no fixed amount; bill it through invoices (not loaded)")
            continue
        unit = price.get("unit_amount_decimal") or price.get("unit_amount") or price.get("amount")
        if price.get("billing_scheme") == "tiered" or unit is None:
            warnings.append(f"{where}: a tiered or custom price has no unit amount; not loaded")
            continue
        months, odd = _months(recurring)
        if months is None:
            warnings.append(f"{where}: a price without a recurring interval; not loaded")
            continue
        if odd:
            warnings.append(f"{where}: a {odd} price, loaded as {months} months per billing period")
        currency = str(price.get("currency") or sub.get("currency") or "").upper()
        created = int(item.get("created") or sub.get("created") or 0)
        start = start_sub if created <= int(sub.get("created") or 0) + _DAY else to_date(created)
        assert start is not None
        end = ended or _scheduled_end(sub, item)
        if end is not None and end <= start:
            warnings.append(f"{where}: ends on {end}, not after its start {start}; not loaded")
            continue
        offs = _discounts(sub, item, k == 0, start, warnings, coupons)
        trial_end = to_date(sub.get("trial_end")) if sub.get("trial_end") else None
        cuts = sorted(
            {d for off in offs for d in (off.start, off.end) if d is not None} | ({trial_end} if trial_end else set())
        )
        bounds: list[dt.date | None] = [start, *(d for d in cuts if start < d and (end is None or d < end)), end]
        base = {
            "account_id": sub["customer"] if isinstance(sub["customer"], str) else sub["customer"]["id"],
            "subscription_id": sub["id"],
            "product": _product(price),
            "plan": price.get("nickname") or price.get("lookup_key") or price.get("id"),
            "unit_price": _money(unit, currency),
            "quantity": Decimal(str(item.get("quantity") if item.get("quantity") is not None else 1)),
            "billing_period_months": months,
            "currency": currency,
            "cancel_requested_at": to_date(sub.get("canceled_at")),
        }
        for n in range(len(bounds) - 1):
            a, b = bounds[n], bounds[n + 1]
            assert a is not None
            active = [o for o in offs if o.start <= a and (o.end is None or a < o.end)]
            pct = _combined_percent([o.percent for o in active if o.percent is not None])
            amt = sum((o.amount for o in active if o.amount is not None), Decimal(0))
            if len(active) > 1:
                warnings.append(f"{where}: {len(active)} discounts from {a} combined into one line's discount")
            rows.append(
                base
                | {
                    "line_id": str(item.get("id")) if len(bounds) == 2 else f"{item.get('id')}.{n + 1}",
                    "start_date": a,
                    "end_date": b,
                    "discount_percent": pct,
                    "discount_amount": amt or None,
                    "is_trial": bool(trial_end and a < trial_end),
                }
            )
    return rows


def _item_size(item: Obj) -> Decimal:
    price = item.get("price") or item.get("plan") or {}
    unit = price.get("unit_amount_decimal") or price.get("unit_amount") or 0
    return Decimal(str(unit)) * Decimal(str(item.get("quantity") or 1))


def _combined_percent(percents: Iterable[Decimal]) -> Decimal | None:
    """Percents off applied one after the other, as one percent."""
    kept = Decimal(1)
    any_ = False
    for p in percents:
        kept *= 1 - p / 100
        any_ = True
    return ((1 - kept) * 100).normalize() if any_ else None


def _scheduled_end(sub: Obj, item: Obj) -> dt.date | None:
    """The end a cancellation scheduled: ``cancel_at``, else the period end of ``cancel_at_period_end``."""
    if sub.get("cancel_at"):
        return to_date(sub["cancel_at"])
    if sub.get("cancel_at_period_end"):
        return to_date(item.get("current_period_end") or sub.get("current_period_end"))
    return None


def _product(price: Obj) -> str | None:
    product = price.get("product")
    if isinstance(product, Mapping):
        return str(product.get("name") or product.get("id"))
    return str(product) if product else None


def _line_price(line: Obj) -> Obj:
    """The price of an invoice line: ``price`` (older API versions) or ``pricing.price_details``."""
    price = line.get("price")
    if isinstance(price, Mapping):
        return price
    details = (line.get("pricing") or {}).get("price_details") or {}
    return {"id": details.get("price"), "product": details.get("product")}


def _net_minor(line: Obj) -> Decimal:
    """A line's amount in minor units after its discounts and before tax (inclusive tax taken out)."""
    amount = Decimal(str(line.get("amount") or 0))
    amount -= sum((Decimal(str(d.get("amount") or 0)) for d in line.get("discount_amounts") or []), Decimal(0))
    for tax in line.get("tax_amounts") or []:
        if tax.get("inclusive"):
            amount -= Decimal(str(tax.get("amount") or 0))
    for tax in line.get("taxes") or []:
        if tax.get("tax_behavior") == "inclusive":
            amount -= Decimal(str(tax.get("amount") or 0))
    return amount


def _invoice_rows(inv: Obj, warnings: list[str]) -> list[dict[str, Any]]:
    lines = _list(inv.get("lines"))
    if isinstance(inv.get("lines"), Mapping) and inv["lines"].get("has_more"):
        warnings.append(f"invoice {inv['id']} has more than {len(lines)} lines; only those were read")
    due, paid = _payment_dates(inv)
    rows = []
    for line in lines:
        currency = str(line.get("currency") or inv.get("currency") or "").upper()
        period = line.get("period") or {}
        start, end = period.get("start"), period.get("end")
        spans = start is not None and end is not None and int(end) - int(start) >= _DAY
        last = to_date(int(end) - _DAY) if spans and end is not None else None
        price = _line_price(line)
        rows.append(
            {
                "account_id": inv["customer"] if isinstance(inv["customer"], str) else inv["customer"]["id"],
                "invoice_id": inv["id"],
                "line_id": line["id"],
                "invoice_date": to_date(inv.get("effective_at") or inv.get("created")),
                "service_start": to_date(start) if spans else None,
                # Stripe's period end is the first moment after the service; the contract's is inclusive
                "service_end": last,
                "amount": _money(_net_minor(line), currency),
                "currency": currency,
                "product": _product(price),
                "plan": price.get("nickname") or price.get("lookup_key") or price.get("id"),
                "due_date": due,
                "paid_date": paid,
            }
        )
    return rows


def _payment_dates(inv: Obj) -> tuple[dt.date | None, dt.date | None]:
    """When an invoice was due and when it was paid (past_due_churn_after_days reads them).

    Due: its ``due_date`` (an invoice sent for payment), else its date (an invoice charged
    automatically: the charge is attempted then). Paid: ``status_transitions.paid_at``; a paid invoice without it was
    paid on its date; an open or uncollectible one is unpaid (None)."""
    day = to_date(inv.get("effective_at") or inv.get("created"))
    due = to_date(inv.get("due_date")) or day
    transitions = inv.get("status_transitions") or {}
    paid = to_date(transitions.get("paid_at")) if isinstance(transitions, Mapping) else None
    if paid is None and inv.get("status") == "paid":
        paid = day
    return due, paid


def _credit_rows(
    note: Obj, invoice_lines: Mapping[str, Mapping[str, Any]], warnings: list[str]
) -> list[dict[str, Any]]:
    rows = []
    currency = str(note.get("currency") or "").upper()
    for line in _list(note.get("lines")):
        credited = invoice_lines.get(str(line.get("invoice_line_item") or ""))
        if credited is None and line.get("type") == "invoice_line_item":
            warnings.append(
                f"credit note {note['id']} line {line['id']}: the invoice line it credits was not read; "
                "loaded without a service period (revenue only)"
            )
        rows.append(
            {
                "account_id": note["customer"] if isinstance(note["customer"], str) else note["customer"]["id"],
                "invoice_id": note["id"],
                "line_id": line["id"],
                "invoice_date": to_date(note.get("effective_at") or note.get("created")),
                "service_start": credited["service_start"] if credited else None,
                "service_end": credited["service_end"] if credited else None,
                "amount": -_money(_net_minor(line), currency),
                "currency": currency,
                "product": credited["product"] if credited else None,
                "plan": credited["plan"] if credited else None,
            }
        )
    return rows
