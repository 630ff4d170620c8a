"""The truths planted for "who moved the number" (revbook.sample.truths) agree with the tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from revbook import sample

CONFIG = sample.SampleConfig(accounts=2000, seed=7)  # the demo's company
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate(CONFIG)


@pytest.fixture(scope="module")
def truth() -> sample.Truths:
    return sample.truths(CONFIG)


def _floats(t: pa.Table, name: str) -> np.ndarray:
    return pc.fill_null(t[name].cast(pa.float64()), np.nan).to_numpy()


class LocalMRR:
    """Each account's MRR in its own currency on a day, from the subscription lines (no FX)."""

    def __init__(self, subs: pa.Table) -> None:
        mrr, amount = _floats(subs, "mrr"), _floats(subs, "amount")
        unit, qty, bp = _floats(subs, "unit_price"), _floats(subs, "quantity"), _floats(subs, "billing_period_months")
        disc = np.nan_to_num(_floats(subs, "discount_percent"))
        line = np.where(~np.isnan(mrr), mrr, np.where(~np.isnan(amount), amount / bp, unit * qty / bp))
        self.line = np.where(subs["is_trial"].to_numpy(zero_copy_only=False), 0.0, line * (1 - disc / 100))
        self.start = subs["start_date"].to_numpy(zero_copy_only=False)
        self.end = pc.fill_null(subs["end_date"], dt.date(2999, 1, 1)).to_numpy(zero_copy_only=False)
        self.rows: dict[str, list[int]] = defaultdict(list)
        for i, a in enumerate(subs["account_id"].to_pylist()):
            self.rows[a].append(i)

    def on(self, account: str, day: dt.date) -> float:
        i = np.array(self.rows[account])
        d = np.datetime64(day)
        return float(self.line[i][(self.start[i] <= d) & (d < self.end[i])].sum())


def _window(truth: sample.Truths) -> pa.Table:
    x = truth.expansions
    return x.filter(pc.greater(x["date"], truth.window_start))


def _share(x: pa.Table, mask: pa.Array) -> float:
    return float(pc.sum(x.filter(mask)["arr_delta"]).as_py() / pc.sum(x["arr_delta"]).as_py())


def test_truths_are_deterministic_and_typed(truth: sample.Truths) -> None:
    again = sample.truths(accounts=2000, seed=7)
    assert again.expansions.equals(truth.expansions) and again.saves.equals(truth.saves)
    assert again.csms == truth.csms and again.whales == truth.whales
    x = truth.expansions
    assert x.column_names == ["account_id", "date", "source", "arr_delta"]
    assert x.schema.field("date").type == pa.date32() and pa.types.is_decimal(x.schema.field("arr_delta").type)
    assert set(x["source"].to_pylist()) == {"csm", "ae", "product", "self_serve"}
    assert pc.min(x["arr_delta"]).as_py() > 0
    assert truth.saves.column_names == ["account_id", "date", "credible"]
    assert set(truth.csms) == {"flattered", "strong", "weak"}
    assert len(set(truth.csms.values())) == 3
    assert truth.window_start == dt.date(2025, 10, 31)  # 12 months before the last month end, 2026-10-31


def test_every_truth_expansion_is_a_rise_of_the_accounts_mrr_that_day(
    tables: dict[str, pa.Table], truth: sample.Truths
) -> None:
    subs = tables["subscriptions"]
    mrr = LocalMRR(subs)
    currency = dict(zip(subs["account_id"].to_pylist(), subs["currency"].to_pylist(), strict=True))
    by_day: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for r in truth.expansions.to_pylist():
        by_day[(r["account_id"], r["date"])] += r["arr_delta"]
    checked_usd = 0
    for (account, day), arr in by_day.items():
        before, after = mrr.on(account, day - DAY), mrr.on(account, day)
        assert before > 0 and after > before, (account, day, before, after)
        if currency[account] == "USD":  # no FX: the truth's ARR is 12 x the day's rise, to the cent
            assert abs(float(arr) - 12 * (after - before)) < 0.06 * 12, (account, day, arr, after - before)
            checked_usd += 1
    assert checked_usd > 1000


