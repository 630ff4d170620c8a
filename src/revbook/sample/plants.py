"""The truths planted in the sample company for "who moved the number" (revbook.impact): who drove
each expansion, the save plays (credible and hollow), and the CSM books handed over at a window start
(a flattered, a strong and a weak CSM). One :class:`Plan` per book, drawn from its own generator
(seed, 4) and cached on the book; the tables (subscriptions, owners, activities, tickets, surveys,
usage, opportunities) read it, and :func:`revbook.sample.truths` reports it.

- **expansions**: every rise of an account's MRR on a day (the lines started that day less those
  ended, the account paying before), in USD at each line's start-date rate. A rise of the usage-priced
  line is the product's (no opportunity). A rise of the other lines is self-serve (no opportunity, no
  touch in the 60 days before) for ``self_serve_share`` of the smb rises that add seats or an add-on,
  else sourced by the CSM (``csm_sourced_share``; the AE on accounts with no CSM) or the AE, with a
  won opportunity closed 0-21 days before; a whale's planted seat addition is the AE's. A day where
  both grew gives one row of each.
- **saves**: on renewals of annual or multi-year contracts that renewed on the day (no churn or
  contraction from 150 days before the save to 120 days after the renewal). Credible: 20-75 days
  before the renewal, after a usage dip to 40-60% over the three months before (recovering after),
  one to three escalated high-priority cases, an NPS of 2-5 and a cancellation requested on the line
  later renewed. Hollow: 90-200 days before the renewal of a healthy account (utilisation 70%+, a low
  case rate), nothing planted.
- **CSM books** on the month end ``csm_window_months`` before the last month end on or before as_of
  (revbook's CSM impact window), of accounts paying then for 180 days or more:
  the flattered CSM (Enterprise team) gets the enterprise accounts whose traits and contract look
  safest (annual or multi-year, high utilisation, few cases), not chosen by outcome; the strong CSM
  (Mid-Market) the riskiest-looking mid-market accounts (the riskiest quarter), ``strong_kept_share`` of
  them ones that kept all their revenue through the window (no churn, no contraction), the rest ones
  that churned; the weak CSM (Mid-Market) the others (they look average or safer),
  ``weak_kept_share`` of them ones that did not churn, the rest ones that did. Each gets about a
  CSM's usual book (the segment's accounts paying at the window start over the team's CSMs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._util import NULL, _month_of, _month_start, running_per_account
from .events import CHURN, CONTRACTION, events
from .settings import K_ADDON, K_CORE, K_SEATS, K_TRIAL, K_USAGE
from .simulation import Book

__all__ = ["SOURCES", "Plan", "line_mrr", "plan_of", "team_sizes"]

SOURCES = ("csm", "ae", "product", "self_serve")
S_CSM, S_AE, S_PRODUCT, S_SELF = range(4)
_DAY_KEY = 1_000_000  # days fit below this in a combined (account, day) key


@dataclass(frozen=True)
class Plan:
    """What is planted; account numbers are 0-based, days int64 since 1970-01-01."""

    #: expansions: (account, day, source code into SOURCES, USD cents of MRR added)
    x_acct: np.ndarray
    x_day: np.ndarray
    x_source: np.ndarray
    x_usd_cents: np.ndarray
    #: saves: (account, day, credible, renewal day); cancellations: (line index, day requested)
    s_acct: np.ndarray
    s_day: np.ndarray
    s_credible: np.ndarray
    s_renewal: np.ndarray
    cancel_line: np.ndarray
    cancel_day: np.ndarray
    #: smb accounts with a CSM (every mid_market and enterprise account has one)
    covered: np.ndarray
    #: the CSM window's start day and the books handed over on it: role -> account numbers
    window_start: int
    books: dict[str, np.ndarray]


def team_sizes(book: Book) -> np.ndarray:
    """CSMs per team (smb, mid_market, enterprise): one per ``csm_accounts`` managed, at least 4 in all."""
    cfg = book.config
    managed = np.array(
        [cfg.smb_csm_share * (book.segment == 0).sum(), (book.segment == 1).sum(), (book.segment == 2).sum()], float
    )
    total = max(4, math.ceil(managed.sum() / cfg.csm_accounts))
    per_team = np.maximum(1, np.floor(total * managed / max(managed.sum(), 1))).astype(int)
    while per_team.sum() < total:
        per_team[np.argmax(managed / per_team)] += 1
    sizes: np.ndarray = per_team
    return sizes


def line_mrr(book: Book) -> np.ndarray:
    """Each line's MRR in local cents (0 for trials), as the ledger prices it."""
    ln = book.lines
    kind = ln["kind"]
    seat = ln["unit"] * ln["qty"] / np.maximum(ln["bp"], 1) * (100 - ln["disc"]) / 100
    addon = ln["amount"] / np.maximum(ln["bp"], 1)
    mrr = np.where(kind == K_USAGE, ln["mrr"], np.where(kind == K_ADDON, addon, seat)).astype(float)
    return np.where(kind == K_TRIAL, 0.0, mrr)


