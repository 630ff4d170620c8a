"""The sample company: deterministic, on contract, and realistic by a rough MRR check of its own."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from revbook import sample
from revbook.contract import TABLES
from revbook.errors import ConfigError

AS_OF = sample.SampleConfig().as_of
EPOCH = dt.date(1970, 1, 1)
TABLE_NAMES = {"accounts", "subscriptions", "owners", "people", "fx_rates", "invoices", "account_history"}
TABLE_NAMES |= {"usage", "tickets", "activities", "milestones", "surveys", "opportunities"}
#: forward-looking columns: a contract's end, and the end of a period billed before as_of
FORWARD = {("subscriptions", "contract_end_date"), ("invoices", "service_end")}
ARROW_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "decimal": pa.decimal128(18, 4),
    "boolean": pa.bool_(),
    "integer": pa.int64(),
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate()


@pytest.fixture(scope="module")
def big() -> dict[str, pa.Table]:
    return sample.generate(accounts=5000, seed=11)


# ------------------------------------------------------------------------------------------
# a rough MRR, computed here with plain pyarrow/numpy (USD lines only)


def _floats(t: pa.Table, name: str) -> np.ndarray:
    if name not in t.column_names:
        return np.full(t.num_rows, np.nan)
    return pc.fill_null(t[name].cast(pa.float64()), np.nan).to_numpy()


def _days(col: pa.ChunkedArray, null: int) -> np.ndarray:
    return pc.fill_null(col.cast(pa.int32()), null).to_numpy().astype(np.int64)


class RoughMRR:
    def __init__(self, tables: dict[str, pa.Table], currency: str = "USD") -> None:
        subs = tables["subscriptions"].filter(pc.equal(tables["subscriptions"]["currency"], currency))
        mrr, amount = _floats(subs, "mrr"), _floats(subs, "amount")
        unit, qty, bp = _floats(subs, "unit_price"), _floats(subs, "quantity"), _floats(subs, "billing_period_months")
        disc = np.nan_to_num(_floats(subs, "discount_percent"))
        line = np.where(~np.isnan(mrr), mrr, np.where(~np.isnan(amount), amount / bp, unit * qty / bp))
        trial = subs["is_trial"].to_numpy(zero_copy_only=False)
        self.line = np.where(trial, 0.0, line * (1 - disc / 100))
        assert not np.isnan(self.line).any()
        self.start = _days(subs["start_date"], 0)
        self.end = _days(subs["end_date"], 10**9)
        self.accounts, self.idx = np.unique(subs["account_id"].to_numpy(zero_copy_only=False), return_inverse=True)

    def at(self, day: dt.date) -> np.ndarray:
        d = (day - EPOCH).days
        on = (self.start <= d) & (d < self.end)
        return np.bincount(self.idx[on], weights=self.line[on], minlength=len(self.accounts))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _last_month_ends(as_of: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` month-ends on or before as_of, oldest first."""
    out, y, m = [], as_of.year, as_of.month
    while len(out) < count:
        e = _month_end(y, m)
        if e <= as_of:
            out.append(e)
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _retention(tables: dict[str, pa.Table]) -> tuple[float, float, float]:
    mrr = RoughMRR(tables)
    ends = _last_month_ends(AS_OF, 13)
    a, b = mrr.at(ends[0]), mrr.at(ends[-1])
    base = a > 0
    nrr = b[base].sum() / a[base].sum()
    grr = np.minimum(a, b)[base].sum() / a[base].sum()
    return nrr, grr, float((b[base] > 0).mean())


def _smb_logo_churn(tables: dict[str, pa.Table], months: int = 24) -> float:
    mrr = RoughMRR(tables)
    acc = tables["accounts"]
    smb = set(acc.filter(pc.equal(acc["segment"], "smb"))["account_id"].to_pylist())
    is_smb = np.array([a in smb for a in mrr.accounts], bool)
    ends = _last_month_ends(AS_OF, months + 1)
    prev, rates = mrr.at(ends[0]), []
    for e in ends[1:]:
        cur = mrr.at(e)
        base = (prev > 0) & is_smb
        rates.append(((cur == 0) & base).sum() / base.sum())
        prev = cur
    return float(np.mean(rates))


# ------------------------------------------------------------------------------------------
# determinism and the contract


def test_deterministic_for_a_seed(tables: dict[str, pa.Table]) -> None:
    again = sample.generate(sample.SampleConfig())
    assert set(again) == set(tables)
    for name in tables:
        assert again[name].equals(tables[name]), name
    other = sample.generate(seed=8)
    assert not other["subscriptions"].equals(tables["subscriptions"])
    assert not other["accounts"].equals(tables["accounts"])


