"""A five-customer company as Stripe's API returns it (the documented object shapes, written by hand),
the same company as the CSV files a user would write, and a fake Stripe API serving it over HTTP.

- cus_A Acme: 2 seats at 100.00 a month from 2026-01-10, 20% off for 3 months (coupon SAVE20)
- cus_B Beta: a yearly 1,200.00 plan with a trial from 2026-02-01 to 2026-02-15
- cus_C Gamma: 50.00 a month from 2026-01-01, cancellation asked 2026-03-20 at period end, ended 2026-04-01
- cus_D Delta GmbH: EUR 80.00 a month from 2026-03-01 with 10.00 off forever (a subscription-level
  coupon), a second item of 3 x EUR 20.00 added on 2026-05-01
- cus_E Epsilon: a subscription whose first payment never succeeded (incomplete_expired)
Invoices: five (one a draft) on three pages of two; one credit note of 25.00 on Gamma's February invoice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from typing import Any

from werkzeug import Request, Response

KEY = "rk_test_51FakeRestrictedKey0123456789abcdef"


def ts(day: str) -> int:
    """The Unix timestamp of a date's midnight, UTC."""
    return calendar.timegm(dt.date.fromisoformat(day).timetuple())


def _price(pid: str, amount: int, currency: str, interval: str = "month", product: str = "prod_core") -> dict:
    return {
        "id": pid,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": currency,
        "nickname": pid.removeprefix("price_"),
        "lookup_key": None,
        "product": product,
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }


def _coupon(cid: str, **kw: Any) -> dict:
    return {
        "id": cid,
        "object": "coupon",
        "amount_off": None,
        "percent_off": None,
        "currency": None,
        "duration": "forever",
        "duration_in_months": None,
        "created": ts("2025-12-01"),
        "valid": True,
    } | kw


def _discount(did: str, coupon: dict, start: str, end: str | None, sub: str) -> dict:
    return {
        "id": did,
        "object": "discount",
        "source": {"type": "coupon", "coupon": coupon["id"]},
        "start": ts(start),
        "end": ts(end) if end else None,
        "subscription": sub,
        "customer": None,
    }


def _item(iid: str, price: dict, quantity: int, created: str, sub: str, period_end: str) -> dict:
    return {
        "id": iid,
        "object": "subscription_item",
        "created": ts(created),
        "quantity": quantity,
        "price": price,
        "discounts": [],
        "subscription": sub,
        "current_period_start": ts(created),
        "current_period_end": ts(period_end),
    }


def _sub(sid: str, customer: str, start: str, items: list[dict], **kw: Any) -> dict:
    return {
        "id": sid,
        "object": "subscription",
        "customer": customer,
        "created": ts(start),
        "start_date": ts(start),
        "status": "active",
        "currency": items[0]["price"]["currency"],
        "trial_start": None,
        "trial_end": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "discounts": [],
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sid}",
        },
    } | kw


def _line(lid: str, amount: int, currency: str, start: str, end: str, price: dict | None, **kw: Any) -> dict:
    pricing = (
        {"type": "price_details", "price_details": {"price": price["id"], "product": price["product"]}}
        if price
        else None
    )
    return {
        "id": lid,
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "period": {"start": ts(start), "end": ts(end)},
        "pricing": pricing,
        "discount_amounts": [],
        "taxes": [],
    } | kw


def _invoice(iid: str, customer: str, day: str, lines: list[dict], status: str = "paid", **kw: object) -> dict:
    return {
        "id": iid,
        "object": "invoice",
        "customer": customer,
        "created": ts(day),
        "effective_at": ts(day),
        "status": status,
        "currency": lines[0]["currency"],
        "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/invoices/{iid}/lines"},
    } | kw


PRICE_SEAT = _price("price_seat", 10000, "usd")
PRICE_YEAR = _price("price_annual", 120000, "usd", interval="year")
PRICE_BASIC = _price("price_basic", 5000, "usd")
PRICE_EUR = _price("price_eu", 8000, "eur")
PRICE_EUR_ADDON = _price("price_eu_addon", 2000, "eur", product="prod_addon")
SAVE20 = _coupon("SAVE20", percent_off=20.0, duration="repeating", duration_in_months=3)
EUR10 = _coupon("EUR10OFF", amount_off=1000, currency="eur")


