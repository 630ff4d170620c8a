"""Revenue Under Management: lifecycle stage, expansion potential and risk of every account, and
the ARR a CS team manages split by them (docs/rum.md has the definitions and the settings).

Stage of a paying account on a date, the first rule that holds:

1. **renewal window**: a running line's contract ends within ``renewal_window_days`` (90);
2. **onboarding**: its onboarding milestones are not all reached (with no milestones loaded: it
   first paid fewer than ``onboarding_days`` (90) ago);
3. **expansion window**: readiness holds: onboarding done, health not red, and seat utilisation at
   least ``expansion_utilisation`` (0.85) or usage above its plan's tier or an open expansion deal;
4. **adoption**: otherwise.

Overlays: **cancel requested** (a running line has a requested cancellation) and **churned** (paid
in the ``churned_days`` (90) before the date, not on it: its ARR is the ARR it had the day before
it left). Each account's stage comes with the reason in words.

Expansion potential (ARR, reporting currency), the sum of: seat whitespace (seats to bring
utilisation back to ``target_utilisation`` (0.75) when it is at or above the readiness level,
priced at the account's own seat price); usage above the plan's tier (actions per licensed seat
per month above ``usage_tiers[plan]``: the upgrade to the next plan, priced from the data's own
median seat prices by plan); cross-sell (each product that at least ``cross_sell_share`` (25%) of
paying accounts of the same segment own and this one does not, at that product's median ARR
among them); open expansion opportunities. Bands: high >= 25% of the account's ARR, medium >= 10%.

Risk: high when the composite health band is red or a cancellation is requested; otherwise
medium for yellow (or no data) and low for green.
Expected renewal ARR of accounts in the renewal window, from the logistic health model trained on
month ends before the date whose outcome was known by it (horizon: the renewal window): with p
the account's probability of a churn or contraction, ARR x (1 + p x g1 + (1 - p) x g0), where g1
and g0 are the mean relative MRR change over the horizon of the training rows with and without
such an event, ARR-weighted, among training rows that were themselves in a renewal window (so
expansion of the healthy is counted as well as the loss of the rest); trend:
growth above +2%, contraction below -2%, flat between. The open expansion pipeline is shown beside
it, not added to it (the expansions in g0 already include deals like it).
"""

from __future__ import annotations

from ..definitions import STAGES
from .accounts import accounts, accounts_and_health
from .pipeline import flow, rum

__all__ = ["STAGES", "accounts", "accounts_and_health", "flow", "rum"]
