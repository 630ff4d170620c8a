"""The measured cases. Each runs in a fresh subprocess started by ``bench/run.py``::

    python bench/cases.py CASE ACCOUNTS OUT_JSON [WORKSPACE]

CASE is one of ``revbook``, ``pandas``, ``scan``, ``incremental``, ``rebuild_prev`` (a setup step:
the workspace as of one month earlier, for ``incremental``). The child writes its timings and
result row counts to OUT_JSON; the parent reads the child's peak RSS from ``os.wait4``.

The work (the same for revbook and the pandas baseline): load every input table, build the
ledger, then movements at month, quarter and year grain and retention over windows 1, 3 and 12
months, each for every slice (none, segment, owner, team, plan, region,
cohort, arr_band): 24 movements tables and 8 retention tables, every one materialised.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GRAINS = ("month", "quarter", "year")
SLICES: tuple[str | None, ...] = (None, "segment", "owner", "team", "plan", "region", "cohort", "arr_band")
WINDOWS = (1, 3, 12)


class Clock:
    """Wall time per named stage, in order."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.stages: dict[str, float] = {}

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        dt = now - self.last
        self.stages[name] = self.stages.get(name, 0.0) + dt
        self.last = now
        progress = os.environ.get("BENCH_PROGRESS")
        if progress:  # so that a run killed halfway (out of memory) still tells how far it got
            import resource

            with open(progress, "a") as f:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                f.write(json.dumps({"stage": name, "s": dt, "at_s": now - self.t0, "maxrss_mib": rss}) + "\n")
        return dt

    @property
    def total(self) -> float:
        return self.last - self.t0


def _label(dim: str | None) -> str:
    return dim or "none"