def customers() -> list[dict]:
    def c(cid: str, name: str, day: str, **meta: str) -> dict:
        return {
            "id": cid,
            "object": "customer",
            "name": name,
            "description": None,
            "email": f"{cid}@example.com",
            "created": ts(day),
            "currency": None,
            "metadata": meta,
            "livemode": False,
        }

    return [
        c("cus_A", "Acme", "2026-01-05", segment="smb"),
        c("cus_B", "Beta", "2026-01-20", segment="mid_market"),
        c("cus_C", "Gamma", "2025-12-28", segment="smb"),
        c("cus_D", "Delta GmbH", "2026-02-20", segment="mid_market", region="emea"),
        c("cus_E", "Epsilon", "2026-03-03"),
    ]


def subscriptions() -> list[dict]:
    a = _sub("sub_A", "cus_A", "2026-01-10", [_item("si_A1", PRICE_SEAT, 2, "2026-01-10", "sub_A", "2026-07-10")])
    a["discounts"] = [_discount("di_A", SAVE20, "2026-01-10", "2026-04-10", "sub_A")]
    b = _sub(
        "sub_B",
        "cus_B",
        "2026-02-01",
        [_item("si_B1", PRICE_YEAR, 1, "2026-02-01", "sub_B", "2027-02-15")],
        trial_start=ts("2026-02-01"),
        trial_end=ts("2026-02-15"),
    )
    c = _sub(
        "sub_C",
        "cus_C",
        "2026-01-01",
        [_item("si_C1", PRICE_BASIC, 1, "2026-01-01", "sub_C", "2026-04-01")],
        status="canceled",
        cancel_at_period_end=True,
        canceled_at=ts("2026-03-20"),
        cancel_at=ts("2026-04-01"),
        ended_at=ts("2026-04-01"),
    )
    d = _sub(
        "sub_D",
        "cus_D",
        "2026-03-01",
        [
            _item("si_D1", PRICE_EUR, 1, "2026-03-01", "sub_D", "2026-07-01"),
            _item("si_D2", PRICE_EUR_ADDON, 3, "2026-05-01", "sub_D", "2026-07-01"),
        ],
    )
    d["discounts"] = [_discount("di_D", EUR10, "2026-03-01", None, "sub_D")]
    e = _sub(
        "sub_E",
        "cus_E",
        "2026-03-03",
        [_item("si_E1", PRICE_BASIC, 1, "2026-03-03", "sub_E", "2026-04-03")],
        status="incomplete_expired",
    )
    return [a, b, c, d, e]


def invoices() -> list[dict]:
    a = _line(
        "il_1a",
        20000,
        "usd",
        "2026-01-10",
        "2026-02-10",
        PRICE_SEAT,
        quantity=2,
        discount_amounts=[{"amount": 4000, "discount": "di_A"}],
    )
    return [
        # paid two days after its charge was first attempted: due 2026-01-10, paid 2026-01-12
        _invoice("in_1", "cus_A", "2026-01-10", [a], status_transitions={"paid_at": ts("2026-01-12")}),
        _invoice("in_2", "cus_C", "2026-01-01", [_line("il_2a", 5000, "usd", "2026-01-01", "2026-02-01", PRICE_BASIC)]),
        _invoice(
            "in_3",
            "cus_C",
            "2026-02-01",
            [
                _line(
                    "il_3a",
                    5000,
                    "usd",
                    "2026-02-01",
                    "2026-03-01",
                    PRICE_BASIC,
                    taxes=[{"amount": 500, "tax_behavior": "exclusive", "taxability_reason": "standard_rated"}],
                )
            ],
        ),
        _invoice(
            "in_4",
            "cus_A",
            "2026-02-10",
            [_line("il_4a", 16000, "usd", "2026-02-10", "2026-03-10", PRICE_SEAT)],
            status="draft",
        ),
        _invoice(  # sent for payment by 2026-03-31, still open: unpaid
            "in_5",
            "cus_D",
            "2026-03-01",
            status="open",
            collection_method="send_invoice",
            due_date=ts("2026-03-31"),
            lines=[
                _line(
                    "il_5a",
                    8000,
                    "eur",
                    "2026-03-01",
                    "2026-04-01",
                    PRICE_EUR,
                    discount_amounts=[{"amount": 1000, "discount": "di_D"}],
                ),
                _line("il_5b", 5000, "eur", "2026-03-01", "2026-03-01", None, description="Onboarding"),
            ],
        ),
    ]


