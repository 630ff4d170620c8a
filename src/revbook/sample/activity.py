"""The sample company's customer-success activity: usage, tickets, activities, milestones, surveys
and opportunities, with the relationships a real business shows planted in them.

Everything is derived from the simulated book of :mod:`revbook.sample` (its lines and their
churns, contractions and expansions), seeded per table, vectorised (100,000 accounts in seconds).

What is planted (tests check that revbook finds each; docs/health.md lists the figures)
----------------------------------------------------------------------------------------
- **usage** (one row per metric per paying month, dated the month's last day, or the as-of date in
  the running month, holding that month's count): ``active_users`` against the licensed seats of
  the per-seat lines (utilisation around 55-80%), ``actions`` (about 20-40 per active user) and the
  key features ``feature_reports``, ``feature_automations``, ``feature_integrations`` from the month
  each is adopted. Utilisation follows the account's trait (:mod:`revbook.sample.traits`), which
  shapes its churn odds. Planted:

  * usage declines in the four months before a churn (to about 40% of its level in the churn month)
    and by about 20% in the three months before a contraction;
  * seat utilisation near or above the licence (92-105%) in the three months before a seat
    expansion, so utilisation near the licence precedes expansion;
  * accounts that later stay adopt more key features, and sooner (the strong CSM's planted book
    adopts as leavers do, the weak CSM's as stayers do);
  * before each credible save (:mod:`revbook.sample.plants`) usage falls to 70%, 55% and 45% of its
    level over the three months before the save's month and recovers (75%, 95%) after it.

- **milestones** ``kickoff``, ``go_live`` (the onboarding milestones) and ``first_value`` (the value
  milestone of time to value), counted from the first paid day. Onboarding is slow (go-live after
  60-150 days instead of 20-45) for 60% of the accounts that churn within their first year of paying
  and 20% of the others: **slow onboarding predicts lower retention**. Milestones after the as-of
  date, or after the account left, are not recorded.
- **tickets**: a base rate per paying month by segment (0.3 / 0.8 / 2.0) times the account's support
  trait, 5% escalated; **one to three tickets, 80% escalated and high priority, 15-90 days before
  each contraction**, a couple before a churn (30% escalated), and one to three escalated ones 10-60
  days before each credible save. Escalated cases take longer to close and get lower CSAT. Cases
  still open on the as-of date have no ``closed_at``.
- **activities**: onboarding calls in the first two months; QBRs about quarterly for mid-market and
  enterprise accounts (60% of quarters held, 12% for smb); a renewal call 30-75 days before each
  contract end, with the renewal committed (outcome ``renewal_committed``) for 70% of the contracts
  that then renewed and 10% of those that did not; exec sponsor meetings twice a year for enterprise
  (less often for the accounts that later churn); **a QBR 20-60 days before 75% of mid-market seat
  expansions but only 30% of enterprise and 5% of smb ones**, so QBRs are followed by expansion more
  often in mid-market (outcome ``expansion_discussed``); a ``save_play`` (outcome ``saved``) on each
  planted save; **no activity at all in the 60 days up to a self-serve expansion**.
- **surveys**: NPS from about 8% of paying accounts a month, around 8 but around 5 in the six months
  before a churn, with noise enough that some promoters leave and some detractors stay
  (satisfaction is not retention); a detractor's NPS (2-5) 10-45 days before each credible save;
  CSAT after some tickets.
- **opportunities**: a won expansion deal for each expansion sourced by a CSM or an AE
  (:mod:`revbook.sample.plants`: ``owner_role`` and ``source`` csm or ae, ``arr_delta`` the USD ARR
  of the rise, closed 0-21 days before it, created 15-75 days before that). **The product's
  expansions (the usage-priced line grew) and the self-serve ones have no deal.** About one lost
  deal for every four won; open expansion deals on about 10% of paying accounts and an open renewal
  deal for contracts ending within 120 days of the as-of date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ._util import NULL, _ids, _month_of, _month_start
from .events import CHURN, CONTRACTION, EXPANSION
from .grid import _KEY, _dates, _decimals, _grid, _key, _month_end, _strings
from .plants import S_AE, S_CSM, S_SELF, SOURCES, plan_of
from .simulation import Book

__all__ = [
    "ACTIVITY_TABLES",
    "FEATURES",
    "MILESTONES",
    "activities_table",
    "milestones_table",
    "opportunities_table",
    "surveys_table",
    "tickets_table",
    "usage_table",
]

FEATURES = ("reports", "automations", "integrations")
MILESTONES = ("kickoff", "go_live", "first_value")
ACTIVITY_TABLES = ("usage", "tickets", "activities", "milestones", "surveys", "opportunities")

#: usage of a credible save's account by months from the save's month (-3 .. +2), a share of its level
SAVE_DIP = (0.7, 0.55, 0.45, 0.5, 0.75, 0.95)


def _rows(book: Book, acct: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid rows of (account, month) pairs, and which pairs have one."""
    g = _grid(book)
    k = _key(acct, month)
    pos = np.searchsorted(g.key, k)
    ok = (pos < len(g.key)) & (g.key[np.minimum(pos, len(g.key) - 1)] == k)
    return pos[ok], ok


