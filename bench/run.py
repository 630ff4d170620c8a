"""revbook's benchmark suite: revbook vs a pandas baseline vs the scan floor, in one run.

    .venv/bin/python bench/run.py --sizes 10000,100000,1000000 --repeat 3
    .venv/bin/python bench/run.py --quick            # 10,000 accounts only

For each size (inputs generated once with revbook.sample, cached as Parquet under
$REVBOOK_BENCH_DATA, default ~/.cache/revbook-bench, never timed):

1. check that the pandas baseline gives revbook's results to the cent (bench/check.py);
2. time, each in a fresh subprocess, ``--repeat`` times, median reported, wall time and peak RSS:
   revbook end to end, the pandas baseline, the scan floor, and the incremental refresh (one more
   month of data into a workspace built a month earlier) next to the full rebuild;
3. ``import revbook`` and ``revbook --help``.

Prints a table and writes every measurement to a JSON file (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402

PY = sys.executable
GIB = 1024**3
REPO = HERE.parent
#: a measured process whose resident memory passes this is stopped (so a runaway run cannot take the
#: shared machine into a global out-of-memory kill); set by --rss-cap-gib
RSS_CAP = {"bytes": 12 * GIB}
#: environment of every child; PYTHONPATH points at a pinned copy of revbook's source (see --revbook)
CHILD_ENV = dict(os.environ)

TARGETS = {
    "speedup_vs_pandas": 20.0,  # at 1M: revbook at least 20x faster than pandas
    "vs_scan_floor": 3.0,  # within 3x of the scan floor
    "peak_rss_gib": 4.0,  # under 4 GiB
    "wall_s": 30.0,  # end to end under 30 s
    "incremental_share": 0.10,  # incremental refresh at most 10% of a full rebuild
    "import_s": 0.3,
    "help_s": 0.5,
}


# -- measuring -----------------------------------------------------------------------------------
def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return list(os.getloadavg())


def rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(args: list[str], timeout: float | None = None) -> dict:
    """Run a command in a fresh process: its wall time and peak RSS (from wait4), and its stdout."""
    t0 = time.perf_counter()
    load = loadavg()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE.parent, env=CHILD_ENV)
    deadline = None if timeout is None else t0 + timeout
    timed_out = over_cap = False
    # read the pipes in a thread so a chatty child cannot block; wait4 gives this child's rusage
    import threading

    out: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        out[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for th in threads:
        th.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        if rss_of(proc.pid) > RSS_CAP["bytes"]:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            over_cap = True
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for th in threads:
        th.join()
    return {
        "process_wall_s": wall,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "returncode": proc.returncode,
        "stdout": out.get("out", b"").decode(errors="replace"),
        "stderr": out.get("err", b"").decode(errors="replace")[-4000:],
        "load_before": load,
        "load_after": loadavg(),
        "timed_out": timed_out,
        "over_cap": over_cap,
    }


class CaseFailed(RuntimeError):
    pass


def failure(exc: BaseException) -> dict:
    """What a failed or stopped run leaves: how long, how much memory, how far it got."""
    r = exc.args[-1] if exc.args and isinstance(exc.args[-1], dict) else {}
    prog = r.get("progress", [])
    return {
        "failed": True,
        "reason": "timeout"
        if isinstance(exc, TimeoutError)
        else (
            f"stopped at the {RSS_CAP['bytes'] / GIB:.0f} GiB RSS cap"
            if r.get("over_cap")
            else "killed by signal 9 (out of memory)"
            if r.get("returncode") == -9
            else f"exit {r.get('returncode')}"
        ),
        "after_s": r.get("process_wall_s"),
        "peak_rss_bytes": r.get("peak_rss_bytes"),
        "load": r.get("load_before"),
        "last_stage_done": prog[-1] if prog else None,
        "stages_done": prog,
        "stderr": r.get("stderr", "")[-1500:],
    }


def run_case(case: str, accounts: int, extra: str | None = None, timeout: float | None = None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    progress = out.with_suffix(".progress")
    CHILD_ENV["BENCH_PROGRESS"] = str(progress)
    try:
        args = [PY, str(HERE / "cases.py"), case, str(accounts), str(out)] + ([extra] if extra else [])
        r = run_child(args, timeout)
        r["progress"] = [json.loads(x) for x in progress.read_text().splitlines()] if progress.exists() else []
        if r["timed_out"]:
            raise TimeoutError(r)
        if r["returncode"] != 0:
            raise CaseFailed(f"{case} at {accounts:,} failed ({r['returncode']}):\n{r['stderr']}", r)
        result = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
        progress.unlink(missing_ok=True)
    result.update({k: r[k] for k in ("process_wall_s", "peak_rss_bytes", "cpu_s", "load_before", "load_after")})
    return result


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    rss = [r["peak_rss_bytes"] for r in runs]
    stage_names = list(runs[0].get("stages", {}))
    return {
        "n": len(runs),
        "wall_s": statistics.median(walls),
        "wall_s_all": walls,
        "process_wall_s": statistics.median(r["process_wall_s"] for r in runs),
        "peak_rss_bytes": statistics.median(rss),
        "peak_rss_bytes_max": max(rss),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "stages": {s: statistics.median(r["stages"].get(s, 0.0) for r in runs) for s in stage_names},
        "detail": {k: statistics.median(r["detail"].get(k, 0.0) for r in runs) for k in runs[0].get("detail", {})},
        "rows": runs[0].get("rows", {}),
        "digests": runs[0].get("digests", {}),
        "load": [r["load_before"] for r in runs],
    }


def repeat_case(
    case: str, accounts: int, n: int, extra: str | None = None, timeout: float | None = None, before=None
) -> dict:
    runs = []
    for i in range(n):
        if before:
            before()
        r = run_case(case, accounts, extra, timeout)
        runs.append(r)
        print(
            f"    {case:<12} run {i + 1}/{n}: {r['wall_s']:8.2f} s  peak RSS {r['peak_rss_bytes'] / GIB:5.2f} GiB"
            f"  (load {r['load_before'][0]:.2f})",
            flush=True,
        )
    return summarise(runs)


def startup_times(n: int) -> dict:
    revbook_bin = shutil.which("revbook", path=str(Path(PY).parent)) or "revbook"
    code = "import time; t = time.perf_counter(); import revbook; print(time.perf_counter() - t)"
    in_process, imp_wall, bare, helps = [], [], [], []
    for _ in range(n):
        r = run_child([PY, "-c", code])
        in_process.append(float(r["stdout"].strip()))
        imp_wall.append(r["process_wall_s"])
        bare.append(run_child([PY, "-c", "pass"])["process_wall_s"])
        h = run_child([revbook_bin, "--help"])
        if h["returncode"] != 0:
            raise RuntimeError(f"revbook --help failed: {h['stderr']}")
        helps.append(h["process_wall_s"])
    return {
        "import_in_process_s": statistics.median(in_process),
        "import_process_wall_s": statistics.median(imp_wall),
        "python_startup_s": statistics.median(bare),
        "help_process_wall_s": statistics.median(helps),
        "samples": {
            "import_in_process_s": in_process,
            "import_process_wall_s": imp_wall,
            "python_startup_s": bare,
            "help_process_wall_s": helps,
        },
        "load": loadavg(),
    }


def pin_revbook(rev: str) -> dict:
    """Measure a fixed revision of revbook, not a working tree others may be editing mid-run.

    ``rev`` is ``worktree`` (the live source, as installed), or a git revision (default HEAD):
    its ``src/revbook`` is exported once under the bench data dir and put first on PYTHONPATH
    for every child process.
    """

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()

    if rev == "worktree":
        dirty = bool(git("status", "--porcelain", "--", "src"))
        return {"revision": "worktree", "commit": git("rev-parse", "HEAD"), "src_dirty": dirty}
    sha = git("rev-parse", rev)
    dest = data.root() / "src" / sha[:12]
    if not (dest / "src" / "revbook" / "__init__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "src/revbook"], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    CHILD_ENV["PYTHONPATH"] = os.pathsep.join([str(dest / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {"revision": rev, "commit": sha, "subject": git("log", "-1", "--format=%s", sha), "src": str(dest / "src")}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    import duckdb
    import numpy
    import pandas

    import revbook  # noqa: F401

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


# -- the run -------------------------------------------------------------------------------------
def bench_size(accounts: int, args: argparse.Namespace) -> dict:
    print(f"\n== {accounts:,} accounts", flush=True)
    data.ensure(accounts)
    res: dict = {"accounts": accounts, "inputs": data.describe(accounts)}
    print(f"  inputs: {res['inputs']}", flush=True)
    big = accounts >= 1_000_000
    repeat = args.repeat_1m if big and args.repeat_1m else args.repeat

    # 1. the pandas baseline must agree with revbook before it is timed
    if not args.no_check and accounts <= args.check_upto:
        check_args = [PY, str(HERE / "check.py"), str(accounts)] + (
            ["--all"] if accounts <= args.check_all_upto else []
        )
        print(f"  checking pandas against revbook: {' '.join(Path(a).name for a in check_args[1:])}", flush=True)
        r = run_child(check_args)
        print("\n".join("  " + line for line in r["stdout"].rstrip().splitlines()), flush=True)
        res["check"] = {
            "ok": r["returncode"] == 0,
            "output": r["stdout"],
            "wall_s": r["process_wall_s"],
            "peak_rss_bytes": r["peak_rss_bytes"],
            "scope": "all" if "--all" in check_args else "subset",
        }
        if r["returncode"] != 0:
            print(r["stderr"], flush=True)
            if not args.keep_going:
                raise SystemExit("the pandas baseline differs from revbook: not timing it")

    # 2. the measured cases
    try:
        res["revbook"] = repeat_case("revbook", accounts, repeat)
    except (CaseFailed, TimeoutError) as exc:
        res["revbook_failed"] = failure(exc)
        f = res["revbook_failed"]
        print(
            f"    revbook FAILED: {f['reason']} after {f['after_s']:.0f} s, peak RSS "
            f"{(f['peak_rss_bytes'] or 0) / GIB:.2f} GiB; last stage done: {f['last_stage_done']}",
            flush=True,
        )
    pandas_n = min(repeat, args.pandas_repeat_1m) if big else min(repeat, args.pandas_repeat or repeat)
    if not args.no_pandas and pandas_n > 0:
        try:
            res["pandas"] = repeat_case("pandas", accounts, pandas_n, timeout=args.pandas_timeout)
        except (CaseFailed, TimeoutError) as exc:
            res["pandas_failed"] = f = failure(exc)
            print(
                f"    pandas stopped: {f['reason']} after {f['after_s']:.0f} s, peak RSS so far "
                f"{(f['peak_rss_bytes'] or 0) / GIB:.2f} GiB; last stage done: {f['last_stage_done']}",
                flush=True,
            )
    if "pandas" in res and "revbook" in res:
        res["digests_match"] = compare_digests(res["revbook"]["digests"], res["pandas"]["digests"])
        print(
            f"    digests of the timed runs (row counts, exact column sums): {res['digests_match']['summary']}",
            flush=True,
        )
    out_rows = (
        sum(res["revbook"]["rows"].values())
        if "revbook" in res
        else sum(res.get("pandas", {}).get("rows", {}).values())
    )
    res["scan"] = repeat_case("scan", accounts, repeat, extra=str(out_rows))

    # 3. incremental refresh: a workspace built one month earlier, then one more month of data
    if not args.no_incremental and accounts <= args.incremental_upto and "revbook" in res:
        base = data.root() / "work" / f"prev-{accounts}.duckdb"
        base.parent.mkdir(parents=True, exist_ok=True)
        print("    (setup: the workspace one month earlier)", flush=True)
        setup = run_case("rebuild_prev", accounts, str(base))
        res["incremental_setup_wall_s"] = setup["wall_s"]
        work = data.root() / "work" / f"inc-{accounts}.duckdb"

        def fresh_copy() -> None:
            for p in (work, work.with_suffix(".duckdb.wal")):
                p.unlink(missing_ok=True)
            shutil.copyfile(base, work)

        res["incremental"] = repeat_case("incremental", accounts, repeat, extra=str(work), before=fresh_copy)
        for p in (work, base):
            p.unlink(missing_ok=True)
    return res


def compare_digests(ours: dict, theirs: dict) -> dict:
    """Every table of the timed runs: same row count and same exact sum of every money / count column."""
    differ = []
    for table, d in ours.items():
        t = theirs.get(table, {})
        bad = [c for c, v in d.items() if t.get(c) != v]
        if bad:
            differ.append({"table": table, "columns": bad[:5]})
    n = len(ours)
    return {
        "tables": n,
        "identical": n - len(differ),
        "differ": differ,
        "summary": f"{n - len(differ)}/{n} tables identical" + (f"; differ: {differ[:3]}" if differ else ""),
    }


def ratios(r: dict) -> dict:
    if "revbook" not in r:
        return {}
    rb = r["revbook"]["wall_s"]
    out = {"revbook_vs_scan": rb / r["scan"]["wall_s"]}
    if "pandas" in r:
        out["pandas_vs_revbook"] = r["pandas"]["wall_s"] / rb
        out["pandas_rss_vs_revbook"] = r["pandas"]["peak_rss_bytes"] / r["revbook"]["peak_rss_bytes"]
    if "incremental" in r:
        out["incremental_vs_rebuild"] = r["incremental"]["wall_s"] / rb
    return out


def report(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=160)
    t = Table(title="revbook benchmark: wall time (median) and peak RSS, end to end")
    for c in (
        "accounts",
        "revbook",
        "pandas",
        "scan floor",
        "pandas / revbook",
        "revbook / floor",
        "incremental",
        "incr / rebuild",
        "check",
    ):
        t.add_column(c, justify="right")
    for r in results["sizes"]:
        x = r["ratios"]

        def cell(k: str, r: dict = r) -> str:
            if k not in r:
                f = r.get(f"{k}_failed")
                if f:
                    rss = (f["peak_rss_bytes"] or 0) / GIB
                    return f"> {f['after_s']:.0f} s\n>= {rss:.2f} GiB\n({f['reason'].split(' ')[0]})"
                return "—"
            return f"{r[k]['wall_s']:.2f} s\n{r[k]['peak_rss_bytes'] / GIB:.2f} GiB"

        t.add_row(
            f"{r['accounts']:,}",
            cell("revbook"),
            cell("pandas"),
            cell("scan"),
            f"{x['pandas_vs_revbook']:.2f}x" if "pandas_vs_revbook" in x else "—",
            f"{x['revbook_vs_scan']:.1f}x" if "revbook_vs_scan" in x else "—",
            cell("incremental"),
            f"{x['incremental_vs_rebuild']:.0%}" if "incremental_vs_rebuild" in x else "—",
            ("same" if r["check"]["ok"] else "DIFFERS") + f" ({r['check']['scope']})" if "check" in r else "—",
        )
    con.print(t)

    s = Table(title="revbook per stage (median s)")
    stages = ["open", "load", "ledger", "snapshots", "slices", "movements", "retention", "close"]
    s.add_column("accounts", justify="right")
    for st in stages:
        s.add_column(st, justify="right")
    for r in results["sizes"]:
        if "revbook" in r:
            s.add_row(f"{r['accounts']:,}", *(f"{r['revbook']['stages'].get(st, 0):.2f}" for st in stages))
        elif r.get("revbook_failed"):
            done = {}
            for p in r["revbook_failed"]["stages_done"]:
                done[p["stage"]] = done.get(p["stage"], 0.0) + p["s"]
            s.add_row(f"{r['accounts']:,} (failed)", *(f"{done[st]:.2f}" if st in done else "—" for st in stages))
    con.print(s)

    if "growth" in results:
        for g in results["growth"]:
            con.print(
                f"growth {g['from']:,} -> {g['to']:,} accounts (x{g['to'] / g['from']:.0f}): "
                + ", ".join(f"{k} time x{v['time']:.1f}, memory x{v['memory']:.1f}" for k, v in g["cases"].items())
            )
    st = results.get("startup")
    if st:
        con.print(
            f"import revbook: {st['import_in_process_s']:.3f} s in process "
            f"(process {st['import_process_wall_s']:.3f} s, bare python {st['python_startup_s']:.3f} s); "
            f"revbook --help: {st['help_process_wall_s']:.3f} s (median of {len(st['samples']['help_process_wall_s'])})"
        )
    con.print(f"load average during the run: {results['load_start']} -> {results['load_end']}")


def targets(results: dict) -> list[dict]:
    out = []
    big = [r for r in results["sizes"] if r["accounts"] == 1_000_000]
    ref = big[0] if big else (results["sizes"][-1] if results["sizes"] else None)
    if ref and "revbook" not in ref:
        f = ref.get("revbook_failed", {})
        out.append(
            {
                "target": f"{ref['accounts']:,}: end to end < 30 s, peak memory < 4 GiB",
                "value": f"did not finish: {f.get('reason')} after {f.get('after_s') or 0:.0f} s at "
                f"{(f.get('peak_rss_bytes') or 0) / GIB:.1f} GiB",
                "met": False,
            }
        )
        ref = None
    if ref:
        n = ref["accounts"]
        rb = ref["revbook"]
        x = ref["ratios"]
        if "pandas_vs_revbook" in x:
            out.append(
                {
                    "target": f"{n:,}: >= 20x faster than pandas",
                    "value": f"{x['pandas_vs_revbook']:.2f}x",
                    "met": x["pandas_vs_revbook"] >= TARGETS["speedup_vs_pandas"],
                }
            )
        out.append(
            {
                "target": f"{n:,}: within 3x of the scan floor",
                "value": f"{x['revbook_vs_scan']:.1f}x",
                "met": x["revbook_vs_scan"] <= TARGETS["vs_scan_floor"],
            }
        )
        out.append(
            {
                "target": f"{n:,}: peak memory < 4 GiB",
                "value": f"{rb['peak_rss_bytes'] / GIB:.2f} GiB",
                "met": rb["peak_rss_bytes"] < TARGETS["peak_rss_gib"] * GIB,
            }
        )
        out.append(
            {
                "target": f"{n:,}: end to end < 30 s",
                "value": f"{rb['wall_s']:.1f} s",
                "met": rb["wall_s"] < TARGETS["wall_s"],
            }
        )
        if "incremental_vs_rebuild" in x:
            out.append(
                {
                    "target": f"{n:,}: incremental refresh <= 10% of a rebuild",
                    "value": f"{x['incremental_vs_rebuild']:.0%}",
                    "met": x["incremental_vs_rebuild"] <= TARGETS["incremental_share"],
                }
            )
    st = results.get("startup")
    if st:
        out.append(
            {
                "target": "import revbook < 0.3 s",
                "value": f"{st['import_in_process_s']:.3f} s",
                "met": st["import_in_process_s"] < TARGETS["import_s"],
            }
        )
        out.append(
            {
                "target": "revbook --help < 0.5 s",
                "value": f"{st['help_process_wall_s']:.3f} s",
                "met": st["help_process_wall_s"] < TARGETS["help_s"],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="account counts, comma separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (the median is reported)")
    ap.add_argument("--quick", action="store_true", help="10,000 accounts only")
    ap.add_argument("--pandas-repeat-1m", type=int, default=1, help="pandas runs at 1,000,000 accounts or more")
    ap.add_argument("--pandas-repeat", type=int, default=None, help="pandas runs per size (default: --repeat)")
    ap.add_argument(
        "--check-upto",
        type=int,
        default=10_000_000,
        help="run bench/check.py (a separate full comparison) only up to this size; the timed runs'"
        " digests are compared at every size",
    )
    ap.add_argument("--pandas-timeout", type=float, default=2400.0, help="seconds before a pandas run is stopped")
    ap.add_argument(
        "--check-all-upto",
        type=int,
        default=100_000,
        help="compare every table up to this size, the documented subset above it",
    )
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--keep-going", action="store_true", help="time pandas even if the check fails")
    ap.add_argument(
        "--revbook",
        default="HEAD",
        help="git revision of revbook to measure (exported, put first on PYTHONPATH), or 'worktree'",
    )
    ap.add_argument(
        "--repeat-1m", type=int, default=None, help="runs per case at 1,000,000 accounts or more (default: --repeat)"
    )
    ap.add_argument(
        "--incremental-upto",
        type=int,
        default=10_000_000,
        help="measure the incremental refresh only up to this size (it needs an extra full build)",
    )
    ap.add_argument(
        "--rss-cap-gib",
        type=float,
        default=12.0,
        help="stop a measured process above this resident memory (reported as failed)",
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON results (default: <bench data>/results-<time>.json)")
    args = ap.parse_args(argv)
    RSS_CAP["bytes"] = int(args.rss_cap_gib * GIB)
    sizes = [10_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s]

    pinned = pin_revbook(args.revbook)
    results: dict = {
        "revbook": pinned,
        "machine": machine(),
        "load_start": loadavg(),
        "args": vars(args) | {"out": str(args.out)},
        "sizes": [],
    }
    print(
        f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['ram_gib']} GiB; load {results['load_start']}",
        flush=True,
    )
    print(f"revbook: {pinned['revision']} {pinned['commit'][:12]} {pinned.get('subject', '')}", flush=True)
    print("startup: import revbook, revbook --help", flush=True)
    results["startup"] = startup_times(max(5, args.repeat))
    for n in sizes:
        r = bench_size(n, args)
        r["ratios"] = ratios(r)
        results["sizes"].append(r)
    by_n = {r["accounts"]: r for r in results["sizes"]}
    if 100_000 in by_n and 1_000_000 in by_n:
        a, b = by_n[100_000], by_n[1_000_000]
        results["growth"] = [
            {
                "from": 100_000,
                "to": 1_000_000,
                "cases": {
                    k: {
                        "time": b[k]["wall_s"] / a[k]["wall_s"],
                        "memory": b[k]["peak_rss_bytes"] / a[k]["peak_rss_bytes"],
                    }
                    for k in ("revbook", "pandas", "scan", "incremental")
                    if k in a and k in b
                },
            }
        ]
    results["load_end"] = loadavg()
    results["targets"] = targets(results)
    out = args.out or data.root() / f"results-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print()
    report(results)
    for t in results["targets"]:
        print(f"  {'met   ' if t['met'] else 'MISSED'}  {t['target']}: {t['value']}")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
