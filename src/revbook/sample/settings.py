"""The sample company's settings: :class:`SampleConfig` (every figure, with its default), the
names of segments, regions, industries, plans and products, and the checks of a config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

from ..errors import ConfigError

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
    renewal_expansion: tuple[float, float, float] = (0.20, 0.22, 0.26)
    renewal_contraction: tuple[float, float, float] = (0.12, 0.14, 0.25)
    #: Lomax shape of the expansion factor's tail (smaller: a few accounts expand a lot more)
    expansion_tail: float = 2.6
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
    usage_share: tuple[float, float, float] = (0.40, 0.60, 0.70)
    usage_growth: float = 0.055
    usage_volatility: float = 0.15
    #: the usage line's MRR at signup as a share of the seats' MRR (low, high)
    usage_size: tuple[float, float] = (0.2, 0.7)
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
    #: account traits drawn before the lives (revbook.sample.traits): churn and contraction odds
    #: multiply by exp(trait_risk x z) for an account z standard deviations riskier by its seat
    #: utilisation (lower) and its support load (higher), so both predict retention
    trait_risk: float = 0.8
    #: expansion sources: share of smb seat / add-on additions that are self-serve (no opportunity,
    #: no touch in the 60 days before), of the other non-usage rises sourced by the CSM (else the AE)
    self_serve_share: float = 0.4
    csm_sourced_share: float = 0.65
    #: whales: enterprise accounts given a seat addition of whale_seats x their seats about
    #: whale_months_back months before as_of (they carry much of the last year's expansion)
    whales: int = 3
    whale_seats: tuple[float, float] = (1.3, 1.8)
    whale_months_back: int = 7
    #: save plays (an activity save_play / saved before a renewal that happened) on about
    #: save_share of the accounts, credible_save_share of them on accounts really at risk
    save_share: float = 0.025
    credible_save_share: float = 0.6
    #: CSM effects over the csm_window_months to the last month end on or before as_of (the books
    #: change hands on the window's first month end): a flattered CSM handed
    #: an easy book, a strong one with a hard book that retains, a weak one (plant_weak_csm)
    csm_window_months: int = 12
    plant_weak_csm: bool = True
    #: of the strong CSM's book, the share that kept all revenue; of the weak CSM's, that did not churn
    strong_kept_share: float = 0.95
    weak_kept_share: float = 0.5
    #: build the customer-success tables (usage, tickets, activities, milestones, surveys,
    #: opportunities; what is planted in them: :mod:`revbook.sample.activity`)
    activity: bool = True


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