def digest_arrow(table) -> dict[str, int]:
    """Row count and the exact sum of every money (in cents) and count column of a result."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {}
    nonzero = pa.array([False] * table.num_rows)
    for f in table.schema:
        if pa.types.is_decimal(f.type):
            out[f.name] = int((pc.sum(table[f.name]).as_py() or 0) * 100)  # Decimal: exact
        elif pa.types.is_integer(f.type) and f.name != "window_months":
            out[f.name] = int(pc.sum(table[f.name]).as_py() or 0)
        else:
            continue
        nonzero = pc.or_(nonzero, pc.not_equal(pc.fill_null(table[f.name], 0), 0))
    out["rows_not_all_zero"] = int(pc.sum(nonzero).as_py() or 0)
    return out


def digest_pandas(df, like: dict[str, int] | None = None) -> dict[str, int]:
    import pandas as pd

    out = {}
    cols = [
        c
        for c in df.columns
        if c not in ("period", "end_period", "window_months") and pd.api.types.is_integer_dtype(df[c])
    ]
    for c in cols:
        out[c] = int(df[c].sum())
    out["rows_not_all_zero"] = int((df[cols] != 0).any(axis=1).sum())
    return out


# -- revbook -------------------------------------------------------------------------------------
def revbook_work(
    ws, paths, clock: Clock, rows: dict[str, int], detail: dict[str, float], digests: dict | None = None
) -> None:
    """load -> ledger -> change points -> states (per slice) -> movements -> retention, each stage timed.

    Only the stages the metrics themselves read: the account x period snapshot table is for
    account-level exports and is not part of this work."""
    from revbook.metrics.book import expand_dimensions
    from revbook.metrics.states import levels

    digests = {} if digests is None else digests
    ws.load({k: str(v) for k, v in paths.items()}, force=True)
    clock.lap("load")
    book = ws.book
    book.ledger()
    clock.lap("ledger")
    for g in GRAINS:
        book.changes(g)  # change points and the period spine
        book.spine(g)
        detail[f"changes/{g}"] = clock.lap("changes")
    for g in GRAINS:
        for dim in SLICES:
            levels(book, g, expand_dimensions([dim] if dim else []))  # states and per-slice levels
            detail[f"states/{g}/{_label(dim)}"] = clock.lap("states")
            t = ws.movements(grain=g, by=dim).to_arrow()
            rows[f"movements/{g}/{_label(dim)}"] = t.num_rows
            digests[f"movements/{g}/{_label(dim)}"] = digest_arrow(t)
            detail[f"movements/{g}/{_label(dim)}"] = clock.lap("movements")
    for dim in SLICES:
        t = ws.retention(window=WINDOWS, by=dim).to_arrow()
        rows[f"retention/{_label(dim)}"] = t.num_rows
        digests[f"retention/{_label(dim)}"] = digest_arrow(t)
        detail[f"retention/{_label(dim)}"] = clock.lap("retention")


def case_revbook(accounts: int, workspace: str | None) -> dict:
    import data

    t_imp = time.perf_counter()
    import revbook

    import_s = time.perf_counter() - t_imp
    paths = data.paths(accounts)
    ws_path = Path(workspace or data.root() / "work" / f"rb-{accounts}.duckdb")
    ws_path.parent.mkdir(parents=True, exist_ok=True)
    for p in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    detail: dict[str, float] = {}
    digests: dict = {}
    clock = Clock()
    ws = revbook.Workspace(ws_path, config=revbook.Config(as_of=data.as_of()))
    limit = os.environ.get("BENCH_DUCKDB_MEMORY_LIMIT")
    if limit:  # a variant: DuckDB's memory_limit lowered (it spills to the workspace's .tmp directory)
        ws.con.execute(f"SET memory_limit = '{limit}'")
    clock.lap("open")
    revbook_work(ws, paths, clock, rows, detail, digests)
    ws.close()
    clock.lap("close")
    for p in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    return {
        "wall_s": clock.total,
        "stages": clock.stages,
        "detail": detail,
        "rows": rows,
        "import_s": import_s,
        "digests": digests,
        "revbook_file": revbook.__file__,
    }


def case_rebuild_prev(accounts: int, workspace: str | None) -> dict:
    """Setup for ``incremental``: the workspace one month earlier, with every metric computed."""
    import data

    import revbook

    assert workspace
    ws_path = Path(workspace)
    for p in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    clock = Clock()
    ws = revbook.Workspace(ws_path, config=revbook.Config(as_of=data.prev_as_of()))
    rows: dict[str, int] = {}
    revbook_work(ws, data.paths(accounts, "prev"), clock, rows, {})
    ws.close()
    clock.lap("close")
    return {"wall_s": clock.total, "stages": clock.stages, "rows": rows}


def case_incremental(accounts: int, workspace: str | None) -> dict:
    """One more month of data into a workspace already built a month earlier, and every metric again.

    revbook has no incremental path today: ``load`` replaces each table's rows and the metric
    stages are rebuilt from the ledger up, so this measures what a user gets by re-loading.
    """
    import data

    import revbook

    assert workspace
    rows: dict[str, int] = {}
    detail: dict[str, float] = {}
    clock = Clock()
    ws = revbook.Workspace(Path(workspace), config=revbook.Config(as_of=data.as_of()))
    clock.lap("open")
    revbook_work(ws, data.paths(accounts, "full"), clock, rows, detail)
    ws.close()
    clock.lap("close")
    return {"wall_s": clock.total, "stages": clock.stages, "detail": detail, "rows": rows}


# -- pandas baseline ----------------------------------------------------------------------------
def case_pandas(accounts: int, workspace: str | None) -> dict:
    import data
    import pandas_baseline as pb

    paths = data.paths(accounts)
    rows: dict[str, int] = {}
    clock = Clock()
    book = pb.Book.load(paths, data.as_of())
    clock.lap("load")
    book.ledger()
    clock.lap("ledger")
    for g in GRAINS:
        book.snapshots(g)
        clock.lap("snapshots")
    for g in GRAINS:
        for dim in SLICES:
            book.slices(g, [dim] if dim else [])
            clock.lap("slices")
    # dimension-major, so that retention reuses the month-grain account movements of its slice
    # (the baseline keeps one account-movements frame at a time, to bound its memory)
    digests: dict = {}
    for dim in SLICES:
        d = [dim] if dim else []
        for g in GRAINS:
            t = book.movements(g, d)
            clock.lap("movements")
            rows[f"movements/{g}/{_label(dim)}"] = len(t)
            digests[f"movements/{g}/{_label(dim)}"] = digest_pandas(t)
            if g == "month":
                t = book.retention(WINDOWS, d)
                clock.lap("retention")
                rows[f"retention/{_label(dim)}"] = len(t)
                digests[f"retention/{_label(dim)}"] = digest_pandas(t)
            clock.last = time.perf_counter()  # the digests are not timed
    return {"wall_s": clock.total, "stages": clock.stages, "rows": rows, "digests": digests}


# -- scan floor ---------------------------------------------------------------------------------
def case_scan(accounts: int, workspace: str | None) -> dict:
    import data
    import scan_floor

    out_rows = int(workspace) if workspace else 0
    clock = Clock()
    info = scan_floor.run(data.paths(accounts), out_rows)
    clock.lap("scan")
    return {"wall_s": clock.total, "stages": clock.stages, "rows": info}


CASES = {
    "revbook": case_revbook,
    "pandas": case_pandas,
    "scan": case_scan,
    "incremental": case_incremental,
    "rebuild_prev": case_rebuild_prev,
}


def main(argv: list[str]) -> None:
    case, accounts, out = argv[0], int(argv[1]), Path(argv[2])
    extra = argv[3] if len(argv) > 3 else None
    result = CASES[case](accounts, extra)
    import resource

    result["self_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
