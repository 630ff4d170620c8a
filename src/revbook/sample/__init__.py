"""A seeded, realistic sample company of any size: the data behind ``revbook demo``.

``generate(SampleConfig(accounts=2000, seed=7))`` returns the canonical tables of
:mod:`revbook.contract` as pyarrow tables; ``write(directory)`` writes them as Parquet or CSV.
The same config always gives the same tables; every figure below is a :class:`SampleConfig` knob.

What the sample contains
------------------------
- ``accounts``: ids ``A000001``… in signup order, company-like names (a few with ``&``, accents and
  apostrophes), segment (current value), region (na, emea, apac), industry (8), ``created_at`` a few
  days to weeks before the first line, ``parent_account_id`` on a few enterprise subsidiaries.
- ``subscriptions``: five years of lines, signups growing month over month from ``start`` to ``as_of``.
  Segments: smb ~60% of logos (3k-25k ARR, mostly monthly, ~4% monthly logo churn), mid_market ~30%
  (25k-100k, mostly annual, churn and contraction at renewal), enterprise ~10% (100k-1M, annual and
  multi-year 24/36 months, rare logo churn but real contraction, heavy-tailed expansion so that a few
  large accounts carry much of NRR). Line kinds: the core plan (``per_seat``: unit_price per seat per
  billing period x quantity), a mid-term seat addition on annual contracts (a second per-seat line,
  folded into the core at renewal), one flat add-on product (``amount`` per billing period) and a
  ``usage`` line (``mrr`` given, re-priced every quarter with an upward drift: product-led expansion).
  A change of seats or price ends a line and starts a new one the same day (``end_date`` exclusive);
  annual renewals re-issue every line with a new ``contract_end_date``; ongoing lines have a null
  ``end_date``.
- ``owners`` / ``people``: CSMs in teams (SMB Pod, Mid-Market, Enterprise) with managers, about one CSM
  per ``csm_accounts`` managed accounts (at least 4), and AEs. Every mid_market/enterprise account has a
  CSM from its signup, about half of smb accounts do (the rest are pooled: no csm row).
- ``fx_rates``: a rate on the first of every month from the month before ``start`` to ``as_of`` for
  every non-USD currency (EUR ~1.05-1.15, GBP ~1.20-1.35), drifting.
- ``invoices``: for ~5% of paying accounts, the invoice lines of their subscriptions (billed in advance
  per billing period, ``service_end`` inclusive, prorated when a line ends mid-period), plus a few
  credits (negative amounts; one without a service period).
- ``account_history``: segment changes (smb -> mid_market, mid_market -> enterprise) of accounts that
  grew past their band, each with the account's first value from ``created_at``.
- with ``SampleConfig(text=True)``: ``churn_reasons`` (dated at each churn / contraction of the lines,
  small accounts leaving for price, large ones for champion-left or acquisition; picklist values and
  free-text comments with misspellings) and ``notes`` (routine notes, trigger phrases before the
  churns, contractions and expansions they foreshadow, noise and hard negatives). What is planted is
  in :mod:`revbook.sample.text` and docs/churn-reasons.md; :func:`labels` returns the
  labelled sets.

What is planted (for tests, demos and the known traps)
------------------------------------------------------
- trials: a first ``is_trial`` line at price 0 for 14-30 days on ~35% of smb accounts; ~15% of them
  never convert (accounts with no revenue at all).
- late renewals: on ~8% of annual renewals every line restarts 1-10 days after the old ones end,
  which reads as churn + reactivation unless a churn grace period bridges the gap.
- reactivations: ~15% of churned smb accounts come back 2-9 months later (a new subscription_id).
- ``cancel_requested_at`` on about half of the churned core lines (3-60 days before the end) and on a
  few ongoing annual lines whose contract ends soon after ``as_of`` (renewal-risk signals).
- discounts (``discount_percent``) on some mid_market and enterprise lines, sometimes dropped at
  renewal (a coupon's expiry reads as expansion); list price uplifts of 3-7% at some renewals.
- multiple currencies by region: na and apac in USD, emea in EUR or GBP (local price lists).
- lines start on any day of the month; a renewal on the 31st falls on a short month's last day.
- CSM departures (a leaver's book is split among the team's stayers on the leaving date), random
  reassignments, and a move to the Mid-Market / Enterprise team when an account is upgraded.
- dates: nothing after ``as_of`` except two forward-looking columns, ``subscriptions.contract_end_date``
  and ``invoices.service_end`` of a period billed before ``as_of`` that ends after it.

Structure, for later tables (usage, tickets, ...): :func:`_simulate` builds a :class:`Book`, the
per-account state (numpy arrays indexed by account number) plus the emitted subscription lines and
events; each table is one builder ``_table_<name>(book, rng)`` registered in ``TABLE_BUILDERS``, called in
order with its own child random generator, so a new table is one more function and one more entry
there, and adding one does not change the tables before it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from .activity import ACTIVITY_TABLES

__all__ = [
    "ACTIVITY_TABLES",
    "TABLE_BUILDERS",
    "TEXT_TABLES",
    "Book",
    "SampleConfig",
    "build",
    "generate",
    "labels",
    "write",
]

SEGMENTS = ("smb", "mid_market", "enterprise")
REGIONS = ("na", "emea", "apac")
INDUSTRIES = (
    "software",
    "financial_services",
    "healthcare",
    "manufacturing",
    "retail",
    "media",
    "education",
    "logistics",
)
PLANS = ("starter", "team", "business", "enterprise")
#: list price per seat per month in USD, by plan
SEAT_PRICE_USD = (25.0, 45.0, 65.0, 90.0)
CORE_PRODUCT = "Platform"
ADDONS = ("Analytics", "SSO", "Premium Support")
USAGE_PRODUCT = "API Calls"
KINDS = ("trial", "core", "seats", "addon", "usage")
K_TRIAL, K_CORE, K_SEATS, K_ADDON, K_USAGE = range(5)
NULL = -1  # a null date (days) in the int arrays

_DATE = pa.date32()
_MONEY = pa.decimal128(18, 4)
_RATE = pa.decimal128(18, 8)


@dataclass(frozen=True)
class SampleConfig:
    """Every figure of the sample company. Per-segment tuples are (smb, mid_market, enterprise)."""

    accounts: int = 2000
    seed: int = 7
    #: first possible signup month
    start: dt.date = dt.date(2021, 12, 1)
    #: the data stops here: nothing dated after it (but contract ends and invoice service ends)
    as_of: dt.date = dt.date(2026, 11, 15)
    currencies: tuple[str, ...] = ("USD", "EUR", "GBP")
    #: (currency, low, high): the band an FX rate to USD drifts in; others default to (0.9, 1.1)
    fx_bands: tuple[tuple[str, float, float], ...] = (("EUR", 1.05, 1.15), ("GBP", 1.20, 1.35))
    #: growth of signups per month
    signup_growth: float = 0.03
    segment_mix: tuple[float, float, float] = (0.60, 0.30, 0.10)
    region_mix: tuple[float, float, float] = (0.55, 0.30, 0.15)
    #: ARR band at signup (USD) and the median inside it
    arr_bands: tuple[tuple[float, float], ...] = ((3_000, 25_000), (25_000, 100_000), (100_000, 1_000_000))
    arr_median: tuple[float, float, float] = (8_000, 42_000, 180_000)
    #: share of contracts billed annually (the rest monthly); enterprise multi-year share of those
    annual_share: tuple[float, float, float] = (0.15, 0.80, 1.0)
    multi_year_share: float = 0.35
    #: logo churn per month of monthly contracts, and per renewal of annual / multi-year ones
    monthly_churn: tuple[float, float, float] = (0.04, 0.02, 0.01)
    renewal_churn: tuple[float, float, float] = (0.30, 0.12, 0.04)
    #: seat changes: chance per month (monthly contracts) or per renewal (annual ones)
    monthly_expansion: tuple[float, float, float] = (0.02, 0.02, 0.02)
    monthly_contraction: tuple[float, float, float] = (0.012, 0.012, 0.01)
    renewal_expansion: tuple[float, float, float] = (0.30, 0.38, 0.50)
    renewal_contraction: tuple[float, float, float] = (0.12, 0.14, 0.25)
    #: Lomax shape of the expansion factor's tail (smaller: a few accounts expand a lot more)
    expansion_tail: float = 2.2
    #: list price uplift at renewal: chance and range
    price_uplift_share: float = 0.4
    price_uplift: tuple[float, float] = (0.03, 0.07)
    #: chance per month that an annual contract adds seats mid-term (a second per-seat line)
    seat_addition_rate: tuple[float, float, float] = (0.002, 0.012, 0.02)
    #: add-on product: chance at signup, chance per month afterwards, chance to drop per renewal
    addon_at_signup: tuple[float, float, float] = (0.15, 0.35, 0.55)
    addon_rate: tuple[float, float, float] = (0.003, 0.006, 0.01)
    addon_drop: float = 0.10
    #: usage-priced line: share of accounts, quarterly drift and volatility of its MRR
    usage_share: tuple[float, float, float] = (0.04, 0.12, 0.25)
    usage_growth: float = 0.035
    usage_volatility: float = 0.10
    #: share of core lines with a discount_percent, and its choices
    discount_share: tuple[float, float, float] = (0.0, 0.35, 0.60)
    discount_choices: tuple[float, ...] = (5, 10, 15, 20, 25)
    discount_drop: float = 0.2
    trial_share: float = 0.35
    trial_conversion: float = 0.85
    reactivation_share: float = 0.15
    late_renewal_share: float = 0.08
    cancel_request_share: float = 0.5
    pending_cancel_share: float = 0.15
    #: CSM coverage: managed accounts per CSM, share of smb accounts with a CSM
    csm_accounts: int = 50
    smb_csm_share: float = 0.5
    csm_departure_share: float = 0.3
    reassignment_share: float = 0.1
    accounts_per_ae: int = 250
    invoice_share: float = 0.05
    industry_change_share: float = 0.01
    invoice_credits: int = 3
    parent_share: float = 0.05
    #: also build ``churn_reasons`` and ``notes`` (planted reasons and signals; see :func:`labels`)
    text: bool = False
    #: build the customer-success tables (usage, tickets, activities, milestones, surveys,
    #: opportunities; what is planted in them: :mod:`revbook.sample.activity`)
    activity: bool = True


# ----------------------------------------------------------------------------------------------
# dates as int64 days since 1970-01-01; months as int64 months since 1970-01


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _month_index(d: dt.date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def _month_start(month: np.ndarray) -> np.ndarray:
    return np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _day_of(month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """The day ``dom`` of ``month``, clipped to the month's last day."""
    first = _month_start(month)
    length = _month_start(np.asarray(month) + 1) - first
    return first + np.minimum(dom, length) - 1


