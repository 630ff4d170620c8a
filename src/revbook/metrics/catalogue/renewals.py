"""Catalogue metrics of renewals and contracts: renewal rate, multi-year contracts and trial to
paid (docs/definitions.md)."""

from __future__ import annotations

from .context import Context, Spec, count_of, days, plus, rate, sum_of

__all__ = ["multi_year_contract_rate", "renewal_rate", "trial_to_paid"]


def renewal_rate(c: Context) -> Spec:
    grace = c.settings.renewal_grace_days
    facts = f"""
    WITH up AS (
        SELECT DISTINCT account_id, contract_end_date AS ce,
               CAST(contract_end_date - INTERVAL 1 DAY AS DATE) AS eve,
               {plus("contract_end_date", days(grace))} AS grace_end
        FROM subscriptions
        WHERE NOT coalesce(is_trial, false) AND contract_end_date IS NOT NULL AND contract_end_date <= {c.as_of}
    ),
    before AS {c.mrr_on("up", "eve", "mrr_up")},
    on_end AS {c.mrr_on("up", "ce", "mrr_on_end")},
    back AS (
        SELECT u.account_id, u.ce, min(l.start_date) AS back_on
        FROM up u JOIN {c.lines} l ON l.account_id = u.account_id AND l.mrr > 0
             AND l.start_date > u.ce AND l.start_date <= u.grace_end
        GROUP BY u.account_id, u.ce
    ),
    r AS (
        SELECT u.account_id, u.ce, u.grace_end, b.mrr_up,
               CASE WHEN o.mrr_on_end > 0 THEN u.ce ELSE k.back_on END AS renewed_on
        FROM up u JOIN before b ON b.account_id = u.account_id AND b.eve = u.eve
        JOIN on_end o ON o.account_id = u.account_id AND o.ce = u.ce
        LEFT JOIN back k ON k.account_id = u.account_id AND k.ce = u.ce
        WHERE b.mrr_up > 0
    ),
    renewed AS (SELECT account_id, renewed_on FROM r WHERE renewed_on IS NOT NULL),
    after AS {c.mrr_on("renewed", "renewed_on", "mrr_renewed")}
    SELECT r.account_id, {c.period("r.ce")} AS period, CAST(NULL AS DATE) AS at,
           r.ce AS contract_end_date, r.renewed_on,
           r.renewed_on IS NULL AND r.grace_end > {c.as_of} AS pending,
           12 * r.mrr_up AS arr_up, 12 * coalesce(a.mrr_renewed, 0) AS arr_after
    FROM r LEFT JOIN after a ON a.account_id = r.account_id AND a.renewed_on = r.renewed_on
    """
    known = "NOT pending"
    return Spec(
        facts,
        [
            ("contracts_up", count_of(known)),
            ("contracts_renewed", count_of(f"{known} AND renewed_on IS NOT NULL")),
            rate("renewal_rate", count_of(f"{known} AND renewed_on IS NOT NULL"), count_of(known)),
            ("arr_up", c.money(sum_of("arr_up", known))),
            ("arr_renewed", c.money(sum_of("least(arr_after, arr_up)", known))),
            rate("arr_renewal_rate", sum_of("least(arr_after, arr_up)", known), sum_of("arr_up", known)),
            ("net_arr_renewed", c.money(sum_of("arr_after", known))),
            rate("net_arr_renewal_rate", sum_of("arr_after", known), sum_of("arr_up", known)),
            ("pending", count_of("pending")),
        ],
        money=("arr_up", "arr_after"),
    )


def multi_year_contract_rate(c: Context) -> Spec:
    months = c.settings.multi_year_months
    facts = f"""
    WITH s AS (
        SELECT s.account_id, s.subscription_id, s.start_date, s.contract_end_date,
               coalesce(s.billing_period_months, 1) AS bp, coalesce(l.mrr, 0) AS mrr
        FROM subscriptions s
        LEFT JOIN {c.lines} l ON l._file = s._file AND l._row = s._row AND l.source = 'subscription'
        WHERE NOT coalesce(s.is_trial, false) AND s.start_date <= {c.as_of} AND (l.mrr IS NULL OR l.mrr > 0)
    ),
    g AS (
        SELECT account_id, min(start_date) AS signed_on, max(contract_end_date) AS ce, max(bp) AS bp
        FROM s GROUP BY account_id, coalesce(CAST(contract_end_date AS VARCHAR), 'subscription ' || subscription_id)
    ),
    k AS (
        SELECT account_id, signed_on,
               max(greatest(coalesce(date_diff('month', signed_on, ce), 0), CAST(bp AS BIGINT))) AS contract_months
        FROM g GROUP BY account_id, signed_on
    ),
    a AS (SELECT account_id, start_date AS signed_on, 12 * sum(mrr) AS arr FROM s GROUP BY account_id, start_date)
    SELECT k.account_id, {c.period("k.signed_on")} AS period, CAST(NULL AS DATE) AS at, k.signed_on,
           k.contract_months, k.contract_months >= {months} AS multi_year, coalesce(a.arr, 0) AS arr
    FROM k LEFT JOIN a ON a.account_id = k.account_id AND a.signed_on = k.signed_on
    """
    return Spec(
        facts,
        [
            ("contracts", count_of()),
            ("multi_year_contracts", count_of("multi_year")),
            rate("multi_year_rate", count_of("multi_year"), count_of()),
            ("arr_signed", c.money(sum_of("arr"))),
            ("multi_year_arr", c.money(sum_of("arr", "multi_year"))),
            rate("multi_year_arr_share", sum_of("arr", "multi_year"), sum_of("arr")),
        ],
        money=("arr",),
    )


def trial_to_paid(c: Context) -> Spec:
    n = c.settings.trial_conversion_days
    facts = f"""
    WITH t AS (
        SELECT account_id, min(start_date) AS trial_start, max(end_date_recorded) AS trial_end,
               bool_or(end_date IS NULL) AS running
        FROM {c.lines} WHERE is_trial GROUP BY account_id
    ),
    e AS (
        SELECT *, {plus("trial_end", days(n))} AS window_end FROM t
        WHERE NOT running AND trial_end <= {c.as_of}
    ),
    paid AS (
        SELECT e.account_id, min(l.start_date) AS paid_on
        FROM e JOIN {c.lines} l ON l.account_id = e.account_id AND l.mrr > 0
             AND l.start_date >= e.trial_start AND l.start_date <= e.window_end
        GROUP BY e.account_id
    )
    SELECT e.account_id, {c.period("e.trial_end")} AS period, CAST(NULL AS DATE) AS at,
           e.trial_start, e.trial_end, p.paid_on, p.paid_on IS NOT NULL AS converted,
           p.paid_on IS NULL AND e.window_end > {c.as_of} AS pending
    FROM e LEFT JOIN paid p ON p.account_id = e.account_id
    """
    return Spec(
        facts,
        [
            ("trials_ended", count_of("NOT pending")),
            ("converted", count_of("converted")),
            rate("conversion_rate", count_of("converted"), count_of("NOT pending")),
            ("pending", count_of("pending")),
        ],
    )
