"""The change-point plan of DESIGN.md ("Computing it fast"), in plain DuckDB SQL: a baseline.

Not part of the package, and not revbook's code: a second, independent writing of the same
definitions (docs/definitions.md), for one job only -- the "same work": monthly movements
by segment and retention over 1, 3 and 12-month windows by segment, straight from the Parquet
inputs. bench/compare.py checks that it gives revbook's tables to the cent before timing it.

The plan, never an account-month grid:

1. lines: each subscription line's MRR in integer cents (the gross price in 1/10^4 units, the
   discount, the FX rate of the line's start date in 1/10^8, over the billing months, rounded half
   to even once, exactly in BIGINT by parts; trials 0); lines starting after the as-of date are not
   read, lines still running on it are open-ended; accounts keyed by a 64-bit hash of their id
   (checked free of collisions);
2. change points: each line gives +MRR in the month it starts and -MRR in the month it ends; an
   account's segment changes (account_history) are change points too. Summed per account and month
   and running-summed per account they give each account's pieces: (first month, month after the
   last, MRR, segment), only where the MRR is above zero;
3. movements: each piece contributes at its first month (new, reactivation, expansion or
   contraction against the adjacent piece before it, sliced at the period's start), at the month
   after it ends (churn, when no piece follows at once), a transfer the month after a segment
   change, and a level (start = end = its MRR) to its inner months, added up as a prefix sum over
   months per segment;
4. retention, for each window w: a piece's start months [a, b) give a cohort's start for end months
   [a + w, b + w); the account's own pieces [c, d) give its end MRR for end months
   [max(a + w, c), min(b + w, d)) (a self-join of pieces per account, never of months); the window's
   movements are a running sum of the monthly movements over the last w months.

Money is integer cents (BIGINT) from step 1 on; only the ratios are DOUBLE.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

#: the input columns this plan reads (the scan floor of the same work reads exactly these)
NEEDED = {
    "subscriptions": [
        "account_id",
        "start_date",
        "end_date",
        "mrr",
        "amount",
        "unit_price",
        "quantity",
        "billing_period_months",
        "discount_percent",
        "is_trial",
        "currency",
    ],
    "accounts": ["account_id", "segment"],
    "account_history": ["account_id", "attribute", "value", "valid_from"],
    "fx_rates": ["date", "currency", "rate_to_reporting"],
}

KINDS = ("new", "reactivation", "expansion", "contraction", "churn")
PLURAL = {"new": "new", "reactivation": "reactivated", "expansion": "expanded", "contraction": "contracted"}
PLURAL["churn"] = "churned"
WINDOWS = (1, 3, 12)

MOVEMENT_COLUMNS = [
    "period",
    "period_start",
    "period_end",
    "segment",
    "start_mrr",
    "new_mrr",
    "reactivation_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churn_mrr",
    "end_mrr",
    "start_accounts",
    "new_accounts",
    "reactivated_accounts",
    "expanded_accounts",
    "contracted_accounts",
    "churned_accounts",
    "end_accounts",
    "transfer_in_mrr",
    "transfer_out_mrr",
    "transfer_in_accounts",
    "transfer_out_accounts",
]


def _month(expr: str) -> str:
    return f"(year({expr}) * 12 + month({expr}) - 1)"


def _lines_sql(paths: dict[str, Path], as_of: dt.date, columns: set[str]) -> str:
    """One row per line with MRR: account, first month, month after the last, cents."""

    def units(col: str, scale: int) -> str:  # a DECIMAL input as exact integer units of 1/scale; NULL -> 0
        return f"coalesce(CAST({col} * {scale} AS BIGINT), 0)" if col in columns else "CAST(0 AS BIGINT)"

    last = as_of.year * 12 + as_of.month - 1
    disc_amt = units("discount_amount", 10_000)
    return f"""
    WITH s AS (
        SELECT account_id, start_date, end_date, coalesce(is_trial, false) AS is_trial,
               upper(coalesce(currency, 'USD')) AS currency,
               CASE WHEN mrr IS NOT NULL THEN {units("mrr", 10_000)}
                    WHEN amount IS NOT NULL THEN {units("amount", 10_000)}
                    ELSE {units("unit_price", 10_000)} * {units("quantity", 10_000)} // 10000 END AS gross,
               CASE WHEN mrr IS NOT NULL THEN CAST(10000 AS BIGINT)
                    ELSE {units("billing_period_months", 10_000)} END AS months,
               {units("discount_percent", 10_000)} AS dp, {disc_amt} AS da
        FROM read_parquet('{paths["subscriptions"]}')
        WHERE start_date <= DATE '{as_of}' AND (end_date IS NULL OR end_date > start_date)
    ),
    fx AS (
        SELECT upper(currency) AS currency, date, max(rate_to_reporting) AS rate
        FROM read_parquet('{paths["fx_rates"]}') GROUP BY ALL
    ),
    rates AS (  -- the rate of each (currency, start date) a line has: few pairs, then a hash join
        SELECT d.currency, d.start_date, CAST(fx.rate * 100000000 AS BIGINT) AS f
        FROM (SELECT DISTINCT currency, start_date FROM s WHERE currency <> 'USD') d
        ASOF LEFT JOIN fx ON d.currency = fx.currency AND d.start_date >= fx.date
    ),
    rated AS (
        SELECT s.*, CASE WHEN s.currency = 'USD' THEN CAST(100000000 AS BIGINT) ELSE rates.f END AS f,
               gross * (1000000 - dp) - da * 1000000 AS p, months * 10000 AS md, months * 1000000000000 AS den
        FROM s LEFT JOIN rates ON s.currency = rates.currency AND s.start_date = rates.start_date
    ),
    -- cents = p * f / den rounded half to even, p * f up to ~10^25: exactly, in BIGINT, by parts.
    -- p = A md + B and 10^8 md = den, so p f = (A f) md + B f = (q1 den + r1 md) + (q2 den + r2)
    split AS (SELECT *, (p // md) * f AS t1, (p % md) * f AS t2 FROM rated),
    parts AS (
        SELECT *, t1 // 100000000 + t2 // den AS q12, (t1 % 100000000) * md + t2 % den AS t3 FROM split
    ),
    q AS (SELECT *, q12 + t3 // den AS q0, t3 % den AS r0 FROM parts)
    SELECT hash(account_id) AS k,
           {_month("start_date")} AS a,
           CASE WHEN end_date IS NOT NULL AND end_date <= DATE '{as_of}' THEN {_month("end_date")} ELSE {last + 1} END
               AS b,
           CASE WHEN is_trial THEN 0
                ELSE q0 + CASE WHEN 2 * r0 > den OR (2 * r0 = den AND q0 % 2 = 1) THEN 1 ELSE 0 END
           END AS cents,
           f, p
    FROM q
    """


def build(con, paths: dict[str, Path], as_of: dt.date) -> None:
    """The pieces ``cp_pieces`` (each beside its neighbours: ``cp_p``) and the spine ``cp_spine``, TEMP on ``con``."""
    last = as_of.year * 12 + as_of.month - 1
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{paths['subscriptions']}')").fetchall()}
    con.execute(f"CREATE OR REPLACE TEMP TABLE cp_lines AS {_lines_sql(paths, as_of, columns)}")
    # accounts are keyed by a 64-bit hash of their id (integer keys: cheaper to group, sort and join);
    # two ids with one hash would merge two accounts, so that is checked, exactly
    clash = con.execute(
        f"""SELECT count(*) FROM (SELECT hash(account_id) AS k FROM (
                SELECT account_id FROM read_parquet('{paths["subscriptions"]}') UNION
                SELECT account_id FROM read_parquet('{paths["accounts"]}') UNION
                SELECT account_id FROM read_parquet('{paths["account_history"]}'))
            GROUP BY k HAVING count(*) > 1)"""
    ).fetchone()[0]
    if clash:
        raise ValueError(f"{clash} account-id hashes are shared by two ids: key accounts another way")
    bad = con.execute("SELECT count(*) FILTER (f IS NULL), count(*) FILTER (p < 0) FROM cp_lines").fetchone()
    if bad[0]:
        raise ValueError(f"{bad[0]} lines have no FX rate on or before their start")
    if bad[1]:  # the integer division above floors only non-negative prices
        raise ValueError(f"{bad[1]} lines have a negative price: this baseline does not round those")
    accounts, history = paths["accounts"], paths["account_history"]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cp_pieces AS
        WITH acc AS (SELECT DISTINCT ON (account_id) hash(account_id) AS k, segment FROM read_parquet('{accounts}')),
        ev AS (
            SELECT k, a AS m, cents AS d, NULL AS seg FROM cp_lines WHERE cents <> 0 AND b > a
            UNION ALL
            SELECT k, b, -cents, NULL FROM cp_lines WHERE cents <> 0 AND b > a AND b <= {last}
            UNION ALL  -- the account's segment before any history
            SELECT k, -1, 0, coalesce(segment, '(none)') FROM acc
            UNION ALL  -- a segment change: the latest value dated in the month (no value: the account's)
            SELECT h.k, h.m, 0, arg_max(coalesce(h.value, acc.segment, '(none)'), h.valid_from)
            FROM (SELECT hash(account_id) AS k, {_month("valid_from")} AS m, value, valid_from
                  FROM read_parquet('{history}') WHERE attribute = 'segment' AND valid_from <= DATE '{as_of}') h
            LEFT JOIN acc USING (k)
            GROUP BY h.k, h.m
        ),
        runs AS (  -- the running MRR and segment after each event, and whether it is its month's last
            SELECT k, m, greatest(sum(d) OVER w, 0) AS v, last_value(seg IGNORE NULLS) OVER w AS seg,
                   lead(m) OVER w IS DISTINCT FROM m AS closes
            FROM ev WINDOW w AS (PARTITION BY k ORDER BY m ROWS UNBOUNDED PRECEDING)
        ),
        steps AS (  -- one per change month: [a, b) at MRR v in segment seg, beside its neighbours
            SELECT k, m AS a, lead(m, 1, {last + 1}) OVER w AS b, v, coalesce(seg, '(none)') AS seg,
                   lag(v) OVER w AS pv, coalesce(lag(seg) OVER w, '(none)') AS ps, lead(v) OVER w AS nv,
                   coalesce(max(v) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) = 0 AS first_piece
            FROM runs WHERE closes WINDOW w AS (PARTITION BY k ORDER BY m)
        )
        SELECT k, a, b, v, seg, coalesce(pv > 0, false) AS after_prev, pv, ps, first_piece,
               coalesce(nv > 0, false) AS before_next
        FROM steps WHERE v > 0 AND a <= {last}
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW cp_p AS SELECT * FROM cp_pieces")
    first = con.execute("SELECT min(a) FROM cp_pieces").fetchone()[0]
    first = last if first is None else min(first, last)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cp_spine AS
        SELECT p, strftime(make_date(p // 12, p % 12 + 1, 1), '%Y-%m') AS period,
               make_date(p // 12, p % 12 + 1, 1) AS period_start,
               least(last_day(make_date(p // 12, p % 12 + 1, 1)), DATE '{as_of}') AS period_end
        FROM range({first}, {last + 1}) t(p)
        """
    )


def movements_sql(last: int) -> str:
    """Monthly movements by segment (money in cents), from ``cp_p``: the dense months x segments."""
    zero = "0 AS sm, 0 AS em, 0 AS sa, 0 AS ea, 0 AS n, 0 AS r, 0 AS x, 0 AS c, 0 AS ch, 0 AS na, 0 AS ra, 0 AS xa"
    zero += ", 0 AS ca, 0 AS cha, 0 AS ti, 0 AS tout, 0 AS tia, 0 AS toa"

    def pt(seg: str, month: str, where: str, **cols: str) -> str:
        names = [c.split(" AS ")[1] for c in zero.split(", ")]
        sel = ", ".join(f"{cols.get(n, '0')} AS {n}" for n in names)
        return f"SELECT {seg} AS seg, {month} AS p, 0 AS lv, 0 AS la, {sel} FROM cp_p WHERE {where}"

    points = " UNION ALL ".join(
        [
            # the inner months of a piece: a level, +v from a + 1, -v from b
            f"SELECT seg, a + 1 AS p, v AS lv, 1 AS la, {zero} FROM cp_p WHERE a + 1 < b",
            f"SELECT seg, b AS p, -v AS lv, -1 AS la, {zero} FROM cp_p WHERE a + 1 < b AND b <= {last}",
            # first month after an adjacent piece: sliced at the period's start (the piece before)
            pt(
                "ps",
                "a",
                "after_prev",
                sm="pv",
                em="v",
                sa="1",
                ea="1",
                x="greatest(v - pv, 0)",
                c="greatest(pv - v, 0)",
                xa="(v > pv)::INT",
                ca="(v < pv)::INT",
            ),
            # an arrival: new (first piece) or reactivation
            pt(
                "seg",
                "a",
                "NOT coalesce(after_prev, false)",
                em="v",
                ea="1",
                n="CASE WHEN first_piece THEN v ELSE 0 END",
                na="first_piece::INT",
                r="CASE WHEN first_piece THEN 0 ELSE v END",
                ra="(NOT first_piece)::INT",
            ),
            # churn the month after a piece no piece follows at once
            pt("seg", "b", f"NOT before_next AND b <= {last}", sm="v", sa="1", ch="v", cha="1"),
            # a transfer the month after a segment change between adjacent pieces
            pt("seg", "a + 1", f"after_prev AND ps <> seg AND a + 1 <= {last}", ti="v", tia="1"),
            pt("ps", "a + 1", f"after_prev AND ps <> seg AND a + 1 <= {last}", tout="v", toa="1"),
        ]
    )
    return f"""
    WITH pts AS ({points}),
    g AS (
        SELECT seg, p, sum(lv) AS lv, sum(la) AS la, sum(sm) AS sm, sum(em) AS em, sum(sa) AS sa, sum(ea) AS ea,
               sum(n) AS n, sum(r) AS r, sum(x) AS x, sum(c) AS c, sum(ch) AS ch, sum(na) AS na, sum(ra) AS ra,
               sum(xa) AS xa, sum(ca) AS ca, sum(cha) AS cha, sum(ti) AS ti, sum(tout) AS tout, sum(tia) AS tia,
               sum(toa) AS toa
        FROM pts GROUP BY seg, p
    ),
    dense AS (
        SELECT sp.*, segs.seg, g.* EXCLUDE (seg, p),
               coalesce(sum(g.lv) OVER w, 0) AS level, coalesce(sum(g.la) OVER w, 0) AS level_accounts
        FROM cp_spine sp CROSS JOIN (SELECT DISTINCT seg FROM cp_p) segs
        LEFT JOIN g ON g.seg = segs.seg AND g.p = sp.p
        WINDOW w AS (PARTITION BY segs.seg ORDER BY sp.p ROWS UNBOUNDED PRECEDING)
    )
    SELECT p, period, period_start, period_end, seg AS segment,
           CAST(level + coalesce(sm, 0) AS BIGINT) AS start_mrr,
           CAST(coalesce(n, 0) AS BIGINT) AS new_mrr, CAST(coalesce(r, 0) AS BIGINT) AS reactivation_mrr,
           CAST(coalesce(x, 0) AS BIGINT) AS expansion_mrr, CAST(coalesce(c, 0) AS BIGINT) AS contraction_mrr,
           CAST(coalesce(ch, 0) AS BIGINT) AS churn_mrr,
           CAST(level + coalesce(em, 0) AS BIGINT) AS end_mrr,
           CAST(level_accounts + coalesce(sa, 0) AS BIGINT) AS start_accounts,
           CAST(coalesce(na, 0) AS BIGINT) AS new_accounts, CAST(coalesce(ra, 0) AS BIGINT) AS reactivated_accounts,
           CAST(coalesce(xa, 0) AS BIGINT) AS expanded_accounts,
           CAST(coalesce(ca, 0) AS BIGINT) AS contracted_accounts,
           CAST(coalesce(cha, 0) AS BIGINT) AS churned_accounts,
           CAST(level_accounts + coalesce(ea, 0) AS BIGINT) AS end_accounts,
           CAST(coalesce(ti, 0) AS BIGINT) AS transfer_in_mrr, CAST(coalesce(tout, 0) AS BIGINT) AS transfer_out_mrr,
           CAST(coalesce(tia, 0) AS BIGINT) AS transfer_in_accounts,
           CAST(coalesce(toa, 0) AS BIGINT) AS transfer_out_accounts
    FROM dense
    """


def retention_sql(first: int, windows: tuple[int, ...]) -> str:
    """Retention by segment over each window (money in cents), from ``cp_p`` and ``cp_mov``."""
    wins = ", ".join(f"({w})" for w in windows)
    # the window's movements: the monthly ones of its last w months (a frame per window)
    moves = " UNION ALL ".join(
        f"""SELECT {w} AS w, p AS e, segment AS seg, sum(new_mrr) OVER x{w} AS n, sum(reactivation_mrr) OVER x{w} AS r,
                   sum(expansion_mrr) OVER x{w} AS xp, sum(contraction_mrr) OVER x{w} AS c,
                   sum(churn_mrr) OVER x{w} AS ch
            FROM cp_mov
            WINDOW x{w} AS (PARTITION BY segment ORDER BY p ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW)"""
        for w in windows
    )
    return f"""
    WITH w AS (SELECT * FROM (VALUES {wins}) t(w)),
    pairs AS (  -- piece i's start months whose window ends inside piece j of the same account
        SELECT w.w, i.seg, i.v, j.v AS u, greatest(i.a + w.w, j.a) AS lo, least(i.b + w.w, j.b) AS hi
        FROM cp_p i JOIN cp_p j ON i.k = j.k AND j.a < i.b + {max(windows)} AND j.b > i.a + {min(windows)}, w
        WHERE j.a < i.b + w.w AND j.b > i.a + w.w
    ),
    starts AS (  -- the pieces' starts and ends per segment and month, once for every window
        SELECT seg, m, sum(dv) AS dv, sum(da) AS da
        FROM (SELECT seg, a AS m, v AS dv, 1 AS da FROM cp_p UNION ALL SELECT seg, b, -v, -1 FROM cp_p)
        GROUP BY ALL
    ),
    ev AS (
        -- the cohort's start: start months [a, b) end their window at [a + w, b + w)
        SELECT w.w, seg, m + w.w AS e, dv AS sm, da AS sa, 0 AS em, 0 AS rm, 0 AS ra FROM starts, w
        UNION ALL
        -- the end: the account's own piece j covering the window's end month
        SELECT w, seg, lo, 0, 0, u, least(v, u), 1 FROM pairs
        UNION ALL
        SELECT w, seg, hi, 0, 0, -u, -least(v, u), -1 FROM pairs
    ),
    g AS (SELECT w, seg, e, sum(sm) AS sm, sum(sa) AS sa, sum(em) AS em, sum(rm) AS rm, sum(ra) AS ra
          FROM ev GROUP BY ALL),
    mv AS ({moves}),
    dense AS (
        SELECT sp.*, mv.w, mv.seg, mv.n, mv.r, mv.xp, mv.c, mv.ch, mv.e - mv.w >= {first - 1} AS has_moves,
               coalesce(sum(g.sm) OVER y, 0) AS start_mrr, coalesce(sum(g.sa) OVER y, 0) AS start_accounts,
               coalesce(sum(g.em) OVER y, 0) AS end_mrr, coalesce(sum(g.rm) OVER y, 0) AS retained_mrr,
               coalesce(sum(g.ra) OVER y, 0) AS retained_accounts
        FROM mv JOIN cp_spine sp ON sp.p = mv.e
        LEFT JOIN g ON g.w = mv.w AND g.seg = mv.seg AND g.e = mv.e
        WINDOW y AS (PARTITION BY mv.w, mv.seg ORDER BY mv.e ROWS UNBOUNDED PRECEDING)
    ),
    out AS (
        SELECT period, period_start, period_end, CAST(w AS INTEGER) AS window_months, seg AS segment,
               CAST(start_accounts AS BIGINT) AS start_accounts, CAST(retained_accounts AS BIGINT) AS retained_accounts,
               CAST(start_mrr AS BIGINT) AS start_mrr, CAST(end_mrr AS BIGINT) AS end_mrr,
               CAST(retained_mrr AS BIGINT) AS retained_mrr,
               CAST(CASE WHEN has_moves THEN n ELSE 0 END AS BIGINT) AS new_mrr,
               CAST(CASE WHEN has_moves THEN r ELSE 0 END AS BIGINT) AS reactivation_mrr,
               CAST(CASE WHEN has_moves THEN xp ELSE 0 END AS BIGINT) AS expansion_mrr,
               CAST(CASE WHEN has_moves THEN c ELSE 0 END AS BIGINT) AS contraction_mrr,
               CAST(CASE WHEN has_moves THEN ch ELSE 0 END AS BIGINT) AS churn_mrr
        FROM dense
    )
    SELECT period, period_start, period_end, window_months, segment, start_accounts, retained_accounts,
           start_mrr, end_mrr, retained_mrr,
           end_mrr / nullif(start_mrr, 0) AS nrr, retained_mrr / nullif(start_mrr, 0) AS grr,
           retained_accounts / nullif(start_accounts, 0) AS logo_retention,
           new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churn_mrr,
           (start_mrr + expansion_mrr - contraction_mrr - churn_mrr) / nullif(start_mrr, 0) AS movement_nrr,
           (churn_mrr + contraction_mrr) / nullif(start_mrr, 0) AS gross_revenue_churn,
           (churn_mrr + contraction_mrr - expansion_mrr) / nullif(start_mrr, 0) AS net_revenue_churn,
           expansion_mrr / nullif(start_mrr, 0) AS expansion_rate,
           (new_mrr + reactivation_mrr + expansion_mrr) / nullif(contraction_mrr + churn_mrr, 0) AS quick_ratio
    FROM out
    WHERE start_accounts <> 0 OR start_mrr <> 0 OR end_mrr <> 0 OR new_mrr <> 0 OR reactivation_mrr <> 0
       OR expansion_mrr <> 0 OR contraction_mrr <> 0 OR churn_mrr <> 0
    ORDER BY window_months, period, segment
    """


def run(paths: dict[str, Path], as_of: dt.date, windows: tuple[int, ...] = WINDOWS, con=None):
    """(movements, retention) by segment as Arrow tables, money in integer cents."""
    import duckdb

    con = con or duckdb.connect()
    last = as_of.year * 12 + as_of.month - 1
    build(con, paths, as_of)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cp_mov AS {movements_sql(last)}")
    first = con.execute("SELECT min(p) FROM cp_spine").fetchone()[0]
    movements = con.execute(
        f"SELECT {', '.join(MOVEMENT_COLUMNS)} FROM cp_mov "
        "WHERE start_accounts <> 0 OR end_accounts <> 0 OR churned_accounts <> 0 OR transfer_out_accounts <> 0 "
        "ORDER BY period, segment"
    ).to_arrow_table()
    retention = con.execute(retention_sql(first, windows)).to_arrow_table()
    return movements, retention
