"""The stages a load keeps in the workspace file for the commands after it.

A load that changes a table (or finds the kept stages made for another key: a new as-of date, a
changed setting, a newer revbook) rebuilds them once it has committed (the old set unrecorded
first, the new one recorded last, so that a run cut short leaves none to read; a refresh of the
data or a later as-of date recomputes only the accounts that changed,
:mod:`revbook.metrics.incremental`): the ledger (which the
load's own checks build anyway, moved into the file), the change points at every grain, the
month states of the whole book, the states of the shared slices at every grain and the whole
book's month levels (what the headline, movements, MRR and retention by any slice read), and the data-quality findings
(``revbook check`` and the findings under the headline). A later process reads them through
:func:`revbook.metrics.book.book_of` and :func:`kept_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from ..engines.duckdb import DuckDBEngine
from ..ledger import REVENUE_ONLY
from ..store import stages
from .book import GRAINS, Book, settings_key, stage_key

if TYPE_CHECKING:
    from ..contract import Finding
    from ..store import Store

__all__ = ["CHECKS_STAGE", "keep_stages", "kept_checks"]

#: the kept table of the data-quality findings (quality.run_checks)
CHECKS_STAGE = "rb_checks"
#: the ledger's kept stages: always built whole
_LEDGER = ("rb_lines", REVENUE_ONLY)


def _kept(name: str) -> bool:
    """Whether a stage is one a load keeps: the ledger's results (not the steps before them), the
    change points, the states (the whole book's at month grain, the shared slices' at every grain)
    and the whole book's month levels (a slice's levels are a
    quick sum over the kept states; all slices' at once would be their cross product)."""
    return name in ("rb_lines", REVENUE_ONLY, "rb_level_month_all") or name.startswith(("rb_changes_", "rb_state_"))


def keep_stages(store: Store, *, changed: bool, contract: Sequence[Finding] | None = None) -> None:
    """Build and keep the stages the commands after a load read (see the module's docstring), once
    the load has committed: its own transaction stays small, and the stages its checks built (the
    ledger) are moved into the file rather than built again. Nothing when the kept ones are still
    valid and the load changed no table, or nothing is loaded to compute them from. The old set is
    unrecorded first and the new one recorded last, so a run cut short leaves none to read. When
    only the data and the as-of date moved forward, only the accounts whose inputs changed are
    recomputed (:mod:`revbook.metrics.incremental`). ``contract``: what the load's contract checks
    found over the tables it committed (not run again). What it did: ``store.kept_stages``."""
    from ..quality import run_checks
    from . import incremental
    from .states import levels, shared_dimensions, states

    store.kept_stages = None
    if store.engine_name != "duckdb":
        return
    key = stage_key(store)
    if not changed and stages.kept(store.con, key):
        return
    base = stages.previous(store.con)
    old = stages.kept(store.con, base.key) if base else []
    reason = incremental.refusal(store.config, base)
    if reason is None:
        stages.unrecord(store.con)
    else:
        stages.clear(store.con)
    if not store.con.execute(f"SELECT count(*) > 0 FROM {store.config.mrr_source}").fetchone()[0]:  # type: ignore[index]
        stages.clear(store.con)
        return
    book = store._derived.get("book")
    if not isinstance(book, Book) or not isinstance(book.engine, DuckDBEngine) or book.kept:
        store.reset_derived()
        book = Book(DuckDBEngine(store.con), store.config)
        store._derived["book"] = book
    engine = book.engine
    assert isinstance(engine, DuckDBEngine)
    engine.keep, engine.keeps = stages.SCHEMA, _kept
    for name in sorted(n for n in book._built if _kept(n)):
        if reason is None and name not in _LEDGER:  # updated in place from the kept one
            engine.drop(name)
            book._built.discard(name)
        else:
            engine.keep_built(name)
    for name in ("rb_source", "rb_priced"):  # the ledger's first steps: read by nothing after it
        engine.drop(name)
        book._built.discard(name)
    book.ledger()
    outcome = None
    if reason is None and base is not None:
        updated = [n for n in old if n not in _LEDGER and n.startswith(("rb_changes_", "rb_state_"))]
        engine.use_kept(stages.SCHEMA, updated)
        book._built.update(updated)
        result = incremental.update(store, book, base, updated)
        if isinstance(result, str):
            reason = result
            for name in updated:  # rebuilt whole below
                book._built.discard(name)
            for name in [n for n in book._built if n.startswith("rb_periods_")]:
                engine.drop(name)
                book._built.discard(name)
        else:
            outcome = result
    if outcome is None:
        for grain in GRAINS:
            book.changes(grain)
        for grain in GRAINS:  # quarter and year from the month states, which they read
            states(book, grain, shared_dimensions())
    levels(book, "month", ())
    engine.register(CHECKS_STAGE, run_checks(store, contract))
    engine.keep_built(CHECKS_STAGE)
    first = book.spine("month")[1]
    accounts = incremental.keep_digest(store.con, book.as_of)
    stages.record(store.con, key, sorted(engine.views))
    stages.record_base(store.con, stages.Base(settings_key(store.config), key, book.as_of, first))
    engine.keep = None
    store.kept_stages = outcome or stages.Outcome(accounts, None, reason or "")


def kept_checks(store: Store) -> pa.Table | None:
    """The data-quality findings the last load kept, when still valid for this workspace's key."""
    if store.engine_name != "duckdb" or CHECKS_STAGE not in stages.kept(store.con, stage_key(store)):
        return None
    return store.con.execute(f"SELECT * FROM {stages.SCHEMA}.{CHECKS_STAGE}").to_arrow_table()
