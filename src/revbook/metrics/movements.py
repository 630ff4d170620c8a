"""MRR movements per period and slice: new, reactivation, expansion, contraction, churn.

An account's movement in a period compares its snapshot MRR at the period's end with its
snapshot at the previous period's end (DESIGN.md). Each account-period row is sliced at the
period's start (its previous snapshot), or, when it had no MRR then, at its end snapshot. An
account whose slice differs from the one it was counted in for the previous period is a
transfer out of the old slice and into the new one, so both identities hold exactly:

    start + new + reactivation + expansion - contraction - churn = end      (every period, slice)
    start(p) = end(p - 1) + transfer_in(p) - transfer_out(p)               (every slice)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..definitions import MOVEMENT_KINDS, MOVEMENTS
from .states import LAST_IN_PERIOD, levels, movement_case, movement_rows, states

if TYPE_CHECKING:
    from .book import Book

__all__ = [
    "MOVEMENT_KINDS",
    "account_movements_sql",
    "account_moves_sql",
    "money",
    "movement_amount",
    "movements_sql",
    "sparse_moves",
]

#: how each kind's account count is named: new_accounts, reactivated_accounts, ...
COUNTED = {k: m.counted for k, m in MOVEMENTS.items()}


def money(expr: str, minor_units: int) -> str:
    """Minor units (BIGINT) to a DECIMAL amount of the reporting currency, exactly."""
    if minor_units == 0:
        return f"CAST({expr} AS DECIMAL(18, 0))"
    unit = "0." + "0" * (minor_units - 1) + "1"
    return f"CAST(CAST({expr} AS DECIMAL(18, 0)) * {unit} AS DECIMAL(18, {minor_units}))"


def movement_amount(kind: str) -> str:
    """An account-period row's amount of one movement kind (positive), else 0."""
    delta = "end_mrr - start_mrr" if MOVEMENTS[kind].sign > 0 else "start_mrr - end_mrr"
    return f"CASE WHEN movement = '{kind}' THEN {delta} ELSE 0 END"


def account_movements_sql(book: Book, grain: str, dims: Sequence[str], *, by_subscription: bool | None = None) -> str:
    """One row per account and period in which it had MRR at the start or the end, classified.

    ``by_subscription`` (default: ``movement_grain = "subscription"``): one row per account,
    subscription_id and period instead, each subscription classified on its own MRR and sliced as its
    account is, plus a row with no subscription_id where credits leave part of the account's change
    unexplained (see :func:`revbook.metrics.states.subscription_movement_rows`)."""
    if by_subscription is None:
        by_subscription = book.config.by_subscription
    if by_subscription:
        return _subscription_account_movements_sql(book, grain, dims)
    snap = book.snapshots(grain)
    slices = book.slices(grain, dims)
    _, _, last = book.spine(grain)
    movement = _row_movement(book, grain)
    dim_cols = "".join(f", sl.{d}" for d in dims)
    lag_cols = "".join(f", lag({d}) OVER w AS prev_{d}" for d in dims)
    moved = " OR ".join(f"{d} <> prev_{d}" for d in dims) or "false"
    snap_cte = f"""snap AS (
        SELECT account_id, period, mrr,
               lag(period) OVER (PARTITION BY account_id ORDER BY period) AS prev_period
        FROM {snap}
    )"""
    spell_rows = ""
    if book.config.intra_month == "gross":
        snap_cte, spell_rows = _with_spells(book, grain, dims, snap)
    return f"""
    WITH {snap_cte},
    pairs AS (
        SELECT coalesce(c.account_id, p.account_id) AS account_id,
               coalesce(c.period, p.period + 1) AS period,
               coalesce(p.mrr, 0) AS start_mrr, coalesce(c.mrr, 0) AS end_mrr,
               c.prev_period AS last_paid
        FROM snap c FULL OUTER JOIN snap p ON p.account_id = c.account_id AND p.period + 1 = c.period
    ),
    classified AS (
        SELECT r.account_id, r.period, r.start_mrr, r.end_mrr{dim_cols}, {movement} AS movement
        FROM pairs r JOIN {slices} sl
          ON sl.account_id = r.account_id
         AND sl.period = CASE WHEN r.start_mrr > 0 THEN r.period - 1 ELSE r.period END
        WHERE r.period <= {last}
    )
    SELECT *, start_mrr > 0 AND prev_period = period - 1 AND ({moved}) AS transferred
    FROM (
        SELECT *, lag(period) OVER w AS prev_period{lag_cols}
        FROM classified
        WINDOW w AS (PARTITION BY account_id ORDER BY period)
    ) t{spell_rows}
    """


