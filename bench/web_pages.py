"""Dashboard response times per page: p50 / p95 of the server's answer, warm. A script, not a test.

    python bench/web_pages.py revbook-demo-100k/revbook.duckdb --as-of 2026-11-15 [--n 50]

Starts ``revbook.web.create_app`` under uvicorn in a subprocess on a free port (so the client does not
share the server's interpreter), waits for it, requests every page once (the cold time: the library
computes and the app caches its frames), then ``--n`` times each, and prints p50 / p95 per page,
and how long after the server's start it answered and gave its first page.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import time

import httpx

SERVER = """
import datetime as dt, sys, uvicorn
from revbook import Config
from revbook.web import create_app
app = create_app(sys.argv[1], config=Config(as_of=dt.date.fromisoformat(sys.argv[2])), token="")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""

PAGES = [
    ("overview", "/"),
    ("overview quarter", "/?grain=quarter"),
    ("overview smb", "/?by=segment&value=smb"),
    ("retention", "/retention"),
    ("retention by CSM 3m", "/retention?by=owner&window=3"),
    ("accounts", "/accounts"),
    ("accounts sorted p20", "/accounts?sort=name&dir=asc&page=20"),
    ("accounts search", "/accounts?q=robotics&status=all"),
    ("accounts churn drill", "/accounts?view=movement&movement=churn"),
    ("accounts NRR drill", "/accounts?view=cohort&window=12"),
    ("books", "/book"),
    ("book (one CSM)", "/book?by=owner&value={owner}"),
    ("account", "/accounts/{account}"),
    ("definitions", "/definitions"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace")
    parser.add_argument("--as-of", default="2026-11-15")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()

    port = free_port()
    launched = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, args.workspace, args.as_of, str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/static/revbook.css")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            up = time.perf_counter() - launched
            first = 0.0
            fills: dict[str, str] = {}
            print(f"{'page':24} {'cold s':>8} {'p50 ms':>8} {'p95 ms':>8} {'KiB':>6}")
            for name, path in PAGES:
                if "{" in path and not fills:
                    books = client.get("/book").text
                    fills["owner"] = re.search(r"value=(P\w+)", books).group(1)  # type: ignore[union-attr]
                    fills["account"] = re.search(r'href="/accounts/([^"]+)"', client.get("/accounts").text).group(1)  # type: ignore[union-attr]
                url = path.format(**fills)
                started = time.perf_counter()
                r = client.get(url)
                cold = time.perf_counter() - started
                r.raise_for_status()
                if name == PAGES[0][0]:
                    first = up + cold
                times = []
                for _ in range(args.n):
                    started = time.perf_counter()
                    r = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                    r.raise_for_status()
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
                print(
                    f"{name:24} {cold:8.2f} {statistics.median(times):8.1f} {p95:8.1f} {len(r.content) / 1024:6.0f}",
                    flush=True,
                )
        print(f"server up {up:.2f} s after its start; the first page ({PAGES[0][0]}) {first:.2f} s after it")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
