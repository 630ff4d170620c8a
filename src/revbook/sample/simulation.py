"""The accounts' lives: signups, trials, renewals, churns, reactivations, seat and price changes,
add-ons and usage lines, simulated month by month into a :class:`Book`; the FX rates and the
industry reclassifications drawn beside it; :func:`build` puts them together."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ._util import NULL, _day_of, _days, _dom_of, _ids, _month_index, _month_of, _month_start
from .settings import (
    ADDONS,
    INDUSTRIES,
    K_ADDON,
    K_CORE,
    K_SEATS,
    K_TRIAL,
    K_USAGE,
    SEAT_PRICE_USD,
    SampleConfig,
    _approx_rate,
    _config,
)
from .traits import Traits, traits


class _Lines:
    """Subscription lines as they are emitted, one block of numpy arrays per event."""

    COLUMNS: tuple[str, ...] = ("acct", "life", "kind", "start", "end", "product", "plan", "unit", "qty", "bp")
    COLUMNS += ("amount", "mrr", "disc", "ce", "cancel")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def emit(self, **cols: np.ndarray | int) -> None:
        n = len(np.asarray(cols["acct"]))
        if n == 0:
            return
        block = {}
        for c in self.COLUMNS:
            v = cols.get(c, NULL if c in ("end", "ce", "cancel", "unit", "amount", "mrr", "plan") else 0)
            block[c] = np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy()
        self.blocks.append(block)

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.blocks:
            return {c: np.zeros(0, np.int64) for c in self.COLUMNS}
        out = {c: np.concatenate([b[c] for b in self.blocks]) for c in self.COLUMNS}
        order = np.lexsort((out["kind"], out["start"], out["acct"]))
        return {c: v[order] for c, v in out.items()}


@dataclass
class Book:
    """The sample company's state: per-account arrays (index = account number - 1) and emitted lines.

    Money is int64 cents of the account's currency; quantities are whole units; dates are int64
    days since 1970-01-01 with ``NULL`` (-1) for none. A later table builder reads what it needs here.
    """

    config: SampleConfig
    n: int
    as_of: int
    segment: np.ndarray  # the segment at signup (drives the simulation)
    segment_now: np.ndarray
    region: np.ndarray
    currency: np.ndarray  # index into config.currencies
    industry: np.ndarray
    created: np.ndarray
    first_day: np.ndarray  # first line (trial or paid)
    paid_start: np.ndarray  # first paid day, NULL if never
    churn_day: np.ndarray  # last churn day, NULL if never churned
    active: np.ndarray  # paying at as_of
    #: the accounts' traits (utilisation, support load), drawn before their lives
    traits: Traits
    #: (account, day) of the whales' planted seat additions
    whales: dict[str, np.ndarray] = field(default_factory=dict)
    lines: dict[str, np.ndarray] = field(default_factory=dict)
    #: (account, day, new segment) of upgrades
    upgrades: dict[str, np.ndarray] = field(default_factory=dict)
    fx: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: (account, day, old, new) of industry reclassifications; ``industry`` keeps the first value
    industry_changes: dict[str, np.ndarray] = field(default_factory=dict)
    account_ids: pa.Array | None = None

    @property
    def currency_codes(self) -> np.ndarray:
        codes: np.ndarray = np.array(self.config.currencies, dtype=object)[self.currency]
        return codes

    def ids_of(self, acct: np.ndarray) -> pa.Array:
        """The account ids of account numbers (0-based indices)."""
        assert self.account_ids is not None
        return self.account_ids.take(pa.array(acct))


def _fx_series(cfg: SampleConfig, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Monthly rates to USD on the first of each month from the month before start to as_of."""
    months = np.arange(_month_index(cfg.start) - 1, _month_index(cfg.as_of) + 1)
    bands = {c: (lo, hi) for c, lo, hi in cfg.fx_bands}
    out = {}
    for cur in cfg.currencies:
        if cur == "USD":
            continue
        lo, hi = bands.get(cur, (0.9, 1.1))
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        x = np.empty(len(months))
        x[0] = rng.normal(0, 0.5)
        shocks = rng.normal(0, 0.25, len(months))
        for i in range(1, len(months)):  # a mean-reverting walk, squashed into the band
            x[i] = 0.92 * x[i - 1] + shocks[i]
        out[cur] = (_month_start(months), np.round((mid + half * np.tanh(x)) * 1e6).astype(np.int64))  # x 1e6
    return out


# ----------------------------------------------------------------------------------------------
# the simulation


