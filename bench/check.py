"""Check the pandas baseline against revbook, to the cent, before it is timed.

    python bench/check.py 10000 [--all]

Compared (money as integer cents, counts exactly, ratios to 1e-12 relative):
- movements at month grain, unsliced and by every slice; one quarter-grain table (unsliced and by
  segment); with ``--all``, every grain by every slice;
- retention (windows 1, 3, 12), unsliced and by segment; with ``--all``, by every slice.
Prints one line per table and exits 1 if any differs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import pandas_baseline as pb  # noqa: E402
from cases import GRAINS, SLICES, WINDOWS  # noqa: E402

RATIOS = (
    "nrr",
    "grr",
    "logo_retention",
    "movement_nrr",
    "gross_revenue_churn",
    "net_revenue_churn",
    "expansion_rate",
    "quick_ratio",
)


def _revbook_frame(table) -> pd.DataFrame:
    """revbook's Arrow result with money as integer cents."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = {}
    for f in table.schema:
        c = table[f.name]
        if pa.types.is_decimal(f.type):
            c = pc.cast(pc.multiply(c, pa.scalar(100, pa.int64())), pa.int64())
        cols[f.name] = c
    return pa.table(cols).to_pandas()


def compare(name: str, ours: pd.DataFrame, theirs: pd.DataFrame, keys: list[str]) -> str | None:
    """None when equal, else a description of the first difference.

    Rows whose every amount and count is 0 (a slice with no cohort and no movement in a window)
    are left out on both sides: revbook since 3e20ce4 no longer prints them, the definitions do
    not ask for them, and they carry no figure."""

    def drop_all_zero(df: pd.DataFrame) -> pd.DataFrame:
        num = [
            c
            for c in df.columns
            if c not in keys and c not in RATIOS and c not in ("period_start", "period_end") and c != "window_months"
        ]
        return df[(df[num] != 0).any(axis=1)]

    ours, theirs = drop_all_zero(ours), drop_all_zero(theirs)
    if len(ours) != len(theirs):
        return f"{len(ours)} rows in revbook, {len(theirs)} in pandas"
    ours = ours.sort_values(keys).reset_index(drop=True)
    theirs = theirs.sort_values(keys).reset_index(drop=True)
    for c in ours.columns:
        if c in ("period_start", "period_end"):
            a = pd.to_datetime(ours[c]).to_numpy()
            b = pd.to_datetime(theirs[c]).to_numpy()
            bad = a != b
        elif c in RATIOS:
            a, b = ours[c].to_numpy(dtype="float64"), theirs[c].to_numpy(dtype="float64")
            bad = ~(np.isclose(a, b, rtol=1e-12, atol=0) | (np.isnan(a) & np.isnan(b)))
        else:
            if c not in theirs.columns:
                return f"column {c} missing in pandas"
            a, b = ours[c].to_numpy(), theirs[c].to_numpy()
            bad = a != b
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            first = ours.loc[i, keys].to_dict()
            return f"column {c}: {int(bad.sum())} rows differ, first {first}: revbook {a[i]!r} pandas {b[i]!r}"
    return None


def main(argv: list[str]) -> int:
    import revbook

    accounts = int(argv[0]) if argv and not argv[0].startswith("-") else 10_000
    everything = "--all" in argv
    paths = data.ensure(accounts)["full"]
    as_of = data.as_of()
    t0 = time.perf_counter()
    book = pb.Book.load(paths, as_of)
    failures = 0
    checked: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = revbook.Workspace(Path(tmp) / "check.duckdb", config=revbook.Config(as_of=as_of))
        ws.load({k: str(v) for k, v in paths.items()})
        cases = [("month", d) for d in SLICES] + [("quarter", None), ("quarter", "segment")]
        if everything:
            cases = [(g, d) for g in GRAINS for d in SLICES]
        for g, dim in cases:
            dims = pb.expand([dim] if dim else [])
            ours = _revbook_frame(ws.movements(grain=g, by=dim).to_arrow()).rename(columns={"period": "period_label"})
            theirs = pb.Book.movements(book, g, [dim] if dim else [])
            theirs = theirs[list(ours.columns)]
            err = compare(f"movements {g} {dim}", ours, theirs, ["period_label", *dims])
            failures += err is not None
            checked.append(f"movements/{g}/{dim or 'none'}")
            print(f"  movements  {g:<8} {dim or 'none':<9} {'same to the cent' if err is None else 'DIFFERS: ' + err}")
        ret_dims = SLICES if everything else (None, "segment")
        for dim in ret_dims:
            dims = pb.expand([dim] if dim else [])
            ours = _revbook_frame(ws.retention(window=WINDOWS, by=dim).to_arrow()).rename(
                columns={"period": "period_label"}
            )
            theirs = book.retention(WINDOWS, [dim] if dim else [])[list(ours.columns)]
            err = compare(f"retention {dim}", ours, theirs, ["window_months", "period_label", *dims])
            failures += err is not None
            checked.append(f"retention/{dim or 'none'}")
            print(
                f"  retention  w=1,3,12 {dim or 'none':<9} {'same to the cent' if err is None else 'DIFFERS: ' + err}"
            )
        ws.close()
    print(f"  {len(checked) - failures}/{len(checked)} tables identical ({time.perf_counter() - t0:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
