"""How every catalogue metric is run.

Each metric (one module per feature of this package, definitions in docs/definitions.md "The CS
metric catalogue") is one SQL definition of **facts**: rows of (account_id, period, at, keys...,
measures...), one per thing counted (a contract up for renewal, a QBR, an escalated ticket, a
paying account at the period end, ...). This module runs it the same way for all of them:

1. facts, materialised, restricted to the periods of the book (month, quarter or year of the
   fiscal calendar, up to the as-of date; nothing after the as-of date is read);
2. each fact's **slice date**: ``at`` when the metric measures a point in time (a paying account at
   the period end is sliced at the period end); otherwise the period's start snapshot (the day
   before the period starts) if the account paid then, else the period's end snapshot: slices are
   fixed at the period start, as for movements and retention (DESIGN.md);
3. the slices of each (account, slice date) from :meth:`Book.slices_of` (owners, account_history,
   plan, cohort, ARR band: never re-derived here);
4. the metric's aggregates per period, slice and key, each with its numerator and denominator so a
   reader can audit it (``accounts=True`` returns the facts themselves, sliced).

Money is exact: MRR in minor units (BIGINT) until it is printed as DECIMAL; deal amounts are the
loaded DECIMALs; only ratios, means and medians of days are DOUBLE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, WorkspaceError
from ..book import book_of
from .context import Context, Metric, Spec

if TYPE_CHECKING:
    from ...store import Store

__all__ = ["catalogue", "run"]

UNASSIGNED = "(none)"


def _require(ws: Store, metric: Metric) -> None:
    counts = ws.row_counts()
    for t in metric.tables:
        if counts.get(t, 0) == 0:
            raise WorkspaceError(
                f"{metric.name} needs the {t} table, which has no rows in this workspace",
                table=t,
                hint=f"load it (revbook.toml [sources.{t}], then `revbook load`; "
                f"its columns are in docs/data-contract.md)",
            )


def _metric(name: str) -> Metric:
    from .registry import METRICS

    if name not in METRICS:
        raise ConfigError(f"unknown catalogue metric '{name}'", hint=f"use one of: {', '.join(METRICS)}")
    return METRICS[name]


def catalogue(
    ws: Store,
    metric: str | None = None,
    *,
    grain: str = "quarter",
    by: str | Sequence[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    accounts: bool = False,
) -> Any:
    """A catalogue metric per period (and slice); ``metric=None`` gives the overview: every metric's
    headline at the last complete period whose tables are loaded. ``accounts=True`` gives the facts."""
    from ...frame import Frame
    from ..tables import date_option, slice_columns

    if metric is None:
        return Frame("catalogue", _overview(ws, grain))
    m = _metric(metric)
    _require(ws, m)
    table = run(ws, m, grain=grain, dims=slice_columns(by), start=date_option(start, "start"),
                end=date_option(end, "end"), accounts=accounts)  # fmt: skip
    return Frame(f"catalogue_{m.name}{'_accounts' if accounts else ''}", table)


def run(
    ws: Store,
    metric: Metric,
    *,
    grain: str,
    dims: Sequence[str],
    start: str | None = None,
    end: str | None = None,
    accounts: bool = False,
) -> Any:
    book = book_of(ws)
    settings = ws.config.catalogue
    cal = book.calendar(grain)
    periods, first, last = book.spine(grain)
    ctx = Context(book, cal, settings, periods, first, last)
    spec = metric.build(ctx)
    engine = book.engine
    needed = [*dims, *(d for d in spec.needs if d not in dims)]
    facts, fkeys, keyrows = "rb_cat_facts", "rb_cat_fkeys", "rb_cat_keys"
    slices: str | None = None
    try:
        engine.materialize(
            facts,
            f"SELECT f.* FROM ({spec.facts}) f WHERE f.period BETWEEN {first} AND {last}",
        )
        if needed:
            # each fact's slice date: `at`, else the period's start snapshot if paying then, else its end
            engine.materialize(
                fkeys,
                f"""
                WITH k AS (
                    SELECT DISTINCT f.account_id, f.period, f.at, p.period_end,
                           CAST(p.period_start - INTERVAL 1 DAY AS DATE) AS d0
                    FROM {facts} f JOIN {periods} p ON p.period = f.period
                ),
                m0 AS {ctx.mrr_on("k", "d0", "mrr0")}
                SELECT k.account_id, k.period, k.at,
                       CASE WHEN k.at IS NOT NULL THEN k.at WHEN m0.mrr0 > 0 THEN k.d0 ELSE k.period_end END AS sd
                FROM k LEFT JOIN m0 ON m0.account_id = k.account_id AND m0.d0 = k.d0
                """,
            )
            engine.materialize(
                keyrows,
                f"""SELECT s.account_id, date_diff('day', DATE '1970-01-01', s.sd) AS period, s.sd AS period_end,
                           s.mrr
                    FROM {ctx.mrr_on(fkeys, "sd")} s""",
            )
            slices = book.slices_of(keyrows, needed)
        return engine.arrow(_final_sql(ctx, metric, spec, dims, needed, facts, fkeys, keyrows, slices,
                                       start, end, accounts))  # fmt: skip
    finally:
        for name in (facts, fkeys, keyrows, *([slices] if slices else [])):
            engine.drop(name)
            book._built.discard(name)


def _final_sql(
    ctx: Context,
    metric: Metric,
    spec: Spec,
    dims: Sequence[str],
    needed: Sequence[str],
    facts: str,
    fkeys: str,
    keyrows: str,
    slices: str | None,
    start: str | None,
    end: str | None,
    accounts: bool,
) -> str:
    def slice_col(d: str) -> str:
        if d == "arr_band":  # an account paying nothing on the slice date has no band
            return f"CASE WHEN kr.mrr > 0 THEN sl.arr_band ELSE '{UNASSIGNED}' END AS arr_band"
        return f"coalesce(sl.{d}, '{UNASSIGNED}') AS {d}"

    joins = ""
    cols = ""
    if slices:
        joins = f"""
            JOIN {fkeys} fk ON fk.account_id = f.account_id AND fk.period = f.period
                 AND coalesce(fk.at, DATE '0001-01-01') = coalesce(f.at, DATE '0001-01-01')
            JOIN {keyrows} kr ON kr.account_id = f.account_id AND kr.period_end = fk.sd
            JOIN {slices} sl ON sl.account_id = f.account_id AND sl.period = kr.period"""
        cols = "".join(f", {slice_col(d)}" for d in needed)
    filters = ["true"]
    if start:
        filters.append(f"p.period_end >= DATE '{start}'")
    if end:
        filters.append(f"p.period_end <= DATE '{end}'")
    rows = f"""SELECT f.*, p.label, p.period_start, p.period_end{cols}
               FROM {facts} f JOIN {ctx.periods} p ON p.period = f.period {joins}
               WHERE {" AND ".join(filters)}"""
    "".join(f", r.{d}" for d in [*dims, *spec.keys])
    if accounts:
        drop = ", ".join(["label", "period_start", "period_end", "period", *needed])
        money = ", ".join(f"{ctx.money(f'r.{c}')} AS {c}" for c in spec.money)
        return f"""SELECT r.label AS period, r.period_start, r.period_end{"".join(f", r.{d}" for d in dims)},
                          r.* EXCLUDE ({drop}){f" REPLACE ({money})" if money else ""}
                   FROM ({rows}) r ORDER BY r.period_end, r.account_id"""
    aggs = ",\n".join(f"{expr} AS {name}" for name, expr in spec.aggregates)
    base = f"r.period, r.label, r.period_start, r.period_end{''.join(f', r.{d}' for d in dims)}"
    group = f"{base}{''.join(f', r.{k}' for k in spec.keys)}"
    k_sel = "".join(f", r.{d}" for d in dims) + "".join(
        f", coalesce(r.{k}, '(all)') AS {k}" if spec.totals else f", r.{k}" for k in spec.keys
    )
    grouped = f"""SELECT r.period AS p_index, r.label AS period, r.period_start, r.period_end{k_sel}, {aggs}
                  FROM ({rows}) r
                  GROUP BY {f"GROUPING SETS (({group}), ({base}))" if spec.totals else group}"""
    order = "".join(f", g.{d}" for d in [*dims, *spec.keys])
    if not spec.beside_retention:
        return f"SELECT g.* EXCLUDE (p_index) FROM ({grouped}) g ORDER BY g.p_index{order}"
    from ..retention import retention_sql

    ret = retention_sql(ctx.book, [12], list(dims), ctx.cal.grain, None, None)
    on = "".join(f" AND rt.{d} = g.{d}" for d in dims)
    return f"""SELECT g.* EXCLUDE (p_index), rt.start_accounts AS retention_cohort_accounts,
                      rt.nrr AS nrr_12m, rt.grr AS grr_12m, rt.logo_retention AS logo_retention_12m
               FROM ({grouped}) g LEFT JOIN ({ret}) rt ON rt.period_end = g.period_end{on}
               ORDER BY g.p_index{order}"""


def _overview(ws: Store, grain: str) -> Any:
    """Every metric's headline figure at the last complete period (the as-of period if none)."""
    import pyarrow as pa

    from .registry import METRICS

    book = book_of(ws)
    cal = book.calendar(grain)
    as_of = book.as_of
    last = cal.period_of(as_of)
    _, period_end = cal.bounds(last, dt.date.max)
    complete = last if period_end <= as_of else last - 1
    label = cal.label(complete)
    counts = ws.row_counts()
    out: dict[str, list[Any]] = {
        k: [] for k in ("metric", "title", "period", "key", "value", "numerator", "denominator", "unit", "definition")
    }
    for m in METRICS.values():
        missing = [t for t in m.tables if counts.get(t, 0) == 0]
        rows: list[dict[str, Any]] = []
        if not missing:
            table = run(ws, m, grain=grain, dims=[])
            rows = [r for r in table.to_pylist() if r["period"] == label]
        value, num, den = m.headline
        if not rows:
            rows = [{}]
        for r in rows:
            key = next((str(r[k]) for k in ("feature", "source") if k in r), "")
            out["metric"].append(m.name)
            out["title"].append(m.title)
            out["period"].append(label)
            out["key"].append(key)
            v = r.get(value)
            out["value"].append(None if v is None else float(v))
            out["numerator"].append(None if num is None or r.get(num) is None else str(r[num]))
            out["denominator"].append(None if r.get(den) is None else str(r[den]))
            out["unit"].append(m.unit if not missing else f"needs {', '.join(missing)}")
            out["definition"].append(m.definition)
    return pa.table(out)
