"""Benchmark inputs: the sample company at a given size, written to Parquet once and reused.

Inputs live outside the repository, under ``$REVBOOK_BENCH_DATA`` (default
``~/.cache/revbook-bench``)::

    <root>/accounts-<N>/full/<table>.parquet   the sample company, as of SampleConfig().as_of
    <root>/accounts-<N>/prev/<table>.parquet   the same company one month earlier (for the
                                               incremental-refresh case): every row dated after
                                               the earlier as-of date dropped, and lines / owners
                                               still running then made open-ended again

Generation is never timed. ``python bench/data.py 10000 100000`` prepares sizes ahead of a run.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

TABLES = ("accounts", "subscriptions", "owners", "people", "fx_rates", "invoices", "account_history")


def root() -> Path:
    return Path(os.environ.get("REVBOOK_BENCH_DATA", Path.home() / ".cache" / "revbook-bench")).expanduser()


def as_of() -> dt.date:
    from revbook.sample import SampleConfig

    return SampleConfig().as_of


def prev_as_of() -> dt.date:
    """One month before the sample's as-of date (same day of month)."""
    d = as_of()
    y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return d.replace(year=y, month=m)


def size_dir(accounts: int) -> Path:
    return root() / f"accounts-{accounts}"


def paths(accounts: int, which: str = "full") -> dict[str, Path]:
    return {t: size_dir(accounts) / which / f"{t}.parquet" for t in TABLES}


def _complete(accounts: int, which: str) -> bool:
    return all(p.exists() for p in paths(accounts, which).values()) and (size_dir(accounts) / which / ".done").exists()


def _clip(full: dict[str, Path], out: Path, cut: dt.date) -> None:
    """The company as it stood on ``cut``: nothing dated after it, running rows open-ended."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    cut_s = pa.scalar(cut, pa.date32())

    def null_after(t: pa.Table, col: str) -> pa.Table:
        if col not in t.column_names:
            return t
        c = t[col]
        keep = pc.fill_null(pc.less_equal(c, cut_s), True)
        return t.set_column(t.column_names.index(col), col, pc.if_else(keep, c, pa.nulls(len(c), c.type)))

    def on_or_before(t: pa.Table, col: str) -> pa.Table:
        return t.filter(pc.fill_null(pc.less_equal(t[col], cut_s), True))

    for name, path in full.items():
        t = pq.read_table(path)
        if name == "subscriptions":
            t = on_or_before(t, "start_date")
            t = null_after(t, "end_date")
            t = null_after(t, "cancel_requested_at")
        elif name == "owners":
            t = on_or_before(t, "start_date")
            t = null_after(t, "end_date")
        elif name == "account_history":
            t = on_or_before(t, "valid_from")
        elif name == "fx_rates":
            t = on_or_before(t, "date")
        elif name == "invoices":
            t = on_or_before(t, "invoice_date")
        elif name == "accounts":
            t = on_or_before(t, "created_at")
        pq.write_table(t, out / path.name)


def ensure(accounts: int, *, quiet: bool = False) -> dict[str, dict[str, Path]]:
    """Write the inputs of one size if they are not there yet; return {"full": paths, "prev": paths}."""
    import time

    from revbook import sample

    d = size_dir(accounts)
    if not _complete(accounts, "full"):
        t0 = time.perf_counter()
        if not quiet:
            print(f"  generating the sample company with {accounts:,} accounts in {d} ...", flush=True)
        sample.write(d / "full", accounts=accounts, format="parquet")
        (d / "full" / ".done").write_text("")
        if not quiet:
            print(f"  ... {time.perf_counter() - t0:.1f} s", flush=True)
    if not _complete(accounts, "prev"):
        _clip(paths(accounts, "full"), d / "prev", prev_as_of())
        (d / "prev" / ".done").write_text("")
    return {"full": paths(accounts, "full"), "prev": paths(accounts, "prev")}


def describe(accounts: int) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {t: pq.ParquetFile(p).metadata.num_rows for t, p in paths(accounts).items()}


if __name__ == "__main__":
    for a in sys.argv[1:] or ["10000"]:
        n = int(a.replace("_", "").replace(",", ""))
        ensure(n)
        print(n, describe(n))