def sparse_moves(book: Book) -> bool:
    """Whether :func:`account_moves_sql` applies: account grain, net within a period (the spells of
    ``intra_month = "gross"`` and the subscriptions' rows are read from the snapshots)."""
    return not book.config.by_subscription and book.config.intra_month != "gross"


def account_moves_sql(book: Book, grain: str, dims: Sequence[str]) -> str:
    """The rows of :func:`account_movements_sql` that carry a movement, from the states: one per
    state row whose MRR differs from the row before (the state holds until the next row, so the row
    before is the state at the period's start), sliced at the period's start and classified as the
    movement tables classify them (:func:`revbook.metrics.states.movement_rows`). No account x period
    grid: at 1,000,000 accounts the snapshots' rows are tens of millions, these a few. Only where
    :func:`sparse_moves`."""
    assert sparse_moves(book)
    st = states(book, grain, dims)
    movement = movement_case(
        book, grain, start="prev_mrr", end="mrr", never_paid="first_paid = period", zero_periods="period - last_drop"
    )
    used = "".join(f", CASE WHEN prev_mrr > 0 THEN prev_{d} ELSE {d} END AS {d}" for d in dims)
    return f"""SELECT account_id, period, prev_mrr AS start_mrr, mrr AS end_mrr{used}, {movement} AS movement
    FROM {st} WHERE mrr <> prev_mrr"""


def _with_spells(book: Book, grain: str, dims: Sequence[str], snap: str) -> tuple[str, str]:
    """``intra_month = "gross"``: the snapshots with each account's last paid period counting its
    spells no snapshot sees (a spell in period p reads as paid up to p - 1 and at zero from p, so a
    later start is a return), and the spells' own rows: (account_id, period, 0, mrr, <dims>, new or
    reactivation) and (account_id, period, mrr, 0, <dims>, churn), each in the slice its account had on
    the spell's first day (the same rows :func:`revbook.metrics.states.movement_rows` counts)."""
    sp = book.spells(grain)
    sl = book.slices_of(sp, dims)
    # a snapshot closes its period: it comes after the period's spells
    cte = f"""snap_u AS (
        SELECT account_id, period, mrr, {LAST_IN_PERIOD} AS spell FROM {snap}
        UNION ALL
        SELECT account_id, spell_period, mrr, CAST(period AS BIGINT) FROM {sp}
    ),
    snap_w AS (
        SELECT *, max(CASE WHEN spell < {LAST_IN_PERIOD} THEN period - 1 ELSE period END)
                      OVER (PARTITION BY account_id ORDER BY period, spell
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_period
        FROM snap_u
    ),
    snap AS (SELECT account_id, period, mrr, prev_period FROM snap_w WHERE spell = {LAST_IN_PERIOD}),
    spells AS (
        SELECT w.account_id, w.period, w.mrr, w.prev_period AS last_paid{"".join(f", sl.{d}" for d in dims)}
        FROM snap_w w JOIN {sl} sl ON sl.account_id = w.account_id AND sl.period = w.spell
        WHERE w.spell < {LAST_IN_PERIOD}
    )"""
    arrival = movement_case(
        book, grain, start="0", end="r.mrr", never_paid="r.last_paid IS NULL", zero_periods="r.period - r.last_paid - 1"
    )
    dims_out = "".join(f", r.{d}" for d in dims)
    nulls = "".join(f", NULL AS prev_{d}" for d in dims)
    rows = f"""
    UNION ALL
    SELECT r.account_id, r.period, 0 AS start_mrr, r.mrr AS end_mrr{dims_out},
           {arrival} AS movement,
           CAST(NULL AS BIGINT) AS prev_period{nulls}, false AS transferred
    FROM spells r
    UNION ALL
    SELECT r.account_id, r.period, r.mrr, 0{dims_out}, 'churn', CAST(NULL AS BIGINT){nulls}, false FROM spells r"""
    return cte, rows


