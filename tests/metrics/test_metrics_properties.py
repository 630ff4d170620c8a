"""revbook's movements, retention, cohorts and MRR against a naive reference (tests/reference.py).

Two kinds of tests:

- properties (Hypothesis): random small ledgers, every figure compared to the reference to the
  cent, and the identities of DESIGN.md checked on revbook's own output;
- worked examples: small hand-computed cases, each value written out with how it was computed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revbook import Config, Workspace

try:
    import reference as ref
except ImportError:  # tests/ imported as a package
    from tests import reference as ref

D = Decimal
date = dt.date

# -- building workspaces -----------------------------------------------------------------------
TYPES: dict[str, pa.DataType] = {
    "account_id": pa.string(),
    "subscription_id": pa.string(),
    "line_id": pa.string(),
    "product": pa.string(),
    "plan": pa.string(),
    "start_date": pa.date32(),
    "end_date": pa.date32(),
    "mrr": pa.decimal128(18, 4),
    "amount": pa.decimal128(18, 4),
    "unit_price": pa.decimal128(18, 4),
    "quantity": pa.decimal128(18, 4),
    "billing_period_months": pa.decimal128(18, 4),
    "discount_percent": pa.decimal128(18, 4),
    "discount_amount": pa.decimal128(18, 4),
    "is_trial": pa.bool_(),
    "cancel_requested_at": pa.date32(),
    "currency": pa.string(),
    "name": pa.string(),
    "segment": pa.string(),
    "region": pa.string(),
    "owner_id": pa.string(),
    "role": pa.string(),
    "team": pa.string(),
    "attribute": pa.string(),
    "value": pa.string(),
    "valid_from": pa.date32(),
    "date": pa.date32(),
    "rate_to_reporting": pa.decimal128(18, 8),
}


def arrow(rows: Sequence[dict[str, Any]]) -> pa.Table:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    return pa.table({c: pa.array([r.get(c) for r in rows], type=TYPES[c]) for c in cols})


def money(v: Any) -> Decimal:
    return D(str(v)) if not isinstance(v, Decimal) else v


@contextmanager
def workspace(tables: dict[str, list[dict[str, Any]]], **config: Any) -> Iterator[Workspace]:
    """A fresh workspace loaded through the real loader (``load_frames``)."""
    with tempfile.TemporaryDirectory(prefix="revbook-props-") as tmp:
        tables = {"accounts": [], **tables}
        if not tables["accounts"]:
            ids = sorted({r["account_id"] for r in tables["subscriptions"]})
            tables["accounts"] = [{"account_id": a} for a in ids]
        with Workspace(Path(tmp) / "w.duckdb", config=Config(**config)) as ws:
            ws.load_frames({name: arrow(rows) for name, rows in tables.items() if rows})
            yield ws


def sub(account: str, start: date, end: date | None, mrr: Decimal | str | None = None, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"account_id": account, "start_date": start, "end_date": end, **kw}
    if mrr is not None:
        row["mrr"] = D(mrr)
    return row


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"subscription_id": f"S{i}", **r} for i, r in enumerate(rows)]


# -- reading revbook ---------------------------------------------------------------------------
AMOUNTS = ("start_mrr", *(f"{k}_mrr" for k in ref.KINDS), "end_mrr")
COUNTS = (
    "start_accounts",
    "new_accounts",
    "reactivated_accounts",
    "expanded_accounts",
    "contracted_accounts",
    "churned_accounts",
    "end_accounts",
)
TRANSFERS = ("transfer_in_mrr", "transfer_out_mrr")


def rb_movements(ws: Workspace, grain: str = "month", by: str | None = None) -> dict[tuple[date, Any], dict[str, Any]]:
    out = {}
    for r in ws.movements(grain=grain, by=by).to_pylist():
        key = (r["period_end"], r[by] if by else None)
        assert key not in out, f"duplicate movements row {key}"
        cols = AMOUNTS + COUNTS + (TRANSFERS if by else ())
        out[key] = {c: (money(r[c]) if c.endswith("_mrr") else r[c]) for c in cols}
    return out


def ref_movements(snap: ref.Snapshots, by: bool = False, **kw: Any) -> dict[tuple[date, Any], dict[str, Any]]:
    out = {}
    for (p, s), row in ref.movements(snap, **kw).items():
        d = {"start_mrr": ref.cents(row.start), "end_mrr": ref.cents(row.end)}
        d.update({f"{k}_mrr": ref.cents(row.amounts[k]) for k in ref.KINDS})
        d.update({"start_accounts": row.start_accounts, "end_accounts": row.end_accounts})
        plural = {
            "new": "new",
            "reactivation": "reactivated",
            "expansion": "expanded",
            "contraction": "contracted",
            "churn": "churned",
        }
        d.update({f"{plural[k]}_accounts": row.counts[k] for k in ref.KINDS})
        if by:
            d.update({"transfer_in_mrr": ref.cents(row.transfer_in), "transfer_out_mrr": ref.cents(row.transfer_out)})
        out[(snap.dates[p], s)] = d
    return out


def check_identity(rows: dict[tuple[date, Any], dict[str, Any]]) -> None:
    for key, r in rows.items():
        lhs = (
            r["start_mrr"]
            + r["new_mrr"]
            + r["reactivation_mrr"]
            + r["expansion_mrr"]
            - r["contraction_mrr"]
            - r["churn_mrr"]
        )
        assert lhs == r["end_mrr"], f"identity broken at {key}: {r}"
        n = r["start_accounts"] + r["new_accounts"] + r["reactivated_accounts"] - r["churned_accounts"]
        assert n == r["end_accounts"], f"account identity broken at {key}: {r}"


def check_chain(rows: dict[tuple[date, Any], dict[str, Any]], sliced: bool) -> None:
    """end(p - 1, S) + transfer_in(p, S) - transfer_out(p, S) = start(p, S), every slice S."""
    dates = sorted({d for d, _ in rows})
    slices = {s for _, s in rows}
    zero = dict.fromkeys(AMOUNTS + TRANSFERS, D(0))
    for prev, cur in itertools.pairwise(dates):
        for s in slices:
            a, b = rows.get((prev, s), zero), rows.get((cur, s), zero)
            tin, tout = (b["transfer_in_mrr"], b["transfer_out_mrr"]) if sliced else (D(0), D(0))
            assert a["end_mrr"] + tin - tout == b["start_mrr"], f"chain broken {prev}->{cur} slice {s}: {a} {b}"


def check_account_movements(
    ws: Workspace,
    snap: ref.Snapshots,
    aggregates: dict[tuple[date, Any], dict[str, Any]],
    *,
    as_new_after: int,
    grain: str = "month",
    by: str | None = None,
    slicer: ref.SliceOf | None = None,
) -> None:
    """The account-level path: each account's rows equal the reference's, and summed per period
    (and slice, transfers derived from consecutive rows) they equal the aggregates to the cent."""
    got: dict[tuple[date, str], tuple[Decimal, Decimal, str | None, Any]] = {}
    for r in ws.account_movements(grain=grain, by=by).to_pylist():
        key = (r["period_end"], r["account_id"])
        assert key not in got, f"duplicate account movement {key}"
        got[key] = (money(r["start_mrr"]), money(r["end_mrr"]), r["movement"], r[by] if by else None)
    # only the rows with a movement: read from the state change points, not every account's every period
    moved = {
        (r["period_end"], r["account_id"]): (
            money(r["start_mrr"]),
            money(r["end_mrr"]),
            r["movement"],
            r[by] if by else None,
        )
        for r in ws.account_movements(grain=grain, by=by, moved_only=True).to_pylist()
    }
    assert moved == {k: v for k, v in got.items() if v[2] is not None}
    want = {
        (snap.dates[m.period], m.account): (ref.cents(m.start), ref.cents(m.end), m.kind, m.slice)
        for m in ref.account_movements(snap, reactivation_as_new_after_months=as_new_after, slice_of=slicer)
    }
    assert got == want

    plural = dict(zip(ref.KINDS, ("new", "reactivated", "expanded", "contracted", "churned"), strict=True))
    cols = AMOUNTS + COUNTS + (TRANSFERS if by else ())
    summed: dict[tuple[date, Any], dict[str, Any]] = {}

    def row(d: date, sl: Any) -> dict[str, Any]:
        return summed.setdefault((d, sl), {c: D(0) if c.endswith("_mrr") else 0 for c in cols})

    previous: dict[str, tuple[date, Any]] = {}
    periods = sorted(snap.dates.values())
    for (d, account), (start, end, kind, sl) in sorted(got.items()):
        r = row(d, sl)
        r["start_mrr"] += start
        r["end_mrr"] += end
        r["start_accounts"] += start > 0
        r["end_accounts"] += end > 0
        if kind is not None:
            r[f"{kind}_mrr"] += abs(end - start)
            r[f"{plural[kind]}_accounts"] += 1
        before = previous.get(account)
        if by and start > 0 and before is not None and before[1] != sl:
            assert periods.index(before[0]) == periods.index(d) - 1
            r["transfer_in_mrr"] += start
            row(d, before[1])["transfer_out_mrr"] += start
        previous[account] = (d, sl)
    zero = {c: D(0) if c.endswith("_mrr") else 0 for c in cols}
    for key in summed.keys() | aggregates.keys():
        assert summed.get(key, zero) == aggregates.get(key, zero), key


def rb_retention(ws: Workspace, windows: Sequence[int], by: str | None = None) -> dict[tuple[int, date, Any], dict]:
    out = {}
    for r in ws.retention(window=list(windows), by=by).to_pylist():
        key = (r["window_months"], r["period_end"], r[by] if by else None)
        assert key not in out, f"duplicate retention row {key}"
        out[key] = r
    return out


def close(a: float | None, b: Fraction) -> bool:
    return a is not None and math.isclose(a, float(b), rel_tol=1e-12, abs_tol=1e-12)


def check_retention(ws: Workspace, snap: ref.Snapshots, slicer: ref.SliceOf | None, by: str | None) -> None:
    windows = (1, 3, 12)
    got = rb_retention(ws, windows, by)
    for key, r in got.items():
        if r["start_accounts"] == 0:
            assert r["nrr"] is None and r["grr"] is None and r["logo_retention"] is None, r
            continue
        nrr, grr, logo = r["nrr"], r["grr"], r["logo_retention"]
        assert nrr >= 0 and grr >= 0, r
        assert grr <= min(nrr, 1.0) + 1e-12, f"GRR above min(NRR, 1) at {key}: {r}"
        assert 0 <= logo <= 1, r
    for w in windows:
        want = ref.retention(snap, w, slice_of=slicer)
        have = {(d, s): r for (ww, d, s), r in got.items() if ww == w and r["start_accounts"] > 0}
        assert {(snap.dates[e], s) for e, s in want} == set(have), f"window {w}: cohorts differ"
        for (e, s), row in want.items():
            r = have[(snap.dates[e], s)]
            assert (r["start_accounts"], r["retained_accounts"]) == (row.start_accounts, row.retained_accounts), (w, r)
            assert money(r["start_mrr"]) == ref.cents(row.start_mrr), (w, r, row)
            assert money(r["end_mrr"]) == ref.cents(row.end_mrr), (w, r, row)
            assert money(r["retained_mrr"]) == ref.cents(row.retained_mrr), (w, r, row)
            assert close(r["nrr"], row.nrr), (w, r, row)
            assert close(r["grr"], row.grr), (w, r, row)
            assert close(r["logo_retention"], row.logo), (w, r, row)
        if slicer is None:
            # the movement measure of the same window: months s+1..e of the unsliced movements
            monthly = ref.movements(snap)
            for (e, _), row in want.items():
                flows = defaultdict(int)
                for m in range(e - w + 1, e + 1):
                    for k in ref.KINDS:
                        flows[k] += monthly[(m, None)].amounts[k]
                mnrr = Fraction(
                    row.start_mrr + flows["expansion"] - flows["contraction"] - flows["churn"], row.start_mrr
                )
                r = have[(snap.dates[e], None)]
                assert close(r["movement_nrr"], mnrr), (w, r, dict(flows))


# -- random ledgers ----------------------------------------------------------------------------
FIRST, LAST = date(2022, 1, 1), date(2024, 12, 31)
SEGMENTS = ("smb", "mid", "ent")
CSMS = ("csm-1", "csm-2", "csm-3")


def month_end(d: date) -> date:
    return ref.last_day_of_month(ref.month_index(d))


def add_months(d: date, k: int) -> date:
    y, m = divmod(ref.month_index(d) + k, 12)
    return date(y, m + 1, 1)


@st.composite
def a_date(draw: st.DrawFn, lo: date = FIRST, hi: date = LAST) -> date:
    d = draw(st.dates(lo, hi))
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return d.replace(day=1)
    if kind == 1:
        return month_end(d)
    return d


@st.composite
def a_line(draw: st.DrawFn, account: str) -> ref.Line:
    start = draw(a_date())
    kind = draw(st.integers(0, 4))
    if kind == 0:
        end = None
    elif kind == 1:  # ends in the month it starts (or on the 1st of the next one)
        last = month_end(start)
        end = start + dt.timedelta(days=draw(st.integers(1, (last - start).days + 1)))
    elif kind == 2:  # ends on a 1st
        end = add_months(start, draw(st.integers(1, 24)))
    else:
        end = start + dt.timedelta(days=draw(st.integers(1, 800)))
    mrr = draw(st.one_of(st.integers(0, 500_000), st.sampled_from([1, 999, 10_001, 25_000])))
    trial = draw(st.integers(0, 7)) == 0
    return ref.Line(account, start, end, mrr, trial)


@dataclass
class Ledger:
    lines: list[ref.Line]
    as_of: date
    segments: dict[str, str | None]
    history: list[tuple[str, date, str]]
    owners: list[tuple[str, str, date, date | None]]
    grace_days: int
    as_new_after: int
    fiscal_start: int

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        subs = [
            sub(ln.account, ln.start, ln.end, ref.cents(ln.mrr), is_trial=ln.trial, subscription_id=f"S{i}")
            for i, ln in enumerate(self.lines)
        ]
        accounts = [{"account_id": a, "segment": s} for a, s in self.segments.items()]
        history = [{"account_id": a, "attribute": "segment", "value": v, "valid_from": d} for a, d, v in self.history]
        owners = [
            {"account_id": a, "owner_id": o, "role": "csm", "start_date": start, "end_date": end}
            for a, o, start, end in self.owners
        ]
        return {"subscriptions": subs, "accounts": accounts, "account_history": history, "owners": owners}

    def config(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "churn_grace_days": self.grace_days,
            "reactivation_as_new_after_months": self.as_new_after,
            "fiscal_year_start_month": self.fiscal_start,
        }

    def snapshots(self, grain: str = "month") -> ref.Snapshots:
        return ref.snapshots(self.lines, self.as_of, grain, self.fiscal_start, self.grace_days)


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    n = draw(st.integers(1, 8))
    lines: list[ref.Line] = []
    segments: dict[str, str | None] = {}
    history: list[tuple[str, date, str]] = []
    owners: list[tuple[str, str, date, date | None]] = []
    for i in range(n):
        a = f"A{i}"
        lines += draw(st.lists(a_line(a), min_size=1, max_size=5))
        segments[a] = draw(st.sampled_from((*SEGMENTS, None)))
        for d in draw(st.sets(a_date(), max_size=2)):
            history.append((a, d, draw(st.sampled_from(SEGMENTS))))
        for d in draw(st.sets(a_date(), max_size=2)):
            end = draw(st.one_of(st.none(), st.integers(1, 400).map(lambda k, d=d: d + dt.timedelta(days=k))))
            owners.append((a, d, draw(st.sampled_from(CSMS)), end))
    as_of = draw(a_date(date(2022, 3, 1), date(2025, 3, 31)))
    return Ledger(
        lines,
        as_of,
        segments,
        history,
        [(a, o, d, end) for a, d, o, end in owners],
        grace_days=draw(st.sampled_from((0, 0, 0, 2, 31))),
        as_new_after=draw(st.sampled_from((0, 0, 2))),
        fiscal_start=draw(st.sampled_from((1, 1, 2, 4, 11))),
    )


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(ledgers())
def test_unsliced_movements_retention_and_quarters_match_reference(led: Ledger) -> None:
    snap = led.snapshots()
    with workspace(led.tables(), **led.config()) as ws:
        # month-end MRR per account and in total
        got_mrr = {(r["period_end"], r["account_id"]): money(r["mrr"]) for r in ws.mrr(accounts=True).to_pylist()}
        want_mrr = {
            (snap.dates[p], a): ref.cents(snap.of(a, p))
            for a in snap.accounts
            for p in snap.periods
            if snap.of(a, p) > 0
        }
        assert got_mrr == want_mrr

        # movements, to the cent, and their identities
        got = rb_movements(ws)
        assert got == ref_movements(snap, reactivation_as_new_after_months=led.as_new_after)
        check_identity(got)
        check_chain(got, sliced=False)
        check_account_movements(ws, snap, got, as_new_after=led.as_new_after)

        # retention windows 1, 3, 12 (and the movement NRR of the same windows)
        check_retention(ws, snap, None, None)

        # cohorts (vintage triangles): first positive month, then MRR and logos by age
        label_of = {f"{snap.dates[p]:%Y-%m}": p for p in snap.periods}
        first = {
            a: min(p for p in snap.periods if snap.of(a, p) > 0)
            for a in snap.accounts
            if any(snap.of(a, p) > 0 for p in snap.periods)
        }
        want_rows = {(c, p - c) for c in set(first.values()) for p in snap.periods if p >= c}
        got_rows = set()
        for r in ws.cohorts().to_pylist():
            c = label_of[r["cohort"]]
            got_rows.add((c, r["months_since_start"]))
            members = [a for a, f in first.items() if f == c]
            at = c + r["months_since_start"]
            assert r["cohort_accounts"] == len(members), r
            assert money(r["cohort_mrr"]) == ref.cents(sum(snap.of(a, c) for a in members)), r
            assert r["active_accounts"] == sum(snap.of(a, at) > 0 for a in members), r
            assert money(r["mrr"]) == ref.cents(sum(snap.of(a, at) for a in members)), r
        assert got_rows == want_rows

        # quarters: quarter-end snapshot = the month table at the quarter's last month (or as-of)
        month_tot = {r["period_end"]: money(r["mrr"]) for r in ws.mrr().to_pylist()}
        for r in ws.mrr(grain="quarter").to_pylist():
            assert money(r["mrr"]) == month_tot.get(r["period_end"], D(0)), r
        qsnap = led.snapshots("quarter")
        qgot = rb_movements(ws, grain="quarter")
        assert qgot == ref_movements(qsnap, reactivation_as_new_after_months=led.as_new_after)
        check_identity(qgot)
        check_chain(qgot, sliced=False)
        check_account_movements(ws, qsnap, qgot, as_new_after=led.as_new_after, grain="quarter")


@PROPS
@given(ledgers())
def test_slices_reconcile_and_match_reference(led: Ledger) -> None:
    snap = led.snapshots()
    slicers = {
        "segment": ref.attribute_slicer(led.segments, led.history),
        "owner": ref.owner_slicer(led.owners),
    }
    with workspace(led.tables(), **led.config()) as ws:
        total = rb_movements(ws)
        for by, slicer in slicers.items():
            got = rb_movements(ws, by=by)
            want = ref_movements(snap, by=True, reactivation_as_new_after_months=led.as_new_after, slice_of=slicer)
            assert got == want, by
            check_identity(got)
            check_chain(got, sliced=True)
            check_account_movements(ws, snap, got, as_new_after=led.as_new_after, by=by, slicer=slicer)

            # the slices add up to the unsliced row, transfers cancel out
            summed: dict[date, dict[str, Any]] = {}
            for (d, _), r in got.items():
                acc = summed.setdefault(d, dict.fromkeys(AMOUNTS + COUNTS + TRANSFERS, 0))
                for c in acc:
                    acc[c] += r[c]
            for (d, _), row in total.items():
                s = summed.get(d)
                if s is None:  # no account in any slice that period
                    assert all(v == 0 for v in row.values()), row
                    continue
                assert s["transfer_in_mrr"] == s["transfer_out_mrr"], (by, d, s)
                assert {c: s[c] for c in AMOUNTS + COUNTS} == row, (by, d)
            assert set(summed) <= {d for d, _ in total}

            # retention with the slice fixed at each window's start
            check_retention(ws, snap, slicer, by)

            # asked for a range of end dates, the same rows as the whole table restricted to it
            full = ws.retention(by=by).to_pylist()
            ends = sorted({r["period_end"] for r in full})
            if ends:
                lo, hi = ends[len(ends) // 3], ends[(2 * len(ends)) // 3]
                cut = ws.retention(by=by, start=lo, end=hi).to_pylist()
                assert cut == [r for r in full if lo <= r["period_end"] <= hi], (by, lo, hi)


MINOR_UNITS = {"USD": 2, "JPY": 0, "KWD": 3}


@st.composite
def priced_lines(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """Lines priced every way the contract allows, with their MRR in minor units by the reference."""
    reporting = draw(st.sampled_from(sorted(MINOR_UNITS)))
    fx: dict[str, list[tuple[date, Decimal]]] = {}
    for cur in ("EUR", "GBP"):
        dates = [date(2020, 1, 1), *draw(st.sets(st.dates(date(2022, 1, 1), date(2024, 12, 31)), max_size=3))]
        fx[cur] = [(d, draw(st.decimals(D("0.001"), D(500), places=8))) for d in sorted(dates)]
    money_st = st.one_of(st.decimals(0, 10**7, places=4), st.sampled_from([D("0.25"), D("0.75"), D("0.0050")]))
    rows, want = [], []
    for i in range(draw(st.integers(1, 20))):
        start = draw(st.dates(date(2022, 1, 1), date(2024, 12, 31)))
        row = sub(f"A{i % 3}", start, None, subscription_id=f"S{i}")
        kind = draw(st.integers(0, 2))
        months = D(1)
        if kind == 0:
            price = row["mrr"] = draw(money_st)
        else:
            months = row["billing_period_months"] = draw(st.sampled_from([D(m) for m in (1, 2, 3, 5, 7, 12, 24, 36)]))
            if kind == 1:
                price = row["amount"] = draw(money_st)
            else:
                row["unit_price"] = draw(money_st)
                row["quantity"] = draw(st.integers(0, 500).map(D))
                price = row["unit_price"] * row["quantity"]
        pct = row["discount_percent"] = draw(st.one_of(st.just(D(0)), st.decimals(0, 100, places=2)))
        off = row["discount_amount"] = draw(st.one_of(st.just(D(0)), st.decimals(0, 100, places=2)))
        cur = row["currency"] = draw(st.sampled_from((reporting, "EUR", "GBP")))
        rate = D(1) if cur == reporting else [r for d, r in fx[cur] if d <= start][-1]
        if price * rate * 10 ** MINOR_UNITS[reporting] >= 10**15:
            continue  # past what revbook's DECIMAL(38, 22) ledger holds (16 digits of minor units)
        rows.append(row)
        want.append(
            ref.line_mrr_cents(
                price, months, discount_percent=pct, discount_amount=off, fx=rate, minor_units=MINOR_UNITS[reporting]
            )
        )
    fx_rows = [{"date": d, "currency": c, "rate_to_reporting": r} for c, rs in fx.items() for d, r in rs]
    return reporting, rows, fx_rows, want


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(priced_lines())
def test_line_mrr_is_rounded_once_half_even_like_the_reference(case: Any) -> None:
    reporting, rows, fx_rows, want = case
    if not rows:
        return
    mu = MINOR_UNITS[reporting]
    tables = {"subscriptions": rows, "fx_rates": fx_rows}
    with workspace(tables, as_of=date(2024, 12, 31), reporting_currency=reporting) as ws:
        got = {r["subscription_id"]: r["mrr"] for r in ws.ledger().to_pylist()}
        assert got == {r["subscription_id"]: D(w).scaleb(-mu) for r, w in zip(rows, want, strict=True)}


def test_line_of_a_billion_in_minor_units() -> None:
    # 1,000,000 USD a year at 16,000 IDR per USD: 16,000,000,000 / 12 = 1,333,333,333.333... -> 1,333,333,333.33
    rows = numbered(
        [sub("A", date(2024, 1, 1), None, amount=D(1_000_000), billing_period_months=D(12), currency="USD")]
    )
    fx = [{"date": date(2024, 1, 1), "currency": "USD", "rate_to_reporting": D(16_000)}]
    with workspace({"subscriptions": rows, "fx_rates": fx}, as_of=date(2024, 6, 30), reporting_currency="IDR") as ws:
        assert ledger_mrr(ws) == {"A": D("1333333333.33")}


# -- worked examples ---------------------------------------------------------------------------
def by_period(frame: Any, key: str = "period") -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in frame.to_pylist()}


def ledger_mrr(ws: Workspace) -> dict[str, Decimal]:
    return {r["account_id"]: r["mrr"] for r in ws.ledger().to_pylist()}


def test_normalisation_to_a_month_rounded_once_half_even() -> None:
    rows = numbered(
        [
            # an annual line of 12,000.00: 12,000 / 12 = 1,000.00
            sub("annual", date(2024, 1, 1), None, amount=D("12000"), billing_period_months=D(12)),
            # 36 months for 100,000.00: 2,777.777... -> 2,777.78 (half-even, the third decimal is 7)
            sub("three_years", date(2024, 1, 1), date(2027, 1, 1), amount=D("100000"), billing_period_months=D(36)),
            # a tie: 0.25 every 2 months = 0.125 -> 0.12 (to the even cent; half-up would give 0.13)
            sub("tie_down", date(2024, 1, 1), None, amount=D("0.25"), billing_period_months=D(2)),
            # the other tie: 0.75 every 2 months = 0.375 -> 0.38 (to the even cent)
            sub("tie_up", date(2024, 1, 1), None, amount=D("0.75"), billing_period_months=D(2)),
            # 10% off a 1,200.00 annual line: 1,200 * 0.9 / 12 = 90.00
            sub(
                "discount",
                date(2024, 1, 1),
                None,
                amount=D("1200"),
                billing_period_months=D(12),
                discount_percent=D(10),
            ),
            # 7 seats at 50.00 a month: 50 * 7 / 1 = 350.00
            sub("seats", date(2024, 1, 1), None, unit_price=D(50), quantity=D(7), billing_period_months=D(1)),
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 12, 31)) as ws:
        assert ledger_mrr(ws) == {
            "annual": D("1000.00"),
            "three_years": D("2777.78"),
            "tie_down": D("0.12"),
            "tie_up": D("0.38"),
            "discount": D("90.00"),
            "seats": D("350.00"),
        }
        # constant over the line's life: no remainder spread as 1-cent expansions or contractions
        months = ws.movements().to_pylist()
        assert len(months) == 12
        assert months[0]["new_mrr"] == D("4218.28")  # 1000 + 2777.78 + 0.12 + 0.38 + 90 + 350
        assert all(m["expansion_mrr"] == m["contraction_mrr"] == D(0) for m in months)
        assert months[-1]["end_mrr"] == D("4218.28")
        assert by_period(ws.mrr())["2024-12"]["arr"] == D("50619.36")  # 12 * 4218.28


def test_a_line_inside_one_month_shows_no_movement() -> None:
    rows = numbered(
        [
            sub("A", date(2024, 3, 5), date(2024, 3, 20), "500"),  # paid 5th-19th March only
            sub("B", date(2024, 1, 1), None, "100"),  # keeps the months running
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 6, 30)) as ws:
        march = by_period(ws.movements())["2024-03"]
        # March's snapshot (31st) has only B at 100: nothing new, nothing churned
        assert (march["start_mrr"], march["new_mrr"], march["churn_mrr"], march["end_mrr"]) == (
            D(100),
            D(0),
            D(0),
            D(100),
        )
        assert all(r["account_id"] == "B" for r in ws.account_movements().to_pylist())
        assert all(r["account_id"] == "B" for r in ws.mrr(accounts=True).to_pylist())


@pytest.mark.parametrize(
    ("grace", "first_end", "bridged"),
    [
        (0, date(2024, 3, 31), False),  # one unpaid day, March 31st, the snapshot day: churn
        (5, date(2024, 3, 31), True),  # one day <= 5: bridged at 100
        (5, date(2024, 3, 27), True),  # unpaid 27th-31st: 5 days <= 5, bridged
        (5, date(2024, 3, 26), False),  # unpaid 26th-31st: 6 days > 5, churn
    ],
)
def test_churn_grace_bridges_short_gaps(grace: int, first_end: date, bridged: bool) -> None:
    rows = numbered(
        [
            sub("A", date(2023, 10, 1), first_end, "100"),
            sub("A", date(2024, 4, 1), None, "120"),  # renewed on April 1st at a higher price
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 6, 30), churn_grace_days=grace) as ws:
        m = by_period(ws.movements())
        if bridged:
            # March snapshot still 100 (the eve's MRR); April: 100 -> 120 is an expansion of 20
            assert (m["2024-03"]["churn_mrr"], m["2024-03"]["end_mrr"]) == (D(0), D(100))
            assert (m["2024-04"]["reactivation_mrr"], m["2024-04"]["expansion_mrr"]) == (D(0), D(20))
        else:
            # March snapshot 0: churn of 100; April: back at 120, a reactivation of 120
            assert (m["2024-03"]["churn_mrr"], m["2024-03"]["churned_accounts"]) == (D(100), 1)
            assert (m["2024-04"]["reactivation_mrr"], m["2024-04"]["expansion_mrr"]) == (D(120), D(0))
        assert m["2024-04"]["end_mrr"] == D(120)


@pytest.mark.parametrize("as_new_after", [0, 3])
def test_return_after_long_gap_can_count_as_new(as_new_after: int) -> None:
    rows = numbered(
        [
            # each account pays for January 2024 only, then returns
            sub("A", date(2024, 1, 1), date(2024, 2, 1), "100"),
            sub("A", date(2024, 6, 1), None, "100"),  # zero Feb, Mar, Apr, May: 4 months
            sub("B", date(2024, 1, 1), date(2024, 2, 1), "10"),
            sub("B", date(2024, 4, 1), None, "10"),  # zero Feb, Mar: 2 months
            sub("C", date(2024, 1, 1), date(2024, 2, 1), "1"),
            sub("C", date(2024, 5, 1), None, "1"),  # zero Feb, Mar, Apr: exactly 3 months
        ]
    )
    with workspace(
        {"subscriptions": rows}, as_of=date(2024, 7, 31), reactivation_as_new_after_months=as_new_after
    ) as ws:
        m = by_period(ws.movements())
        assert m["2024-01"]["new_mrr"] == D(111)  # all three are new in January
        assert (m["2024-02"]["churn_mrr"], m["2024-02"]["churned_accounts"]) == (D(111), 3)
        # B after 2 months: a reactivation either way
        assert (m["2024-04"]["new_mrr"], m["2024-04"]["reactivation_mrr"]) == (D(0), D(10))
        if as_new_after == 3:
            # C after 3 months (3 >= 3) and A after 4 months (4 >= 3): new
            assert (m["2024-05"]["new_mrr"], m["2024-05"]["reactivation_mrr"]) == (D(1), D(0))
            assert (m["2024-06"]["new_mrr"], m["2024-06"]["new_accounts"], m["2024-06"]["reactivation_mrr"]) == (
                D(100),
                1,
                D(0),
            )
        else:
            assert (m["2024-05"]["new_mrr"], m["2024-05"]["reactivation_mrr"]) == (D(0), D(1))
            june = m["2024-06"]
            assert (june["new_mrr"], june["reactivation_mrr"], june["reactivated_accounts"]) == (D(0), D(100), 1)


def test_as_of_inside_a_month_is_the_last_snapshot_and_nothing_later_is_read() -> None:
    rows = numbered(
        [
            sub("A", date(2024, 1, 1), None, "100"),
            sub("B", date(2024, 5, 20), None, "200"),  # starts after as-of: not read
            sub("C", date(2024, 2, 1), date(2024, 5, 10), "50"),  # ended before as-of: churn in May
            sub("D", date(2024, 3, 1), date(2024, 5, 20), "70"),  # still running on May 15th
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 5, 15)) as ws:
        mrr = ws.mrr().to_pylist()
        assert (mrr[-1]["period"], mrr[-1]["period_end"], mrr[-1]["mrr"]) == ("2024-05", date(2024, 5, 15), D(170))
        may = by_period(ws.movements())["2024-05"]
        # April 30th: A 100 + C 50 + D 70 = 220; May 15th: A 100 + D 70 = 170
        assert (may["start_mrr"], may["new_mrr"], may["churn_mrr"], may["end_mrr"]) == (D(220), D(0), D(50), D(170))
        led = {r["account_id"]: r for r in ws.ledger().to_pylist()}
        assert "B" not in led
        assert (led["D"]["end_date"], led["D"]["end_date_recorded"]) == (None, date(2024, 5, 20))


def test_fx_rate_is_fixed_at_the_line_start() -> None:
    rows = numbered(
        [
            sub("A", date(2024, 1, 15), None, "1000", currency="EUR"),  # 1,000 EUR at 1.10 = 1,100.00 USD
            sub("A", date(2024, 4, 1), None, "100", currency="EUR"),  # 100 EUR at 1.20 = 120.00 USD
        ]
    )
    fx = [
        {"date": date(2024, 1, 1), "currency": "EUR", "rate_to_reporting": D("1.10")},
        {"date": date(2024, 3, 1), "currency": "EUR", "rate_to_reporting": D("1.20")},
    ]
    with workspace({"subscriptions": rows, "fx_rates": fx}, as_of=date(2024, 6, 30)) as ws:
        m = by_period(ws.movements())
        assert m["2024-01"]["new_mrr"] == D("1100.00")
        # the rate moving to 1.20 on March 1st changes nothing on the running line
        assert (m["2024-03"]["expansion_mrr"], m["2024-03"]["end_mrr"]) == (D(0), D("1100.00"))
        # April: only the new line's 120.00 (not 100 re-rated lines)
        assert (m["2024-04"]["expansion_mrr"], m["2024-04"]["end_mrr"]) == (D("120.00"), D("1220.00"))
        assert sorted(r["mrr"] for r in ws.ledger().to_pylist()) == [D("120.00"), D("1100.00")]


def test_quarter_grain_nets_a_leave_and_return_inside_the_quarter() -> None:
    rows = numbered(
        [
            sub("A", date(2023, 10, 1), date(2024, 2, 1), "100"),  # unpaid on Feb 29th
            sub("A", date(2024, 3, 1), None, "100"),
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 6, 30)) as ws:
        m = by_period(ws.movements())
        assert (m["2024-02"]["churn_mrr"], m["2024-03"]["reactivation_mrr"]) == (D(100), D(100))
        q1 = by_period(ws.movements(grain="quarter"))["2024-Q1"]
        # Dec 31st 100 -> Mar 31st 100: no movement at quarter grain
        assert (q1["start_mrr"], q1["churn_mrr"], q1["reactivation_mrr"], q1["end_mrr"]) == (D(100), D(0), D(0), D(100))


def test_csm_book_expansion_hides_churn() -> None:
    """DESIGN.md: a 5,000,000 ARR book renews at 4,600,000 and expands by 700,000: NRR 106%, GRR 92%.

    Annual lines (amount = ARR, billed every 12 months), window Jan 2023 -> Jan 2024:
      big   2,000,000 -> 2,700,000 (+700,000 expansion)   MRR 166,666.67 -> 225,000.00
      mid   1,500,000 -> 1,400,000 (-100,000 contraction) MRR 125,000.00 -> 116,666.67
      steady 1,200,000 unchanged                          MRR 100,000.00
      gone    300,000 -> churned (-300,000)               MRR  25,000.00 -> 0
    A 2,000,000 / 12 MRR is not a whole number of cents, so the ratios are exact in cents and
    1.06 / 0.92 to 6 decimals.
    """
    annual = {"billing_period_months": D(12)}
    rows = numbered(
        [
            sub("big", date(2023, 1, 1), date(2024, 1, 1), amount=D(2_000_000), **annual),
            sub("big", date(2024, 1, 1), None, amount=D(2_700_000), **annual),
            sub("mid", date(2023, 1, 1), date(2024, 1, 1), amount=D(1_500_000), **annual),
            sub("mid", date(2024, 1, 1), None, amount=D(1_400_000), **annual),
            sub("steady", date(2023, 1, 1), None, amount=D(1_200_000), **annual),
            sub("gone", date(2023, 1, 1), date(2023, 9, 1), amount=D(300_000), **annual),
            # another CSM's account that csm-1 takes over mid-window: not in csm-1's window
            sub("moved", date(2023, 1, 1), None, amount=D(120_000), **annual),
        ]
    )
    owners = [
        {"account_id": a, "owner_id": "csm-1", "role": "csm", "start_date": date(2022, 12, 1)}
        for a in ("big", "mid", "steady", "gone")
    ] + [
        {
            "account_id": "moved",
            "owner_id": "csm-2",
            "role": "csm",
            "start_date": date(2022, 12, 1),
            "end_date": date(2023, 6, 1),
        },
        {"account_id": "moved", "owner_id": "csm-1", "role": "csm", "start_date": date(2023, 6, 1)},
    ]
    people = [
        {"owner_id": "csm-1", "name": "Ada", "team": "Enterprise"},
        {"owner_id": "csm-2", "name": "Bo", "team": "Enterprise"},
    ]
    tables = {"subscriptions": rows, "owners": owners, "people": people}
    with workspace(tables, as_of=date(2024, 1, 31)) as ws:
        rows_12 = {(r["period"], r["owner"]): r for r in ws.retention(window=12, by="owner").to_pylist()}
        r = rows_12[("2024-01", "csm-1")]
        # start: 166,666.67 + 125,000 + 100,000 + 25,000 = 416,666.67 (ARR 5,000,000.04)
        assert (r["start_accounts"], r["start_mrr"]) == (4, D("416666.67"))
        # end: 225,000 + 116,666.67 + 100,000 + 0 = 441,666.67
        assert (r["retained_accounts"], r["end_mrr"]) == (3, D("441666.67"))
        # capped: min(225,000, 166,666.67) + 116,666.67 + 100,000 + 0 = 383,333.34
        assert r["retained_mrr"] == D("383333.34")
        assert r["nrr"] == pytest.approx(44_166_667 / 41_666_667, rel=1e-12)
        assert r["grr"] == pytest.approx(38_333_334 / 41_666_667, rel=1e-12)
        assert (round(r["nrr"], 6), round(r["grr"], 6), r["logo_retention"]) == (1.06, 0.92, 0.75)
        # the account taken over mid-window stays in csm-2's cohort (slice fixed at the window start)
        r2 = rows_12[("2024-01", "csm-2")]
        assert (r2["start_accounts"], r2["start_mrr"], r2["nrr"]) == (1, D("10000.00"), 1.0)


def test_cohort_nrr_and_movement_nrr_differ() -> None:
    """docs/definitions.md: A churns in month 1 and returns in month 3; B expands 100 -> 150.

    Window of 3 months from the Jan 2024 snapshot to the Apr 2024 snapshot:
      cohort NRR = (100 + 150) / 200 = 1.25, GRR = (100 + 100) / 200 = 1.0, logos 2 / 2
      movement NRR = (200 + 50 expansion - 0 contraction - 100 churn) / 200 = 0.75
    """
    rows = numbered(
        [
            sub("A", date(2023, 12, 1), date(2024, 2, 1), "100"),  # zero on Feb 29th: churn in February
            sub("A", date(2024, 4, 1), None, "100"),  # back for the April snapshot: reactivation
            sub("B", date(2023, 12, 1), None, "100"),
            sub("B", date(2024, 3, 1), None, "50"),  # expansion in March
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 4, 30)) as ws:
        r = by_period(ws.retention(window=3))["2024-04"]
        assert (r["start_mrr"], r["end_mrr"], r["retained_mrr"]) == (D(200), D(250), D(200))
        assert (r["nrr"], r["grr"], r["logo_retention"]) == (1.25, 1.0, 1.0)
        assert (r["churn_mrr"], r["reactivation_mrr"], r["expansion_mrr"]) == (D(100), D(100), D(50))
        assert r["movement_nrr"] == 0.75
        assert r["gross_revenue_churn"] == 0.5  # (100 churn + 0 contraction) / 200
        assert r["quick_ratio"] == 1.5  # (0 new + 100 reactivation + 50 expansion) / (0 + 100)


def test_plan_slice_is_kept_across_a_grace_bridge() -> None:
    rows = numbered(
        [
            sub("A", date(2023, 10, 1), date(2024, 3, 31), "100", plan="pro"),  # unpaid on March 31st only
            sub("A", date(2024, 4, 1), None, "100", plan="pro"),
        ]
    )
    with workspace({"subscriptions": rows}, as_of=date(2024, 6, 30), churn_grace_days=5) as ws:
        # bridged at the eve's MRR (100, plan pro): the March snapshot is pro, and nothing moves between plans
        assert {(r["period"], r["plan"]) for r in ws.mrr(by="plan").to_pylist()} >= {("2024-03", "pro")}
        assert all(r["transfer_in_mrr"] == 0 for r in ws.movements(by="plan").to_pylist())
