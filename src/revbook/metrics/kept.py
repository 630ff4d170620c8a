"""The stages a load keeps in the workspace file for the commands after it.

A load that changes a table (or finds the kept stages made for another key: a new as-of date, a
changed setting, a newer revbook) rebuilds them inside its transaction, so they commit with the
tables they were computed from or not at all: the ledger (which the load's own checks build
anyway), the change points at every grain, the month states and levels of the whole book and of
the shared slices (what the headline, movements, MRR and retention by any slice read), and the
data-quality findings (``revbook check`` and the findings under the headline). A later process
reads them through :func:`revbook.metrics.book.book_of` and :func:`kept_checks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from ..engines.duckdb import DuckDBEngine
from ..ledger import REVENUE_ONLY
from ..store import stages
from .book import GRAINS, Book, stage_key

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["CHECKS_STAGE", "keep_stages", "kept_checks", "start_keeping"]

#: the kept table of the data-quality findings (quality.run_checks)
CHECKS_STAGE = "rb_checks"


def _kept(name: str) -> bool:
    """Whether a stage is one a load keeps: the ledger's results (not the steps before them), the
    change points and the month states, and the whole book's month levels (a slice's levels are a
    quick sum over the kept states; all slices' at once would be their cross product)."""
    return name in ("rb_lines", REVENUE_ONLY, "rb_level_month_all") or name.startswith(
        ("rb_changes_", "rb_state_month_")
    )


def start_keeping(store: Store) -> Book | None:
    """Make the store's Book write its stages into the workspace file (the old set dropped), so that
    what the load's checks build is kept; None when the metrics do not run on the workspace's own
    DuckDB (the Spark engine)."""
    if store.engine_name != "duckdb":
        return None
    stages.clear(store.con)
    book = Book(DuckDBEngine(store.con, keep=stages.SCHEMA, keeps=_kept), store.config)
    store.reset_derived()
    store._derived["book"] = book
    return book


def keep_stages(store: Store, *, changed: bool) -> None:
    """Build and keep the stages the commands after a load read (see the module's docstring); nothing
    when the kept ones are still valid and the load changed no table, or nothing is loaded to
    compute them from."""
    from ..quality import run_checks
    from .states import levels, shared_dimensions, states

    if store.engine_name != "duckdb":
        return
    key = stage_key(store)
    if not changed and stages.kept(store.con, key):
        return
    if not store.con.execute(f"SELECT count(*) > 0 FROM {store.config.mrr_source}").fetchone()[0]:  # type: ignore[index]
        stages.clear(store.con)
        return
    book = store._derived.get("book")
    if not isinstance(book, Book) or not isinstance(book.engine, DuckDBEngine) or book.engine.keep is None:
        book = start_keeping(store)
        assert book is not None
    book.ledger()
    for grain in GRAINS:
        book.changes(grain)
    states(book, "month", shared_dimensions())
    levels(book, "month", ())
    checks = run_checks(store)
    store.con.register("_rb_checks_view", checks)
    try:
        store.con.execute(f"CREATE OR REPLACE TABLE {stages.SCHEMA}.{CHECKS_STAGE} AS SELECT * FROM _rb_checks_view")
    finally:
        store.con.unregister("_rb_checks_view")
    assert isinstance(book.engine, DuckDBEngine)
    stages.record(store.con, key, [*sorted(book.engine.views), CHECKS_STAGE])


def kept_checks(store: Store) -> pa.Table | None:
    """The data-quality findings the last load kept, when still valid for this workspace's key."""
    if store.engine_name != "duckdb" or CHECKS_STAGE not in stages.kept(store.con, stage_key(store)):
        return None
    return store.con.execute(f"SELECT * FROM {stages.SCHEMA}.{CHECKS_STAGE}").to_arrow_table()
