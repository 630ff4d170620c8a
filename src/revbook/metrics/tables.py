"""The metric tables as frames: what :class:`revbook.Workspace`'s ``ledger()``, ``mrr()``,
``movements()``, ``account_movements()``, ``retention()``, ``revenue()`` and
``cohorts()`` return (``reconcile()`` is in :mod:`revbook.metrics.reconcile`). Each reads the
store's :class:`~revbook.metrics.book.Book` and one definition
of :mod:`revbook.metrics`; options are keyword-only and validated here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from ..config.core import parse_date
from ..errors import ConfigError
from ..frame import Frame
from .book import book_of, expand_dimensions

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "account_filter",
    "account_movements",
    "cohorts",
    "date_option",
    "headline",
    "ledger",
    "movements",
    "mrr",
    "retention",
    "revenue",
    "slice_columns",
]


def slice_columns(by: str | Sequence[str] | None) -> list[str]:
    """The slice columns asked for, with their companions (owner -> owner, owner_name)."""
    if by is None:
        return []
    if isinstance(by, str):
        return expand_dimensions([b.strip() for b in by.split(",") if b.strip()])
    return expand_dimensions(list(by))


def account_filter(account: str | Sequence[str] | None, column: str) -> tuple[str, list[object]]:
    """A WHERE condition keeping the given account ids, as bound parameters (never pasted into SQL)."""
    if account is None:
        return "true", []
    ids: list[object] = [account] if isinstance(account, str) else list(account)
    if not ids:
        return "false", []
    return f"{column} IN ({', '.join('?' for _ in ids)})", ids


def date_option(value: str | dt.date | None, name: str) -> str | None:
    """A date option as ISO text for SQL (None: not given); a bad one is a ConfigError naming it."""
    day = parse_date(value, name)
    return None if day is None else day.isoformat()


def _frame(store: Store, name: str, sql: str, params: Sequence[object] = ()) -> Frame:
    return Frame(name, book_of(store).engine.arrow(sql, params))


def ledger(store: Store, *, account: str | Sequence[str] | None = None) -> Frame:
    """The ledger lines: each line's MRR in the reporting currency, constant over its life."""
    lines = book_of(store).ledger()
    mu = store.config.minor_units
    from .movements import money

    where, params = account_filter(account, "account_id")
    return _frame(
        store,
        "ledger",
        f"""SELECT account_id, source, subscription_id, line_id, product, plan, currency, is_trial,
                   start_date, end_date, end_date_recorded, fx_rate, {money("mrr", mu)} AS mrr,
                   _file AS source_file, _row AS source_row
            FROM {lines} WHERE {where} ORDER BY account_id, start_date, line_id""",
        params,
    )


