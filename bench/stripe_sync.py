"""Time from credentials to the first figures through the Stripe connector, against the tests' fake
Stripe API (tests/sources/stripe_company.py) on a local port: N customers, one subscription each, six
monthly invoices each, pages of 100. Not a test; the figures are in docs/connectors.md.

    .venv/bin/python bench/stripe_sync.py 300 2000
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sources"))

import stripe_company as sc
from pytest_httpserver import HTTPServer

from revbook import Config, Workspace
from revbook.config import StripeSettings
from revbook.sources.stripe import StripeConnector


def company(n: int) -> dict[str, list[dict]]:
    data: dict[str, list[dict]] = {"customers": [], "coupons": [sc.SAVE20], "subscriptions": [], "invoices": []}
    data |= {"credit_notes": [], "events": []}
    for i in range(n):
        cid, sid = f"cus_{i:06d}", f"sub_{i:06d}"
        data["customers"].append(sc.customers()[0] | {"id": cid, "name": f"C{i}", "created": sc.ts("2025-12-01") + i})
        item = sc._item(f"si_{i:06d}", sc.PRICE_SEAT, 1 + i % 5, "2026-01-01", sid, "2026-07-01")
        data["subscriptions"].append(sc._sub(sid, cid, "2026-01-01", [item]) | {"created": sc.ts("2026-01-01") + i})
        for m in range(1, 7):
            line = sc._line(f"il_{i:06d}_{m}", 10000, "usd", f"2026-0{m}-01", f"2026-0{m + 1}-01", sc.PRICE_SEAT)
            invoice = sc._invoice(f"in_{i:06d}_{m}", cid, f"2026-0{m}-01", [line])
            data["invoices"].append(invoice | {"created": invoice["created"] + i})
    return data


def main(sizes: list[int]) -> None:
    os.environ["STRIPE_API_KEY"] = sc.KEY
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for n in sizes:
        fake = sc.FakeStripe(company(n))
        server = HTTPServer()
        server.start()
        server.expect_request(sc.ANY_PATH).respond_with_handler(fake)
        folder = Path(tempfile.mkdtemp(prefix="revbook-stripe-bench-"))
        settings = StripeSettings(api_base=server.url_for("").rstrip("/"), max_network_retries=0)
        cfg = Config(workspace=folder / "w.duckdb", as_of=dt.date(2026, 6, 30), stripe=settings)
        started = time.perf_counter()
        with Workspace(cfg.workspace, config=cfg) as ws:
            done = StripeConnector(cfg).sync(ws)
            ws.headline()
            first = time.perf_counter() - started
            requests = len(fake.requests)
            again = time.perf_counter()
            StripeConnector(cfg).sync(ws)
            second = time.perf_counter() - again
        server.stop()
        rows = ", ".join(f"{t} {r:,}" for t, r in done.rows.items())
        print(f"{n:>7,} customers ({rows}): {requests} requests, first figures {first:.1f} s; ", end="")
        print(f"a run with nothing new {second:.1f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [300])