def credit_notes() -> list[dict]:
    return [
        {
            "id": "cn_1",
            "object": "credit_note",
            "customer": "cus_C",
            "invoice": "in_3",
            "created": ts("2026-02-20"),
            "effective_at": ts("2026-02-20"),
            "status": "issued",
            "currency": "usd",
            "type": "post_payment",
            "amount": 2500,
            "lines": {
                "object": "list",
                "has_more": False,
                "url": "/v1/credit_notes/cn_1/lines",
                "data": [
                    {
                        "id": "cnli_1",
                        "object": "credit_note_line_item",
                        "type": "invoice_line_item",
                        "invoice_line_item": "il_3a",
                        "amount": 2500,
                        "discount_amounts": [],
                        "quantity": 1,
                    }
                ],
            },
        }
    ]


def company() -> dict[str, list[dict]]:
    return {
        "customers": customers(),
        "coupons": [SAVE20, EUR10],
        "subscriptions": subscriptions(),
        "invoices": invoices(),
        "credit_notes": credit_notes(),
        "events": [],
    }


# The same company as a user's CSV files: what docs/connectors.md says each Stripe object becomes.
FILES = {
    "accounts.csv": """account_id,name,segment,region,created_at
cus_A,Acme,smb,,2026-01-05
cus_B,Beta,mid_market,,2026-01-20
cus_C,Gamma,smb,,2025-12-28
cus_D,Delta GmbH,mid_market,emea,2026-02-20
cus_E,Epsilon,,,2026-03-03
""",
    "subscriptions.csv": "account_id,subscription_id,line_id,product,plan,start_date,end_date,unit_price,quantity,"
    "billing_period_months,discount_percent,discount_amount,is_trial,currency,cancel_requested_at\n"
    """cus_A,sub_A,si_A1.1,prod_core,seat,2026-01-10,2026-04-10,100.00,2,1,20,,false,USD,
cus_A,sub_A,si_A1.2,prod_core,seat,2026-04-10,,100.00,2,1,,,false,USD,
cus_B,sub_B,si_B1.1,prod_core,annual,2026-02-01,2026-02-15,1200.00,1,12,,,true,USD,
cus_B,sub_B,si_B1.2,prod_core,annual,2026-02-15,,1200.00,1,12,,,false,USD,
cus_C,sub_C,si_C1,prod_core,basic,2026-01-01,2026-04-01,50.00,1,1,,,false,USD,2026-03-20
cus_D,sub_D,si_D1,prod_core,eu,2026-03-01,,80.00,1,1,,10.00,false,EUR,
cus_D,sub_D,si_D2,prod_addon,eu_addon,2026-05-01,,20.00,3,1,,,false,EUR,
""",
    "invoices.csv": "account_id,invoice_id,line_id,invoice_date,service_start,service_end,amount,currency,product,plan,"
    """due_date,paid_date
cus_A,in_1,il_1a,2026-01-10,2026-01-10,2026-02-09,160.00,USD,prod_core,price_seat,2026-01-10,2026-01-12
cus_C,in_2,il_2a,2026-01-01,2026-01-01,2026-01-31,50.00,USD,prod_core,price_basic,2026-01-01,2026-01-01
cus_C,in_3,il_3a,2026-02-01,2026-02-01,2026-02-28,50.00,USD,prod_core,price_basic,2026-02-01,2026-02-01
cus_D,in_5,il_5a,2026-03-01,2026-03-01,2026-03-31,70.00,EUR,prod_core,price_eu,2026-03-31,
cus_D,in_5,il_5b,2026-03-01,,,50.00,EUR,,,2026-03-31,
cus_C,cn_1,cnli_1,2026-02-20,2026-02-01,2026-02-28,-25.00,USD,prod_core,price_basic,,
""",
    "fx_rates.csv": "date,currency,rate_to_reporting\n2026-01-01,EUR,1.10\n",
}


