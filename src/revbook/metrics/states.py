"""Change points of an account's state: its MRR and its slice, only where either changes.

DESIGN.md "Computing it fast": no account x period grid. An account's *state* at a period is
its period-end MRR and its slice values as of that period's snapshot date. Both are step
functions: the MRR changes only in the periods of ``rb_changes_<grain>``, and a slice only in
the periods where an owner assignment, an account_history row or a priced line starts or
ends. ``rb_state_<grain>_<dims>`` holds one row per account at each of those candidate
periods where the state differs from the row before; the state holds until the next row.

From the states, per slice and period:

- a *level*: the slice's MRR and paying accounts at each period end, as prefix sums of each
  state row's contribution (+ its MRR to its slice, - the previous row's MRR from the previous
  row's slice);
- *movements*: a state row whose MRR differs from the previous row's is a movement in its
  period, counted in the previous row's slice when the account was paying then (the slice at
  the period's start), else in its own;
- *transfers*: a state row whose slice differs from the previous row's while the account pays
  before and after moves that MRR from the old slice to the new one at the next period (when
  the period's slice, fixed at its start, first differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .book import Book

__all__ = ["levels", "movement_case", "movement_rows", "states"]


def _candidate_periods(book: Book, grain: str, dims: Sequence[str]) -> str:
    """(account_id, period) where a slice value may change, besides the MRR change periods."""
    cal = book.calendar(grain)
    as_of = f"DATE '{book.as_of.isoformat()}'"
    parts = [f"SELECT account_id, period FROM {book.changes(grain)}"]
    if any(d in dims for d in ("segment", "region", "industry")):
        attrs = ", ".join(f"'{d}'" for d in dims if d in ("segment", "region", "industry"))
        parts.append(
            f"SELECT account_id, {cal.period_sql('valid_from')} FROM account_history"
            f" WHERE attribute IN ({attrs}) AND valid_from <= {as_of}"
        )
    if any(d in dims for d in ("owner", "owner_name", "team")):
        parts.append(
            f"SELECT account_id, {cal.period_sql('start_date')} FROM owners"
            f" WHERE role = 'csm' AND start_date <= {as_of}"
        )
        parts.append(
            f"SELECT account_id, {cal.period_sql('end_date')} FROM owners"
            f" WHERE role = 'csm' AND end_date IS NOT NULL AND end_date <= {as_of}"
        )
    if "plan" in dims:
        lines = book.ledger()
        parts.append(f"SELECT account_id, {cal.period_sql('start_date')} FROM {lines} WHERE mrr > 0")
        parts.append(
            f"SELECT account_id, {cal.period_sql('end_date')} FROM {lines} WHERE mrr > 0 AND end_date IS NOT NULL"
        )
    return " UNION ".join(parts)


def shared_dimensions() -> tuple[str, ...]:
    from .book import DIMENSIONS, expand_dimensions

    return tuple(expand_dimensions(DIMENSIONS))


def states(book: Book, grain: str, dims: Sequence[str]) -> str:
    """The state change points: (account_id, period, mrr, <dims>, prev_period, next_period, prev_mrr,
    prev_<dims>, first_paid, last_drop).

    Any sliced request reads one shared table per grain with every slice's columns: its rows are
    the change points of the MRR or of any slice, a superset of one slice's, which leaves every
    figure as it is (a row where only another slice changes moves nothing and transfers nothing
    in this one, and splits a paying segment into two that add up), and builds once what 24
    (grain, slice) groups built apiece (at 1,000,000 accounts their state stages took 103 s)."""
    if dims:
        dims = shared_dimensions()
    name = f"rb_state_{grain}_{'_'.join(dims) or 'all'}"
    if name in book._built:
        book.touch(grain, dims)
        return name
    if grain != "month":
        _coarser_states(book, grain, dims, name)
        book.remember(grain, dims, name)
        return name
    changes = book.changes(grain)
    periods, first, last = book.spine(grain)
    candidates = f"rb_candidates_{grain}_{'_'.join(dims) or 'all'}"
    # Each candidate period with the MRR of the latest change at or before it (0 before any).
    book.engine.materialize(
        candidates,
        f"""
        WITH c AS (SELECT DISTINCT account_id, period FROM ({_candidate_periods(book, grain, dims)}) u
                   WHERE period BETWEEN {first} AND {last}),
        tagged AS (
            SELECT c.account_id, c.period, ch.mrr,
                   count(ch.mrr) OVER (PARTITION BY c.account_id ORDER BY c.period
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp
            FROM c LEFT JOIN {changes} ch ON ch.account_id = c.account_id AND ch.period = c.period
        )
        SELECT t.account_id, t.period,
               coalesce(max(t.mrr) OVER (PARTITION BY t.account_id, t.grp), 0) AS mrr,
               p.period_end
        FROM tagged t JOIN {periods} p ON p.period = t.period
        """,
    )
    slices = book.slices_of(candidates, dims)
    dim_cols = "".join(f", sl.{d}" for d in dims)
    book.engine.materialize(
        name,
        f"""
        WITH s0 AS (
            SELECT c.account_id, c.period, c.mrr{dim_cols}
            FROM {candidates} c JOIN {slices} sl ON sl.account_id = c.account_id AND sl.period = c.period
        )
        {_state_rows("s0", dims)}
        """,
    )
    # the candidates and their slice values live on in the states: free them
    for stage in (slices, candidates):
        book.engine.drop(stage)
        book._built.discard(stage)
    book.remember(grain, dims, name)
    return name


def _state_rows(rows: str, dims: Sequence[str]) -> str:
    """The rest of a states query after the CTE ``rows`` (account_id, period, mrr, <dims>, one row
    per account and candidate period): the rows where the state differs from the row before (the
    first kept only when it pays), with :func:`_state_columns`."""
    changed = " OR ".join(["s.mrr <> s.prev_mrr", *(f"s.{d} <> s.prev_{d}" for d in dims)])
    return f""", s AS (
            SELECT *, lag(mrr) OVER w AS prev_mrr{"".join(f", lag({d}) OVER w AS prev_{d}" for d in dims)}
            FROM {rows} WINDOW w AS (PARTITION BY account_id ORDER BY period)
        ),
        kept AS (SELECT * FROM s WHERE s.prev_mrr IS NULL AND s.mrr > 0 OR ({changed}))
        {_state_columns(dims)}"""


def _state_columns(dims: Sequence[str]) -> str:
    """The states' columns from the CTE ``kept`` (its change rows): each row with the period and
    the state before and after it, and per account the first paying period (``first_paid``) and,
    for each row, the latest earlier period in which the account dropped to zero (``last_drop``),
    which the movement classification reads (new or reactivation)."""
    cols = "".join(f", {d}" for d in dims)
    return f"""
        , linked AS (
            SELECT account_id, period, mrr{cols},
                   lag(period) OVER w AS prev_period, lead(period) OVER w AS next_period,
                   coalesce(lag(mrr) OVER w, 0) AS prev_mrr
                   {"".join(f", lag({d}) OVER w AS prev_{d}" for d in dims)}
            FROM kept WINDOW w AS (PARTITION BY account_id ORDER BY period)
        )
        SELECT *,
               min(CASE WHEN mrr > 0 THEN period END) OVER (PARTITION BY account_id) AS first_paid,
               max(CASE WHEN mrr = 0 AND prev_mrr > 0 THEN period END)
                   OVER (PARTITION BY account_id ORDER BY period
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_drop
        FROM linked"""


def _coarser_states(book: Book, grain: str, dims: Sequence[str], name: str) -> None:
    """A quarter's or a year's states from the month states: the state at a period's end is the
    month state of its last month, which is the latest month row inside the period (a period with
    no month row keeps the state before it); kept where it differs from the period before, as
    :func:`states` keeps them. Its snapshot date is the same (the period's end, or the as-of date
    in the last one), so its slices are the same; no slice is looked up again. The latest month
    row of a period is the one whose next row (``next_period``) falls in a later period or is
    none: a filter, not a numbering of every month row (a sort of them all)."""
    month = states(book, "month", dims)
    cal = book.calendar(grain)

    def period(col: str) -> str:
        return f"(({col} - {cal.offset}) // {cal.months})"

    cols = "".join(f", {d}" for d in dims)
    book.engine.materialize(
        name,
        f"""
        WITH m1 AS (
            SELECT account_id, {period("period")} AS period, mrr{cols}
            FROM {month}
            WHERE next_period IS NULL OR {period("next_period")} <> {period("period")}
        )
        {_state_rows("m1", dims)}
        """,
    )


def movement_case(book: Book, grain: str, *, start: str, end: str, never_paid: str, zero_periods: str) -> str:
    """The movement of an account between two snapshots (docs/definitions.md "Snapshots and
    movements"), NULL when its MRR is unchanged: the one classification both the account-level
    rows and the aggregates use. ``never_paid``: no earlier snapshot was positive; ``zero_periods``:
    how many periods it was at zero before it returned (for ``reactivation_as_new_after_months``)."""
    months = book.calendar(grain).months
    as_new = book.config.reactivation_as_new_after_months
    new_rule = never_paid
    if as_new > 0:
        new_rule += f" OR ({zero_periods}) * {months} >= {as_new}"
    return f"""CASE WHEN {start} = 0 THEN CASE WHEN {new_rule} THEN 'new' ELSE 'reactivation' END
                WHEN {end} = 0 THEN 'churn'
                WHEN {end} > {start} THEN 'expansion'
                WHEN {end} < {start} THEN 'contraction' END"""


def _paid_history(
    rows: str, keys: str, paid: str = "mrr > 0", dropped: str = "mrr = 0 AND prev_mrr > 0", order: str = "period"
) -> str:
    """``rows`` (change points with mrr and prev_mrr) with ``first_paid`` (the first period the key
    paid) and ``last_drop`` (the latest earlier period it fell to zero), what :func:`movement_case` reads."""
    return f"""SELECT *,
               min(CASE WHEN {paid} THEN period END) OVER (PARTITION BY {keys}) AS first_paid,
               max(CASE WHEN {dropped} THEN period END)
                   OVER (PARTITION BY {keys} ORDER BY {order}
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_drop
        FROM {rows}"""


def movement_rows(book: Book, grain: str, dims: Sequence[str]) -> str:
    """Sparse rows: each account's movements (in the slice at the period's start) and transfers.

    (period, kind, start_mrr, end_mrr, <dims>, movement); kind is ``movement``, ``residual`` and
    ``account`` (at subscription grain, see :func:`subscription_movement_rows`), ``transfer_in`` or
    ``transfer_out``."""
    st = states(book, grain, dims)
    _, _, last = book.spine(grain)
    movement = movement_case(
        book, grain, start="prev_mrr", end="mrr", never_paid="first_paid = period", zero_periods="period - last_drop"
    )
    used = "".join(f", CASE WHEN prev_mrr > 0 THEN prev_{d} ELSE {d} END AS {d}" for d in dims)
    moved = " OR ".join(f"{d} <> prev_{d}" for d in dims) or "false"
    base, paid, dropped, order = st, "mrr > 0", "mrr = 0 AND prev_mrr > 0", "period"
    gross = book.config.intra_month == "gross"
    if gross:
        # a spell earlier in the period was a payment: an arrival after it is a return
        movement = movement_case(
            book,
            grain,
            start="prev_mrr",
            end="mrr",
            never_paid="first_paid = period AND last_drop IS NULL",
            zero_periods="period - last_drop",
        )
    if book.config.by_subscription:
        moves = subscription_movement_rows(book, grain, dims)
    else:
        moves = f"""SELECT period, 'movement' AS kind, prev_mrr AS start_mrr, mrr AS end_mrr{used},
           {movement} AS movement
    FROM st WHERE mrr <> prev_mrr"""
    if gross:
        # each spell no snapshot sees is a row of its own among the states: paid then, at zero after
        base, moves = (
            _with_spells(book, grain, dims, st),
            moves + "\n    UNION ALL\n    " + _spell_rows(book, grain, dims),
        )
        paid, dropped = f"({paid} OR spell_mrr IS NOT NULL)", f"({dropped} OR spell_mrr IS NOT NULL)"
        order = "period, spell_seq"
    return f"""
    WITH st AS ({_paid_history(base, "account_id", paid, dropped, order) if gross else f"SELECT * FROM {st}"})
    {moves}
    UNION ALL
    SELECT period + 1, 'transfer_in', mrr, mrr{"".join(f", {d}" for d in dims)}, NULL
    FROM st WHERE prev_mrr > 0 AND mrr > 0 AND ({moved}) AND period + 1 <= {last}
    UNION ALL
    SELECT period + 1, 'transfer_out', mrr, mrr{"".join(f", prev_{d}" for d in dims)}, NULL
    FROM st WHERE prev_mrr > 0 AND mrr > 0 AND ({moved}) AND period + 1 <= {last}
    """


#: the order of a state among its period's spells: last (the snapshot closes the period)
LAST_IN_PERIOD = "CAST(9223372036854775807 AS BIGINT)"


def _with_spells(book: Book, grain: str, dims: Sequence[str], st: str) -> str:
    """The states ``st`` and, as rows of their own, the spells no snapshot sees (``intra_month =
    "gross"``, :meth:`Book.spells`): at zero MRR before and after, ``spell_mrr`` the spell's MRR, each
    in the slice its account had on the spell's first day. A spell falls in a period in which its
    account is at zero on both snapshots; a state of that period (the account's arrival, seen by the
    snapshot, or its churn) is ordered after the period's spells, and an arrival after a spell is a
    return (the account paid before)."""
    sp = book.spells(grain)
    held = shared_dimensions() if dims else ()  # the states hold every slice's columns (see states())
    sl = book.slices_of(sp, held)
    cols = "".join(f", sl.{d}" for d in held)
    prev = "".join(f", sl.{d} AS prev_{d}" for d in held)
    state = "".join(f", {d}" for d in held)
    prev_state = "".join(f", prev_{d}" for d in held)
    # the states' own columns (their first_paid and last_drop are read again over the spells too)
    return f"""(SELECT account_id, period, mrr{state}, prev_period, next_period, prev_mrr{prev_state},
               CAST(NULL AS BIGINT) AS spell_mrr, {LAST_IN_PERIOD} AS spell_seq FROM {st}
        UNION ALL
        SELECT s.account_id, s.spell_period AS period, CAST(0 AS BIGINT) AS mrr{cols},
               CAST(NULL AS BIGINT) AS prev_period, CAST(NULL AS BIGINT) AS next_period,
               CAST(0 AS BIGINT) AS prev_mrr{prev}, s.mrr AS spell_mrr, CAST(s.period AS BIGINT) AS spell_seq
        FROM {sp} s JOIN {sl} sl ON sl.account_id = s.account_id AND sl.period = s.period) u"""


def _spell_rows(book: Book, grain: str, dims: Sequence[str]) -> str:
    """Each spell's two movements: its new (or reactivation) and its churn, of its MRR, in its slice.
    Of two spells in one period, the later (by first day) is a return."""
    arrival = movement_case(
        book,
        grain,
        start="0",
        end="spell_mrr",
        never_paid="first_paid = period AND last_drop IS NULL",
        zero_periods="period - last_drop",
    )
    d = "".join(f", {x}" for x in dims)
    return f"""SELECT period, 'movement', 0, spell_mrr{d}, {arrival} FROM st WHERE spell_mrr IS NOT NULL
    UNION ALL
    SELECT period, 'movement', spell_mrr, 0{d}, 'churn' FROM st WHERE spell_mrr IS NOT NULL"""


def subscription_movement_rows(book: Book, grain: str, dims: Sequence[str]) -> str:
    """``movement_grain = "subscription"``: the movement rows of each (account, subscription_id), the
    one classification (:func:`movement_case`) applied to each subscription's MRR, each sliced as its
    account is (the slice at the period's start when the account paid then, else at its end; the
    states ``st`` of :func:`movement_rows` hold both). Where credits take a subscription's lines below
    zero its MRR reads 0, and the part of the account's change its subscriptions' movements do not
    explain is a ``residual`` row, expansion or contraction of the account, so the identity holds to
    the cent. Rows of kind ``account`` (no movement, no money) carry each account's own change, from
    which the paying accounts at the period's end are counted."""
    _, _, last = book.spine(grain)
    sc = book.subscription_changes(grain)
    movement = movement_case(
        book, grain, start="prev_mrr", end="mrr", never_paid="first_paid = period", zero_periods="period - last_drop"
    )
    keys = "account_id, subscription_id"
    dims_used = "".join(f", CASE WHEN s1.mrr > 0 THEN s1.{d} ELSE s0.{d} END AS {d}" for d in dims)
    sub = f"""(SELECT {keys}, period, mrr,
                      coalesce(lag(mrr) OVER (PARTITION BY {keys} ORDER BY period), 0) AS prev_mrr
               FROM {sc}) sc0"""
    covers = (
        "{a}.account_id = r.account_id AND {a}.period <= {p} AND ({a}.next_period IS NULL OR {a}.next_period > {p})"
    )
    return f"""SELECT r.period, r.kind, r.start_mrr, r.end_mrr{dims_used}, r.movement
    FROM (
        SELECT account_id, period, 'movement' AS kind, prev_mrr AS start_mrr, mrr AS end_mrr, {movement} AS movement
        FROM ({_paid_history(sub, keys)}) sm
        WHERE mrr <> prev_mrr AND period <= {last}
        UNION ALL
        SELECT account_id, period, 'residual', 0, sum(delta),
               CASE WHEN sum(delta) > 0 THEN 'expansion' ELSE 'contraction' END
        FROM (
            SELECT account_id, period, mrr - prev_mrr AS delta FROM st WHERE mrr <> prev_mrr
            UNION ALL
            SELECT account_id, period, prev_mrr - mrr FROM {sub} WHERE mrr <> prev_mrr AND period <= {last}
        ) d
        GROUP BY account_id, period HAVING sum(delta) <> 0
        UNION ALL
        SELECT account_id, period, 'account', prev_mrr, mrr, NULL FROM st WHERE mrr <> prev_mrr
    ) r
    LEFT JOIN st s1 ON {covers.format(a="s1", p="r.period - 1")}
    LEFT JOIN st s0 ON {covers.format(a="s0", p="r.period")}"""


def levels(book: Book, grain: str, dims: Sequence[str]) -> str:
    """Each slice's MRR and paying accounts at every period end, from the states' prefix sums."""
    name = f"rb_level_{grain}_{'_'.join(dims) or 'all'}"
    if name in book._built:
        return name
    st = states(book, grain, dims)
    periods, _, _ = book.spine(grain)
    d = "".join(f", {x}" for x in dims)
    g_d = "".join(f", g.{x}" for x in dims)
    on = "".join(f" AND dl.{x} = g.{x}" for x in dims)
    book.engine.materialize(
        name,
        f"""
        WITH deltas AS (
            SELECT period{d}, sum(mrr) AS mrr, sum(n) AS accounts
            FROM (
                SELECT period{d}, mrr, CASE WHEN mrr > 0 THEN 1 ELSE 0 END AS n FROM {st}
                UNION ALL
                SELECT period{"".join(f", prev_{x}" for x in dims)}, -prev_mrr,
                       CASE WHEN prev_mrr > 0 THEN -1 ELSE 0 END
                FROM {st} WHERE prev_period IS NOT NULL
            ) c
            GROUP BY period{d}
        ),
        slices AS (SELECT DISTINCT {", ".join(dims) if dims else "1 AS one"} FROM deltas),
        grid AS (SELECT p.period{"".join(f", s.{x}" for x in dims)} FROM {periods} p CROSS JOIN slices s)
        SELECT g.period{g_d},
               CAST(sum(coalesce(dl.mrr, 0)) OVER w AS BIGINT) AS mrr,
               CAST(sum(coalesce(dl.accounts, 0)) OVER w AS BIGINT) AS accounts
        FROM grid g LEFT JOIN deltas dl ON dl.period = g.period{on}
        WINDOW w AS ({("PARTITION BY " + ", ".join(f"g.{x}" for x in dims)) if dims else ""} ORDER BY g.period
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        """,
    )
    book._built.add(name)  # a slice's periods, not its accounts: small, never dropped
    return name