def test_product_expansions_are_usage_lines_and_deals_back_the_sourced_ones(
    tables: dict[str, pa.Table], truth: sample.Truths
) -> None:
    subs = tables["subscriptions"]
    usage = subs.filter(pc.equal(subs["pricing_model"], "usage"))
    usage_starts = set(zip(usage["account_id"].to_pylist(), usage["start_date"].to_pylist(), strict=True))
    x = truth.expansions.to_pylist()
    product = [(r["account_id"], r["date"]) for r in x if r["source"] == "product"]
    assert product and all(k in usage_starts for k in product)
    # one won expansion deal per csm / ae expansion: same account, owner role and ARR, closed 0-21 days before
    opp = tables["opportunities"]
    won = opp.filter(pc.equal(opp["stage"], "closed_won")).to_pylist()
    deals: dict[tuple[str, str, Decimal], list[dt.date]] = defaultdict(list)
    for o in won:
        assert o["kind"] == "expansion" and o["owner_role"] in ("csm", "ae") and o["source"] == o["owner_role"]
        deals[(o["account_id"], o["owner_role"], o["arr_delta"].quantize(Decimal("0.01")))].append(o["closed_at"])
    sourced = [r for r in x if r["source"] in ("csm", "ae")]
    assert len(won) == len(sourced)
    for r in sourced:
        closed = deals[(r["account_id"], r["source"], r["arr_delta"])]
        assert any(dt.timedelta(0) <= r["date"] - c <= dt.timedelta(days=21) for c in closed), r
    # no deal behind the product's and the self-serve expansions
    for r in x:
        if r["source"] in ("product", "self_serve"):
            for role in ("csm", "ae"):
                closed = deals.get((r["account_id"], role, r["arr_delta"]), [])
                assert not any(dt.timedelta(0) <= r["date"] - c <= dt.timedelta(days=21) for c in closed), r


def test_self_serve_expansions_are_smb_with_no_touch_before(tables: dict[str, pa.Table], truth: sample.Truths) -> None:
    acc = tables["accounts"]
    segment = dict(zip(acc["account_id"].to_pylist(), acc["segment"].to_pylist(), strict=True))
    acts: dict[str, list[dt.date]] = defaultdict(list)
    act = tables["activities"]
    for a, d in zip(act["account_id"].to_pylist(), act["date"].to_pylist(), strict=True):
        acts[a].append(d)
    rows = [r for r in truth.expansions.to_pylist() if r["source"] == "self_serve"]
    assert len(rows) >= 50
    hist = tables["account_history"]
    upgraded = set(hist.filter(pc.equal(hist["attribute"], "segment"))["account_id"].to_pylist())
    for r in rows:
        assert segment[r["account_id"]] == "smb" or r["account_id"] in upgraded
        assert not any(dt.timedelta(0) <= r["date"] - d <= dt.timedelta(days=60) for d in acts[r["account_id"]]), r


def test_product_driven_expansion_and_whales_carry_the_last_year(truth: sample.Truths) -> None:
    x = _window(truth)
    product = _share(x, pc.equal(x["source"], "product"))
    assert 0.3 <= product <= 0.6, product  # measured 40.6% on the demo's company
    # the whales are the three largest expanders of the window and carry a fifth of it or more
    per = x.group_by("account_id").aggregate([("arr_delta", "sum")]).sort_by([("arr_delta_sum", "descending")])
    assert tuple(sorted(per["account_id"].to_pylist()[:3])) == truth.whales
    assert _share(x, pc.is_in(x["account_id"], pa.array(truth.whales))) >= 0.2
    # each whale's largest expansion is its AE's upsell
    for whale in truth.whales:
        rows = x.filter(pc.equal(x["account_id"], whale)).sort_by([("arr_delta", "descending")])
        assert rows["source"][0].as_py() == "ae"


def test_save_activities_are_the_truths_saves(tables: dict[str, pa.Table], truth: sample.Truths) -> None:
    act = tables["activities"]
    plays = act.filter(pc.equal(act["type"], "save_play"))
    assert set(plays["outcome"].to_pylist()) == {"saved"}
    got = set(zip(plays["account_id"].to_pylist(), plays["date"].to_pylist(), strict=True))
    saves = truth.saves.to_pylist()
    assert got == {(r["account_id"], r["date"]) for r in saves}
    assert 40 <= len(saves) <= 60
    credible = sum(r["credible"] for r in saves) / len(saves)
    assert 0.55 <= credible <= 0.65


def _usage(tables: dict[str, pa.Table], account: str, month_end: dt.date) -> float:
    u = tables["usage"]
    hit = u.filter(
        pc.and_(
            pc.and_(pc.equal(u["account_id"], account), pc.equal(u["metric"], "active_users")),
            pc.equal(u["date"], month_end),
        )
    )
    return float(hit["value"][0].as_py()) if hit.num_rows else float("nan")


