"""The dashboard's one read-only workspace and its in-memory cache of the library's frames.

A workspace file does not change while it is served, so each library call's result is kept per
(method, options) for the app's life, and account-level lists are computed once and then
filtered, sorted and paged in memory (Polars). One DuckDB connection serves every request: the
library caches its stages per connection, and a connection is used by one thread at a time,
hence the lock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..definitions import MOVEMENT_KINDS as MOVEMENTS
from ..metrics.book import DIMENSIONS, is_partial, period_label
from ..reports.charts.common import shown_value

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from ..workspace import Workspace

__all__ = ["ALL_DIMS", "MOVEMENTS", "Store"]

T = TypeVar("T")
ALL_DIMS: tuple[str, ...] = DIMENSIONS


def _key(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    return value


class Store:
    """Cached, thread-safe reads of one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.currency = ws.config.reporting_currency
        self.as_of = ws.config.snapshot_date()
        self.lock = threading.RLock()
        self._cache: dict[Any, Any] = {}
        self._bg_lock = threading.Lock()
        self._bg_running: set[Any] = set()

    def close(self) -> None:
        with self.lock:
            self._cache.clear()
            self.ws.close()

    # -- the cache ---------------------------------------------------------------------------
    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """The value cached under ``key``, computed once (under the lock) on first use."""
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self.lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]  # type: ignore[no-any-return]

    def frame(self, method: str, **options: Any) -> pa.Table:
        """A library call's result as Arrow, cached per (method, options)."""
        key = (method, *sorted((k, _key(v)) for k, v in options.items()))
        return self.memo(key, lambda: getattr(self.ws, method)(**options).to_arrow())

    def rows(self, method: str, **options: Any) -> list[dict[str, Any]]:
        """A library call's rows; a row of a period also has its ``period_label`` (:meth:`label`)."""
        key = ("rows", method, *sorted((k, _key(v)) for k, v in options.items()))
        return self.memo(key, lambda: self._labelled(self.frame(method, **options), options))

    def rows_at(self, method: str, period_end: dt.date, **options: Any) -> list[dict[str, Any]]:
        """The rows of a library call whose period ends on ``period_end`` (kept per date)."""
        return self._rows_where(method, "period_end", period_end, options)

    def rows_in(self, method: str, by: str | None, value: str | None, **options: Any) -> list[dict[str, Any]]:
        """The rows of ``method(by=by, ...)`` for one slice value (all rows without a slice), kept per value."""
        if by is None or value is None:
            return self.rows(method, by=None, **options)
        return self._rows_where(method, by, value, {**options, "by": by})

    def _rows_where(self, method: str, column: str, value: Any, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows of ``method(**options)`` whose ``column`` equals ``value``, filtered in Arrow first."""
        import pyarrow.compute as pc

        def compute() -> list[dict[str, Any]]:
            t = self.frame(method, **options)
            return self._labelled(t.filter(pc.field(column) == value), options)

        key = ("rows_where", method, column, _key(value), *sorted((k, _key(v)) for k, v in options.items()))
        return self.memo(key, compute)

    def _labelled(self, t: pa.Table, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``t``'s rows as dicts (only the rows asked for: a sliced table's every row as a dict would
        cost gigabytes at a million accounts), each row of a period with its ``period_label``."""
        rows: list[dict[str, Any]] = t.to_pylist()
        grain = options.get("grain", "month")
        for r in rows:
            if "period" in r and "period_end" in r:
                r["period_label"] = self.label(grain, r)
        return rows

    def headline(self) -> dict[str, Any]:
        return self.memo("headline", self.ws.headline)

    def findings(self) -> list[dict[str, Any]]:
        """``ws.check()`` rows: every data-quality finding (the checks and what the load kept)."""
        return self.memo("check", lambda: self.ws.check().to_pylist())

    def headline_findings(self) -> list[dict[str, Any]]:
        """The findings that change the headline figures (``quality.headline_findings``)."""
        from ..quality import headline_findings

        return self.memo("headline_findings", lambda: headline_findings(self.findings()))

    def table(self, name: str) -> pl.DataFrame:
        import polars as pl

        return self.memo(("table", name), lambda: pl.from_arrow(self.ws.table(name).to_arrow()))  # type: ignore[return-value]

    # -- periods and slices ------------------------------------------------------------------
    def periods(self, grain: str) -> list[dict[str, Any]]:
        """The periods of ``grain`` (label, start, end, label as shown), oldest first, from ``ws.mrr(grain=)``."""
        keep = ("period", "period_start", "period_end", "period_label")
        return self.memo(("periods", grain), lambda: [{k: r[k] for k in keep} for r in self.rows("mrr", grain=grain)])

    def period(self, grain: str, label: str | None) -> dict[str, Any] | None:
        """The period with this label (default: the last), or None when the grain has no such period."""
        periods = self.periods(grain)
        if not periods:
            return None
        if label is None:
            return periods[-1]
        return next((p for p in periods if p["period"] == label), None)

    def label(self, grain: str, period: Mapping[str, Any]) -> str:
        """A period's label as shown: "2026-11 to date" when the as-of date cuts it short (``period_label``)."""
        return period_label(
            period["period"], period["period_end"], grain=grain, fiscal_start=self.ws.config.fiscal_year_start_month
        )

    def last_complete(self, grain: str) -> dict[str, Any] | None:
        """The last period of ``grain`` that is not cut short by the as-of date (the waterfall's default)."""
        fiscal = self.ws.config.fiscal_year_start_month
        periods = self.periods(grain)
        return next(
            (p for p in reversed(periods) if not is_partial(p["period_end"], grain=grain, fiscal_start=fiscal)), None
        )

    def shift(self, grain: str, label: str, months: int) -> dict[str, Any] | None:
        """The period ``months`` periods before ``label`` (for a window's opening snapshot)."""
        periods = self.periods(grain)
        idx = next((i for i, p in enumerate(periods) if p["period"] == label), None)
        if idx is None or idx - months < 0:
            return None
        return periods[idx - months]

    def slice_values(self, dim: str) -> list[tuple[str, str]]:
        """(value, label) of a slice dimension, as they occur in the monthly MRR by that slice."""

        def compute() -> list[tuple[str, str]]:
            t = self.frame("mrr", grain="month", by=dim)
            cols = [dim, "owner_name"] if dim == "owner" and "owner_name" in t.column_names else [dim]
            seen: dict[str, str] = {}
            for r in t.select(cols).to_pylist():  # two columns' dicts, in the table's order
                if r[dim] is not None:
                    label = (r.get("owner_name") or r[dim]) if dim == "owner" else r[dim]
                    seen.setdefault(r[dim], shown_value(label))
            return sorted(seen.items(), key=lambda kv: kv[1].lower())

        return self.memo(("slice_values", dim), compute)

    def slice_label(self, dim: str | None, value: str | None) -> str | None:
        if not dim or value is None:
            return None
        return dict(self.slice_values(dim)).get(value, value)

    # -- account level -----------------------------------------------------------------------
    def moves(self, grain: str) -> pl.DataFrame:
        """Every account-period movement (not the unchanged rows), each with its slices at the period's start."""
        import polars as pl

        def compute() -> pl.DataFrame:
            table = self.ws.account_movements(grain=grain, by=list(ALL_DIMS), moved_only=True).to_arrow()
            df: pl.DataFrame = pl.from_arrow(table)  # type: ignore[assignment]
            return df.with_columns((pl.col("end_mrr") - pl.col("start_mrr")).alias("change"))

        return self.memo(("moves", grain), compute)

    def snapshot(self, grain: str, period_end: dt.date) -> pl.DataFrame:
        """Paying accounts on one snapshot with MRR, ARR and every slice (``ws.mrr(accounts=True)``)."""
        import polars as pl

        def compute() -> pl.DataFrame:
            t = self.frame("mrr", grain=grain, accounts=True, by=list(ALL_DIMS), start=period_end, end=period_end)
            return pl.from_arrow(t)  # type: ignore[return-value]

        return self.memo(("snapshot", grain, period_end), compute)

    def first_month(self) -> pl.DataFrame:
        """Each account's first month with MRR (its cohort month, the first 'new' at month grain)."""
        import polars as pl

        def compute() -> pl.DataFrame:
            m = self.moves("month")
            return (
                m.filter(pl.col("movement") == "new")
                .group_by("account_id")
                .agg(pl.col("period").min().alias("cohort_month"), pl.col("period_end").min().alias("first_mrr_end"))
            )

        return self.memo("first_month", compute)

    def account_list(self, grain: str, period: dict[str, Any]) -> pl.DataFrame:
        """Every account with its ARR on the period's snapshot, slices, last movement up to then, tenure."""
        import polars as pl

        def compute() -> pl.DataFrame:
            end = period["period_end"]
            snap = self.snapshot(grain, end).select("account_id", "mrr", "arr", *self._dim_cols())
            moves = self.moves(grain).filter(pl.col("period_end") <= end)
            last = (
                moves.sort("period_end")
                .group_by("account_id")
                .agg(
                    pl.col("movement").last().alias("last_movement"),
                    pl.col("period").last().alias("last_movement_period"),
                    pl.col("period_end").last().alias("last_movement_end"),
                    pl.col("change").last().alias("last_change"),
                    *[pl.col(d).last().alias(f"last_{d}") for d in self._dim_cols()],
                )
            )
            accounts = self.table("accounts").select("account_id", "name")
            df = (
                accounts.join(snap, on="account_id", how="left")
                .join(last, on="account_id", how="left")
                .join(self.first_month(), on="account_id", how="left")
            )
            from ..metrics.book import GRAINS

            first = pl.col("first_mrr_end").dt.year() * 12 + pl.col("first_mrr_end").dt.month()
            churn_end = pl.col("last_movement_end").dt.year() * 12 + pl.col("last_movement_end").dt.month()
            # a churned account's tenure ends at its last paid snapshot, one period before its churn
            months = (
                pl.when(pl.col("arr").is_null() & (pl.col("last_movement") == "churn"))
                .then(churn_end - GRAINS[grain] - first)
                .otherwise((end.year * 12 + end.month) - first)
            )
            status = (
                pl.when(pl.col("arr").is_not_null())
                .then(pl.lit("paying"))
                .when(pl.col("last_movement").is_not_null())
                .then(pl.lit("churned"))
                .otherwise(pl.lit("not yet paying"))
            )
            df = df.with_columns(
                *[pl.coalesce(pl.col(d), pl.col(f"last_{d}")).alias(d) for d in self._dim_cols()],
                pl.when(pl.col("first_mrr_end") <= end).then(months).otherwise(None).alias("tenure_months"),
                pl.col("arr").fill_null(0),
                pl.col("mrr").fill_null(0),
                status.alias("status"),
            )
            return df.drop([f"last_{d}" for d in self._dim_cols()] + ["last_movement_end"])

        return self.memo(("account_list", grain, period["period"]), compute)

    @staticmethod
    def _dim_cols() -> list[str]:
        return [*ALL_DIMS, "owner_name"]

    def owner_names(self) -> dict[str, str]:
        def compute() -> dict[str, str]:
            people = self.table("people")
            return dict(zip(people["owner_id"].to_list(), people["name"].to_list(), strict=True))

        return self.memo("owner_names", compute)

    def warm(self, steps: Sequence[Callable[[], object]], stop: threading.Event) -> None:
        """Compute the default pages' frames ahead of the first visits (a background thread)."""
        for step in steps:
            if stop.is_set():
                return
            step()

    # -- churn reasons and signals (revbook.insights) ------------------------------------------
    def row_count(self, table: str) -> int:
        """Rows loaded in a contract table (0 when the workspace does not have it)."""
        return int(self.memo("row_counts", self.ws.row_counts).get(table, 0))

    def classified(self) -> Any:
        """``classify_reasons(ws, reasons=[churn_reasons] of revbook.toml)``, the Frame (computed once)."""
        from ..insights import classify_reasons

        return self.memo("classified", lambda: classify_reasons(self.ws, reasons=self.ws.config.churn_reasons))

    def pareto(self, by: str | None, grain: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
        """``pareto(ws, by=, grain=, start=, end=)`` rows, cached per options."""
        from ..insights import pareto

        def compute() -> list[dict[str, Any]]:
            frame = pareto(
                self.ws,
                by=by,
                grain=grain,
                start=start,
                end=end,
                reasons=self.ws.config.churn_reasons,
                classified=self.classified(),
            )
            return frame.to_arrow().to_pylist()  # type: ignore[no-any-return]

        return self.memo(("pareto", by, grain, start, end), compute)

    def reason_events(self) -> pl.DataFrame:
        """``reason_events(ws, by=every slice)`` with each reason's comment and evidence (from the classification)."""
        import polars as pl

        def compute() -> pl.DataFrame:
            from ..insights import reason_events

            classified = self.classified()
            ev: pl.DataFrame = pl.from_arrow(  # type: ignore[assignment]
                reason_events(self.ws, by=list(ALL_DIMS), reasons=self.ws.config.churn_reasons, classified=classified)
            )
            cls: pl.DataFrame = pl.from_arrow(classified.to_arrow())  # type: ignore[assignment]
            text = cls.select("account_id", "date", "reason", "comment", "evidence", "primary_reason").unique(
                subset=["account_id", "date", "reason"], keep="first", maintain_order=True
            )
            names = self.table("accounts").select("account_id", "name")
            return ev.join(text, on=["account_id", "date", "reason"], how="left").join(
                names, on="account_id", how="left"
            )

        return self.memo("reason_events", compute)

    def upstream(self) -> list[dict[str, Any]]:
        """``upstream(ws, reasons=...)`` rows (top 5 reasons by ARR lost, seeded bootstrap intervals)."""
        from ..insights import upstream

        return self.memo(
            "upstream",
            lambda: upstream(self.ws, reasons=self.ws.config.churn_reasons).to_arrow().to_pylist(),
        )

    def signal_rule_set(self) -> Any:
        """The signal rules in force: the defaults with ``[signals]`` of revbook.toml."""
        from ..insights import signal_rules

        return self.memo("signal_rules", lambda: signal_rules(self.ws.config.signals))

    def signals(self) -> pl.DataFrame:
        """``find_signals(ws, rules=...)``, newest first, with each account's name, CSM and team now.

        The CSM and team are the account's on the last month's snapshot (a churned account: its last ones).
        """
        import polars as pl

        def compute() -> pl.DataFrame:
            from ..insights import find_signals

            hits: pl.DataFrame = pl.from_arrow(  # type: ignore[assignment]
                find_signals(self.ws, rules=self.signal_rule_set()).to_arrow()
            )
            period = self.period("month", None)
            if period is not None:
                owners = self.account_list("month", period).select("account_id", "name", "owner", "owner_name", "team")
            else:
                owners = (
                    self.table("accounts")
                    .select("account_id", "name")
                    .with_columns(
                        pl.lit(None, pl.String).alias("owner"),
                        pl.lit(None, pl.String).alias("owner_name"),
                        pl.lit(None, pl.String).alias("team"),
                    )
                )
            return hits.join(owners, on="account_id", how="left").sort(
                ["date", "account_id", "note_row", "sentence_no", "rule"],
                descending=[True, False, True, False, False],
            )

        return self.memo("signals", compute)

    def signal_lift(self) -> list[dict[str, Any]]:
        """``signal_lift(ws, rules=...)`` rows (horizons 90 and 180 days)."""
        from ..insights import signal_lift

        return self.memo(
            "signal_lift", lambda: signal_lift(self.ws, rules=self.signal_rule_set()).to_arrow().to_pylist()
        )

    # -- revenue under management and health (revbook.rum, revbook.health) -------------------
    def rum_accounts(self, on: dt.date) -> pl.DataFrame:
        """``rum.accounts(ws, on)`` with each account's name, largest ARR first (computed once per date)."""
        import polars as pl

        def compute() -> pl.DataFrame:
            from .. import rum

            df: pl.DataFrame = pl.from_arrow(rum.accounts(self.ws, on).to_arrow())  # type: ignore[assignment]
            names = self.table("accounts").select("account_id", "name")
            return df.join(names, on="account_id", how="left").sort(["arr", "account_id"], descending=[True, False])

        return self.memo(("rum_accounts", on), compute)

    def rum_rows(self, on: dt.date, by: tuple[str, ...]) -> list[dict[str, Any]]:
        """``rum.rum(ws, on, by=by)`` rows (``by``: (), ("team",) or ("owner",))."""
        from .. import rum

        return self.memo(("rum", on, by), lambda: rum.rum(self.ws, on, by=by).to_arrow().to_pylist())

    def rum_flow(self, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        """``rum.flow(ws, start, end)`` rows."""
        from .. import rum

        return self.memo(("rum_flow", start, end), lambda: rum.flow(self.ws, start, end).to_arrow().to_pylist())

    def health(self) -> pl.DataFrame:
        """``health.composite(ws)`` on the as-of date with each account's name, lowest score first
        (the largest ARR first among equal scores; no score last)."""
        import polars as pl

        def compute() -> pl.DataFrame:
            from ..health.composite import composite

            df: pl.DataFrame = pl.from_arrow(composite(self.ws))  # type: ignore[assignment]
            names = self.table("accounts").select("account_id", "name")
            df = df.join(names, on="account_id", how="left")
            return df.sort(["score", "arr", "account_id"], descending=[False, True, False], nulls_last=True)

        return self.memo("health", compute)

    def background(self, key: Any, compute: Callable[[], T], *, wait: bool = False) -> tuple[str, T | None, str | None]:
        """A slow value computed once, in a background thread: ("ready", value, None) when done,
        ("computing", None, None) meanwhile (the first call starts it), ("failed", None, message)
        when the library refused (a RevbookError, e.g. too little history), ("error", None, message)
        when it raised anything else (a bug: the page says so rather than wait forever).
        ``wait=True`` (the warm-up) computes it in the calling thread instead."""
        if wait and self._claim(key):
            self._run(key, compute)
        state = self._cache.get(("bg", key))
        if state is not None:
            return state  # type: ignore[no-any-return]
        if self._claim(key):
            threading.Thread(target=self._run, args=(key, compute), name=f"revbook-{key}", daemon=True).start()
        return self._cache.get(("bg", key), ("computing", None, None))  # type: ignore[no-any-return]

    def started(self, key: Any) -> bool:
        """Whether :meth:`background` was asked for ``key`` (running or done)."""
        with self._bg_lock:
            return ("bg", key) in self._cache or key in self._bg_running

    def _claim(self, key: Any) -> bool:
        with self._bg_lock:
            if ("bg", key) in self._cache or key in self._bg_running:
                return False
            self._bg_running.add(key)
            return True

    def _run(self, key: Any, compute: Callable[[], Any]) -> None:
        from ..errors import RevbookError

        try:
            with self.lock:  # the one connection: the backtest's queries wait for, and hold, it
                result: tuple[str, Any, str | None] = ("ready", compute(), None)
        except RevbookError as exc:
            result = ("failed", None, str(exc))
        except Exception as exc:
            result = ("error", None, f"{type(exc).__name__}: {exc}")
        self._cache[("bg", key)] = result

    def backtest(self, horizon: int, *, wait: bool = False) -> tuple[str, Any, str | None]:
        """``health.backtest(ws, horizon_days=horizon)``, computed once in the background (5-20 s on
        2,000 accounts); ``wait=True`` (the warm-up) computes it in the calling thread instead."""

        def compute() -> Any:
            from ..health.backtest import backtest

            return backtest(self.ws, horizon_days=horizon)

        return self.background(("backtest", horizon), compute, wait=wait)