def test_tables_and_columns_follow_the_contract(tables: dict[str, pa.Table]) -> None:
    assert set(tables) == TABLE_NAMES
    for name, t in tables.items():
        contract = TABLES[name]
        assert t.num_rows > 0, name
        for f in t.schema:
            assert f.name in contract.names, (name, f.name)
            expected = ARROW_TYPES[contract.column(f.name).type]
            if f.name == "rate_to_reporting":
                expected = pa.decimal128(18, 8)
            assert f.type == expected, (name, f.name, f.type)
        for c in contract.columns:
            if c.required:
                assert c.name in t.column_names, (name, c.name)
                assert t[c.name].null_count == 0, (name, c.name)


def test_keys_are_unique(tables: dict[str, pa.Table]) -> None:
    for name, t in tables.items():
        key = [t[k].cast(pa.string()) for k in TABLES[name].key if k in t.column_names]
        joined = pc.binary_join_element_wise(*[pc.fill_null(k, "") for k in key], "|")
        assert len(pc.unique(joined)) == t.num_rows, name


def test_nothing_dated_after_as_of(tables: dict[str, pa.Table]) -> None:
    for name, t in tables.items():
        for f in t.schema:
            if f.type == pa.date32() and (name, f.name) not in FORWARD:
                latest = pc.max(t[f.name]).as_py()
                assert latest is None or latest <= AS_OF, (name, f.name, latest)
    inv = tables["invoices"]
    assert pc.max(inv["invoice_date"]).as_py() <= AS_OF
    # an ongoing annual line's contract runs past as_of, and its end_date is null
    subs = tables["subscriptions"]
    future = subs.filter(pc.greater(subs["contract_end_date"], AS_OF))
    assert future.num_rows > 0 and future["end_date"].null_count == future.num_rows


def test_dates_are_ordered(tables: dict[str, pa.Table]) -> None:
    for name, t in tables.items():
        for start, end in TABLES[name].ordered:
            if end in t.column_names:
                # exclusive ends come after the start; an inclusive end (an invoice's service end, a
                # case closed or a deal decided the day it opened) may equal it
                inclusive = name in ("invoices", "tickets", "opportunities")
                col = pc.add(t[end], pa.scalar(dt.timedelta(days=1))) if inclusive else t[end]
                assert not pc.any(pc.less_equal(col, t[start])).as_py(), (name, start, end)
    subs = tables["subscriptions"]
    asked = subs.filter(pc.is_valid(subs["cancel_requested_at"]))
    assert asked.num_rows > 0
    assert pc.all(pc.greater(asked["cancel_requested_at"], asked["start_date"])).as_py()
    ended = asked.filter(pc.is_valid(asked["end_date"]))
    assert pc.all(pc.less(ended["cancel_requested_at"], ended["end_date"])).as_py()
    assert asked.num_rows > ended.num_rows  # some pending cancellations on ongoing lines
    acc = tables["accounts"]
    first = subs.group_by("account_id").aggregate([("start_date", "min")])
    joined = first.join(acc.select(["account_id", "created_at"]), "account_id")
    assert pc.all(pc.less_equal(joined["created_at"], joined["start_date_min"])).as_py()


def test_every_child_account_exists(tables: dict[str, pa.Table]) -> None:
    ids = tables["accounts"]["account_id"]
    assert len(pc.unique(ids)) == len(ids)
    for name in ("subscriptions", "owners", "invoices", "account_history", *sample.ACTIVITY_TABLES):
        assert pc.all(pc.is_in(tables[name]["account_id"], ids)).as_py(), name
    parents = pc.drop_null(tables["accounts"]["parent_account_id"])
    assert len(parents) > 0 and pc.all(pc.is_in(parents, ids)).as_py()
    owners = tables["owners"]["owner_id"]
    assert pc.all(pc.is_in(owners, tables["people"]["owner_id"])).as_py()


def test_segment_mix(big: dict[str, pa.Table]) -> None:
    acc = big["accounts"]
    seg = dict(zip(acc["account_id"].to_pylist(), acc["segment"].to_pylist(), strict=True))
    hist = big["account_history"].filter(pc.equal(big["account_history"]["attribute"], "segment"))
    hist = hist.sort_by([("account_id", "ascending"), ("valid_from", "descending")])
    for a, v in zip(hist["account_id"].to_pylist(), hist["value"].to_pylist(), strict=True):
        seg[a] = v  # the last write per account is its earliest value: the segment at signup
    values = list(seg.values())
    for name, target in zip(sample.SEGMENTS, sample.SampleConfig().segment_mix, strict=True):
        share = values.count(name) / len(values)
        assert abs(share - target) < 0.03, (name, share)
    upgraded = set(hist["account_id"].to_pylist())
    assert 0 < len(upgraded) < 0.1 * len(values)