def _month_end(day: dt.date, months: int) -> dt.date:
    m = day.year * 12 + day.month - 1 + months + 1
    return dt.date(m // 12, m % 12 + 1, 1) - DAY


def test_credible_saves_show_risk_and_hollow_ones_do_not(tables: dict[str, pa.Table], truth: sample.Truths) -> None:
    subs, tickets, surveys = tables["subscriptions"], tables["tickets"], tables["surveys"]
    asked = subs.filter(pc.is_valid(subs["cancel_requested_at"])).to_pylist()
    starts = set(zip(subs["account_id"].to_pylist(), subs["start_date"].to_pylist(), strict=True))
    esc = tickets.filter(tickets["escalated"]).to_pylist()
    nps = surveys.filter(pc.equal(surveys["kind"], "nps")).to_pylist()
    ratios: list[float] = []
    for r in truth.saves.to_pylist():
        a, s = r["account_id"], r["date"]
        before = _usage(tables, a, _month_end(s, -4))
        dip, after = _usage(tables, a, _month_end(s, -1)), _usage(tables, a, _month_end(s, 2))
        cancel = [
            x for x in asked if x["account_id"] == a and s - dt.timedelta(days=40) <= x["cancel_requested_at"] < s
        ]
        escalated = [
            t for t in esc if t["account_id"] == a and dt.timedelta(0) < s - t["opened_at"] <= dt.timedelta(days=60)
        ]
        low_nps = [v for v in nps if v["account_id"] == a and dt.timedelta(0) < s - v["date"] <= dt.timedelta(days=45)]
        if r["credible"]:
            # a dip to 40-60% of the level before, a recovery, escalations, a detractor, a request to
            # cancel the line that was then renewed on its end day
            assert dip <= 0.75 * before and after >= 1.5 * dip, (a, s, before, dip, after)
            ratios.append(dip / before)
            assert escalated and any(float(v["score"]) <= 6 for v in low_nps)
            assert cancel and all((a, x["end_date"]) in starts for x in cancel)
        else:
            assert dip >= 0.8 * before and not cancel, (a, s, before, dip)
    assert 0.4 <= float(np.median(ratios)) <= 0.6  # the dip: usage down 40-60%


def test_planted_csm_books_at_the_window_start(tables: dict[str, pa.Table], truth: sample.Truths) -> None:
    owners = tables["owners"]
    csm = owners.filter(pc.equal(owners["role"], "csm")).to_pylist()
    w = truth.window_start
    holder = {r["account_id"]: r["owner_id"] for r in csm if r["start_date"] <= w and (r["end_date"] or w + DAY) > w}
    for role, owner in truth.csms.items():
        book = {a for a, o in holder.items() if o == owner}
        assert book == set(truth.books[role]), role
        assert len(book) >= 20
        # each planted account changed hands on the window start unless its CSM already held it
        moved = [r for r in csm if r["owner_id"] == owner and r["start_date"] == w]
        assert len(moved) >= len(book) // 2
    acc = tables["accounts"]
    segment = dict(zip(acc["account_id"].to_pylist(), acc["segment"].to_pylist(), strict=True))
    assert {segment[a] for a in truth.books["flattered"]} == {"enterprise"}
    assert {segment[a] for a in truth.books["strong"] + truth.books["weak"]} == {"mid_market"}
    # utilisation at the window start (the latest active users over licensed seats): the flattered
    # CSM's book looks safer than the strong CSM's
    month = _month_end(w, -1)
    subs = tables["subscriptions"]
    seats = subs.filter(
        pc.and_(
            pc.and_(pc.equal(subs["pricing_model"], "per_seat"), pc.less_equal(subs["start_date"], w)),
            pc.or_kleene(pc.is_null(subs["end_date"]), pc.greater(subs["end_date"], w)),
        )
    )
    licensed: dict[str, float] = defaultdict(float)
    for a, q in zip(seats["account_id"].to_pylist(), seats["quantity"].to_pylist(), strict=True):
        licensed[a] += float(q)

    def utilisation(role: str) -> float:
        return float(np.mean([_usage(tables, a, month) / licensed[a] for a in truth.books[role]]))

    assert utilisation("flattered") > utilisation("strong") + 0.1
    # outcomes: the strong CSM kept nearly all (hard book), the weak lost about half
    paying = LocalMRR(subs)
    kept = {role: np.mean([paying.on(a, CONFIG.as_of) > 0 for a in truth.books[role]]) for role in truth.books}
    assert kept["strong"] >= 0.9 and kept["flattered"] >= 0.9 and kept["weak"] <= 0.6, kept


def test_a_small_sample_plants_what_it_can() -> None:
    small = sample.truths(accounts=100, seed=3)
    assert small.expansions.num_rows > 0
    assert set(small.csms) <= {"flattered", "strong", "weak"}
    tables = sample.generate(accounts=100, seed=3)
    owners = tables["owners"]
    assert set(small.csms.values()) <= set(owners["owner_id"].to_pylist())