def _usd_rate(book: Book) -> np.ndarray:
    """Each line's rate to USD (x 1e6) on its start date: the latest monthly rate on or before it."""
    ln = book.lines
    rate = np.full(len(ln["acct"]), 1_000_000, np.int64)
    codes = book.currency_codes[ln["acct"]] if len(ln["acct"]) else np.zeros(0, object)
    for cur, (dates, rates) in book.fx.items():
        on = codes == cur
        pos = np.clip(np.searchsorted(dates, ln["start"][on], side="right") - 1, 0, len(dates) - 1)
        rate[on] = rates[pos]
    return rate


def _expansions(book: Book, rng: np.random.Generator, covered: np.ndarray) -> tuple[np.ndarray, ...]:
    cfg, ln = book.config, book.lines
    mrr = line_mrr(book)
    usd = np.round(mrr * _usd_rate(book) / 1e6)
    kind = ln["kind"]
    ok = mrr > 0
    ends = ok & (ln["end"] != NULL)
    usage = kind == K_USAGE
    seats = np.where((kind == K_CORE) | (kind == K_SEATS), ln["qty"], 0)
    acct = np.r_[ln["acct"][ok], ln["acct"][ends]]
    day = np.r_[ln["start"][ok], ln["end"][ends]]
    d_local = np.r_[mrr[ok], -mrr[ends]]
    d_usd = np.r_[usd[ok], -usd[ends]]
    is_usage = np.r_[usage[ok], usage[ends]]
    d_seats = np.r_[seats[ok], -seats[ends]]
    addon_start = np.r_[kind[ok] == K_ADDON, np.zeros(ends.sum(), bool)]
    key = acct * _DAY_KEY + day
    uniq, inv = np.unique(key, return_inverse=True)
    m = len(uniq)
    net = np.bincount(inv, weights=d_local, minlength=m)
    u_usd = np.bincount(inv, weights=np.where(is_usage, d_usd, 0), minlength=m)
    net_usd = np.bincount(inv, weights=d_usd, minlength=m)
    dq = np.bincount(inv, weights=d_seats, minlength=m)
    added = np.bincount(inv, weights=addon_start, minlength=m) > 0
    c_acct, c_day = uniq // _DAY_KEY, uniq % _DAY_KEY
    first = np.r_[True, c_acct[1:] != c_acct[:-1]] if m else np.zeros(0, bool)
    before = np.round(running_per_account(net, first) - net, 2)
    rise = (before > 0.5) & (net > 0.5)
    o_usd = net_usd - u_usd
    prod = rise & (u_usd > 0) & (net_usd > 0)
    other = rise & (o_usd > 0) & (net_usd > 0)
    p_amt = np.where(o_usd > 0, u_usd, net_usd)
    o_amt = np.where(u_usd > 0, o_usd, net_usd)
    # who sourced the rises of the other lines
    r = rng.random(m)
    smb = book.segment[c_acct] == 0
    self_ok = smb & ((dq > 0) | added)
    has_csm = covered[c_acct]
    by_csm = has_csm & (rng.random(m) < cfg.csm_sourced_share)
    src = np.where(self_ok & (r < cfg.self_serve_share), S_SELF, np.where(by_csm, S_CSM, S_AE))
    whale = np.isin(uniq, book.whales["acct"] * _DAY_KEY + book.whales["day"])
    src = np.where(whale, S_AE, src)
    x_acct = np.r_[c_acct[prod], c_acct[other]]
    x_day = np.r_[c_day[prod], c_day[other]]
    x_src = np.r_[np.full(prod.sum(), S_PRODUCT), src[other]]
    x_amt = np.r_[p_amt[prod], o_amt[other]]
    keep = (x_amt > 0) & (x_day <= book.as_of)
    o = np.lexsort((x_src[keep], x_day[keep], x_acct[keep]))
    return x_acct[keep][o], x_day[keep][o], x_src[keep][o], x_amt[keep][o].astype(np.int64)


