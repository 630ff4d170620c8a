"""Time the kept-stages step of a monthly refresh: the incremental path against the full rebuild.

A workspace loaded with the sample's previous month (``prev``), then the full company loaded over
it, once as is (the incremental path) and once, on a copy, with the incremental path refused (the
full rebuild). Prints wall and CPU seconds of the step and of its parts. Not a test.

    PYTHONPATH=src python bench/incremental.py [ACCOUNTS]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import data

from revbook import Config, Workspace

TIMES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])


def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[label][0] += time.perf_counter() - w
            TIMES[label][1] += time.process_time() - c

    return run


def instrument() -> None:
    import revbook.quality as quality
    from revbook.metrics import book, incremental, kept

    kept.keep_stages = timed("stages step", kept.keep_stages)  # type: ignore[assignment]
    book.build_ledger = timed("  ledger", book.build_ledger)  # type: ignore[assignment]
    quality.run_checks = timed("  checks", quality.run_checks)  # type: ignore[assignment]
    incremental.update = timed("  incremental.update", incremental.update)  # type: ignore[assignment]
    incremental._replace = timed("    replace rows", incremental._replace)  # type: ignore[assignment]
    incremental.keep_digest = timed("  keep digest", incremental.keep_digest)  # type: ignore[assignment]


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    instrument()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.duckdb"
        with Workspace(path, config=Config(as_of=data.prev_as_of())) as ws:
            ws.load({t: p for t, p in data.paths(accounts, "prev").items() if p.exists()})
        shutil.copy(path, Path(tmp) / "copy.duckdb")
        for label, target, refuse in (("incremental", path, False), ("full rebuild", Path(tmp) / "copy.duckdb", True)):
            TIMES.clear()
            from revbook.metrics import incremental

            original = incremental.refusal
            if refuse:
                incremental.refusal = lambda config, base: "measured"  # type: ignore[assignment]
            try:
                with Workspace(target, config=Config(as_of=data.as_of())) as ws:
                    ws.load(data.paths(accounts, "full"))
                    outcome = ws.kept_stages
            finally:
                incremental.refusal = original  # type: ignore[assignment]
            print(f"{label}: {outcome}  (load average {os.getloadavg()[0]:.2f})")
            for part, (wall, cpu) in TIMES.items():
                print(f"  {part:<26} wall {wall:6.2f} s  cpu {cpu:6.2f} s")


if __name__ == "__main__":
    main()
