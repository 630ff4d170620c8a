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

Structure: :mod:`~revbook.sample.settings` holds :class:`SampleConfig` and the names;
:mod:`~revbook.sample.simulation` lives the accounts' lives into a :class:`Book` (the per-account state,
numpy arrays indexed by account number, plus the emitted subscription lines); :mod:`~revbook.sample.events`
finds the churns, contractions and expansions in those lines. Each table is one builder
``(book, rng) -> table`` registered in ``TABLE_BUILDERS`` (:mod:`~revbook.sample.tables`,
:mod:`~revbook.sample.staff`, :mod:`~revbook.sample.text`, :mod:`~revbook.sample.activity`), called in
order with its own child random generator, so a new table is one more function and one more entry
there, and adding one does not change the tables before it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from . import activity, text
from .activity import ACTIVITY_TABLES
from .settings import SEGMENTS, SampleConfig
from .simulation import Book, build
from .staff import owners_table, people_table
from .tables import account_history_table, accounts_table, fx_rates_table, invoices_table, subscriptions_table

__all__ = [
    "ACTIVITY_TABLES",
    "SEGMENTS",
    "TABLE_BUILDERS",
    "TEXT_TABLES",
    "Book",
    "SampleConfig",
    "build",
    "generate",
    "labels",
    "write",
]

Builder = Callable[[Book, np.random.Generator], pa.Table]


def _churn_reasons_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """Churn reasons on the sample's churns and contractions (see :mod:`revbook.sample.text`)."""
    return text.churn_reasons_table(book, rng)[0]


def _notes_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """Notes with trigger phrases before events, noise and hard negatives (see :mod:`revbook.sample.text`)."""
    return text.notes_table(book, rng)[0]


#: table name -> builder(book, rng); each gets its own child generator, in this order
TABLE_BUILDERS: dict[str, Builder] = {
    "accounts": accounts_table,
    "subscriptions": subscriptions_table,
    "owners": owners_table,
    "people": people_table,
    "fx_rates": fx_rates_table,
    "invoices": invoices_table,
    "account_history": account_history_table,
    "churn_reasons": _churn_reasons_table,
    "notes": _notes_table,
    **{name: getattr(activity, f"{name}_table") for name in ACTIVITY_TABLES},
}
#: tables built only with ``SampleConfig(text=True)``
TEXT_TABLES = ("churn_reasons", "notes")


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
    book = build(config, **{**overrides, "text": True})
    return {
        "labels_churn_reasons": text.churn_reasons_table(book, _child(book, "churn_reasons"))[1],
        "labels_signals": text.notes_table(book, _child(book, "notes"))[1],
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