def _simulate(cfg: SampleConfig, rng: np.random.Generator, tr: Traits) -> Book:
    n = cfg.accounts
    as_of = _days(cfg.as_of)
    m0, m_end = _month_index(cfg.start), _month_index(cfg.as_of)
    seg_p = np.asarray(cfg.segment_mix, float) / sum(cfg.segment_mix)

    # --- who the accounts are
    months = np.arange(m0, m_end + 1)
    w = (1 + cfg.signup_growth) ** np.arange(len(months), dtype=float)
    first_m = _month_start(months[-1:])[0]
    w[-1] *= (as_of - first_m + 1) / 30.0
    sm = rng.choice(months, size=n, p=w / w.sum())
    lo = _month_start(sm)
    hi = np.minimum(_month_start(sm + 1) - 1, as_of)
    first_day = np.sort(lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64))
    segment = rng.choice(3, size=n, p=seg_p)
    region = rng.choice(3, size=n, p=np.asarray(cfg.region_mix, float) / sum(cfg.region_mix))
    industry = rng.integers(0, len(INDUSTRIES), n)
    curs = list(cfg.currencies)
    home = curs.index("USD") if "USD" in curs else 0
    foreign = [i for i, c in enumerate(curs) if i != home] or [home]
    fw = np.array([0.6 if curs[i] == "EUR" else 0.4 if curs[i] == "GBP" else 0.3 for i in foreign])
    currency = np.where(region == 1, np.asarray(foreign)[rng.choice(len(foreign), size=n, p=fw / fw.sum())], home)
    rate = np.array([_approx_rate(cfg, c) for c in curs])[currency]

    # trials: smb accounts start with a free line; most convert when it ends
    trial = (segment == 0) & (rng.random(n) < cfg.trial_share)
    trial_len = rng.integers(14, 31, n)
    converts = rng.random(n) < cfg.trial_conversion
    paid_start = np.where(trial, first_day + trial_len, first_day)
    paying = ~trial | (converts & (paid_start <= as_of))
    paid_start = np.where(paying, paid_start, NULL)
    lag = np.where(segment == 0, rng.integers(0, 11, n), np.where(segment == 1, rng.integers(7, 61, n), 0))
    lag = np.where(segment == 2, rng.integers(20, 121, n), lag)
    created = first_day - lag

    # prices: core ARR drawn in USD, seats at the plan's local list price (whole currency units)
    lo_b = np.array([b[0] for b in cfg.arr_bands])[segment]
    hi_b = np.array([b[1] for b in cfg.arr_bands])[segment]
    med = np.asarray(cfg.arr_median, float)[segment]
    sigma = np.array([0.55, 0.45, 0.9])[segment]
    arr = np.clip(med * np.exp(rng.normal(0, 1, n) * sigma), lo_b, hi_b)
    arr = np.where(segment == 2, np.clip(lo_b * np.exp(rng.exponential(0.75, n)), lo_b, hi_b), arr)
    plan = np.where(segment == 0, rng.integers(0, 2, n), segment + 1)
    seat_usd = np.asarray(SEAT_PRICE_USD)[plan]
    seat_price = np.round(seat_usd / rate) * 100  # cents per seat per month, local
    qty = np.maximum(1, np.round(arr / 12 / seat_usd)).astype(np.int64)
    seat_price = seat_price.astype(np.int64)
    annual = rng.random(n) < np.asarray(cfg.annual_share)[segment]
    multi = annual & (segment == 2) & (rng.random(n) < cfg.multi_year_share)
    term = np.where(annual, np.where(multi, rng.choice([24, 36], n), 12), 1)
    bp = np.where(multi & (rng.random(n) < 0.5), 12, term)  # half of multi-year deals bill yearly
    disc = np.where(
        rng.random(n) < np.asarray(cfg.discount_share)[segment], rng.choice(cfg.discount_choices, n), 0
    ).astype(np.int64)
    addon_prod = rng.integers(0, len(ADDONS), n)
    addon_usd = np.array([[99, 199, 0], [490, 990, 0], [2000, 4000, 0]], float)[segment, addon_prod.clip(0, 1)]
    addon_price = np.round(np.where(addon_prod == 2, qty * seat_usd * 0.15, addon_usd) / rate) * 100
    addon_price = addon_price.astype(np.int64)  # cents per month, local
    has_usage = rng.random(n) < np.asarray(cfg.usage_share)[segment]
    usage0 = np.round(qty * seat_price * rng.uniform(*cfg.usage_size, n)).astype(np.int64)

    # --- the state of each account's open lines
    dom = _dom_of(np.where(paying, paid_start, first_day))
    pm = np.where(paying, _month_of(np.where(paying, paid_start, 0)), -1)
    active = np.zeros(n, bool)
    life = np.zeros(n, np.int64)
    next_dec = np.full(n, -1, np.int64)
    react_m = np.full(n, -1, np.int64)
    churn_day = np.full(n, NULL, np.int64)
    core_start = np.full(n, NULL, np.int64)
    ce = np.full(n, NULL, np.int64)
    x_on, x_start, x_qty = np.zeros(n, bool), np.full(n, NULL, np.int64), np.zeros(n, np.int64)
    a_on, a_start = np.zeros(n, bool), np.full(n, NULL, np.int64)
    u_on, u_start, u_mrr = np.zeros(n, bool), np.full(n, NULL, np.int64), usage0.copy()
    u_next = np.full(n, -1, np.int64)
    seg_now = segment.copy()
    up_acct: list[np.ndarray] = []
    up_day: list[np.ndarray] = []
    up_seg: list[np.ndarray] = []
    lines = _Lines()
    band_hi = np.array([b[1] for b in cfg.arr_bands]) * 100
    whale = np.zeros(n, bool)
    whale_month = m_end - cfg.whale_months_back
    whale_day = np.full(n, NULL, np.int64)

    # trial lines
    t = np.flatnonzero(trial)
    t_end = first_day[t] + trial_len[t]
    lines.emit(
        acct=t, life=0, kind=K_TRIAL, start=first_day[t], end=np.where(t_end <= as_of, t_end, NULL),
        product=0, plan=plan[t], unit=0, qty=qty[t], bp=1,
    )  # fmt: skip

    def emit_core(i: np.ndarray, end: np.ndarray | int, cancel: np.ndarray | int = NULL) -> None:
        lines.emit(
            acct=i, life=life[i], kind=K_CORE, start=core_start[i], end=end, product=0, plan=plan[i],
            unit=seat_price[i] * bp[i], qty=qty[i], bp=bp[i], disc=disc[i], ce=ce[i], cancel=cancel,
        )  # fmt: skip

    def emit_seats(i: np.ndarray, end: np.ndarray | int) -> None:
        lines.emit(
            acct=i, life=life[i], kind=K_SEATS, start=x_start[i], end=end, product=0, plan=plan[i],
            unit=seat_price[i] * bp[i], qty=x_qty[i], bp=bp[i], disc=disc[i], ce=ce[i],
        )  # fmt: skip

    def emit_addon(i: np.ndarray, end: np.ndarray | int) -> None:
        abp = np.minimum(bp[i], 12)
        lines.emit(
            acct=i, life=life[i], kind=K_ADDON, start=a_start[i], end=end, product=1 + addon_prod[i],
            amount=addon_price[i] * abp, bp=abp, ce=np.where(bp[i] > 1, ce[i], NULL),
        )  # fmt: skip

    def emit_usage(i: np.ndarray, end: np.ndarray | int) -> None:
        lines.emit(acct=i, life=life[i], kind=K_USAGE, start=u_start[i], end=end, product=4, mrr=u_mrr[i], bp=1)

    def close_all(i: np.ndarray, d: np.ndarray, cancel: np.ndarray) -> None:
        emit_core(i, d, cancel)
        for on, emit in ((x_on, emit_seats), (a_on, emit_addon), (u_on, emit_usage)):
            j = on[i]
            emit(i[j], d[j])
            on[i[j]] = False

    def open_account(i: np.ndarray, d: np.ndarray, k: int) -> None:
        active[i] = True
        core_start[i] = d
        ce[i] = np.where(term[i] > 1, _day_of(k + term[i], dom[i]), NULL)
        next_dec[i] = k + term[i]

    for k in range(m0, m_end + 1):
        # 1. new accounts start paying
        i = np.flatnonzero(pm == k)
        if len(i):
            open_account(i, paid_start[i], k)
            j = i[rng.random(len(i)) < np.asarray(cfg.addon_at_signup)[segment[i]]]
            a_on[j], a_start[j] = True, paid_start[j]
            j = i[has_usage[i]]
            u_on[j], u_start[j], u_next[j] = True, paid_start[j], k + 3

        # 2. churned accounts come back
        i = np.flatnonzero(react_m == k)
        if len(i):
            react_m[i] = -1
            d = _day_of(np.full(len(i), k), rng.integers(1, 29, len(i)))
            i, d = i[d <= as_of], d[d <= as_of]
            life[i] += 1
            dom[i] = _dom_of(d)
            qty[i] = np.maximum(1, np.round(qty[i] * rng.uniform(0.5, 1.0, len(i)))).astype(np.int64)
            term[i], bp[i] = 1, 1
            open_account(i, d, k)

        # 3. decisions: every month on monthly contracts, at renewal on annual ones
        due = np.flatnonzero(active & (next_dec == k))
        d = _day_of(np.full(len(due), k), dom[due])
        due, d = due[d <= as_of], d[d <= as_of]
        r = rng.random(len(due))
        monthly = term[due] == 1
        sg = segment[due]
        p_churn = np.where(monthly, np.asarray(cfg.monthly_churn)[sg], np.asarray(cfg.renewal_churn)[sg])
        p_churn = np.where(whale[due], 0.0, np.minimum(p_churn * tr.churn_factor[due], 0.9))
        gone = r < p_churn
        i, dg = due[gone], d[gone]
        if len(i):
            ask = rng.random(len(i)) < cfg.cancel_request_share
            cancel = dg - rng.integers(3, 61, len(i))
            cancel = np.where(ask & (cancel > core_start[i]), cancel, NULL)
            close_all(i, dg, cancel)
            active[i] = False
            churn_day[i] = dg
            back = (segment[i] == 0) & (rng.random(len(i)) < cfg.reactivation_share)
            react_m[i[back]] = k + rng.integers(2, 10, back.sum())
        stay, ds, mo = due[~gone], d[~gone], monthly[~gone]
        if len(stay):
            sg = segment[stay]
            r = rng.random(len(stay))
            p_e = np.where(mo, np.asarray(cfg.monthly_expansion)[sg], np.asarray(cfg.renewal_expansion)[sg])
            p_c = np.where(mo, np.asarray(cfg.monthly_contraction)[sg], np.asarray(cfg.renewal_contraction)[sg])
            p_c = np.where(whale[stay], 0.0, np.minimum(p_c * tr.churn_factor[stay], 1 - p_e))
            grow = 1.1 + np.minimum(rng.pareto(cfg.expansion_tail, len(stay)) * 0.35, 4.0)
            shrink = rng.uniform(0.5, 0.9, len(stay))
            factor = np.where(r < p_e, grow, np.where(r < p_e + p_c, shrink, 1.0))
            new_qty = np.maximum(1, np.round(qty[stay] * factor)).astype(np.int64)
            new_qty = np.minimum(new_qty, qty[stay] * 5)
            ren = ~mo
            new_qty = new_qty + np.where(ren & x_on[stay], x_qty[stay], 0)
            changed = ren | (new_qty != qty[stay])
            i, dc, ren = stay[changed], ds[changed], ren[changed]
            # late renewal: every line restarts a few days later
            gap = np.where(ren & (rng.random(len(i)) < cfg.late_renewal_share), rng.integers(1, 11, len(i)), 0)
            gap = np.where(dc + gap <= as_of, gap, 0)
            ns = dc + gap
            emit_core(i, dc)
            ir, dr, nr = i[ren], dc[ren], ns[ren]
            hx, ha, hu = x_on[ir], a_on[ir], u_on[ir]
            emit_seats(ir[hx], dr[hx])
            x_on[ir[hx]] = False
            j_a, j_u = ir[ha], ir[hu]
            emit_addon(j_a, dr[ha])
            emit_usage(j_u, dr[hu])
            # new terms
            qty[i] = new_qty[changed]
            up = ren & (rng.random(len(i)) < cfg.price_uplift_share)
            seat_price[i[up]] = np.round(seat_price[i[up]] * (1 + rng.uniform(*cfg.price_uplift, up.sum())), -2).astype(
                np.int64
            )
            drop = ren & (disc[i] > 0) & (rng.random(len(i)) < cfg.discount_drop)
            disc[i[drop]] = 0
            core_start[i] = ns
            ce[ir] = _day_of(k + term[ir], dom[ir])
            a_on[j_a] = rng.random(len(j_a)) >= cfg.addon_drop
            a_start[j_a] = nr[ha]
            u_start[j_u] = nr[hu]
            # monthly contracts may drop their add-on at a decision
            dropm = mo & a_on[stay] & (rng.random(len(stay)) < cfg.addon_drop / 12)
            emit_addon(stay[dropm], ds[dropm])
            a_on[stay[dropm]] = False
            # an account that outgrew its segment's band moves up
            arr_usd = qty[i] * seat_price[i] * rate[i] * 12 * (100 - disc[i]) / 100  # USD cents
            upg = (seg_now[i] < 2) & (arr_usd > band_hi[seg_now[i]])
            if upg.any():
                seg_now[i[upg]] += 1
                up_acct.append(i[upg])
                up_day.append(ns[upg])
                up_seg.append(seg_now[i[upg]])
        next_dec[due] = k + term[due]

        # 4. mid-term events on accounts without a decision or a start this month
        quiet = active & (core_start < _month_start(np.array([k]))[0])
        quiet[due] = False
        q = np.flatnonzero(quiet)
        day = _day_of(np.full(len(q), k), rng.integers(1, 29, len(q)))
        q, day = q[day <= as_of], day[day <= as_of]
        r = rng.random(len(q))
        add = ~a_on[q] & (r < np.asarray(cfg.addon_rate)[segment[q]])
        a_on[q[add]], a_start[q[add]] = True, day[add]
        r = rng.random(len(q))
        seats = (term[q] > 1) & ~x_on[q] & (r < np.asarray(cfg.seat_addition_rate)[segment[q]])
        j = q[seats]
        x_on[j], x_start[j] = True, day[seats]
        x_qty[j] = np.maximum(1, np.round(qty[j] * rng.uniform(0.1, 0.5, len(j)))).astype(np.int64)
        if k == whale_month and cfg.whales > 0:
            # whales: the largest enterprise accounts paying for over a year add many seats mid-term
            can = (segment[q] == 2) & (term[q] > 1) & ~x_on[q] & (paid_start[q] < day - 400)
            j = q[can]
            size = qty[j] * seat_price[j] * rate[j]
            pick = np.argsort(-size, kind="stable")[: cfg.whales]
            j, dj = j[pick], day[can][pick]
            x_on[j], x_start[j], whale[j], whale_day[j] = True, dj, True, dj
            x_qty[j] = np.maximum(1, np.round(qty[j] * rng.uniform(*cfg.whale_seats, len(j)))).astype(np.int64)
        # usage re-priced every quarter on the anniversary day
        j = np.flatnonzero(u_on & (u_next == k))
        dj = _day_of(np.full(len(j), k), dom[j])
        j, dj = j[(dj <= as_of) & (dj > u_start[j])], dj[(dj <= as_of) & (dj > u_start[j])]
        emit_usage(j, dj)
        step = np.exp(rng.normal(cfg.usage_growth, cfg.usage_volatility, len(j)))
        u_mrr[j] = np.maximum(100, np.round(u_mrr[j] * step)).astype(np.int64)
        u_start[j] = dj
        u_next[u_on & (u_next == k)] = k + 3

    # --- open lines at as_of: null end; a few ongoing annual lines have a pending cancellation
    i = np.flatnonzero(active)
    pend = (ce[i] > as_of) & (ce[i] - as_of <= 120) & (rng.random(len(i)) < cfg.pending_cancel_share)
    cancel = as_of - rng.integers(0, 31, len(i))
    emit_core(i, NULL, np.where(pend & (cancel > core_start[i]), cancel, NULL))
    emit_seats(i[x_on[i]], NULL)
    emit_addon(i[a_on[i]], NULL)
    emit_usage(i[u_on[i]], NULL)

    book = Book(
        config=cfg, n=n, as_of=as_of, segment=segment, segment_now=seg_now, region=region,
        currency=currency, industry=industry, created=created, first_day=first_day,
        paid_start=paid_start, churn_day=churn_day, active=active, traits=tr,
    )  # fmt: skip
    whales = np.flatnonzero(whale)
    book.whales = {"acct": whales, "day": whale_day[whales]}
    book.lines = lines.arrays()

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    book.upgrades = {"acct": cat(up_acct), "day": cat(up_day), "segment": cat(up_seg)}
    pad = max(6, len(str(n)))
    book.account_ids = _ids("A", np.arange(1, n + 1), pad)
    return book


def _industry_changes(book: Book, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A few accounts reclassified to another industry on a date (at least one)."""
    can = np.flatnonzero(book.created < book.as_of)
    k = min(len(can), max(1, round(book.config.industry_change_share * book.n)))
    acct = np.sort(rng.choice(can, size=k, replace=False))
    span = book.as_of - book.created[acct]
    day = book.created[acct] + 1 + np.floor(rng.random(k) * span).astype(np.int64)
    old = book.industry[acct]
    new = (old + rng.integers(1, len(INDUSTRIES), k)) % len(INDUSTRIES)
    return {"acct": acct, "day": np.minimum(day, book.as_of), "old": old, "new": new}


def build(config: SampleConfig | None = None, /, **overrides: object) -> Book:
    """The simulated company's state, from which every table is built."""
    cfg = _config(config, overrides)
    book = _simulate(cfg, np.random.default_rng([cfg.seed, 0]), traits(cfg))
    book.fx = _fx_series(cfg, np.random.default_rng([cfg.seed, 1]))
    book.industry_changes = _industry_changes(book, np.random.default_rng([cfg.seed, 2]))
    return book
