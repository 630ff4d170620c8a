"""Issue 17's comparison in one command: the same work four ways, the user's path, the stage profile.

    .venv/bin/python bench/compare.py --sizes 100000,1000000
    .venv/bin/python bench/compare.py --sizes 10000 --repeat 1          # a quick look

For each size (inputs from bench/data.py under $REVBOOK_BENCH_DATA; never timed, never rewritten):

1. **the same work** (load the inputs, monthly movements by segment, retention over 1, 3 and 12-month
   windows by segment), each implementation ``--repeat`` times in a fresh process (bench/same_work.py):
   the scan floor, the change-point plan of DESIGN.md in plain DuckDB SQL (bench/change_points.py),
   revbook's library calls, and the pandas baseline. Wall time, CPU (user + sys) and peak RSS from
   ``os.wait4``; medians; each against the floor. Before timing, up to ``--check-upto`` accounts, the
   SQL plan's and pandas' tables are compared with revbook's to the cent; at every size the timed
   runs' digests (row counts, exact sums of every money and count column) are compared too;
2. **the user's path**: each a separate ``revbook`` process on a workspace file: ``load``,
   ``headline``, ``metrics movements --by segment``, ``metrics retention --window 12 --by segment``,
   then each command again (are the derived stages kept?), then on a second workspace loaded with
   the company one month earlier, a ``load`` of the full company (one more month) and the commands
   after it. Every command's output is compared: again = first, after the incremental load = after
   the fresh load;
3. **the per-stage profile** of revbook on the same work (one more run, the shared stages called
   one at a time: open, load, ledger, change points, states, movements, retention).

Any difference is printed in capitals and recorded; the run exits 1 when one was found. Prints the
tables and writes everything to ``--out`` (default ``$REVBOOK_BENCH_DATA/compare-<time>.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import run  # noqa: E402

GIB = run.GIB
IMPLS = ("floor", "sql", "revbook", "pandas")
LABELS = {
    "floor": "scan floor (the needed columns read, a result of that size written)",
    "sql": "change-point plan of DESIGN.md, plain DuckDB SQL (bench/change_points.py)",
    "revbook": "revbook (Workspace.load, ws.movements, ws.retention)",
    "pandas": "pandas baseline (bench/pandas_baseline.py)",
}
STAGES = ("open", "load", "ledger", "changes", "states", "movements", "retention", "close")
PROBLEMS: list[str] = []


def loud(msg: str) -> None:
    """A difference between outputs that should be equal: said in capitals and kept for the exit code."""
    PROBLEMS.append(msg)
    print(f"\n  !!! {msg.upper()} !!!\n", flush=True)


# -- the same work ---------------------------------------------------------------------------------
def run_same(case: str, accounts: int, extra: int = 0, timeout: float | None = None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    try:
        args = [run.PY, str(HERE / "same_work.py"), case, str(accounts), str(out), str(extra)]
        r = run.run_child(args, timeout)
        if r["timed_out"] or r["over_cap"] or r["returncode"] != 0:
            why = "timeout" if r["timed_out"] else "over the RSS cap" if r["over_cap"] else f"exit {r['returncode']}"
            return {"failed": why, "after_s": r["process_wall_s"], "peak_rss_bytes": r["peak_rss_bytes"],
                    "stderr": r["stderr"][-2000:]}  # fmt: skip
        res = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    res.update({k: r[k] for k in ("process_wall_s", "peak_rss_bytes", "cpu_s", "load_before")})
    return res


def repeat(case: str, accounts: int, n: int, extra: int = 0, timeout: float | None = None) -> dict:
    runs = []
    for i in range(n):
        r = run_same(case, accounts, extra, timeout)
        if "failed" in r:
            print(f"    {case:<8} FAILED ({r['failed']}) after {r['after_s']:.1f} s:\n{r['stderr']}", flush=True)
            loud(f"{accounts:,} accounts: the {case} run failed ({r['failed']})")
            return {"failed": r["failed"], "after_s": r["after_s"], "peak_rss_bytes": r["peak_rss_bytes"]}
        runs.append(r)
        print(
            f"    {case:<8} run {i + 1}/{n}: {r['process_wall_s']:7.2f} s wall, {r['cpu_s']:7.2f} s CPU, "
            f"peak {r['peak_rss_bytes'] / GIB:5.2f} GiB (load {r['load_before'][0]:.2f})",
            flush=True,
        )
    med = statistics.median
    return {
        "n": n,
        "wall_s": med(r["process_wall_s"] for r in runs),  # the process: start-up and imports included
        "work_s": med(r["wall_s"] for r in runs),  # inside the process, from the first step
        "cpu_s": med(r["cpu_s"] for r in runs),
        "peak_rss_bytes": med(r["peak_rss_bytes"] for r in runs),
        "stages": {s: med(r["stages"].get(s, 0.0) for r in runs) for s in runs[0]["stages"]},
        "rows": runs[0].get("rows", {}),
        "digests": runs[0].get("digests", {}),
        "runs": [
            {k: r[k] for k in ("process_wall_s", "wall_s", "cpu_s", "peak_rss_bytes", "load_before")} for r in runs
        ],
    }


def same_work(accounts: int, args: argparse.Namespace) -> dict:
    res: dict = {}
    if accounts <= args.check_upto:
        pandas = not args.no_pandas and accounts <= args.pandas_upto
        cmd = [run.PY, str(HERE / "same_work.py"), "check", str(accounts)] + ([] if pandas else ["--no-pandas"])
        print("  checking the SQL plan" + (" and pandas" if pandas else "") + " against revbook, to the cent")
        r = run.run_child(cmd)
        print("\n".join("  " + x for x in r["stdout"].rstrip().splitlines()), flush=True)
        res["check"] = {"ok": r["returncode"] == 0, "output": r["stdout"], "stderr": r["stderr"][-2000:]}
        if r["returncode"] != 0:
            loud(f"{accounts:,} accounts: an implementation's tables differ from revbook's (see the check above)")
            print(r["stderr"][-2000:])
            if not args.keep_going:
                raise SystemExit(1)
    n = args.repeat_1m if accounts >= 1_000_000 and args.repeat_1m else args.repeat
    for impl in ("sql", "revbook", "pandas"):
        if (impl == "pandas" and (args.no_pandas or accounts > args.pandas_upto)) or impl not in args.impls:
            continue
        res[impl] = repeat(impl, accounts, n, timeout=args.timeout)
    ok = [k for k in ("sql", "revbook", "pandas") if "digests" in res.get(k, {})]
    out_rows = sum(res[ok[0]]["rows"].get(t, 0) for t in ("movements", "retention")) if ok else 0
    if "floor" in args.impls:
        res["floor"] = repeat("floor", accounts, n, extra=out_rows)
    res["digests"] = {}
    if "revbook" in ok:
        for impl in (k for k in ok if k != "revbook"):
            d = run.compare_digests(res["revbook"]["digests"], res[impl]["digests"])
            res["digests"][impl] = d
            print(f"    digests of the timed runs, {impl} vs revbook: {d['summary']}", flush=True)
            if d["differ"]:
                loud(f"{accounts:,} accounts: the timed {impl} run's tables differ from revbook's: {d['differ']}")
    return res


# -- the user's path ---------------------------------------------------------------------------------
COMMANDS = {
    "headline": ["headline"],
    "movements --by segment": ["metrics", "movements", "--by", "segment"],
    "retention --window 12 --by segment": ["metrics", "retention", "--window", "12", "--by", "segment"],
}


def cli_path(accounts: int, args: argparse.Namespace) -> dict:
    revbook_bin = shutil.which("revbook", path=str(Path(run.PY).parent)) or "revbook"
    work = data.root() / "work" / f"cli-{accounts}"
    steps: list[dict] = []
    outputs: dict[tuple[str, str], str] = {}

    def config(name: str, as_of: dt.date) -> Path:
        p = work / f"{name}.toml"
        p.write_text(f'[workspace]\npath = "{name}.duckdb"\nas_of = "{as_of}"\n')
        return p

    def step(phase: str, what: str, argv: list[str], cfg: Path) -> None:
        r = run.run_child([revbook_bin, *argv, "--config", str(cfg)], args.timeout)
        ok = r["returncode"] == 0 and not r["timed_out"] and not r["over_cap"]
        steps.append(
            {
                "phase": phase,
                "command": "revbook " + what,
                "wall_s": r["process_wall_s"],
                "cpu_s": r["cpu_s"],
                "peak_rss_bytes": r["peak_rss_bytes"],
                "ok": ok,
                "load_before": r["load_before"],
            }
        )
        print(
            f"    {phase:<16} revbook {what:<36} {r['process_wall_s']:7.2f} s wall, {r['cpu_s']:7.2f} s CPU, "
            f"peak {r['peak_rss_bytes'] / GIB:5.2f} GiB" + ("" if ok else f"  FAILED: {r['stderr'][-1500:]}"),
            flush=True,
        )
        if not ok:
            loud(f"{accounts:,} accounts: revbook {what} ({phase}) failed")
        outputs[(phase, what)] = r["stdout"]

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    full, prev = config("full", data.as_of()), config("inc", data.prev_as_of())
    files = [f"{t}={p}" for t, p in data.paths(accounts, "full").items()]
    step("fresh", "load", ["load", *files], full)
    for phase in ("first", "again"):
        for what, argv in COMMANDS.items():
            step(phase, what, argv, full)
    # incremental: the company one month earlier, its stages used once, then one more month loaded
    step("setup (prev)", "load", ["load", *(f"{t}={p}" for t, p in data.paths(accounts, "prev").items())], prev)
    step("setup (prev)", "headline", COMMANDS["headline"], prev)
    inc = config("inc", data.as_of())
    step("incremental", "load", ["load", *files], inc)
    for what, argv in COMMANDS.items():
        step("after incr.", what, argv, inc)
    for what in COMMANDS:
        if outputs.get(("again", what)) != outputs.get(("first", what)):
            loud(f"{accounts:,} accounts: revbook {what} printed something else the second time")
        if outputs.get(("after incr.", what)) != outputs.get(("first", what)):
            loud(f"{accounts:,} accounts: revbook {what} after the incremental load differs from after a fresh load")
    if not args.keep_workspaces:
        shutil.rmtree(work, ignore_errors=True)
    by = {(s["phase"], s["command"]): s for s in steps}

    def share(k: str) -> float:
        fresh = by[("fresh", "revbook load")][k] + by[("first", "revbook headline")][k]
        return (by[("incremental", "revbook load")][k] + by[("after incr.", "revbook headline")][k]) / fresh

    return {
        "steps": steps,
        "incremental_vs_fresh": share("wall_s"),
        "incremental_vs_fresh_cpu": share("cpu_s"),
        "outputs_compared": len(COMMANDS) * 2,
    }


# -- the report ------------------------------------------------------------------------------------
def report(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=150)
    for r in results["sizes"]:
        n, sw = r["accounts"], r["same_work"]
        t = Table(title=f"the same work at {n:,} accounts: load, movements by segment, retention 1/3/12 by segment")
        for c in ("implementation", "wall", "CPU", "peak RSS", "wall / floor", "CPU / floor", "peak / floor", "same"):
            t.add_column(c, justify="left" if c == "implementation" else "right")
        floor = sw.get("floor", {})
        for impl in IMPLS:
            x = sw.get(impl)
            if not x:
                continue
            if "failed" in x:
                t.add_row(LABELS[impl], f"> {x['after_s']:.1f} s", "", f">= {x['peak_rss_bytes'] / GIB:.2f} GiB",
                          "", "", "", x["failed"])  # fmt: skip
                continue
            same = "—" if impl == "floor" else "reference" if impl == "revbook" else ""
            d = sw["digests"].get(impl)
            if d:
                same = "same" if not d["differ"] else "DIFFERS"

            def ratio(k: str, x: dict = x, floor: dict = floor) -> str:
                return f"{x[k] / floor[k]:.1f}x" if floor.get(k) else "—"

            t.add_row(
                LABELS[impl],
                f"{x['wall_s']:.2f} s",
                f"{x['cpu_s']:.2f} s",
                f"{x['peak_rss_bytes'] / GIB:.2f} GiB",
                ratio("wall_s"),
                ratio("cpu_s"),
                ratio("peak_rss_bytes"),
                same,
            )
        con.print(t)
        prof = r.get("profile")
        if prof and "stages" in prof:
            s = Table(title=f"revbook per stage at {n:,} accounts (s; one run, stages called one at a time)")
            names = [st for st in STAGES if st in prof["stages"]]
            for c in ("", *names, "total", "peak RSS"):
                s.add_column(c, justify="right")
            s.add_row(
                "revbook",
                *(f"{prof['stages'][st]:.2f}" for st in names),
                f"{prof['wall_s']:.2f}",
                f"{prof['peak_rss_bytes'] / GIB:.2f} GiB",
            )
            con.print(s)
            sql = sw.get("sql", {}).get("stages")
            if sql:
                con.print("the SQL plan's stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in sql.items()))
        cli = r.get("cli")
        if cli:
            c = Table(title=f"the user's path at {n:,} accounts: each a separate revbook process")
            for col in ("phase", "command", "wall", "CPU", "peak RSS"):
                c.add_column(col, justify="left" if col in ("phase", "command") else "right")
            for st in cli["steps"]:
                c.add_row(
                    st["phase"],
                    st["command"] + ("" if st["ok"] else " (FAILED)"),
                    f"{st['wall_s']:.2f} s",
                    f"{st['cpu_s']:.2f} s",
                    f"{st['peak_rss_bytes'] / GIB:.2f} GiB",
                )
            con.print(c)
            con.print(
                f"incremental load + headline / fresh load + headline: {cli['incremental_vs_fresh']:.0%} of the wall"
                f" time, {cli['incremental_vs_fresh_cpu']:.0%} of the CPU"
            )
    sizes = [r for r in results["sizes"] if "same_work" in r]
    for a, b in itertools.pairwise(sizes):
        x = b["accounts"] / a["accounts"]
        growth = []
        for impl in IMPLS:
            u, v = a["same_work"].get(impl, {}), b["same_work"].get(impl, {})
            if "wall_s" in u and "wall_s" in v:
                growth.append(
                    f"{impl} wall x{v['wall_s'] / u['wall_s']:.1f}, CPU x{v['cpu_s'] / u['cpu_s']:.1f}, "
                    f"peak x{v['peak_rss_bytes'] / u['peak_rss_bytes']:.1f}"
                )
        con.print(f"growth {a['accounts']:,} -> {b['accounts']:,} (x{x:.0f}): " + "; ".join(growth))
    con.print(f"load average: {results['load_start']} -> {results['load_end']}")


def inputs_ready(accounts: int) -> bool:
    """Inputs of this size are complete; small ones are written if missing, others never (see data.py)."""
    if all(data._complete(accounts, w) for w in ("full", "prev")):
        return True
    if accounts <= 10_000:
        data.ensure(accounts)
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="account counts, comma separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs per implementation (the median is reported)")
    ap.add_argument("--repeat-1m", type=int, default=1, help="runs per implementation at 1,000,000 accounts or more")
    ap.add_argument("--check-upto", type=int, default=100_000, help="compare every table to the cent up to here")
    ap.add_argument("--pandas-upto", type=int, default=10_000_000, help="run pandas only up to this size")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument(
        "--impls", default=",".join(IMPLS), help="the implementations to time, comma separated (default: all four)"
    )
    ap.add_argument("--no-cli", action="store_true", help="skip the user's path")
    ap.add_argument("--no-profile", action="store_true", help="skip the per-stage profile")
    ap.add_argument("--keep-going", action="store_true", help="time the implementations even if the check fails")
    ap.add_argument("--keep-workspaces", action="store_true", help="keep the user's path's workspaces")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a process is stopped")
    ap.add_argument("--rss-cap-gib", type=float, default=12.0, help="stop a process above this resident memory")
    ap.add_argument(
        "--revbook", default="HEAD", help="git revision of revbook to measure (exported, put first on PYTHONPATH)"
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON (default: <bench data>/compare-<time>.json)")
    args = ap.parse_args(argv)
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    if unknown := set(args.impls) - set(IMPLS):
        ap.error(f"unknown implementations {sorted(unknown)}: choose from {', '.join(IMPLS)}")
    run.RSS_CAP["bytes"] = int(args.rss_cap_gib * GIB)
    run.CHILD_ENV["COLUMNS"] = "120"  # the CLI's tables: the same width whatever runs this
    pinned = run.pin_revbook(args.revbook)
    results: dict = {
        "revbook": pinned,
        "machine": run.machine(),
        "load_start": run.loadavg(),
        "args": vars(args) | {"out": str(args.out)},
        "sizes": [],
    }
    print(f"revbook: {pinned['revision']} {pinned['commit'][:12]} {pinned.get('subject', '')}", flush=True)
    m = results["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; load {results['load_start']}", flush=True)
    for n in (int(s.replace("_", "")) for s in args.sizes.split(",") if s):
        print(f"\n== {n:,} accounts", flush=True)
        if not inputs_ready(n):
            loud(f"the inputs of {n:,} accounts are not complete: run `bench/data.py {n}` first (skipped)")
            continue
        r: dict = {"accounts": n, "inputs": data.describe(n)}
        print(f"  inputs: {r['inputs']}", flush=True)
        r["same_work"] = same_work(n, args)
        if not args.no_profile:
            print("  per-stage profile (one run)", flush=True)
            r["profile"] = run_same("revbook_stages", n, timeout=args.timeout)
            if "failed" in r["profile"]:
                loud(f"{n:,} accounts: the per-stage profile run failed: {r['profile']['failed']}")
            else:  # its tables against the timed revbook run's, else the SQL plan's
                ref = next((k for k in ("revbook", "sql") if "digests" in r["same_work"].get(k, {})), None)
                d = run.compare_digests(r["profile"]["digests"], r["same_work"][ref]["digests"]) if ref else None
                if d and d["differ"]:
                    loud(f"{n:,} accounts: the profile run's tables differ from the timed {ref} run's: {d['differ']}")
        if not args.no_cli:
            print("  the user's path", flush=True)
            r["cli"] = cli_path(n, args)
        results["sizes"].append(r)
    results["load_end"] = run.loadavg()
    results["problems"] = PROBLEMS
    out = args.out or data.root() / f"compare-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print()
    report(results)
    for p in PROBLEMS:
        print(f"  !!! {p}")
    print(f"\n{'ALL OUTPUTS AGREE' if not PROBLEMS else f'{len(PROBLEMS)} PROBLEM(S)'}; results: {out}")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