class FakeStripe:
    """Stripe's list and retrieve endpoints over ``data`` (kind -> objects): newest first, paged by
    ``limit`` / ``starting_after``, filtered by ``created[gte]``; ``fail`` maps a kind to the number of
    its requests to answer before failing with a 500, ``forbidden`` the kinds the key cannot read."""

    def __init__(self, data: dict[str, list[dict]]):
        self.data = data
        self.fail: dict[str, int] = {}
        self.forbidden: set[str] = set()
        self.rate_limited = 0
        self.revoked = False
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.auth: set[str] = set()
        #: the whole list of lines of an object whose embedded list is cut (``has_more``)
        self.full_lines: dict[str, list[dict]] = {}

    def __call__(self, request: Request) -> Response:
        path = request.path.removeprefix("/v1/")
        args = {k: v for k, v in request.args.items()}
        self.requests.append((path, args))
        self.auth.add(request.headers.get("Authorization", ""))
        kind, _, oid = path.partition("/")
        if self.revoked:
            return self._error(401, "invalid_request_error", f"Invalid API Key provided: {KEY}")
        if self.rate_limited:
            self.rate_limited -= 1
            return self._error(429, "rate_limit_error", "Too many requests in a period of time.")
        if kind in self.forbidden:
            return self._error(
                403,
                "invalid_request_error",
                f"The provided key '{KEY}' does not have the required permissions for this endpoint "
                f"on account 'acct_1'. Having the 'rak_{kind}_read' permission would allow this.",
            )
        if kind in self.fail:
            if self.fail[kind] == 0:
                return self._error(500, "api_error", "An unknown error occurred")
            self.fail[kind] -= 1
        objs = self.data.get(kind)
        if objs is None:
            return self._error(404, "invalid_request_error", f"Unrecognized request URL (GET: /v1/{path})")
        oid, _, sub = oid.partition("/")
        if sub == "lines" or kind == "subscription_items":  # the rest of an embedded list
            return self._lines(kind, oid, args)
        if oid:
            found = [o for o in objs if o["id"] == oid]
            if not found:
                return self._error(404, "invalid_request_error", f"No such {kind}: '{oid}'")
            return Response(json.dumps(found[0]), content_type="application/json")
        rows = sorted(objs, key=lambda o: (-o["created"], o["id"]))
        if "created[gte]" in args:
            rows = [o for o in rows if o["created"] >= int(args["created[gte]"])]
        if "starting_after" in args:
            at = [o["id"] for o in rows].index(args["starting_after"])
            rows = rows[at + 1 :]
        limit = int(args.get("limit", 10))
        body = {"object": "list", "url": f"/v1/{kind}", "has_more": len(rows) > limit, "data": rows[:limit]}
        return Response(json.dumps(body), content_type="application/json")

    def _lines(self, kind: str, oid: str, args: dict[str, str]) -> Response:
        field = "items" if kind == "subscription_items" else "lines"
        owner = args.get("subscription", oid)
        parent = next(o for o in self.data["subscriptions" if field == "items" else kind] if o["id"] == owner)
        rows = self.full_lines.get(owner, parent[field]["data"])
        if "starting_after" in args:
            rows = rows[[r["id"] for r in rows].index(args["starting_after"]) + 1 :]
        limit = int(args.get("limit", 10))
        body = {"object": "list", "url": "", "has_more": len(rows) > limit, "data": rows[:limit]}
        return Response(json.dumps(body), content_type="application/json")

    @staticmethod
    def _error(status: int, kind: str, message: str) -> Response:
        return Response(
            json.dumps({"error": {"type": kind, "message": message}}), status=status, content_type="application/json"
        )


ANY_PATH = re.compile(r"^/v1/.*")
