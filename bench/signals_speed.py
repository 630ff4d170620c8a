"""How fast the signal rules run over many notes (not a timed test).

    python bench/signals_speed.py [--notes 1000000]

Builds N notes by resampling the sample company's notes (its mix of routine notes, trigger phrases
and hard negatives; ~8% carry a rule phrase), then times :func:`revbook.insights.find_signals` over
the whole column (DuckDB: one prefilter pass, sentences of the candidate notes, one regular-expression
pass per rule), and the scan floor: one regexp_matches of the prefilter over the column.
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pyarrow as pa

from revbook import sample
from revbook.insights import find_signals, signal_rules
from revbook.insights.signals.scan import _hits_sql  # noqa: F401  (documents what is timed)


def notes(n: int, seed: int = 0) -> pa.Table:
    base = sample.generate(accounts=1500, text=True)["notes"]
    rng = np.random.default_rng(seed)
    idx = pa.array(rng.integers(0, base.num_rows, n))
    return pa.table(
        {
            "account_id": pa.array([f"A{i:07d}" for i in rng.integers(0, n // 10 + 1, n)]),
            "date": base["date"].take(idx),
            "author": base["author"].take(idx),
            "source": base["source"].take(idx),
            "text": base["text"].take(idx),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    table = notes(args.notes)
    mb = sum(len(s) for s in table["text"].to_pylist()) / 1e6
    print(f"{table.num_rows:,} notes, {mb:.0f} MB of text, built in {time.perf_counter() - t0:.1f} s")
    rules = signal_rules()
    prefilter = "(?i:" + "|".join(f"(?:{p})" for r in rules for p in r.patterns) + ")"
    con = duckdb.connect()
    con.register("t", table)
    for _ in range(args.repeat):
        t = time.perf_counter()
        k = con.execute(
            f"SELECT count(*) FROM t WHERE regexp_matches(text, '{prefilter.replace(chr(39), chr(39) * 2)}')"
        ).fetchone()
        floor = time.perf_counter() - t
        t = time.perf_counter()
        hits = find_signals(table)
        full = time.perf_counter() - t
        print(
            f"prefilter scan: {floor:.2f} s ({k[0]:,} candidate notes)   "
            f"find_signals: {full:.2f} s ({len(hits):,} hits)"
        )


if __name__ == "__main__":
    main()