def _renewals(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line index, account, day) of core lines that ended at their contract end and renewed that day."""
    ln = book.lines
    core = ln["kind"] == K_CORE
    starts = set((ln["acct"][core] * _DAY_KEY + ln["start"][core]).tolist())
    ended = np.flatnonzero(core & (ln["ce"] != NULL) & (ln["end"] == ln["ce"]))
    renewed = np.array([k in starts for k in (ln["acct"][ended] * _DAY_KEY + ln["end"][ended]).tolist()], bool)
    i = ended[renewed] if len(ended) else ended
    return i, ln["acct"][i], ln["end"][i]


def _saves(book: Book, rng: np.random.Generator, ev: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    cfg, ln, tr = book.config, book.lines, book.traits
    line, acct, renewal = _renewals(book)
    n_all = round(cfg.save_share * book.n)
    n_cred = round(n_all * cfg.credible_save_share)
    n_hollow = n_all - n_cred
    lead_cred = rng.integers(20, 76, len(acct))
    lead_hollow = rng.integers(90, 201, len(acct))
    cancel_lag = rng.integers(3, 21, len(acct))
    ev_acct, ev_day, ev_kind = ev[0], ev[1], ev[2]
    bad = (ev_kind == CHURN) | (ev_kind == CONTRACTION)
    b_acct, b_day = ev_acct[bad], ev_day[bad]

    def clean(s: np.ndarray) -> np.ndarray:
        """No churn or contraction from 150 days before s to 120 days after the renewal."""
        lo = s - 150
        hi = renewal + 120
        order = np.argsort(b_acct * _DAY_KEY + b_day)
        kb = (b_acct * _DAY_KEY + b_day)[order]
        first = np.searchsorted(kb, acct * _DAY_KEY + lo)
        last = np.searchsorted(kb, acct * _DAY_KEY + hi, side="right")
        return np.asarray(last == first)

    base = (renewal <= book.as_of - 30) & (renewal >= book.as_of - 1000) & ~np.isin(acct, book.whales["acct"])
    s_cred = renewal - lead_cred
    s_hollow = renewal - lead_hollow
    line_start = ln["start"][line]
    ok_cred = base & clean(s_cred) & (s_cred - 120 >= book.paid_start[acct]) & (s_cred - 30 > line_start)
    ok_hollow = base & clean(s_hollow) & (s_hollow - 120 >= book.paid_start[acct]) & (s_hollow > line_start)
    ok_hollow &= (tr.utilisation[acct] >= 0.7) & (tr.ticket_rate[acct] <= 1.2)
    # one save per account: a random order, first come
    order = rng.permutation(len(acct))
    taken = np.zeros(book.n, bool)
    cred: list[int] = []
    hollow: list[int] = []
    for i in order.tolist():
        a = int(acct[i])
        if taken[a]:
            continue
        if ok_cred[i] and len(cred) < n_cred:
            cred.append(i)
            taken[a] = True
        elif ok_hollow[i] and len(hollow) < n_hollow:
            hollow.append(i)
            taken[a] = True
        if len(cred) >= n_cred and len(hollow) >= n_hollow:
            break
    c, h = np.array(cred, np.int64), np.array(hollow, np.int64)
    s_acct = np.r_[acct[c], acct[h]]
    s_day = np.r_[s_cred[c], s_hollow[h]]
    credible = np.r_[np.ones(len(c), bool), np.zeros(len(h), bool)]
    o = np.lexsort((s_day, s_acct))
    cancel_day = np.maximum(s_cred[c] - cancel_lag[c], line_start[c] + 1)
    return s_acct[o], s_day[o], credible[o], np.r_[renewal[c], renewal[h]][o], line[c], cancel_day


def window(book: Book) -> tuple[int, int]:
    """The CSM window: from the month end ``csm_window_months`` before the last month end on or
    before as_of, to that month end (the default window of revbook's CSM impact)."""
    as_of = np.array([book.as_of])
    last = int(_month_start(_month_of(as_of + 1))[0]) - 1  # the last month end on or before as_of
    start = int(_month_start(_month_of(np.array([last])) + 1 - book.config.csm_window_months)[0]) - 1
    return start, last


def _paying_on(book: Book, day: int) -> np.ndarray:
    ln = book.lines
    on = (ln["kind"] != K_TRIAL) & (ln["start"] <= day) & ((ln["end"] == NULL) | (ln["end"] > day))
    out = np.zeros(book.n, bool)
    out[ln["acct"][on]] = True
    return out


def _books(book: Book, rng: np.random.Generator, ev: tuple[np.ndarray, ...]) -> tuple[int, dict[str, np.ndarray]]:
    cfg, ln, tr = book.config, book.lines, book.traits
    w, end = window(book)
    sizes = team_sizes(book)
    paying = _paying_on(book, w)
    upgraded = np.zeros(book.n, bool)
    upgraded[book.upgrades["acct"]] = True
    cand = paying & (book.paid_start != NULL) & (book.paid_start <= w - 180) & ~upgraded
    cand[book.whales["acct"]] = False
    # the contract running at the window start: monthly, annual or multi-year
    core = (ln["kind"] == K_CORE) & (ln["start"] <= w) & ((ln["end"] == NULL) | (ln["end"] > w))
    monthly = np.ones(book.n, bool)
    multi = np.zeros(book.n, bool)
    monthly[ln["acct"][core]] = ln["ce"][core] == NULL
    multi[ln["acct"][core]] = (ln["ce"][core] != NULL) & (ln["ce"][core] - ln["start"][core] > 400)
    looks = tr.risk + 1.0 * monthly - 0.7 * multi  # how risky the account looks at the window start
    ev_acct, ev_day, ev_kind = ev[0], ev[1], ev[2]
    # outcomes over the window: churned (left, or not paying at as_of); lost revenue (churned or contracted)
    inside = (ev_day > w) & (ev_day <= end)
    churned = ~_paying_on(book, end)
    churned[ev_acct[inside & (ev_kind == CHURN)]] = True
    lost = churned.copy()
    lost[ev_acct[inside & (ev_kind == CONTRACTION)]] = True
    books: dict[str, np.ndarray] = {}

    def book_size(seg: int) -> int:
        return max(5, round(int((paying & (book.segment == seg)).sum()) / max(int(sizes[seg]), 1)))

    if sizes[2] >= 2:
        ent = np.flatnonzero(cand & (book.segment == 2) & ~monthly)
        books["flattered"] = np.sort(ent[np.argsort(looks[ent], kind="stable")[: book_size(2)]])
    if sizes[1] >= 2:
        mm = np.flatnonzero(cand & (book.segment == 1))
        ranked = mm[np.argsort(-looks[mm], kind="stable")]
        risky = ranked[: max(1, int(0.25 * len(ranked)))]
        k = book_size(1)
        books["strong"] = _mix(rng, risky[~lost[risky]], risky[churned[risky]], k, cfg.strong_kept_share)
        if cfg.plant_weak_csm and sizes[1] >= 3:
            rest = ranked[int(0.25 * len(ranked)) :]
            books["weak"] = _mix(rng, rest[~churned[rest]], rest[churned[rest]], k, cfg.weak_kept_share)
    return w, books


def _mix(rng: np.random.Generator, kept: np.ndarray, lost: np.ndarray, k: int, share_kept: float) -> np.ndarray:
    """k accounts, share_kept of them from kept (as far as there are), the rest from lost."""
    n_kept = min(len(kept), round(k * share_kept))
    n_lost = min(len(lost), k - n_kept)
    pick = np.r_[rng.choice(kept, n_kept, replace=False), rng.choice(lost, n_lost, replace=False)]
    return np.sort(pick.astype(np.int64))


def _plan(book: Book) -> Plan:
    cfg = book.config
    rng = np.random.default_rng([cfg.seed, 4])
    covered = (book.segment > 0) | (rng.random(book.n) < cfg.smb_csm_share)
    ev = events(book)
    x_acct, x_day, x_source, x_usd = _expansions(book, rng, covered)
    s_acct, s_day, s_credible, s_renewal, cancel_line, cancel_day = _saves(book, rng, ev)
    w, books = _books(book, rng, ev)
    return Plan(
        x_acct, x_day, x_source, x_usd, s_acct, s_day, s_credible, s_renewal, cancel_line, cancel_day,
        covered=covered, window_start=w, books=books,
    )  # fmt: skip


def plan_of(book: Book) -> Plan:
    """The book's plan, drawn once and kept on it."""
    cached = vars(book).get("_plan")
    if cached is None:
        cached = _plan(book)
        vars(book)["_plan"] = cached
    return cached
