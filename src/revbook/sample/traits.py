"""Account traits drawn before the accounts' lives: how much of its licence an account uses and how
much support it needs. They shape the lives (a riskier account churns and contracts more often) and
the activity tables (utilisation in ``usage``, the rate of ``tickets``), so the features revbook
reads at a date predict what follows, as in a real book."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .settings import SampleConfig


@dataclass(frozen=True)
class Traits:
    """Per-account traits (index = account number - 1)."""

    #: typical share of the licensed seats in use (0.35-0.9)
    utilisation: np.ndarray
    #: multiplier of the segment's support-case rate (log-normal, median 1)
    ticket_rate: np.ndarray
    #: standardised riskiness: low utilisation and a high case rate, about N(0, 1)
    risk: np.ndarray
    #: the multiplier of churn and contraction odds, exp(trait_risk x risk), mean about 1
    churn_factor: np.ndarray


def traits(cfg: SampleConfig) -> Traits:
    """The traits of a config's accounts, from their own generator (seed, 3)."""
    rng = np.random.default_rng([cfg.seed, 3])
    n = cfg.accounts
    util = np.clip(rng.beta(6, 3, n), 0.35, 0.9)
    log_tickets = rng.normal(0.0, 0.6, n)
    # beta(6, 3): mean 2/3, sd about 0.15
    risk = (0.7 * (2 / 3 - util) / 0.15 + 0.7 * log_tickets / 0.6) / np.sqrt(0.98)
    beta = cfg.trait_risk
    factor = np.exp(beta * risk - beta * beta / 2)
    return Traits(util, np.exp(log_tickets), risk, factor)


__all__ = ["Traits", "traits"]
