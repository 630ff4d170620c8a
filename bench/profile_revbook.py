"""Where revbook's time goes: every SQL statement of the benchmark's work, timed, and DuckDB's
operator profile (EXPLAIN ANALYZE) of the slowest ones.

    python bench/profile_revbook.py 100000 [--top 5] [--revbook HEAD|worktree] [--out DIR] [--work same]

Runs the same work as the ``revbook`` case of bench/run.py (load, ledger, snapshots, slices,
movements at 3 grains x 8 slices, retention x 8 slices), or with ``--work same`` the same
work of bench/compare.py (load, ledger, change points, states, movements by segment, retention
1/3/12 by segment), in this process, with
``DuckDBEngine.materialize`` and ``revbook.metrics.tables._frame`` wrapped to time each statement. Then
re-runs the ``--top`` slowest statements under ``EXPLAIN ANALYZE`` and prints the operators
that take the most time. Writes ``statements.json`` and ``explain-<k>.txt`` to ``--out``
(default: <bench data>/profile-<accounts>/<suite or same>/).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("accounts", type=int, nargs="?", default=100_000)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--revbook", default="HEAD")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--work", choices=("suite", "same"), default="suite", help="the full suite, or the same work of compare.py"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not args.child:
        import run

        pinned = run.pin_revbook(args.revbook)
        print(f"revbook {pinned['revision']} {pinned['commit'][:12]}", flush=True)
        cmd = [sys.executable, __file__, str(args.accounts), "--top", str(args.top), "--work", args.work, "--child"]
        if args.out:
            cmd += ["--out", str(args.out)]
        return subprocess.call(cmd, env=run.CHILD_ENV)
    return profile(args)


def profile(args: argparse.Namespace) -> int:
    from cases import Clock, revbook_work

    import revbook
    from revbook import engines as eng
    from revbook.metrics import tables as wsm

    out = args.out or data.root() / f"profile-{args.accounts}" / args.work
    out.mkdir(parents=True, exist_ok=True)
    statements: list[dict] = []
    stage = {"name": "load"}

    orig_materialize = eng.DuckDBEngine.materialize
    orig_frame = wsm._frame

    def materialize(self, name, select):
        t0 = time.perf_counter()
        orig_materialize(self, name, select)
        statements.append(
            {"kind": "materialize", "name": name, "stage": stage["name"], "s": time.perf_counter() - t0, "sql": select}
        )

    def frame(store, name, sql, params=()):
        t0 = time.perf_counter()
        f = orig_frame(store, name, sql, params)
        statements.append(
            {
                "kind": "query",
                "name": name,
                "stage": stage["name"],
                "s": time.perf_counter() - t0,
                "sql": sql,
                "params": list(params),
            }
        )
        return f

    eng.DuckDBEngine.materialize = materialize
    wsm._frame = frame

    # the stage the statements after a lap belong to
    if args.work == "same":
        NEXT = {"open": "load", "load": "ledger", "ledger": "changes", "changes": "states", "states": "movements"}
        NEXT["movements"] = "retention"
    else:
        NEXT = {"load": "ledger", "ledger": "snapshots", "snapshots": "slices"}

    class StageClock(Clock):
        def lap(self, name: str) -> float:
            dt = super().lap(name)
            stage["name"] = NEXT.get(name, name)
            return dt

    ws_path = data.root() / "work" / f"profile-{args.work}-{args.accounts}.duckdb"
    ws_path.parent.mkdir(parents=True, exist_ok=True)
    ws_path.unlink(missing_ok=True)
    ws = revbook.Workspace(ws_path, config=revbook.Config(as_of=data.as_of()))
    clock = StageClock()
    if args.work == "same":
        from same_work import revbook_same_work

        revbook_same_work(ws, data.paths(args.accounts), clock, attribute=True)
    else:
        revbook_work(ws, data.paths(args.accounts), clock, {}, {})
    print(f"revbook {revbook.__file__}: {clock.total:.2f} s", flush=True)
    print("stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in clock.stages.items()))
    timed = sum(s["s"] for s in statements)
    print(
        f"{len(statements)} statements timed, {timed:.2f} s of {clock.total:.2f} s "
        "(the rest: load's own statements, checks, scalars, Arrow conversion)"
    )
    by_name: dict[str, float] = {}
    for s in statements:
        key = re.sub(r"_(segment|owner|owner_name|team|plan|region|industry|cohort|arr_band)", "_<dims>", s["name"])
        by_name[key] = by_name.get(key, 0.0) + s["s"]
    print("time by statement family:")
    for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {v:7.2f} s  {k}")
    (out / "statements.json").write_text(json.dumps(statements, indent=1))

    # EXPLAIN ANALYZE of the slowest statements (their inputs are still in the connection)
    slowest = sorted(statements, key=lambda s: -s["s"])[: args.top]
    con = ws.book.engine.con
    for k, s in enumerate(slowest, 1):
        sql = s["sql"]
        try:
            rows = con.execute("EXPLAIN ANALYZE " + sql, s.get("params") or None).fetchall()
        except Exception as exc:  # an intermediate table it read is dropped by now
            print(f"\n#{k} {s['kind']} {s['name']} [{s['stage']}]: {s['s']:.2f} s (no EXPLAIN: {str(exc)[:100]})")
            continue
        text = "\n".join(str(r[1]) for r in rows)
        (out / f"explain-{k}.txt").write_text(
            f"-- {s['kind']} {s['name']} ({s['stage']}): {s['s']:.2f} s\n{sql}\n\n{text}\n"
        )
        ops = []
        for m in re.finditer(r"│\s*([A-Z_]+(?: [A-Z_]+)*)\s*│[\s\S]*?│\s*\(([\d.]+)s\)\s*│", text):
            ops.append((float(m.group(2)), m.group(1)))
        ops.sort(reverse=True)
        print(f"\n#{k} {s['kind']} {s['name']} [{s['stage']}]: {s['s']:.2f} s -> {out / f'explain-{k}.txt'}")
        for t, op in ops[:6]:
            print(f"    {t:6.2f} s  {op}")
    ws.close()
    ws_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