def slice_movements_sql(book: Book, grain: str, dims: Sequence[str]) -> str:
    """Per period and slice: start (the level at the previous period end), each movement, the
    transfers, and the end by the identity; in minor units. Rows where the slice has or had
    paying accounts, or a transfer."""
    rows = movement_rows(book, grain, dims)
    lv = levels(book, grain, dims)
    d_list = "".join(f", {d}" for d in dims)
    on = "".join(f" AND mv.{d} = lv.{d}" for d in dims)
    sums = ", ".join(f"sum({movement_amount(k)}) AS {k}" for k in MOVEMENT_KINDS)
    # a residual row (movement_grain = "subscription") moves money, and is no account or subscription
    counts = ", ".join(
        f"sum(CASE WHEN movement = '{k}' AND kind = 'movement' THEN 1 ELSE 0 END) AS {COUNTED[k]}_n"
        for k in MOVEMENT_KINDS
    )
    by_subscription = book.config.by_subscription
    z = {k: f"coalesce(mv.{k}, 0)" for k in MOVEMENT_KINDS}
    zn = {k: f"coalesce(mv.{COUNTED[k]}_n, 0)" for k in MOVEMENT_KINDS}
    # at subscription grain the counts are subscriptions; the paying accounts at the end are counted from
    # the accounts' own changes (the rows of kind 'account'), sliced as the movements are
    end_accounts = (
        "start_accounts + account_n" if by_subscription else "start_accounts + new_n + reactivated_n - churned_n"
    )
    account_n = ""
    if by_subscription:
        paying = "CASE WHEN {} > 0 THEN 1 ELSE 0 END"
        account_n = (
            f", sum(CASE WHEN kind = 'account' THEN {paying.format('end_mrr')} - {paying.format('start_mrr')}"
            " ELSE 0 END) AS account_n"
        )
    return f"""
    WITH mv AS (
        SELECT period{d_list}, {sums}, {counts},
               sum(CASE WHEN kind = 'transfer_in' THEN start_mrr ELSE 0 END) AS transfer_in,
               sum(CASE WHEN kind = 'transfer_out' THEN start_mrr ELSE 0 END) AS transfer_out,
               sum(CASE WHEN kind = 'transfer_in' THEN 1 ELSE 0 END) AS transfer_in_n,
               sum(CASE WHEN kind = 'transfer_out' THEN 1 ELSE 0 END) AS transfer_out_n{account_n}
        FROM ({rows}) r GROUP BY period{d_list}
    ),
    lv AS (SELECT period + 1 AS period{d_list}, mrr, accounts FROM {lv}),
    x AS (
        SELECT coalesce(mv.period, lv.period) AS period{"".join(f", coalesce(mv.{d}, lv.{d}) AS {d}" for d in dims)},
               coalesce(lv.mrr, 0) AS start_mrr, coalesce(lv.accounts, 0) AS start_accounts,
               {", ".join(f"{z[k]} AS {k}" for k in MOVEMENT_KINDS)},
               {", ".join(f"{zn[k]} AS {COUNTED[k]}_n" for k in MOVEMENT_KINDS)},
               coalesce(mv.transfer_in, 0) AS transfer_in, coalesce(mv.transfer_out, 0) AS transfer_out,
               coalesce(mv.transfer_in_n, 0) AS transfer_in_n, coalesce(mv.transfer_out_n, 0) AS transfer_out_n
               {", coalesce(mv.account_n, 0) AS account_n" if by_subscription else ""}
        FROM lv FULL OUTER JOIN mv ON mv.period = lv.period{on}
    )
    SELECT *, start_mrr + new + reactivation + expansion - contraction - churn AS end_mrr,
           {end_accounts} AS end_accounts
    FROM x
    """


def movements_sql(book: Book, grain: str, dims: Sequence[str], start: str | None, end: str | None) -> str:
    periods, _, last = book.spine(grain)
    mu = book.config.minor_units

    def v(col: str) -> str:  # periods without any row read as zero when unsliced
        return f"a.{col}" if dims else f"coalesce(a.{col}, 0)"

    cols = [
        f"{money(v('start_mrr'), mu)} AS start_mrr",
        *(f"{money(v(k), mu)} AS {k}_mrr" for k in MOVEMENT_KINDS),
        f"{money(v('end_mrr'), mu)} AS end_mrr",
        f"CAST({v('start_accounts')} AS BIGINT) AS start_accounts",
        *(f"CAST({v(COUNTED[k] + '_n')} AS BIGINT) AS {COUNTED[k]}_accounts" for k in MOVEMENT_KINDS),
        f"CAST({v('end_accounts')} AS BIGINT) AS end_accounts",
    ]
    if dims:
        cols += [
            f"{money('a.transfer_in', mu)} AS transfer_in_mrr",
            f"{money('a.transfer_out', mu)} AS transfer_out_mrr",
            "CAST(a.transfer_in_n AS BIGINT) AS transfer_in_accounts",
            "CAST(a.transfer_out_n AS BIGINT) AS transfer_out_accounts",
        ]
    where = [f"p.period <= {last}"]
    if dims:
        # (a churn: a slice whose only accounts joined and left inside the period, intra_month = "gross")
        where.append(
            "(a.start_accounts > 0 OR a.end_accounts > 0 OR a.transfer_in_n > 0 OR a.transfer_out_n > 0"
            " OR a.churned_n > 0)"
        )
    if start:
        where.append(f"p.period_end >= DATE '{start}'")
    if end:
        where.append(f"p.period_end <= DATE '{end}'")
    select = ", ".join(cols)
    join = "JOIN" if dims else "LEFT JOIN"
    return f"""
    SELECT p.label AS period, p.period_start, p.period_end{"".join(f", a.{d}" for d in dims)}, {select}
    FROM {periods} p {join} ({slice_movements_sql(book, grain, dims)}) a ON a.period = p.period
    WHERE {" AND ".join(where)}
    ORDER BY p.period{"".join(f", a.{d}" for d in dims)}
    """