def _month_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _dom_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64) - _month_start(_month_of(days)) + 1


def running_per_account(delta: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running sums of ``delta`` restarting where ``first`` is true (rows sorted by account, then
    time; ``first`` marks each account's first row): an account's level at each change."""
    total = np.cumsum(delta)
    base = np.maximum.accumulate(np.where(first, np.arange(len(delta)), 0))
    offset = np.where(base > 0, total[np.maximum(base - 1, 0)], 0)
    return total - offset


# ----------------------------------------------------------------------------------------------
# the state


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
    lines: dict[str, np.ndarray] = field(default_factory=dict)
    #: (account, day, new segment) of upgrades
    upgrades: dict[str, np.ndarray] = field(default_factory=dict)
    fx: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: (account, day, old, new) of industry reclassifications; ``industry`` keeps the first value
    industry_changes: dict[str, np.ndarray] = field(default_factory=dict)
    account_ids: pa.Array | None = None

    @property
    def currency_codes(self) -> np.ndarray:
        return np.array(self.config.currencies, dtype=object)[self.currency]


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


def _approx_rate(cfg: SampleConfig, cur: str) -> float:
    if cur == "USD":
        return 1.0
    bands = {c: (lo + hi) / 2 for c, lo, hi in cfg.fx_bands}
    return bands.get(cur, 1.0)


def _validate(cfg: SampleConfig) -> None:
    if cfg.accounts < 1:
        raise ConfigError("the sample needs at least 1 account", value=cfg.accounts)
    if cfg.as_of <= cfg.start:
        raise ConfigError("the sample's as_of must be after its start", value=(cfg.start, cfg.as_of))
    if not cfg.currencies:
        raise ConfigError("the sample needs at least one currency")
    if len(cfg.segment_mix) != 3 or min(cfg.segment_mix) < 0 or sum(cfg.segment_mix) <= 0:
        raise ConfigError("segment_mix is three non-negative shares (smb, mid_market, enterprise)")


# ----------------------------------------------------------------------------------------------
# the simulation


def _simulate(cfg: SampleConfig, rng: np.random.Generator) -> Book:
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
    usage0 = np.round(qty * seat_price * rng.uniform(0.05, 0.3, n)).astype(np.int64)

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
        paid_start=paid_start, churn_day=churn_day, active=active,
    )  # fmt: skip
    book.lines = lines.arrays()
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)  # noqa: E731
    book.upgrades = {"acct": cat(up_acct), "day": cat(up_day), "segment": cat(up_seg)}
    pad = max(6, len(str(n)))
    book.account_ids = _ids("A", np.arange(1, n + 1), pad)
    return book


# ----------------------------------------------------------------------------------------------
# arrow helpers


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(numbers, np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _date(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, np.int64)
    return pa.array(days.astype(np.int32), mask=days == NULL).cast(_DATE)


def _decimal(units: np.ndarray, type_: pa.DataType = _MONEY, valid: np.ndarray | None = None) -> pa.Array:
    """A decimal array from int64 values already scaled by 10**scale."""
    v = np.ascontiguousarray(units, np.int64)
    raw = np.empty(2 * len(v), np.int64)
    raw[0::2], raw[1::2] = v, v >> 63
    arr = pa.Array.from_buffers(type_, len(v), [None, pa.py_buffer(raw)])
    if valid is not None and not valid.all():
        arr = pc.if_else(pa.array(valid), arr, pa.scalar(None, type_))
    return arr


def _money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _decimal(np.asarray(cents, np.int64) * 100, _MONEY, valid)


def _pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(idx, np.int64)))


# ----------------------------------------------------------------------------------------------
# tables


def _words(text: str, *extra: str) -> list[str]:
    return [*text.split(), *extra]


_FIRST = _words(
    "Acme Apex Atlas Beacon Blue Bright Cedar Cobalt Crimson Delta Evergreen Falcon Golden Granite Harbor "
    "Horizon Iron Juniper Keystone Lumen Maple Meridian Northwind Nova Orbit Pioneer Polar Quantum Redwood "
    "River Silver Sterling Stone Summit Tidal Union Velvet Vertex Willow Zenith",
    "Müller",
    "Café",
    "O'Connor",
    "Zürich",
    "Ålesund",
    "L'Étoile",
)
_SECOND = _words(
    "Analytics Logistics Health Foods Software Capital Media Robotics Energy Retail Labs Systems Partners "
    "Dynamics Networks Studios Works Solutions Holdings Brands Freight Bio Learning Security",
    "& Co",
    "& Sons",
    "Bäckerei",
)
_SUFFIX = (("Inc", "LLC", "Corp", ""), ("Ltd", "GmbH", "SA", "BV", "plc", "AG"), ("Pte Ltd", "Pty Ltd", "KK", ""))
_NAMES_FIRST = _words(
    "Alex Maria James Priya Chen Sofia Liam Aisha Noah Emma Lucas Olivia Mateo Hannah Ethan Yuki Omar Grace "
    "Daniel Chloe Ravi Elena Samuel Fatima Leo Nora",
    "José",
    "Zoë",
    "Björn",
)
_NAMES_LAST = _words(
    "Smith Garcia Patel Kim Nguyen Johnson Rossi Schmidt Dubois Silva Tanaka Brown Cohen Khan Larsen Murphy "
    "Novak Okafor Park Reyes Wilson Young",
    "O'Neil",
    "Müller",
    "Ngô",
)


def _weighted(rng: np.random.Generator, words: list[str], special: int, n: int, p_special: float) -> np.ndarray:
    """Indices into words whose last ``special`` entries are chosen with total chance p_special."""
    plain = len(words) - special
    p = np.r_[np.full(plain, (1 - p_special) / plain), np.full(special, p_special / special)]
    return rng.choice(len(words), size=n, p=p)


def _table_accounts(book: Book, rng: np.random.Generator) -> pa.Table:
    n = book.n
    first = _pick(_FIRST, _weighted(rng, _FIRST, 6, n, 0.02))
    second = _pick(_SECOND, _weighted(rng, _SECOND, 3, n, 0.02))
    suffix_idx = rng.integers(0, 6, n)
    flat = [s for r in _SUFFIX for s in r]
    offs = np.cumsum([0] + [len(r) for r in _SUFFIX])[:-1]
    lens = np.array([len(r) for r in _SUFFIX])
    suffix = _pick(flat, offs[book.region] + suffix_idx % lens[book.region])
    name = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, second, suffix, " "))
    # a few enterprise subsidiaries of an earlier enterprise account
    ent = np.flatnonzero(book.segment == 2)
    parent = np.full(n, -1, np.int64)
    kids = np.flatnonzero(rng.random(len(ent)) < book.config.parent_share)
    kids = kids[kids > 0]
    parent[ent[kids]] = ent[np.floor(rng.random(len(kids)) * kids).astype(np.int64)]
    ids = book.account_ids
    assert ids is not None
    parent_ids = ids.take(pa.array(np.where(parent >= 0, parent, 0), mask=parent < 0))
    return pa.table(
        {
            "account_id": ids,
            "name": name,
            "segment": _pick(SEGMENTS, book.segment_now),
            "region": _pick(REGIONS, book.region),
            "industry": _pick(INDUSTRIES, _industry_now(book)),
            "created_at": _date(book.created),
            "parent_account_id": parent_ids,
        }
    )


def _table_subscriptions(book: Book, rng: np.random.Generator) -> pa.Table:
    ln = book.lines
    acct, life = ln["acct"], ln["life"]
    assert book.account_ids is not None
    aid = book.account_ids.take(pa.array(acct))
    sub = pc.binary_join_element_wise(pc.utf8_replace_slice(aid, 0, 1, "S"), pa.array(life + 1).cast(pa.string()), "-")
    # line number within a subscription, in start order (lines are sorted by account, start, kind)
    key = acct * 1000 + life
    newsub = np.r_[True, key[1:] != key[:-1]]
    pos = np.arange(len(key))
    line_no = pos - np.maximum.accumulate(np.where(newsub, pos, 0)) + 1
    kind = ln["kind"]
    product_names = (CORE_PRODUCT, *ADDONS, USAGE_PRODUCT)
    per_seat = (kind == K_TRIAL) | (kind == K_CORE) | (kind == K_SEATS)
    plan_names = (*PLANS, "add_on", "metered")
    plan = np.where(per_seat, ln["plan"], np.where(kind == K_USAGE, len(PLANS) + 1, len(PLANS)))
    model = np.where(per_seat, 1, np.where(kind == K_USAGE, 2, 0))
    cur = book.currency_codes[acct] if len(acct) else np.zeros(0, object)
    return pa.table(
        {
            "account_id": aid,
            "subscription_id": sub,
            "line_id": pa.array(line_no).cast(pa.string()),
            "product": _pick(product_names, ln["product"]),
            "plan": _pick(plan_names, plan),
            "start_date": _date(ln["start"]),
            "end_date": _date(ln["end"]),
            "mrr": _money(ln["mrr"], kind == K_USAGE),
            "amount": _money(ln["amount"], kind == K_ADDON),
            "unit_price": _money(ln["unit"], per_seat),
            "quantity": _decimal(ln["qty"] * 10_000, _MONEY, per_seat),
            "billing_period_months": _decimal(ln["bp"] * 10_000),
            "discount_percent": _decimal(ln["disc"] * 10_000, _MONEY, ln["disc"] > 0),
            "is_trial": pa.array(kind == K_TRIAL),
            "currency": pa.array(cur, pa.string()),
            "pricing_model": _pick(("flat", "per_seat", "usage"), model),
            "contract_end_date": _date(ln["ce"]),
            "cancel_requested_at": _date(ln["cancel"]),
        }
    )


def _table_people(book: Book, rng: np.random.Generator) -> pa.Table:
    return _staff_plan(book).people


def _table_owners(book: Book, rng: np.random.Generator) -> pa.Table:
    return _owners(book, rng)


@dataclass
class _Staff:
    people: pa.Table
    team_csms: list[np.ndarray]  # CSM numbers (0-based) per team: smb, mid_market, enterprise
    leave: np.ndarray  # leaving day per CSM, NULL if staying
    aes: np.ndarray
    ids: pa.Array


def _staff_plan(book: Book) -> _Staff:
    """CSMs per team (at least 4 in all, one per team), AEs and their managers; seeded apart."""
    cfg = book.config
    rng = np.random.default_rng([cfg.seed, 101])
    managed = np.array(
        [
            cfg.smb_csm_share * (book.segment == 0).sum(),
            (book.segment == 1).sum(),
            (book.segment == 2).sum(),
        ],
        float,
    )
    total = max(4, math.ceil(managed.sum() / cfg.csm_accounts))
    per_team = np.maximum(1, np.floor(total * managed / max(managed.sum(), 1))).astype(int)
    while per_team.sum() < total:
        per_team[np.argmax(managed / per_team)] += 1
    n_csm = int(per_team.sum())
    n_ae = max(2, math.ceil(book.n / cfg.accounts_per_ae))
    teams = ("SMB Pod", "Mid-Market", "Enterprise")
    managers = [
        f"{_NAMES_FIRST[(3 * t + 5) % len(_NAMES_FIRST)]} {_NAMES_LAST[(7 * t + 2) % len(_NAMES_LAST)]}"
        for t in range(4)
    ]
    team_of = np.repeat(np.arange(3), per_team)
    total_people = n_csm + n_ae
    combo = rng.permutation(len(_NAMES_FIRST) * len(_NAMES_LAST))[
        np.arange(total_people) % (len(_NAMES_FIRST) * len(_NAMES_LAST))
    ]
    first = _pick(_NAMES_FIRST, combo % len(_NAMES_FIRST))
    last = _pick(_NAMES_LAST, combo // len(_NAMES_FIRST))
    ids = _ids("P", np.arange(1, total_people + 1), max(4, len(str(total_people))))
    team_idx = np.r_[team_of, np.full(n_ae, 3)]
    people = pa.table(
        {
            "owner_id": ids,
            "name": pc.binary_join_element_wise(first, last, " "),
            "team": _pick((*teams, "Sales"), team_idx),
            "manager": _pick(managers, team_idx),
        }
    )
    # leavers: some CSMs leave on a date in the second half; each team keeps at least one stayer
    s0, s1 = _days(cfg.start) + 365, book.as_of - 30
    leave = np.where(rng.random(n_csm) < cfg.csm_departure_share, rng.integers(s0, max(s0 + 1, s1), n_csm), NULL)
    team_csms = [np.flatnonzero(team_of == t) for t in range(3)]
    for members in team_csms:
        if (leave[members] == NULL).sum() == 0:
            leave[members[0]] = NULL
    return _Staff(people, team_csms, leave, np.arange(n_csm, total_people), ids)


def _owners(book: Book, rng: np.random.Generator) -> pa.Table:
    cfg = book.config
    st = _staff_plan(book)
    n, as_of = book.n, book.as_of

    def pick_csm(team: np.ndarray, day: np.ndarray, stayers_only: bool = False) -> np.ndarray:
        out = np.empty(len(team), np.int64)
        for t in range(3):
            m = team == t
            members = st.team_csms[t]
            if stayers_only:
                members = members[st.leave[members] == NULL]
            c = members[rng.integers(0, len(members), m.sum())]
            # never assign someone who has already left: give it to a stayer instead
            gone = (st.leave[c] != NULL) & (st.leave[c] <= day[m])
            stay = members[st.leave[members] == NULL] if not stayers_only else members
            c[gone] = stay[rng.integers(0, len(stay), gone.sum())]
            out[m] = c
        return out

    # change points (account, day, csm): at signup, at an upgrade, at a random reassignment
    covered = (book.segment > 0) | (rng.random(n) < cfg.smb_csm_share)
    i0 = np.flatnonzero(covered)
    d0 = book.created[i0] + rng.integers(0, 15, len(i0))
    pts_a, pts_d, pts_c = [i0], [d0], [pick_csm(book.segment[i0], d0)]
    up = book.upgrades
    if len(up["acct"]):
        pts_a.append(up["acct"])
        pts_d.append(up["day"])
        pts_c.append(pick_csm(np.minimum(up["segment"], 2), up["day"]))
    upgraded = np.zeros(n, bool)
    upgraded[up["acct"]] = True
    mv = i0[(~upgraded[i0]) & (rng.random(len(i0)) < cfg.reassignment_share)]
    d0m = book.created[mv] + 60
    dm = d0m + np.floor(rng.random(len(mv)) * np.maximum(as_of - d0m, 0)).astype(np.int64)
    mv, dm = mv[dm < as_of], dm[dm < as_of]
    pts_a.append(mv)
    pts_d.append(dm)
    pts_c.append(pick_csm(book.segment[mv], dm))
    a, d, c = np.concatenate(pts_a), np.concatenate(pts_d), np.concatenate(pts_c)
    d = np.minimum(d, as_of)
    o = np.lexsort((d, a))
    a, d, c = a[o], d[o], c[o]
    # one spell per change point; drop a change to the same CSM or on the same day
    same_next = np.r_[a[1:] == a[:-1], False]
    end = np.where(same_next, np.r_[d[1:], 0], NULL)
    keep = (end == NULL) | (end > d)
    a, d, c, end = a[keep], d[keep], c[keep], end[keep]
    # a leaver's accounts go to a stayer of the same team on the leaving day
    lv = st.leave[c]
    split = (lv != NULL) & (lv > d) & ((end == NULL) | (lv < end))
    team_of = np.empty(len(st.leave), np.int64)
    for t, members in enumerate(st.team_csms):
        team_of[members] = t
    s = np.flatnonzero(split)
    heir = pick_csm(team_of[c[s]], lv[s], stayers_only=True)
    a2, d2, c2, e2 = a[s], lv[s], heir, end[s]
    end = end.copy()
    end[s] = lv[s]
    a, d, c, end = np.r_[a, a2], np.r_[d, d2], np.r_[c, c2], np.r_[end, e2]
    # merge consecutive spells of the same CSM
    o = np.lexsort((d, a))
    a, d, c, end = a[o], d[o], c[o], end[o]
    cont = np.r_[False, (a[1:] == a[:-1]) & (c[1:] == c[:-1])]
    grp = np.cumsum(~cont) - 1
    first_idx = np.flatnonzero(~cont)
    last_idx = np.r_[first_idx[1:] - 1, len(a) - 1]
    a, c, d, end = a[first_idx], c[first_idx], d[first_idx], end[last_idx]
    del grp
    # AEs: the sale, on every mid_market / enterprise account and some smb ones; they stay on it
    ae_acc = np.flatnonzero((book.segment > 0) | (rng.random(n) < 0.4))
    ae = st.aes[rng.integers(0, len(st.aes), len(ae_acc))]
    assert book.account_ids is not None
    acct = np.r_[a, ae_acc]
    owner = np.r_[c, ae]
    return pa.table(
        {
            "account_id": book.account_ids.take(pa.array(acct)),
            "owner_id": st.ids.take(pa.array(owner)),
            "role": _pick(("csm", "ae"), np.r_[np.zeros(len(a), np.int64), np.ones(len(ae_acc), np.int64)]),
            "start_date": _date(np.r_[d, np.minimum(book.created[ae_acc], as_of)]),
            "end_date": _date(np.r_[end, np.full(len(ae_acc), NULL)]),
        }
    )


def _table_fx_rates(book: Book, rng: np.random.Generator) -> pa.Table:
    fx = book.fx
    dates = [d for d, _ in fx.values()]
    rates = [r for _, r in fx.values()]
    cur = [np.full(len(d), c, object) for c, (d, _) in fx.items()]
    cat = lambda parts, dt_: np.concatenate(parts) if parts else np.zeros(0, dt_)  # noqa: E731
    return pa.table(
        {
            "date": _date(cat(dates, np.int64)),
            "currency": pa.array(cat(cur, object), pa.string()),
            "rate_to_reporting": _decimal(cat(rates, np.int64) * 100, _RATE),
        }
    )


def _table_account_history(book: Book, rng: np.random.Generator) -> pa.Table:
    """Segment upgrades and industry reclassifications, each account's first value from created_at."""
    up, ic = book.upgrades, book.industry_changes
    first = np.unique(up["acct"])
    # segment: the value at signup from created_at, then each upgrade
    acct = np.r_[first, up["acct"], ic["acct"], ic["acct"]]
    attr = np.r_[np.zeros(len(first) + len(up["acct"]), np.int64), np.ones(2 * len(ic["acct"]), np.int64)]
    seg_values = np.r_[book.segment[first], up["segment"]]
    ind_values = len(SEGMENTS) + np.r_[ic["old"], ic["new"]]
    value = np.r_[seg_values, ind_values]
    day = np.r_[book.created[first], up["day"], book.created[ic["acct"]], ic["day"]]
    o = np.lexsort((day, attr, acct))
    assert book.account_ids is not None
    return pa.table(
        {
            "account_id": book.account_ids.take(pa.array(acct[o])),
            "attribute": _pick(("segment", "industry"), attr[o]),
            "value": _pick((*SEGMENTS, *INDUSTRIES), value[o]),
            "valid_from": _date(day[o]),
        }
    )


def _table_invoices(book: Book, rng: np.random.Generator) -> pa.Table:
    """Invoice lines of a few accounts: one per billing period of each paid line, billed in advance."""
    cfg, ln, as_of = book.config, book.lines, book.as_of
    payers = np.flatnonzero(book.paid_start != NULL)
    k = max(1, round(cfg.invoice_share * len(payers))) if len(payers) else 0
    chosen = np.zeros(book.n, bool)
    chosen[rng.choice(payers, size=min(k, len(payers)), replace=False)] = True
    sel = np.flatnonzero(chosen[ln["acct"]] & (ln["kind"] != K_TRIAL))
    start, end, bp = ln["start"][sel], ln["end"][sel], ln["bp"][sel]
    stop = np.where(end == NULL, as_of + 1, np.minimum(end, as_of + 1))  # first day not billed
    m_s, dom = _month_of(start), _dom_of(start)
    n_per = (_month_of(stop) - m_s) // bp + 2
    rep = np.repeat(np.arange(len(sel)), n_per)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    ps = _day_of(m_s[rep] + j * bp[rep], dom[rep])
    pe = _day_of(m_s[rep] + (j + 1) * bp[rep], dom[rep])
    keep = ps < stop[rep]
    rep, ps, pe = rep[keep], ps[keep], pe[keep]
    line = sel[rep]
    actual = np.where(end[rep] == NULL, pe, np.minimum(pe, end[rep]))
    kind = ln["kind"][line]
    full = np.where(
        kind == K_USAGE,
        ln["mrr"][line],
        np.where(kind == K_ADDON, ln["amount"][line], ln["unit"][line] * ln["qty"][line]),
    ).astype(float)
    full = full * (100 - ln["disc"][line]) / 100
    amount = np.round(full * (actual - ps) / (pe - ps)).astype(np.int64)
    inv_day, s_start, s_end = ps.copy(), ps.copy(), actual - 1
    acct = ln["acct"][line]
    # credits: a few negative lines on a billed period, one of them without a service period
    nc = min(cfg.invoice_credits, len(line))
    if nc:
        c = rng.choice(len(line), size=nc, replace=False)
        c_day = np.minimum(ps[c] + rng.integers(5, 21, nc), as_of)
        c_amt = -np.round(np.abs(amount[c]) * rng.uniform(0.1, 0.5, nc)).astype(np.int64)
        c_start, c_end = ps[c].copy(), s_end[c].copy()
        c_start[0], c_end[0] = NULL, NULL
        line, acct = np.r_[line, line[c]], np.r_[acct, acct[c]]
        inv_day, s_start, s_end = np.r_[inv_day, c_day], np.r_[s_start, c_start], np.r_[s_end, c_end]
        amount = np.r_[amount, c_amt]
    o = np.lexsort((line, inv_day, acct))
    line, acct, inv_day, s_start, s_end, amount = (x[o] for x in (line, acct, inv_day, s_start, s_end, amount))
    key = acct * 100_000 + inv_day
    new = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    inv_no = np.cumsum(new)
    pos = np.arange(len(key))
    line_no = pos - np.maximum.accumulate(np.where(new, pos, 0)) + 1
    products = (CORE_PRODUCT, *ADDONS, USAGE_PRODUCT)
    plan_names = (*PLANS, "add_on", "metered")
    lk = ln["kind"][line]
    per_seat = (lk == K_CORE) | (lk == K_SEATS)
    plan = np.where(per_seat, ln["plan"][line], np.where(lk == K_USAGE, len(PLANS) + 1, len(PLANS)))
    assert book.account_ids is not None
    return pa.table(
        {
            "account_id": book.account_ids.take(pa.array(acct)),
            "invoice_id": _ids("INV-", inv_no, 7),
            "line_id": pa.array(line_no).cast(pa.string()),
            "invoice_date": _date(inv_day),
            "service_start": _date(s_start),
            "service_end": _date(s_end),
            "amount": _money(amount),
            "currency": pa.array(book.currency_codes[acct] if len(acct) else [], pa.string()),
            "product": _pick(products, ln["product"][line]),
            "plan": _pick(plan_names, plan),
        }
    )


def _table_churn_reasons(book: Book, rng: np.random.Generator) -> pa.Table:
    """Churn reasons on the sample's churns and contractions (see revbook.sample.text)."""
    from .text import churn_reasons_table

    return churn_reasons_table(book, rng)[0]


def _table_notes(book: Book, rng: np.random.Generator) -> pa.Table:
    """Notes with trigger phrases before events, noise and hard negatives (see revbook.sample.text)."""
    from .text import notes_table

    return notes_table(book, rng)[0]


def _activity_builder(name: str) -> Callable[[Book, np.random.Generator], pa.Table]:
    def build_table(book: Book, rng: np.random.Generator) -> pa.Table:
        from . import activity as sample_activity

        return getattr(sample_activity, f"{name}_table")(book, rng)  # type: ignore[no-any-return]

    build_table.__name__ = f"_table_{name}"
    return build_table


#: table name -> builder(book, rng); each gets its own child generator, in this order
TABLE_BUILDERS: dict[str, Callable[[Book, np.random.Generator], pa.Table]] = {
    "accounts": _table_accounts,
    "subscriptions": _table_subscriptions,
    "owners": _table_owners,
    "people": _table_people,
    "fx_rates": _table_fx_rates,
    "invoices": _table_invoices,
    "account_history": _table_account_history,
    "churn_reasons": _table_churn_reasons,
    "notes": _table_notes,
    **{name: _activity_builder(name) for name in ACTIVITY_TABLES},
}
#: tables built only with ``SampleConfig(text=True)``
TEXT_TABLES = ("churn_reasons", "notes")


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


def _industry_now(book: Book) -> np.ndarray:
    now = book.industry.copy()
    ch = book.industry_changes
    if ch:
        now[ch["acct"]] = ch["new"]
    return now


def _config(config: SampleConfig | None, overrides: dict[str, object]) -> SampleConfig:
    cfg = config or SampleConfig()
    if overrides:
        known = {f.name for f in fields(SampleConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown sample option(s): {', '.join(unknown)}", hint=f"known: {', '.join(known)}")
        cfg = replace(cfg, **overrides)  # type: ignore[arg-type]
    _validate(cfg)
    return cfg


def build(config: SampleConfig | None = None, /, **overrides: object) -> Book:
    """The simulated company's state, from which every table is built."""
    cfg = _config(config, overrides)
    book = _simulate(cfg, np.random.default_rng([cfg.seed, 0]))
    book.fx = _fx_series(cfg, np.random.default_rng([cfg.seed, 1]))
    book.industry_changes = _industry_changes(book, np.random.default_rng([cfg.seed, 2]))
    return book


def generate(config: SampleConfig | None = None, /, **overrides: object) -> dict[str, pa.Table]:
    """The sample company's canonical tables: accounts, subscriptions, owners, people, fx_rates,
    invoices (a few accounts, for reconciliation) and account_history, keyed by table name; with
    ``text=True`` also churn_reasons and notes (their labelled sets come from :func:`labels`).

    Columns carry the canonical names of :mod:`revbook.contract` (columns not filled are omitted);
    strings are ``string``, dates ``date32``, money and decimals ``decimal128(18, 4)``, rates
    ``decimal128(18, 8)``, flags ``bool``. Deterministic for a given config.
    """
    book = build(config, **overrides)
    return {
        name: builder(book, _child(book, name))
        for name, builder in TABLE_BUILDERS.items()
        if (book.config.text or name not in TEXT_TABLES) and (book.config.activity or name not in ACTIVITY_TABLES)
    }


def _child(book: Book, name: str) -> np.random.Generator:
    """The child generator of one table: its place in TABLE_BUILDERS, so adding one changes no other."""
    return np.random.default_rng([book.config.seed, 10 + list(TABLE_BUILDERS).index(name)])


def labels(config: SampleConfig | None = None, /, **overrides: object) -> dict[str, pa.Table]:
    """The labelled sets behind the sample's text tables, to measure accuracy against.

    - ``labels_churn_reasons(account_id, date, reason, movement, arr_before_usd, arr_lost_usd)``: the
      true reason of every ``churn_reasons`` row (same keys), the movement it explains (churn or
      contraction), and the approximate USD ARR before it and lost by it.
    - ``labels_signals(account_id, date, author, rule, polarity, kind, text)``: one row per note
      that carries a planted trigger (``kind`` = positive) or a hard negative of a rule (negation,
      hypothetical, look-alike: ``kind`` = hard_negative); every other note is a plain negative.

    Same config as :func:`generate` (``text`` is implied). Documented in docs/churn-reasons.md.
    """
    from .text import churn_reasons_table, notes_table

    book = build(config, **{**overrides, "text": True})
    return {
        "labels_churn_reasons": churn_reasons_table(book, _child(book, "churn_reasons"))[1],
        "labels_signals": notes_table(book, _child(book, "notes"))[1],
    }


def write(
    directory: Path | str,
    config: SampleConfig | None = None,
    /,
    *,
    format: Literal["csv", "parquet"] = "parquet",
    **overrides: object,
) -> dict[str, Path]:
    """Write each table of :func:`generate` to ``directory/<table>.<format>``; return the paths."""
    if format not in ("csv", "parquet"):
        raise ConfigError(f"unknown sample format '{format}'", hint="use 'csv' or 'parquet'")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, tbl in generate(config, **overrides).items():
        path = directory / f"{name}.{format}"
        if format == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(tbl, path)
        else:
            import pyarrow.csv as pacsv

            pacsv.write_csv(tbl, path)
        paths[name] = path
    return paths
