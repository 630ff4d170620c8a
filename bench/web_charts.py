"""How long the dashboard's charts take to draw in a real browser (the system's Chromium).

Serves a workspace (default: a fresh 100,000-account sample; or --workspace FILE) in this process,
opens each page in headless Chromium through Playwright, and times from the start of navigation to
the moment every chart on the page has drawn (an <svg> inside each Vega container), after a warm-up.
Prints median and max per page. A script, not a test:

    python bench/web_charts.py [--workspace revbook-demo/revbook.duckdb --as-of 2026-11-15] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from revbook import Config, Workspace, sample
from revbook.web import create_app

PAGES = {
    "Overview": "/",
    "Overview, quarter": "/?grain=quarter",
    "Retention": "/retention",
    "Retention by CSM": "/retention?by=owner&window=3",
    "Books": "/book",
    "Account list": "/accounts",
}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--as-of", default=sample.SampleConfig().as_of.isoformat())
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    path = args.workspace
    if path is None:
        tmp = Path(tempfile.mkdtemp(prefix="revbook-charts-"))
        paths = sample.write(tmp / "data", accounts=args.accounts)
        path = tmp / "w.duckdb"
        with Workspace(path, config=Config(as_of=as_of)) as ws:
            ws.load(dict(paths))
    app = create_app(path, config=Config(as_of=as_of), token="", warm=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    print(f"{'page':<22} {'charts':>6} {'median ms':>10} {'max ms':>8}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for name, url in PAGES.items():
            page.goto(base + url, wait_until="load", timeout=120_000)  # warm the server's cache
            times = []
            charts = 0
            for _ in range(args.repeat):
                start = time.perf_counter()
                page.goto(base + url, wait_until="domcontentloaded")
                charts = page.locator(".vega-embed, [data-vega]").count()
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.vega-embed, [data-vega]')]"
                    ".every(el => el.querySelector('svg, canvas'))",
                    timeout=30_000,
                )
                times.append((time.perf_counter() - start) * 1000)
            print(f"{name:<22} {charts:>6} {statistics.median(times):>10.0f} {max(times):>8.0f}")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