def test_currencies_and_fx_coverage(tables: dict[str, pa.Table]) -> None:
    subs, fx = tables["subscriptions"], tables["fx_rates"]
    currencies = set(subs["currency"].to_pylist())
    assert {"USD", "EUR", "GBP"} <= currencies
    assert set(fx["currency"].to_pylist()) == currencies - {"USD"}
    for cur in currencies - {"USD"}:
        rates = fx.filter(pc.equal(fx["currency"], cur))
        lines = subs.filter(pc.equal(subs["currency"], cur))
        assert pc.min(rates["date"]).as_py() <= pc.min(lines["start_date"]).as_py()
        assert pc.max(rates["date"]).as_py() == AS_OF.replace(day=1)
        assert all(d.day == 1 for d in rates["date"].to_pylist())
        values = rates["rate_to_reporting"].cast(pa.float64()).to_numpy()
        lo, hi = {"EUR": (1.05, 1.15), "GBP": (1.20, 1.35)}[cur]
        assert lo <= values.min() < values.max() <= hi
    acc = tables["accounts"]
    region = dict(zip(acc["account_id"].to_pylist(), acc["region"].to_pylist(), strict=True))
    for a, c in zip(subs["account_id"].to_pylist(), subs["currency"].to_pylist(), strict=True):
        assert (c == "USD") == (region[a] != "emea")


def test_planted_trials_gaps_and_reactivations(tables: dict[str, pa.Table]) -> None:
    subs = tables["subscriptions"]
    trials = subs.filter(subs["is_trial"])
    assert trials.num_rows > 0
    assert pc.all(pc.equal(trials["unit_price"], pa.scalar(0, pa.decimal128(18, 4)))).as_py()
    ended = trials.filter(pc.is_valid(trials["end_date"]))
    length = pc.days_between(ended["start_date"], ended["end_date"]).to_numpy()
    assert length.min() >= 14 and length.max() <= 30
    # per account: gaps between the end of all its lines so far and the next line's start
    by_acct: dict[str, list[tuple[int, int]]] = defaultdict(list)
    start, end = _days(subs["start_date"], 0), _days(subs["end_date"], 10**9)
    for a, s, e in zip(subs["account_id"].to_pylist(), start, end, strict=True):
        by_acct[a].append((s, e))
    gaps = []
    for spans in by_acct.values():
        spans.sort()
        covered = spans[0][1]
        for s, e in spans[1:]:
            if s > covered:
                gaps.append(s - covered)
            covered = max(covered, e)
    gaps_arr = np.array(gaps)
    assert ((gaps_arr >= 1) & (gaps_arr <= 10)).sum() >= 5  # late renewals
    assert (gaps_arr > 45).sum() >= 5  # reactivations months later
    assert any(s.endswith("-2") for s in subs["subscription_id"].to_pylist())
    days = {d.day for d in subs["start_date"].to_pylist()}
    assert len(days) > 25  # lines start on all days of the month
    models = set(subs["pricing_model"].to_pylist())
    assert models == {"flat", "per_seat", "usage"}
    assert subs["discount_percent"].null_count < subs.num_rows
    bps = set(subs["billing_period_months"].cast(pa.float64()).to_pylist())
    assert {1.0, 12.0} <= bps and bps & {24.0, 36.0}


def test_owners_never_overlap(tables: dict[str, pa.Table]) -> None:
    owners = tables["owners"].sort_by([("account_id", "ascending"), ("role", "ascending"), ("start_date", "ascending")])
    rows = owners.to_pylist()
    for prev, cur in itertools.pairwise(rows):
        if (prev["account_id"], prev["role"]) == (cur["account_id"], cur["role"]):
            assert prev["end_date"] is not None and prev["end_date"] <= cur["start_date"], (prev, cur)
    people = tables["people"]
    csms = people.filter(pc.is_in(people["team"], pa.array(["SMB Pod", "Mid-Market", "Enterprise"])))
    assert csms.num_rows >= 4
    roles = set(owners["role"].to_pylist())
    assert roles == {"csm", "ae"}
    # every mid_market / enterprise account has a csm; some smb accounts have none
    acc = tables["accounts"]
    with_csm = set(owners.filter(pc.equal(owners["role"], "csm"))["account_id"].to_pylist())
    segs = dict(zip(acc["account_id"].to_pylist(), acc["segment"].to_pylist(), strict=True))
    assert all(a in with_csm for a, s in segs.items() if s != "smb")
    smb = [a for a, s in segs.items() if s == "smb"]
    assert 0.3 < sum(a in with_csm for a in smb) / len(smb) < 0.7
    # reassignments happened
    csm_rows = owners.filter(pc.equal(owners["role"], "csm"))
    assert csm_rows.num_rows > len(with_csm)


