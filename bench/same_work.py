"""The "same work", one implementation per fresh process (started by bench/compare.py).

    python bench/same_work.py CASE ACCOUNTS OUT_JSON      # CASE: floor, sql, revbook, revbook_stages, pandas
    python bench/same_work.py check ACCOUNTS              # the tables of sql, revbook (and pandas) compared

The work: load the inputs, monthly movements by segment, retention over 1, 3 and 12-month windows by
segment, both tables materialised (Arrow, or DataFrames for pandas).

- ``floor``: DuckDB reading the columns this work needs (``change_points.NEEDED``) and writing a
  result of the size of the two tables (bench/scan_floor.py);
- ``sql``: the plain change-point plan of DESIGN.md in DuckDB SQL (bench/change_points.py), from the
  Parquet inputs, in memory;
- ``revbook``: the library calls a user makes: ``Workspace(fresh file).load(paths)``,
  ``ws.movements(grain="month", by="segment")``, ``ws.retention(window=(1, 3, 12), by="segment")``;
- ``revbook_stages``: the same, with the shared stages (ledger, change points, states) called first,
  one at a time, so that each stage's time is attributed (the per-stage profile; not the timed case);
- ``pandas``: bench/pandas_baseline.py's Book for just those two tables.

Each run writes its wall time, stages and a digest of each table (row count and the exact sum of
every money and count column, rows whose every figure is 0 left out) to OUT_JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import Clock, digest_arrow, digest_pandas  # noqa: E402

WINDOWS = (1, 3, 12)
TABLES = ("movements", "retention")


# -- the cases ------------------------------------------------------------------------------------
def case_floor(accounts: int, out_rows: int) -> dict:
    import change_points
    import data
    import scan_floor

    clock = Clock()
    info = scan_floor.run(data.paths(accounts), out_rows, needed=change_points.NEEDED)
    clock.lap("scan")
    return {"wall_s": clock.total, "stages": clock.stages, "rows": info}


def case_sql(accounts: int, _: int) -> dict:
    import change_points
    import data
    import duckdb

    clock = Clock()
    con = duckdb.connect()
    last = data.as_of().year * 12 + data.as_of().month - 1
    change_points.build(con, data.paths(accounts), data.as_of())
    clock.lap("pieces")
    con.execute(f"CREATE OR REPLACE TEMP TABLE cp_mov AS {change_points.movements_sql(last)}")
    mov = con.execute(
        f"SELECT {', '.join(change_points.MOVEMENT_COLUMNS)} FROM cp_mov WHERE start_accounts <> 0 OR "
        "end_accounts <> 0 OR churned_accounts <> 0 OR transfer_out_accounts <> 0 ORDER BY period, segment"
    ).to_arrow_table()
    clock.lap("movements")
    first = con.execute("SELECT min(p) FROM cp_spine").fetchone()[0]
    ret = con.execute(change_points.retention_sql(first, WINDOWS)).to_arrow_table()
    clock.lap("retention")
    total = clock.total  # what follows is not timed
    pieces = con.execute("SELECT count(*) FROM cp_pieces").fetchone()[0]
    con.close()
    rows = {"movements": mov.num_rows, "retention": ret.num_rows, "pieces": pieces}
    digests = {"movements": digest_arrow(mov), "retention": digest_arrow(ret)}  # cents: integers
    return {"wall_s": total, "stages": clock.stages, "rows": rows, "digests": digests}


def _revbook(accounts: int, attribute: bool) -> dict:
    import data

    import revbook

    ws_path = data.root() / "work" / f"same-{accounts}-{'stages' if attribute else 'run'}.duckdb"
    ws_path.parent.mkdir(parents=True, exist_ok=True)
    for p in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    clock = Clock()
    ws = revbook.Workspace(ws_path, config=revbook.Config(as_of=data.as_of()))
    clock.lap("open")
    mov, ret = revbook_same_work(ws, data.paths(accounts), clock, attribute)
    ws.close()
    clock.lap("close")
    for p in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    rows = {"movements": mov.num_rows, "retention": ret.num_rows}
    return {
        "wall_s": clock.total,
        "stages": clock.stages,
        "rows": rows,
        "digests": {"movements": digest_arrow(mov), "retention": digest_arrow(ret)},
        "revbook_file": revbook.__file__,
    }


def revbook_same_work(ws, paths: dict, clock: Clock, attribute: bool):
    """load -> (ledger -> change points -> states, if ``attribute``) -> movements -> retention; each lapped."""
    ws.load({k: str(v) for k, v in paths.items()}, force=True)
    clock.lap("load")
    if attribute:
        for name, call in _stage_calls(ws):
            try:
                call()
            except (AttributeError, ImportError, TypeError) as exc:  # a revision without this stage
                print(f"stage {name} not attributed: {exc}", file=sys.stderr)
            clock.lap(name)
    mov = ws.movements(grain="month", by="segment").to_arrow()
    clock.lap("movements")
    ret = ws.retention(window=WINDOWS, by="segment").to_arrow()
    clock.lap("retention")
    return mov, ret


def _stage_calls(ws) -> list:
    """The shared stages movements and retention by segment read, in order (the Book caches them)."""

    def states() -> None:
        from revbook.metrics.book import expand_dimensions
        from revbook.metrics.states import levels

        levels(ws.book, "month", expand_dimensions(["segment"]))

    return [
        ("ledger", lambda: ws.book.ledger()),
        ("changes", lambda: (ws.book.changes("month"), ws.book.spine("month"))),
        ("states", states),
    ]


def case_revbook(accounts: int, _: int) -> dict:
    return _revbook(accounts, attribute=False)


def case_revbook_stages(accounts: int, _: int) -> dict:
    return _revbook(accounts, attribute=True)


def case_pandas(accounts: int, _: int) -> dict:
    import data
    import pandas_baseline as pb

    clock = Clock()
    book = pb.Book.load(data.paths(accounts), data.as_of())
    clock.lap("load")
    mov = book.movements("month", ["segment"])
    clock.lap("movements")
    ret = book.retention(WINDOWS, ["segment"])
    clock.lap("retention")
    digests = {"movements": digest_pandas(mov), "retention": digest_pandas(ret)}
    return {
        "wall_s": clock.total,
        "stages": clock.stages,
        "rows": {"movements": len(mov), "retention": len(ret)},
        "digests": digests,
    }


CASES = {
    "floor": case_floor,
    "sql": case_sql,
    "revbook": case_revbook,
    "revbook_stages": case_revbook_stages,
    "pandas": case_pandas,
}


# -- the check ------------------------------------------------------------------------------------
def check(accounts: int, with_pandas: bool = True) -> int:
    """Both tables of the SQL plan (and of pandas) against revbook's, to the cent; 1 if any differs."""
    import tempfile

    import change_points
    import check as chk
    import data

    import revbook

    t0 = time.perf_counter()
    paths = data.paths(accounts)
    with tempfile.TemporaryDirectory() as tmp:
        ws = revbook.Workspace(Path(tmp) / "check.duckdb", config=revbook.Config(as_of=data.as_of()))
        ws.load({k: str(v) for k, v in paths.items()})
        ours = {
            "movements": chk._revbook_frame(ws.movements(grain="month", by="segment").to_arrow()),
            "retention": chk._revbook_frame(ws.retention(window=WINDOWS, by="segment").to_arrow()),
        }
        ws.close()
    mov, ret = change_points.run(paths, data.as_of(), WINDOWS)
    theirs = {"sql": {"movements": mov.to_pandas(), "retention": ret.to_pandas()}}
    if with_pandas:
        import pandas_baseline as pb

        book = pb.Book.load(paths, data.as_of())
        pm, pr = book.movements("month", ["segment"]), book.retention(WINDOWS, ["segment"])
        pm, pr = (t.drop(columns="period").rename(columns={"period_label": "period"}) for t in (pm, pr))
        theirs["pandas"] = {"movements": pm, "retention": pr}
    keys = {"movements": ["period", "segment"], "retention": ["window_months", "period", "segment"]}
    failures = 0
    for impl, tables in theirs.items():
        for name in TABLES:
            a = ours[name]
            b = tables[name]
            missing = [c for c in a.columns if c not in b.columns]
            err = f"columns missing: {missing}" if missing else chk.compare(name, a, b[list(a.columns)], keys[name])
            failures += err is not None
            verdict = "same to the cent" if err is None else "DIFFERS: " + err.replace(" pandas ", f" {impl} ")
            print(f"  {impl:<7} {name:<10} by segment: {verdict} ({len(a)} rows in revbook)")
    print(
        f"  {'ALL SAME' if not failures else f'{failures} TABLES DIFFER'} "
        f"({accounts:,} accounts, {time.perf_counter() - t0:.1f} s)"
    )
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[0] == "check":
        return check(int(argv[1]), with_pandas="--no-pandas" not in argv)
    case, accounts, out = argv[0], int(argv[1]), Path(argv[2])
    extra = int(argv[3]) if len(argv) > 3 else 0
    result = CASES[case](accounts, extra)
    import resource

    result["self_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
