"""The shared stages under every metric: periods, change points, snapshots and slices.

- ``rb_changes_<grain>``: per account, only the periods where its period-end MRR changes
  (DESIGN.md "change points"): each ledger line adds its MRR in the period it starts and
  removes it in the period it ends; summed per account and period and running-summed per
  account, they give the account's MRR at every period end as a step function.
- ``rb_state_*`` and ``rb_level_*`` (:mod:`revbook.metrics.states`): the MRR and slice change
  points that movements, retention, MRR by slice and cohorts are computed from.
- ``rb_snap_<grain>``: account x period rows where the account's period-end MRR is above zero,
  expanded from the step function. Only account-level detail reads it (one row per account and
  period is what such an export is); no aggregate metric does.
- ``rb_slice_<rows>_<dims>``: slice values of rows of (account, period) as of that period's
  snapshot date (owners, account_history, the largest line's plan, cohort, ARR band).

The stages a load keeps in the workspace file (:mod:`revbook.metrics.kept`) are read back by the
next process whose :func:`stage_key` is the same; every other stage lives as long as the
connection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ..definitions import NO_VALUE, band_labels
from ..errors import ConfigError
from ..ledger import FAR_FUTURE, REVENUE_ONLY, active_on, build_ledger
from ..store import META_TABLE, stages
from .periods import GRAINS, Calendar, is_partial, period_label

if TYPE_CHECKING:
    from ..config import Config
    from ..engines import Engine
    from ..store import Store

__all__ = [
    "COMPANIONS",
    "DIMENSIONS",
    "GRAINS",
    "Book",
    "band_labels",
    "book_of",
    "expand_dimensions",
    "is_partial",
    "period_label",
    "stage_key",
    "stage_settings",
]

DIMENSIONS = ("segment", "region", "industry", "owner", "team", "plan", "cohort", "arr_band")
#: columns that come with a dimension, for reading (the owner's name beside their id)
COMPANIONS = {"owner": "owner_name"}
UNASSIGNED = NO_VALUE


def expand_dimensions(dims: Sequence[str]) -> list[str]:
    """The slice columns of a result: each dimension, followed by its companion if it has one."""
    out: list[str] = []
    for d in dims:
        if d not in DIMENSIONS:
            raise ConfigError(f"unknown slice '{d}'", hint=f"slice by one of: {', '.join(DIMENSIONS)}")
        out.append(d)
        if d in COMPANIONS:
            out.append(COMPANIONS[d])
    return out


class Book:
    """Builds and caches the shared stages of one workspace connection."""

    #: how many (grain, slices) groups of state stages stay cached; older ones are dropped
    KEEP_GROUPS = 6

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        kept: Sequence[str] = (),
        first_periods: Mapping[str, int] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.as_of = config.snapshot_date()
        #: the stages read from the workspace file, kept there by the last load
        self.kept = frozenset(kept)
        self._built: set[str] = set(kept)
        if "rb_lines" in self.kept and (config.mrr_source != "invoices" or REVENUE_ONLY in self.kept):
            self._built.add("ledger")
        self._groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        #: the first period of each grain's spine, when given rather than read from the book's own
        #: lines (a book of some accounts' lines whose states are those of a larger book)
        self.first_periods = dict(first_periods or {})

    def close(self) -> None:
        self.engine.close()

    def remember(self, grain: str, dims: Sequence[str], stage: str) -> None:
        """Cache ``stage`` under its (grain, slices) group, dropping the least recently used group
        beyond :attr:`KEEP_GROUPS`: each group holds tables as long as the account changes, so a
        long session slicing many ways would otherwise keep all of them in memory."""
        key = (grain, tuple(dims))
        group = self._groups.pop(key, [])
        if stage not in group:
            group.append(stage)
        self._groups[key] = group  # most recent last
        self._built.add(stage)
        while len(self._groups) > self.KEEP_GROUPS:
            oldest = next(iter(self._groups))
            for name in self._groups.pop(oldest):
                if name in self.kept:
                    continue  # read from the file: holds no memory
                self.engine.drop(name)
                self._built.discard(name)

    def touch(self, grain: str, dims: Sequence[str]) -> None:
        """Mark a group as just used."""
        key = (grain, tuple(dims))
        if key in self._groups:
            self._groups[key] = self._groups.pop(key)

    # -- ledger -----------------------------------------------------------------------------
    def ledger(self) -> str:
        if "ledger" not in self._built:
            build_ledger(self.engine, self.config)
            self._built.add("ledger")
        return "rb_lines"

    def calendar(self, grain: str) -> Calendar:
        if grain not in GRAINS:
            raise ConfigError(f"unknown grain '{grain}'", hint=f"use one of: {', '.join(GRAINS)}")
        return Calendar(grain, self.config.fiscal_year_start_month)

    # -- change points ---------------------------------------------------------------------
    def changes(self, grain: str) -> str:
        return self._changes(grain, f"rb_changes_{grain}", ("account_id",))

    def subscription_changes(self, grain: str) -> str:
        """``rb_subchanges_<grain>``: the change points of each (account, subscription_id), like
        :meth:`changes` per subscription, each subscription's MRR at 0 when its lines net below zero
        (``movement_grain = "subscription"``: :func:`revbook.metrics.states.movement_rows`)."""
        return self._changes(grain, f"rb_subchanges_{grain}", ("account_id", "subscription_id"))

    def _changes(self, grain: str, name: str, keys: tuple[str, ...]) -> str:
        if name in self._built:
            return name
        lines = self.ledger()
        cal = self.calendar(grain)
        k = ", ".join(keys)
        self.engine.materialize(
            name,
            f"""
            WITH events AS (
                SELECT {k}, {cal.period_sql("start_date")} AS period, mrr AS delta
                FROM {lines} WHERE mrr <> 0
                UNION ALL
                SELECT {k}, {cal.period_sql("end_date")} AS period, -mrr AS delta
                FROM {lines} WHERE mrr <> 0 AND end_date IS NOT NULL
            ),
            steps AS (
                SELECT {k}, period, sum(delta) AS delta FROM events GROUP BY {k}, period
            ),
            levels AS (
                SELECT {k}, period,
                       sum(delta) OVER (PARTITION BY {k} ORDER BY period
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level
                FROM steps
            )
            SELECT {k}, period, CAST(greatest(level, 0) AS BIGINT) AS mrr,
                   lead(period) OVER (PARTITION BY {k} ORDER BY period) AS next_period
            FROM levels
            """,
        )
        self._built.add(name)
        return name

    def spine(self, grain: str) -> tuple[str, int, int]:
        """The period table (period, label, period_start, period_end) from the first change to as-of."""
        name = f"rb_periods_{grain}"
        cal = self.calendar(grain)
        last = cal.period_of(self.as_of)
        if grain in self.first_periods:
            given = self.first_periods[grain]
            if name not in self._built:
                self.engine.materialize(name, cal.periods_sql(given, last, self.as_of))
                self._built.add(name)
            return name, given, last
        changes = self.changes(grain)
        first = self.engine.scalar(f"SELECT min(period) FROM {changes} WHERE mrr > 0")
        if self.config.intra_month == "gross":  # from the first paid line, which may be a spell no snapshot sees
            spell = self.engine.scalar(f"SELECT min({cal.period_sql('start_date')}) FROM {self.ledger()} WHERE mrr > 0")
            first = first if spell is None else spell if first is None else min(first, spell)  # type: ignore[call-overload]
        first = last if first is None else min(int(first), last)  # type: ignore[call-overload]
        if name not in self._built:
            self.engine.materialize(name, cal.periods_sql(first, last, self.as_of))
            self._built.add(name)
        return name, first, last

    def snapshots(self, grain: str) -> str:
        """Account x period rows with period-end MRR above zero."""
        return self._snapshots(grain, f"rb_snap_{grain}", self.changes(grain), "")

    def subscription_snapshots(self, grain: str) -> str:
        """(Account, subscription) x period rows with the subscription's period-end MRR above zero."""
        return self._snapshots(grain, f"rb_subsnap_{grain}", self.subscription_changes(grain), "c.subscription_id, ")

    def _snapshots(self, grain: str, name: str, changes: str, key: str) -> str:
        if name in self._built:
            return name
        periods, _, _ = self.spine(grain)
        self.engine.materialize(
            name,
            f"""
            SELECT c.account_id, {key}p.period, p.period_end, c.mrr
            FROM {changes} c JOIN {periods} p
              ON p.period >= c.period AND (c.next_period IS NULL OR p.period < c.next_period)
            WHERE c.mrr > 0
            """,
        )
        self._built.add(name)
        return name

    def spells(self, grain: str) -> str:
        """``rb_spells_<grain>`` (``intra_month = "gross"``): each spell of an account's MRR that no
        snapshot sees, one that starts after a period's start and ends on or before its snapshot date:
        (account_id, spell_period, period, period_end, mrr): the period it falls in, a number of its own
        (so that :meth:`slices_of` reads one slice per spell), its first day (its slice is read on that
        day) and the account's MRR that day. A spell is a run of days with the
        account's MRR above zero (``account_mrr_sql``'s rule: its lines summed, credits included)."""
        name = f"rb_spells_{grain}"
        if name in self._built:
            return name
        lines = self.ledger()
        periods, _, _ = self.spine(grain)
        cal = self.calendar(grain)
        self.engine.materialize(
            name,
            f"""
            WITH events AS (
                SELECT account_id, start_date AS day, mrr AS delta FROM {lines} WHERE mrr <> 0
                UNION ALL
                SELECT account_id, end_date AS day, -mrr AS delta FROM {lines} WHERE mrr <> 0 AND end_date IS NOT NULL
            ),
            steps AS (SELECT account_id, day, sum(delta) AS delta FROM events GROUP BY account_id, day),
            days AS (
                SELECT account_id, day,
                       sum(delta) OVER (PARTITION BY account_id ORDER BY day
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level
                FROM steps
            ),
            edges AS (
                SELECT account_id, day, level FROM (
                    SELECT account_id, day, level,
                           coalesce(lag(level) OVER (PARTITION BY account_id ORDER BY day), 0) AS prev_level
                    FROM days
                ) d
                WHERE (level > 0 AND prev_level <= 0) OR (level <= 0 AND prev_level > 0)
            ),
            runs AS (
                SELECT account_id, day AS first_day, level,
                       lead(day) OVER (PARTITION BY account_id ORDER BY day) AS end_day
                FROM edges
            )
            SELECT r.account_id, p.period AS spell_period,
                   row_number() OVER (ORDER BY r.account_id, r.first_day) AS period,
                   r.first_day AS period_end, CAST(r.level AS BIGINT) AS mrr
            FROM runs r JOIN {periods} p ON p.period = {cal.period_sql("r.first_day")}
            WHERE r.level > 0 AND r.end_day IS NOT NULL AND r.end_day <= p.period_end
            """,
        )
        self._built.add(name)
        return name

    # -- slices ----------------------------------------------------------------------------
    def slices(self, grain: str, dims: Sequence[str]) -> str:
        """Each snapshot row's slice values as of its period's snapshot date."""
        return self.slices_of(self.snapshots(grain), dims)

    def slices_of(self, rows: str, dims: Sequence[str]) -> str:
        """Slice values of each row of ``rows`` (account_id, period, period_end, mrr) as of its period_end."""
        for d in dims:
            if d not in DIMENSIONS and d not in COMPANIONS.values():
                raise ConfigError(f"unknown slice '{d}'", hint=f"slice by one of: {', '.join(DIMENSIONS)}")
        name = f"rb_slice_{rows}_{'_'.join(dims) or 'all'}"
        if name in self._built:
            return name
        selects: list[str] = []
        joins: list[str] = []
        for d in dims:
            expr, join = self._dimension(d, rows)
            selects.append(f"{expr} AS {d}")
            joins.extend(j for j in join if j not in joins)
        self.engine.materialize(
            name,
            f"SELECT s.account_id, s.period{''.join(', ' + c for c in selects)} FROM {rows} s {' '.join(joins)}",
        )
        self._built.add(name)
        return name

    def slices_at(
        self,
        account_ids: pa.Array | pa.ChunkedArray | Sequence[str],
        dates: pa.Array | pa.ChunkedArray | Sequence[dt.date] | dt.date,
        dims: Sequence[str],
    ) -> pa.Table:
        """The slice values ``dims`` of each (account, date) pair on its date, by the rules of
        :meth:`slices_of` (owners and account_history valid then): one row per pair, in order
        (account_id, period_end, *dims). ``dates``: one per account, or one date for all. The
        tables it builds are dropped before it returns."""
        ids = account_ids if isinstance(account_ids, pa.Array | pa.ChunkedArray) else pa.array(account_ids, pa.string())
        n = len(ids)
        days = pa.array([dates] * n, pa.date32()) if isinstance(dates, dt.date) else dates
        rows = "rb_slices_at_rows"
        self.engine.register(
            rows,
            pa.table(
                {
                    "account_id": ids,
                    "period": pa.array(range(n), pa.int64()),
                    "period_end": days if isinstance(days, pa.Array | pa.ChunkedArray) else pa.array(days, pa.date32()),
                    "mrr": pa.array([0] * n, pa.int64()),
                }
            ),
        )
        sliced = None
        try:
            sliced = self.slices_of(rows, list(dims))
            cols = "".join(f", s.{d}" for d in dims)
            return self.engine.arrow(
                f"SELECT r.account_id, r.period_end{cols} FROM {rows} r JOIN {sliced} s ON s.period = r.period "
                "ORDER BY r.period"
            )
        finally:
            for name in (rows, *([sliced] if sliced else [])):
                self.engine.drop(name)
                self._built.discard(name)

    @staticmethod
    def _latest(alias: str, snap: str, source: str, on: str, order: str, value: str) -> str:
        """A join to the latest row of ``source`` valid at each snapshot row's date."""
        return f"""LEFT JOIN (
            SELECT s2.account_id, s2.period, {value} AS value,
                   row_number() OVER (PARTITION BY s2.account_id, s2.period ORDER BY {order}) AS rn
            FROM {snap} s2 JOIN {source} ON {on}
        ) {alias} ON {alias}.account_id = s.account_id AND {alias}.period = s.period AND {alias}.rn = 1"""

    def _dimension(self, dim: str, snap: str) -> tuple[str, list[str]]:
        if dim in ("segment", "region", "industry"):
            hist = self._latest(
                f"h_{dim}",
                snap,
                "account_history h",
                f"h.account_id = s2.account_id AND h.attribute = '{dim}' AND h.valid_from <= s2.period_end",
                "h.valid_from DESC",
                "h.value",
            )
            acc = "LEFT JOIN accounts a ON a.account_id = s.account_id"
            return f"coalesce(h_{dim}.value, a.{dim}, '{UNASSIGNED}')", [hist, acc]
        if dim in ("owner", "team", "owner_name"):
            csm = self._latest(
                "csm",
                snap,
                "owners o",
                "o.account_id = s2.account_id AND o.role = 'csm' AND o.start_date <= s2.period_end"
                f" AND coalesce(o.end_date, {FAR_FUTURE}) > s2.period_end",
                "o.start_date DESC, o.owner_id",
                "o.owner_id",
            )
            if dim == "owner":
                return f"coalesce(csm.value, '{UNASSIGNED}')", [csm]
            people = "LEFT JOIN people pe ON pe.owner_id = csm.value"
            if dim == "owner_name":
                return f"coalesce(pe.name, csm.value, '{UNASSIGNED}')", [csm, people]
            return f"coalesce(pe.team, '{UNASSIGNED}')", [csm, people]
        if dim == "plan":
            plan = self._latest(
                "pl",
                snap,
                "rb_lines l",
                f"l.account_id = s2.account_id AND l.mrr > 0 AND {active_on('s2.period_end')}",
                "l.mrr DESC, l.plan",
                "l.plan",
            )
            return f"coalesce(pl.value, '{UNASSIGNED}')", [plan]
        if dim == "cohort":
            first = (
                f"LEFT JOIN (SELECT account_id, min(period) AS first_month FROM {self.changes('month')}"
                " WHERE mrr > 0 GROUP BY account_id) co ON co.account_id = s.account_id"
            )
            year = "CAST(co.first_month // 12 AS VARCHAR)"
            if self.config.cohort_slice == "year":
                return year, [first]
            return f"{year} || '-Q' || CAST((co.first_month % 12) // 3 + 1 AS VARCHAR)", [first]
        if dim == "arr_band":
            edges = self.config.arr_bands
            scale = 10**self.config.minor_units
            labels = band_labels(edges)
            whens = " ".join(
                f"WHEN 12 * s.mrr < {edge * scale} THEN '{label}'" for edge, label in zip(edges, labels, strict=False)
            )
            return f"CASE {whens} ELSE '{labels[-1]}' END", []
        raise AssertionError(dim)


#: the modules whose code defines the kept stages: their source is part of the key
STAGE_CODE = (
    "ledger.py",
    "metrics/book.py",
    "metrics/periods.py",
    "metrics/states.py",
    "metrics/kept.py",
    "metrics/incremental.py",
    "quality",
)
#: the settings of Config the stages never read; every other workspace-level setting is in the key
UNKEYED_SETTINGS = ("workspace", "memory_limit", "max_shrink", "sources")


def stage_settings(config: Config) -> dict[str, object]:
    """The settings in the stage key: every workspace-level field of Config but ``UNKEYED_SETTINGS``
    (not the sections of revbook.toml, dataclasses and mappings, which the stages never read), with
    the as-of date resolved (no ``as_of``: today)."""
    settings = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in UNKEYED_SETTINGS
        and not dataclasses.is_dataclass(getattr(config, f.name))
        and not isinstance(getattr(config, f.name), Mapping)
    }
    settings["as_of"] = config.snapshot_date()
    return settings