def mrr(
    store: Store,
    *,
    grain: str = "month",
    by: str | Sequence[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    accounts: bool = False,
    account: str | Sequence[str] | None = None,
) -> Frame:
    """MRR and ARR at each period's snapshot, per slice; ``accounts=True`` gives one row per account
    (``account=`` keeps only the given account ids, and implies ``accounts=True``)."""
    from .movements import money

    dims = slice_columns(by)
    periods, _, _ = book_of(store).spine(grain)
    mu = store.config.minor_units
    filters = ["true"]
    if (s := date_option(start, "start")) is not None:
        filters.append(f"p.period_end >= DATE '{s}'")
    if (e := date_option(end, "end")) is not None:
        filters.append(f"p.period_end <= DATE '{e}'")
    params: list[object] = []
    if accounts or account is not None:
        snap = book_of(store).snapshots(grain)
        sl = book_of(store).slices(grain, dims)
        d_sel = "".join(f", sl.{d}" for d in dims)
        where, params = account_filter(account, "s.account_id")
        filters.append(where)
        sql = f"""SELECT p.label AS period, p.period_end, s.account_id{d_sel}, {money("s.mrr", mu)} AS mrr,
                         {money("12 * s.mrr", mu)} AS arr
                  FROM {snap} s JOIN {periods} p ON p.period = s.period
                  JOIN {sl} sl ON sl.account_id = s.account_id AND sl.period = s.period
                  WHERE {" AND ".join(filters)} ORDER BY s.period, s.account_id"""
    else:
        from .states import levels

        lv = levels(book_of(store), grain, dims)
        d_sel = "".join(f", lv.{d}" for d in dims)
        if dims:
            filters.append("lv.accounts > 0")
        sql = f"""SELECT p.label AS period, p.period_start, p.period_end{d_sel},
                         CAST(coalesce(lv.accounts, 0) AS BIGINT) AS accounts,
                         {money("coalesce(lv.mrr, 0)", mu)} AS mrr,
                         {money("12 * coalesce(lv.mrr, 0)", mu)} AS arr
                  FROM {periods} p {"JOIN" if dims else "LEFT JOIN"} {lv} lv ON lv.period = p.period
                  WHERE {" AND ".join(filters)}
                  ORDER BY p.period{d_sel}"""
    return _frame(store, "accounts" if accounts or account is not None else "mrr", sql, params)


def movements(
    store: Store,
    *,
    grain: str = "month",
    by: str | Sequence[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> Frame:
    """New, reactivation, expansion, contraction and churn per period (and slice), with counts."""
    from .movements import movements_sql

    return _frame(
        store,
        "movements",
        movements_sql(book_of(store), grain, slice_columns(by), date_option(start, "start"), date_option(end, "end")),
    )


def account_movements(
    store: Store,
    *,
    grain: str = "month",
    by: str | Sequence[str] | None = None,
    account: str | Sequence[str] | None = None,
    by_subscription: bool | None = None,
    moved_only: bool = False,
) -> Frame:
    """One row per account and period it had MRR in, with its movement (the detail behind movements).

    ``by_subscription`` (default: ``movement_grain = "subscription"``): one row per account,
    subscription_id and period; False gives the account rows whatever the setting (what reads
    whether an account stopped paying: churn reasons, signal evaluation). ``moved_only``: only the
    rows with a movement, read from the state change points where the settings allow
    (:func:`revbook.metrics.movements.sparse_moves`), not from every account's every period."""
    from .movements import account_movements_sql, account_moves_sql, money, sparse_moves

    book = book_of(store)
    dims = slice_columns(by)
    periods, _, _ = book.spine(grain)
    mu = store.config.minor_units
    where, params = account_filter(account, "r.account_id")
    # movement_grain = "subscription": one row per subscription, and the subscription_id beside the account;
    # intra_month = "gross": a spell's two rows (its arrival, then its churn) share the account and period
    if by_subscription is None:
        by_subscription = store.config.by_subscription
    sub = ", r.subscription_id" if by_subscription else ""
    if moved_only and not by_subscription and sparse_moves(book):
        rows = account_moves_sql(book, grain, dims)
    else:
        rows = account_movements_sql(book, grain, dims, by_subscription=by_subscription)
        if moved_only:
            where += " AND r.movement IS NOT NULL"
    sql = f"""SELECT p.label AS period, p.period_end, r.account_id{sub}{"".join(f", r.{d}" for d in dims)},
                     {money("r.start_mrr", mu)} AS start_mrr, {money("r.end_mrr", mu)} AS end_mrr,
                     r.movement
              FROM ({rows}) r
              JOIN {periods} p ON p.period = r.period
              WHERE {where}
              ORDER BY r.period, r.account_id{", coalesce(r.subscription_id, '')" if sub else ""},
                       r.start_mrr, r.end_mrr, r.movement"""
    return _frame(store, "account_movements", sql, params)


def retention(
    store: Store,
    *,
    window: int | Sequence[int] = (1, 3, 12),
    by: str | Sequence[str] | None = None,
    grain: str = "month",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> Frame:
    """NRR, GRR, logo retention and the movement measures over trailing windows (months)."""
    from .retention import retention_sql

    windows = [window] if isinstance(window, int) else list(window)
    return _frame(
        store,
        "retention",
        retention_sql(
            book_of(store), windows, slice_columns(by), grain, date_option(start, "start"), date_option(end, "end")
        ),
    )


def revenue(
    store: Store,
    *,
    grain: str = "month",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    accounts: bool = False,
) -> Frame:
    """Recognised revenue per period (day by day, exact), beside MRR; for finance."""
    from .movements import money
    from .revenue import recognised_revenue, revenue_periods

    book = book_of(store)
    if "rb_revenue" not in book._built:
        book.engine.register("rb_revenue", recognised_revenue(book))
        book._built.add("rb_revenue")
    cal = book.calendar(grain)
    periods = revenue_periods(book, grain, "rb_revenue")
    period = "r.month" if cal.months == 1 else f"((r.month - {cal.offset}) // {cal.months})"
    filters = ["true"]
    if (s := date_option(start, "start")) is not None:
        filters.append(f"p.period_end >= DATE '{s}'")
    if (e := date_option(end, "end")) is not None:
        filters.append(f"p.period_end <= DATE '{e}'")
    account = ", r.account_id" if accounts else ""
    mu = store.config.minor_units
    sql = f"""SELECT p.label AS period, p.period_start, p.period_end{account},
                     {money("sum(r.revenue)", mu)} AS recognised_revenue
              FROM rb_revenue r JOIN {periods} p ON p.period = {period}
              WHERE {" AND ".join(filters)}
              GROUP BY p.period, p.label, p.period_start, p.period_end{account}
              ORDER BY p.period{account}"""
    return _frame(store, "revenue", sql)


def cohorts(
    store: Store,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    triangle: str | None = None,
) -> Frame:
    """Vintage triangles: logo retention and NRR by months since first MRR.

    Long form by default (one row per cohort and age); ``triangle="logo_retention"`` or
    ``"nrr"`` gives the familiar shape: one row per cohort, one column per month of age.
    """
    from .cohorts import cohorts_sql, pivot

    long = _frame(store, "cohorts", cohorts_sql(book_of(store), date_option(start, "start"), date_option(end, "end")))
    if triangle is None:
        return long
    if triangle not in ("logo_retention", "nrr"):
        raise ConfigError(f"unknown triangle '{triangle}'", hint="use logo_retention or nrr")
    return Frame(f"cohorts_{triangle}", pivot(long.to_arrow(), triangle))


def headline(store: Store) -> dict[str, Any]:
    """The figures a CS leader asks for first, at the as-of date."""
    rows = mrr(store).to_arrow().to_pylist()
    last = rows[-1] if rows else {"mrr": 0, "arr": 0, "accounts": 0, "period_end": store.config.snapshot_date()}
    at = cast(dt.date, last["period_end"])
    ret = [r for r in retention(store, window=12, start=at, end=at).to_arrow().to_pylist() if r["period_end"] == at]
    r12 = ret[0] if ret else {}
    return {
        "as_of": store.config.snapshot_date(),
        "period_end": last["period_end"],
        "currency": store.config.reporting_currency,
        "mrr": last["mrr"],
        "arr": last["arr"],
        "accounts": last["accounts"],
        "nrr_12m": r12.get("nrr"),
        "grr_12m": r12.get("grr"),
        "logo_retention_12m": r12.get("logo_retention"),
        "quick_ratio_12m": r12.get("quick_ratio"),
        "gross_revenue_churn_12m": r12.get("gross_revenue_churn"),
    }