def _credible_saves(book: Book) -> tuple[np.ndarray, np.ndarray]:
    plan = plan_of(book)
    return plan.s_acct[plan.s_credible], plan.s_day[plan.s_credible]


# ----------------------------------------------------------------------------------------------
# usage


def usage_table(book: Book, rng: np.random.Generator) -> pa.Table:
    g = _grid(book)
    n_rows = len(g.acct)
    base = book.traits.utilisation[g.acct]
    util = base * rng.uniform(0.93, 1.07, n_rows)
    decline = np.ones(n_rows)
    rows, lag = g.window(CHURN, 4, 0)
    np.minimum.at(decline, rows, 0.4 + 0.15 * lag)
    rows, lag = g.window(CONTRACTION, 3, 0)
    np.minimum.at(decline, rows, 0.8)
    # credible saves: a dip over the three months before the save, then the recovery
    s_acct, s_day = _credible_saves(book)
    for offset, level in zip(range(-3, 3), SAVE_DIP, strict=True):
        rows, _ = _rows(book, s_acct, _month_of(s_day) + offset)
        np.minimum.at(decline, rows, level)
    pressure = np.zeros(n_rows, bool)
    rows, _ = g.window(EXPANSION, 3, 1, only=~g.ev_usage_only)
    pressure[rows] = True
    util = np.where(pressure, rng.uniform(0.92, 1.05, n_rows), util) * decline
    users = np.maximum(np.round(g.seats * util), 0).astype(np.int64)
    actions = np.round(users * rng.uniform(20, 40, book.n)[g.acct] * rng.uniform(0.9, 1.1, n_rows)).astype(np.int64)
    # key features: adopted some months after the first paid month (sooner, and more, for stayers);
    # the strong CSM's planted book adopts as leavers do and the weak one's as stayers do, so what
    # their CSM changed is what the features do not foresee (revbook.sample.plants)
    stays = ~g.ever_churn
    books = plan_of(book).books
    stays[books.get("strong", [])] = False
    stays[books.get("weak", [])] = True
    first_month = np.full(book.n, np.iinfo(np.int64).max)
    np.minimum.at(first_month, g.acct, g.month)
    acct_l, month_l, metric_l, value_l = [g.acct, g.acct], [g.month, g.month], [], [users, actions]
    metric_l = [np.full(n_rows, "active_users", object), np.full(n_rows, "actions", object)]
    for f in FEATURES:
        adopts = rng.random(book.n) < np.where(stays, 0.75, 0.4)
        delay = np.where(stays, rng.integers(0, 4, book.n), rng.integers(1, 9, book.n))
        on = adopts[g.acct] & (g.month >= first_month[g.acct] + delay[g.acct]) & (users > 0)
        acct_l.append(g.acct[on])
        month_l.append(g.month[on])
        metric_l.append(np.full(on.sum(), f"feature_{f}", object))
        value_l.append(np.maximum(1, np.round(users[on] * rng.uniform(0.5, 3.0, on.sum()))).astype(np.int64))
    acct = np.concatenate(acct_l)
    month = np.concatenate(month_l)
    metric = np.concatenate(metric_l)
    value = np.concatenate(value_l)
    order = np.lexsort((metric, month, acct))
    return pa.table(
        {
            "account_id": book.ids_of(acct[order]),
            "date": _dates(_month_end(book, month[order])),
            "metric": pa.array(metric[order], pa.string()),
            "value": _decimals(value[order]),
        }
    )


