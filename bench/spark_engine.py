"""The Spark engine against DuckDB on the benchmark inputs (bench/data.py), one size per run.

    python bench/spark_engine.py 10000 [--cores 2]

Loads the sample company of that size into a fresh workspace (not timed), then times the same
metrics on each engine from a freshly opened workspace: the ledger, MRR and movements at month and
quarter grain, movements by segment, retention (1, 3, 12) and cohorts. The Spark side includes
reading the canonical tables (exported to Parquet) but not starting the session, which is timed
apart. Each pair of results is checked equal. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data

STEPS = (
    ("ledger", {}),
    ("mrr", {}),
    ("movements", {}),
    ("movements", {"grain": "quarter"}),
    ("movements", {"by": "segment"}),
    ("retention", {}),
    ("cohorts", {}),
)


def run(ws, timings: dict[str, float]) -> list:
    results = []
    for metric, options in STEPS:
        t = time.perf_counter()
        results.append(getattr(ws, metric)(**options).to_arrow())
        key = metric + "".join(f" {v}" for v in options.values())
        timings[key] = round(time.perf_counter() - t, 2)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("accounts", type=int)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()

    from revbook import Config, Workspace
    from revbook.engines.spark import local_session

    data.ensure(args.accounts, quiet=True)
    cfg = Config(as_of=data.as_of())
    out: dict = {"accounts": args.accounts, "cores": args.cores}
    with tempfile.TemporaryDirectory(prefix="revbook-spark-bench-") as tmp:
        path = Path(tmp) / "w.duckdb"
        with Workspace(path, config=cfg) as ws:
            ws.load({t: p for t, p in data.paths(args.accounts).items()})
            out["rows"] = ws.row_counts()
        t = time.perf_counter()
        spark = local_session(args.cores)
        out["spark_session_s"] = round(time.perf_counter() - t, 2)

        duck_t: dict[str, float] = {}
        t = time.perf_counter()
        with Workspace(path, config=cfg, read_only=True) as ws:
            duck = run(ws, duck_t)
            out["ledger_lines"] = len(ws.ledger())
        out["duckdb_s"] = round(time.perf_counter() - t, 2)
        spark_t: dict[str, float] = {}
        t = time.perf_counter()
        with Workspace(path, config=cfg, read_only=True, engine="spark", spark=spark) as ws:
            theirs = run(ws, spark_t)
        out["spark_s"] = round(time.perf_counter() - t, 2)
        out["duckdb_steps"], out["spark_steps"] = duck_t, spark_t
        out["equal"] = all(a.to_pylist() == b.to_pylist() for a, b in zip(duck, theirs, strict=True))
    print(json.dumps(out))
    return 0 if out["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
