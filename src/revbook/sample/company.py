"""The sample company's tables: each built by one registered builder with its own random
generator (:data:`TABLE_BUILDERS`), generated in memory, labelled, or written to files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from . import activity, text
from .activity import ACTIVITY_TABLES
from .settings import SampleConfig
from .simulation import Book, build
from .staff import owners_table, people_table
from .tables import account_history_table, accounts_table, fx_rates_table, invoices_table, subscriptions_table

__all__ = ["TABLE_BUILDERS", "TEXT_TABLES", "generate", "labels", "write"]

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