def settings_key(config: Config) -> str:
    """The part of :func:`stage_key` that is neither data nor the as-of date: every workspace-level
    setting (not the sections of revbook.toml, which the stages never read) and the code of the
    modules that define the stages (``STAGE_CODE``). Kept stages made under another one are never
    updated in place (:mod:`revbook.metrics.incremental`)."""
    h = hashlib.sha256()
    settings = stage_settings(config)
    del settings["as_of"]
    h.update(repr(sorted(settings.items())).encode())
    root = Path(__file__).resolve().parents[1]
    for module in STAGE_CODE:
        path = root / module
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            h.update(file.read_bytes())
    return h.hexdigest()


def data_key(store: Store) -> str:
    """The data part of :func:`stage_key`: each table's load (its fingerprint, row count and time)
    and the as-of date."""
    h = hashlib.sha256()
    loads = store.con.execute(f"SELECT table_name, fingerprint, rows, loaded_at FROM {META_TABLE} ORDER BY 1")
    h.update(repr(loads.fetchall()).encode())
    h.update(store.config.snapshot_date().isoformat().encode())
    return h.hexdigest()


def stage_key(store: Store) -> str:
    """The digest the kept stages are valid for: :func:`settings_key` (settings and code) and
    :func:`data_key` (what was loaded and when, the as-of date)."""
    return hashlib.sha256(f"{settings_key(store.config)}:{data_key(store)}".encode()).hexdigest()


def _build_book(store: Store) -> Book:
    from ..engines.duckdb import DuckDBEngine
    from ..errors import WorkspaceError

    engine = store.make_engine()
    try:
        if not engine.scalar(f"SELECT count(*) > 0 FROM {store.config.mrr_source}"):
            raise WorkspaceError(
                f"{store.source_label()} has no {store.config.mrr_source} loaded",
                hint="run `revbook load` first (or `revbook demo` for a sample company)",
            )
        kept: list[str] = []
        if isinstance(engine, DuckDBEngine):
            kept = stages.kept(store.con, stage_key(store))
            engine.use_kept(stages.SCHEMA, kept)
    except BaseException:
        engine.close()
        raise
    return Book(engine, store.config, kept=kept)


def book_of(store: Store) -> Book:
    """The store's :class:`Book`: its stages are built on first use and kept until the next load
    (those the last load kept in the workspace file are read from it)."""
    return store.derived("book", _build_book)