def test_invoices_match_subscriptions_and_include_credits(tables: dict[str, pa.Table]) -> None:
    inv, acc = tables["invoices"], tables["accounts"]
    n_accounts = len(pc.unique(inv["account_id"]))
    assert 0.02 * acc.num_rows < n_accounts < 0.08 * acc.num_rows
    credits = inv.filter(pc.less(inv["amount"], pa.scalar(0, pa.decimal128(18, 4))))
    assert credits.num_rows >= 2
    assert credits["service_start"].null_count >= 1
    # the invoiced currency is the account's subscription currency
    subs = tables["subscriptions"]
    cur = dict(zip(subs["account_id"].to_pylist(), subs["currency"].to_pylist(), strict=True))
    assert all(cur[a] == c for a, c in zip(inv["account_id"].to_pylist(), inv["currency"].to_pylist(), strict=True))


def test_small_sample_works() -> None:
    small = sample.generate(accounts=100, seed=3)
    assert small["accounts"].num_rows == 100
    for name, t in small.items():
        assert t.num_rows > 0, name
    csm_teams = pc.is_in(small["people"]["team"], pa.array(["SMB Pod", "Mid-Market", "Enterprise"]))
    assert pc.sum(csm_teams).as_py() >= 4


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        sample.generate(accounts=0)
    with pytest.raises(ConfigError):
        sample.generate(not_a_knob=1)
    with pytest.raises(ConfigError):
        sample.generate(as_of=dt.date(2020, 1, 1))


# ------------------------------------------------------------------------------------------
# realism


def test_retention_is_realistic(tables: dict[str, pa.Table]) -> None:
    nrr, grr, logo = _retention(tables)
    assert 0.95 <= nrr <= 1.20, nrr
    assert 0.80 <= grr <= 0.95, grr
    assert logo < grr  # logo and dollar retention diverge


def test_smb_logo_churn_is_realistic(tables: dict[str, pa.Table]) -> None:
    churn = _smb_logo_churn(tables)
    assert 0.02 <= churn <= 0.06, churn


def test_arr_bands_at_signup(big: dict[str, pa.Table]) -> None:
    mrr = RoughMRR(big)
    subs = big["subscriptions"].filter(pc.equal(big["subscriptions"]["currency"], "USD"))
    first = subs.filter(pc.invert(subs["is_trial"])).group_by("account_id").aggregate([("start_date", "min")])
    first_day = dict(zip(first["account_id"].to_pylist(), first["start_date_min"].to_pylist(), strict=True))
    acc = big["accounts"]
    seg = dict(zip(acc["account_id"].to_pylist(), acc["segment"].to_pylist(), strict=True))
    arr: dict[str, list[float]] = defaultdict(list)
    pos = {a: i for i, a in enumerate(mrr.accounts)}
    for a, d in list(first_day.items())[:1500]:
        arr[seg[a]].append(12 * mrr.at(d)[pos[a]])
    assert 3_000 <= np.median(arr["smb"]) <= 25_000
    assert 25_000 <= np.median(arr["mid_market"]) <= 100_000
    assert 100_000 <= np.median(arr["enterprise"]) <= 1_000_000


# ------------------------------------------------------------------------------------------
# write


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write(tmp_path, fmt: str) -> None:
    paths = sample.write(tmp_path / fmt, accounts=150, seed=5, format=fmt)
    assert set(paths) == TABLE_NAMES
    expected = sample.generate(accounts=150, seed=5)
    for name, path in paths.items():
        assert path == tmp_path / fmt / f"{name}.{fmt}" and path.exists()
        back = pq.read_table(path) if fmt == "parquet" else pacsv.read_csv(path)
        assert back.num_rows == expected[name].num_rows
        assert back.column_names == expected[name].column_names
        if fmt == "parquet":
            assert back.equals(expected[name])
    if fmt == "csv":  # names with "&", accents and apostrophes survive the round trip
        names = pacsv.read_csv(paths["accounts"])["name"].to_pylist()
        assert names == expected["accounts"]["name"].to_pylist()
    with pytest.raises(ConfigError):
        sample.write(tmp_path / "x", format="xlsx")  # type: ignore[arg-type]
