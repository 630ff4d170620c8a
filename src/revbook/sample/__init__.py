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
  ``usage`` line on 40% / 60% / 70% of the accounts (``mrr`` given, 20-70% of the seats' MRR at
  signup, re-priced every quarter with an upward drift of 5.5% and a volatility of 15%:
  product-led expansion).
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
- account traits (:mod:`~revbook.sample.traits`): each account's usual seat utilisation and support
  load; churn and contraction odds rise with low utilisation and many cases (``trait_risk``), so the
  features at a date predict what follows.
- who moved the number (:mod:`~revbook.sample.plants`, reported by :func:`truths`; docs/sample.md):
  usage-line growth with no opportunity behind it (the product's: 40.6% of the last 12 months' gross
  expansion ARR on the demo), self-serve smb seat and add-on additions with no opportunity and no
  touch in the 60 days before, CSM- and AE-sourced expansions each with a won deal closed 0-21 days
  before; three whales (the largest enterprise accounts add 1.3-1.8x their seats seven months before
  ``as_of``: NRR 109.8% on the demo, 102.7% without them, the top three expanders); save plays
  (``save_play`` / ``saved``), 60% credible (usage dip, escalations, a detractor NPS, a cancellation
  requested on the line then renewed) and 40% hollow (healthy accounts); a flattered CSM (an easy
  enterprise book), a strong one (a hard mid-market book that kept its revenue) and a weak one,
  handed their books a year before ``as_of``.

Structure: :mod:`~revbook.sample.settings` holds :class:`SampleConfig` and the names;
:mod:`~revbook.sample.simulation` lives the accounts' lives into a :class:`Book` (the per-account state,
numpy arrays indexed by account number, plus the emitted subscription lines); :mod:`~revbook.sample.events`
finds the churns, contractions and expansions in those lines. Each table is one builder
``(book, rng) -> table`` registered in ``TABLE_BUILDERS`` of :mod:`~revbook.sample.company`
(:mod:`~revbook.sample.tables`, :mod:`~revbook.sample.staff`, :mod:`~revbook.sample.text`,
:mod:`~revbook.sample.activity`), called in order with its own child random generator, so a new
table is one more function and one more entry there, and adding one does not change the tables
before it. The traits are drawn before the lives (seed, 3); the plants after them, from the book
(seed, 4), cached on it and read by the tables that show them.
"""

from __future__ import annotations

from .activity import ACTIVITY_TABLES
from .company import TABLE_BUILDERS, TEXT_TABLES, generate, labels, write
from .settings import SEGMENTS, SampleConfig
from .simulation import Book, build
from .truth import Truths, truths

__all__ = [
    "ACTIVITY_TABLES",
    "SEGMENTS",
    "TABLE_BUILDERS",
    "TEXT_TABLES",
    "Book",
    "SampleConfig",
    "Truths",
    "build",
    "generate",
    "labels",
    "truths",
    "write",
]