def utilisation(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(account, month, licensed seats) of the paying account-months, for tests."""
    g = _grid(book)
    return g.acct, g.month, g.seats


# ----------------------------------------------------------------------------------------------
# milestones


def _milestone_days(book: Book, rng: np.random.Generator) -> dict[str, np.ndarray]:

    g = _grid(book)
    n = book.n
    slow = rng.random(n) < np.where(g.churn_first_year, 0.6, 0.2)
    kickoff = rng.integers(2, 15, n)
    go_live = np.where(slow, rng.integers(60, 151, n), rng.integers(20, 46, n))
    first_value = go_live + rng.integers(5, 31, n)
    start = book.paid_start
    out = {}
    # an account that left before reaching a milestone never reached it
    gone = np.full(n, np.iinfo(np.int64).max)
    ch = g.ev_kind == CHURN
    np.minimum.at(gone, g.ev_acct[ch], g.ev_day[ch])
    for name, offset in zip(MILESTONES, (kickoff, go_live, first_value), strict=True):
        day = start + offset
        ok = (start != NULL) & (day <= book.as_of) & (day < gone)
        out[name] = np.where(ok, day, NULL)
    out["slow"] = slow
    return out


def milestones_table(book: Book, rng: np.random.Generator) -> pa.Table:

    days = _milestone_days(book, rng)
    acct_l, name_l, day_l = [], [], []
    for milestone in MILESTONES:
        i = np.flatnonzero(days[milestone] != NULL)
        acct_l.append(i)
        name_l.append(np.full(len(i), milestone, object))
        day_l.append(days[milestone][i])
    acct, name, day = np.concatenate(acct_l), np.concatenate(name_l), np.concatenate(day_l)
    order = np.lexsort((day, acct))
    return pa.table(
        {
            "account_id": book.ids_of(acct[order]),
            "milestone": pa.array(name[order], pa.string()),
            "achieved_at": _dates(day[order]),
        }
    )


# ----------------------------------------------------------------------------------------------
# tickets


def tickets_table(book: Book, rng: np.random.Generator) -> pa.Table:

    g = _grid(book)
    lam = np.array([0.3, 0.8, 2.0])[book.segment[g.acct]] * book.traits.ticket_rate[g.acct]
    k = rng.poisson(lam)
    acct = np.repeat(g.acct, k)
    month = np.repeat(g.month, k)
    start = _month_start(month)
    opened = start + np.floor(rng.random(len(acct)) * (_month_start(month + 1) - start)).astype(np.int64)
    esc = rng.random(len(acct)) < 0.05
    # before contractions: one to three escalated, high-priority cases 15-90 days ahead
    sel = g.ev_kind == CONTRACTION
    reps = rng.integers(1, 4, sel.sum())
    c_acct = np.repeat(g.ev_acct[sel], reps)
    c_open = np.repeat(g.ev_day[sel], reps) - rng.integers(15, 91, reps.sum())
    c_esc = rng.random(len(c_acct)) < 0.8
    # before churns: a couple of cases, some escalated
    sel = g.ev_kind == CHURN
    reps = rng.integers(0, 3, sel.sum())
    h_acct = np.repeat(g.ev_acct[sel], reps)
    h_open = np.repeat(g.ev_day[sel], reps) - rng.integers(10, 120, reps.sum())
    h_esc = rng.random(len(h_acct)) < 0.3
    # before credible saves: one to three escalated cases 10-60 days ahead
    s_acct, s_day = _credible_saves(book)
    reps = rng.integers(1, 4, len(s_acct))
    v_acct = np.repeat(s_acct, reps)
    v_open = np.repeat(s_day, reps) - rng.integers(10, 61, reps.sum())
    acct = np.r_[acct, c_acct, h_acct, v_acct]
    opened = np.r_[opened, c_open, h_open, v_open]
    esc = np.r_[esc, c_esc, h_esc, np.ones(len(v_acct), bool)]
    planted = np.r_[np.zeros(int(k.sum()), bool), np.ones(len(c_acct) + len(h_acct) + len(v_acct), bool)]
    keep = (opened <= book.as_of) & (opened >= book.first_day[acct])
    acct, opened, esc, planted = acct[keep], opened[keep], esc[keep], planted[keep]
    m = len(acct)
    priority = np.where(esc | (planted & (rng.random(m) < 0.5)), "high", rng.choice(["low", "normal", "normal"], m))
    priority = np.where(esc & (rng.random(m) < 0.3), "urgent", priority)
    days_open = np.where(esc, rng.integers(5, 31, m), np.floor(rng.exponential(2.0, m)).astype(np.int64))
    closed = opened + days_open
    is_closed = closed <= book.as_of
    csat = np.clip(np.round(np.where(esc, rng.normal(2.6, 1.0, m), rng.normal(4.3, 0.7, m))), 1, 5)
    rated = is_closed & (rng.random(m) < 0.4)
    order = np.lexsort((opened, acct))
    acct, opened, esc, priority, closed, is_closed = (
        acct[order], opened[order], esc[order], priority[order], closed[order], is_closed[order]
    )  # fmt: skip
    csat, rated = csat[order], rated[order]

    return pa.table(
        {
            "account_id": book.ids_of(acct),
            "ticket_id": _ids("T", np.arange(1, m + 1), 8),
            "opened_at": _dates(opened),
            "closed_at": _dates(closed, is_closed),
            "priority": pa.array(priority.astype(object), pa.string()),
            "escalated": pa.array(esc),
            "csat": _decimals(csat, rated),
        }
    )


# ----------------------------------------------------------------------------------------------
# activities


def activities_table(book: Book, rng: np.random.Generator) -> pa.Table:

    g = _grid(book)
    n = book.n
    seg = book.segment
    parts: list[tuple[np.ndarray, np.ndarray, str, str]] = []  # (acct, day, type, outcome)
    # onboarding calls: two to four in the first two paid months
    i = np.flatnonzero(book.paid_start != NULL)
    reps = rng.integers(2, 5, len(i))
    a = np.repeat(i, reps)
    parts.append((a, book.paid_start[a] + rng.integers(1, 61, len(a)), "onboarding_call", "completed"))
    # QBRs about quarterly for mid-market and enterprise paying months (60% of quarters held), and
    # now and then for smb (12%: light touch)
    q = (g.month % 3 == 0) & (rng.random(len(g.acct)) < np.array([0.12, 0.6, 0.6])[seg[g.acct]])

    start = _month_start(g.month[q])
    parts.append((g.acct[q], start + rng.integers(0, 28, q.sum()), "qbr", "completed"))
    # exec sponsor meetings twice a year for enterprise; rarer for the accounts that later churn
    p = np.where(g.ever_churn[g.acct], 0.15, 0.45)
    e = (seg[g.acct] == 2) & (g.month % 6 == 1) & (rng.random(len(g.acct)) < p)
    parts.append(
        (g.acct[e], _month_start(g.month[e]) + rng.integers(0, 28, e.sum()), "exec_sponsor_meeting", "completed")
    )
    # EBRs yearly for enterprise
    y = (seg[g.acct] == 2) & (g.month % 12 == 10) & (rng.random(len(g.acct)) < 0.7)
    parts.append((g.acct[y], _month_start(g.month[y]) + rng.integers(0, 28, y.sum()), "ebr", "completed"))
    # a QBR before seat expansions, far more often in mid-market
    sel = (g.ev_kind == EXPANSION) & ~g.ev_usage_only
    share = np.array([0.05, 0.75, 0.30])[seg[g.ev_acct[sel]]]
    hit = rng.random(sel.sum()) < share
    ea = g.ev_acct[sel][hit]
    parts.append((ea, g.ev_day[sel][hit] - rng.integers(20, 61, hit.sum()), "qbr", "expansion_discussed"))
    # a renewal call 30-75 days before each contract end: the renewal committed on it for 70% of
    # the contracts that then renewed and 10% of those that did not
    ln = book.lines
    ends = np.unique(_key(ln["acct"][ln["ce"] != NULL], ln["ce"][ln["ce"] != NULL]))
    r_acct, r_end = ends // _KEY, ends % _KEY
    churn_days: dict[int, list[int]] = {}
    for a, d in zip(g.ev_acct[g.ev_kind == CHURN].tolist(), g.ev_day[g.ev_kind == CHURN].tolist(), strict=True):
        churn_days.setdefault(a, []).append(d)
    lost = np.array([any(abs(d - e) <= 10 for d in churn_days.get(a, ())) for a, e in zip(r_acct, r_end, strict=True)])
    lost = lost.astype(bool) if len(lost) else np.zeros(0, bool)
    committed = rng.random(len(r_acct)) < np.where(lost, 0.1, 0.7)
    call = r_end - rng.integers(30, 76, len(r_acct))
    for flag, result in ((committed, "renewal_committed"), (~committed, "completed")):
        parts.append((r_acct[flag], call[flag], "renewal_call", result))
    # save plays (revbook.sample.plants): credible and hollow
    plan = plan_of(book)
    parts.append((plan.s_acct, plan.s_day, "save_play", "saved"))
    acct = np.concatenate([p_[0] for p_ in parts])
    day = np.concatenate([p_[1] for p_ in parts])
    kind = np.concatenate([np.full(len(p_[0]), p_[2], object) for p_ in parts])
    outcome = np.concatenate([np.full(len(p_[0]), p_[3], object) for p_ in parts])
    no_show = (outcome == "completed") & (rng.random(len(acct)) < 0.05)
    outcome = np.where(no_show, "no_show", outcome)
    keep = (day <= book.as_of) & (day >= book.first_day[acct]) & ~_before_self_serve(book, acct, day)
    acct, day, kind, outcome = acct[keep], day[keep], kind[keep], outcome[keep]
    # the key is (account, date, type): one of each type a day (a planted one wins)
    order = np.lexsort((outcome == "completed", kind, day, acct))
    acct, day, kind, outcome = acct[order], day[order], kind[order], outcome[order]
    dup = np.r_[False, (acct[1:] == acct[:-1]) & (day[1:] == day[:-1]) & (kind[1:] == kind[:-1])]
    acct, day, kind, outcome = acct[~dup], day[~dup], kind[~dup], outcome[~dup]
    del n
    return pa.table(
        {
            "account_id": book.ids_of(acct),
            "date": _dates(day),
            "type": pa.array(kind, pa.string()),
            "outcome": pa.array(outcome, pa.string()),
        }
    )


def _before_self_serve(book: Book, acct: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Rows of (account, day) in the 60 days up to a self-serve expansion of the account."""
    plan = plan_of(book)
    ss = plan.x_source == S_SELF
    keys = np.sort(plan.x_acct[ss] * _DAY + plan.x_day[ss])
    k = acct * _DAY + day
    pos = np.searchsorted(keys, k)
    nxt = keys[np.minimum(pos, len(keys) - 1)] if len(keys) else np.zeros(len(k), np.int64)
    return np.asarray((pos < len(keys)) & (nxt // _DAY == acct) & (nxt - k <= 60))


_DAY = 1_000_000


# ----------------------------------------------------------------------------------------------
# surveys


def surveys_table(book: Book, rng: np.random.Generator) -> pa.Table:

    g = _grid(book)
    asked = rng.random(len(g.acct)) < 0.08
    soon = np.zeros(len(g.acct), bool)
    rows, _ = g.window(CHURN, 6, 0)
    soon[rows] = True
    mean = np.where(soon, 5.0, 8.0)
    score = np.clip(np.round(rng.normal(mean, 1.8)), 0, 10)
    i = np.flatnonzero(asked)
    start = _month_start(g.month[i])
    day = np.minimum(start + rng.integers(0, 28, len(i)), book.as_of)
    # CSAT after some months' support (kind csat, 1-5)
    c = np.flatnonzero(rng.random(len(g.acct)) < 0.03)
    c_day = np.minimum(_month_start(g.month[c]) + rng.integers(0, 28, len(c)), book.as_of)
    c_score = np.clip(np.round(rng.normal(np.where(soon[c], 3.2, 4.2), 0.8)), 1, 5)
    # a detractor's NPS 10-45 days before each credible save
    s_acct, s_day = _credible_saves(book)
    v_day = s_day - rng.integers(10, 46, len(s_acct))
    v_score = rng.integers(2, 6, len(s_acct)).astype(float)
    acct = np.r_[s_acct, g.acct[i], g.acct[c]]
    day = np.r_[v_day, day, c_day]
    kind = np.r_[np.full(len(s_acct) + len(i), "nps", object), np.full(len(c), "csat", object)]
    score_all = np.r_[v_score, score[i], c_score]
    order = np.lexsort((kind, day, acct))
    acct, day, kind, score_all = acct[order], day[order], kind[order], score_all[order]
    dup = np.r_[False, (acct[1:] == acct[:-1]) & (day[1:] == day[:-1]) & (kind[1:] == kind[:-1])]
    acct, day, kind, score_all = acct[~dup], day[~dup], kind[~dup], score_all[~dup]
    comment = np.where(
        kind == "nps",
        np.where(
            score_all >= 9,
            "Great product, the team loves it",
            np.where(score_all <= 6, "Too expensive for what we use", ""),
        ),
        "",
    )
    return pa.table(
        {
            "account_id": book.ids_of(acct),
            "date": _dates(day),
            "kind": pa.array(kind, pa.string()),
            "score": _decimals(score_all),
            "comment": _strings(comment, comment != ""),
        }
    )


# ----------------------------------------------------------------------------------------------
# opportunities


def opportunities_table(book: Book, rng: np.random.Generator) -> pa.Table:

    g = _grid(book)
    seg = book.segment
    # a won deal behind each expansion sourced by a CSM or an AE (revbook.sample.plants), closed up
    # to three weeks before the change; the product's and the self-serve ones have none
    plan = plan_of(book)
    sel = (plan.x_source == S_CSM) | (plan.x_source == S_AE)
    acct = plan.x_acct[sel]
    m = len(acct)
    closed = np.maximum(plan.x_day[sel] - rng.integers(0, 22, m), book.first_day[acct])
    arr = plan.x_usd_cents[sel] * 12 / 100
    source = np.asarray(SOURCES, object)[plan.x_source[sel]]
    role = source
    created = np.maximum(closed - rng.integers(15, 76, m), book.first_day[acct])
    won = np.ones(m, bool)
    kind = np.full(m, "expansion", object)
    stage = np.full(m, "closed_won", object)
    # lost expansion deals: about one for every four won
    lost = np.flatnonzero(rng.random(m) < 0.25)
    l_closed = np.minimum(closed[lost] - rng.integers(60, 240, len(lost)), book.as_of)
    l_arr = np.round(arr[lost] * rng.uniform(0.5, 1.5, len(lost)), 2)
    # open deals on about 10% of accounts paying at the as-of date
    paying = np.flatnonzero(book.active)
    o = paying[rng.random(len(paying)) < 0.10]
    seats = np.zeros(book.n)
    last = g.month == g.last_month
    seats[g.acct[last]] = g.seats[last]
    o_arr = np.round(np.maximum(seats[o], 1) * rng.uniform(0.1, 0.4, len(o)) * 45 * 12, 2)  # 10-40% more seats
    o_created = book.as_of - rng.integers(1, 90, len(o))
    # open renewal deals for contracts ending within 120 days of the as-of date
    ln = book.lines
    soon = (ln["ce"] != NULL) & (ln["ce"] > book.as_of) & (ln["ce"] <= book.as_of + 120) & (ln["end"] == NULL)
    r_acct = np.unique(ln["acct"][soon])
    r_created = book.as_of - rng.integers(1, 60, len(r_acct))
    acct_all = np.r_[acct, acct[lost], o, r_acct]
    created_all = np.r_[created, np.minimum(created[lost], l_closed - 20), o_created, r_created]
    closed_all = np.r_[closed, l_closed, np.full(len(o) + len(r_acct), NULL)]
    won_all = np.r_[won, np.zeros(len(lost), bool), np.zeros(len(o) + len(r_acct), bool)]
    won_valid = np.r_[np.ones(m + len(lost), bool), np.zeros(len(o) + len(r_acct), bool)]
    kind_all = np.r_[kind, np.full(len(lost), "expansion", object), np.full(len(o), "expansion", object)]
    kind_all = np.r_[kind_all, np.full(len(r_acct), "renewal", object)]
    stage_all = np.r_[stage, np.full(len(lost), "closed_lost", object), np.full(len(o), "open", object)]
    stage_all = np.r_[stage_all, np.full(len(r_acct), "open", object)]
    o_source = np.where((seg[o] == 0) & (rng.random(len(o)) < 0.3), "self_serve", "csm")
    source_all = np.r_[source, source[lost], o_source]
    source_all = np.r_[source_all, np.full(len(r_acct), "csm", object)]
    role_all = np.r_[role, role[lost], np.where(o_source == "csm", "csm", "")]
    role_all = np.r_[role_all, np.full(len(r_acct), "csm", object)]
    arr_all = np.r_[arr, l_arr, o_arr, np.zeros(len(r_acct))]
    keep = (created_all >= book.first_day[acct_all]) & (created_all <= book.as_of)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((created_all[order], acct_all[order]))]
    k = len(order)
    return pa.table(
        {
            "account_id": book.ids_of(acct_all[order]),
            "opportunity_id": _ids("O", np.arange(1, k + 1), 8),
            "kind": pa.array(kind_all[order], pa.string()),
            "arr_delta": _decimals(arr_all[order]),
            "stage": pa.array(stage_all[order], pa.string()),
            "created_at": _dates(created_all[order]),
            "closed_at": _dates(closed_all[order], closed_all[order] != NULL),
            "won": pa.array(won_all[order], mask=~won_valid[order]),
            "owner_role": _strings(role_all[order].astype(object), role_all[order] != ""),
            "source": pa.array(source_all[order].astype(object), pa.string()),
        }
    )