def _row_movement(book: Book, grain: str) -> str:
    """The movement of a row ``r`` of start_mrr, end_mrr, period and last_paid (the latest earlier
    period it paid), as both the account and the subscription grain classify it."""
    return movement_case(
        book,
        grain,
        start="r.start_mrr",
        end="r.end_mrr",
        never_paid="r.last_paid IS NULL",
        zero_periods="r.period - r.last_paid - 1",
    )


def _subscription_account_movements_sql(book: Book, grain: str, dims: Sequence[str]) -> str:
    """:func:`account_movements_sql` at subscription grain: (account_id, subscription_id, period,
    start_mrr, end_mrr, <dims>, movement, prev_period, prev_<dims>, transferred)."""
    snap = book.subscription_snapshots(grain)
    acct = book.snapshots(grain)
    slices = book.slices(grain, dims)
    _, _, last = book.spine(grain)
    movement = _row_movement(book, grain)
    keys = "account_id, subscription_id"
    dim_cols = "".join(f", CASE WHEN sp.account_id IS NOT NULL THEN sp.{d} ELSE sc.{d} END AS {d}" for d in dims)
    lag_cols = "".join(f", lag({d}) OVER w AS prev_{d}" for d in dims)
    moved = " OR ".join(f"{d} <> prev_{d}" for d in dims) or "false"

    def pairs(table: str, key: str, on: str) -> str:
        same = " AND ".join(f"p.{k} = c.{k}" for k in on.split(", "))
        return f"""SELECT coalesce(c.account_id, p.account_id) AS account_id{key},
               coalesce(c.period, p.period + 1) AS period,
               coalesce(p.mrr, 0) AS start_mrr, coalesce(c.mrr, 0) AS end_mrr, c.prev_period AS last_paid
        FROM (SELECT *, lag(period) OVER (PARTITION BY {on} ORDER BY period) AS prev_period FROM {table}) c
        FULL OUTER JOIN {table} p ON {same} AND p.period + 1 = c.period"""

    sub_key = ", coalesce(c.subscription_id, p.subscription_id) AS subscription_id"
    return f"""
    WITH subs AS ({pairs(snap, sub_key, keys)}),
    accts AS ({pairs(acct, "", "account_id")}),
    residual AS (
        SELECT account_id, CAST(NULL AS VARCHAR) AS subscription_id, period, 0 AS start_mrr, sum(delta) AS end_mrr,
               CAST(NULL AS INT) AS last_paid
        FROM (SELECT account_id, period, end_mrr - start_mrr AS delta FROM accts
              UNION ALL SELECT account_id, period, start_mrr - end_mrr FROM subs) d
        GROUP BY account_id, period HAVING sum(delta) <> 0
    ),
    classified AS (
        SELECT r.account_id, r.subscription_id, r.period, r.start_mrr, r.end_mrr{dim_cols},
               CASE WHEN r.subscription_id IS NULL THEN
                        CASE WHEN r.end_mrr > 0 THEN 'expansion' ELSE 'contraction' END
                    ELSE {movement} END AS movement
        FROM (SELECT * FROM subs UNION ALL SELECT * FROM residual) r
        LEFT JOIN {slices} sp ON sp.account_id = r.account_id AND sp.period = r.period - 1
        LEFT JOIN {slices} sc ON sc.account_id = r.account_id AND sc.period = r.period
        WHERE r.period <= {last}
    )
    SELECT *, start_mrr > 0 AND prev_period = period - 1 AND ({moved}) AS transferred
    FROM (
        SELECT *, lag(period) OVER w AS prev_period{lag_cols}
        FROM classified
        WINDOW w AS (PARTITION BY {keys} ORDER BY period)
    ) t
    """
