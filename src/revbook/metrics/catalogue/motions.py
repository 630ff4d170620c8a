"""Catalogue metrics of CS motions: QBR conversion, escalations, CSM coverage, executive sponsors,
NPS and CSAT beside retention (docs/definitions.md)."""

from __future__ import annotations

from ...ledger import FAR_FUTURE, active_on
from ..retention import cohort_rates, cohort_step
from .context import Context, Spec, count_of, days, median_days, names, plus, rate, ratio, sum_of

__all__ = [
    "csm_coverage",
    "escalation_resolution",
    "exec_sponsor_engagement",
    "nps_csat",
    "qbr_conversion",
]


def qbr_conversion(c: Context) -> Spec:
    s = c.settings
    n = s.qbr_window_days
    facts = f"""
    WITH q AS (
        SELECT DISTINCT account_id, date AS qbr_on, {plus("date", days(n))} AS window_end FROM activities
        WHERE type IN ({names(s.qbr_types)}) AND coalesce(outcome, '') NOT IN ({names(s.missed_outcomes)})
          AND date <= {c.as_of}
    ),
    deal AS (
        SELECT DISTINCT q.account_id, q.qbr_on FROM q JOIN opportunities o ON o.account_id = q.account_id
        WHERE o.kind = 'expansion' AND o.won AND o.closed_at BETWEEN q.qbr_on AND q.window_end
          AND o.closed_at <= {c.as_of}
    ),
    commit_ AS (
        SELECT DISTINCT q.account_id, q.qbr_on FROM q JOIN opportunities o ON o.account_id = q.account_id
        WHERE o.kind = 'renewal' AND o.won AND o.closed_at BETWEEN q.qbr_on AND q.window_end
          AND o.closed_at <= {c.as_of}
        UNION
        SELECT DISTINCT q.account_id, q.qbr_on FROM q JOIN activities a ON a.account_id = q.account_id
        WHERE a.outcome IN ({names(s.renewal_commitment_outcomes)}) AND a.date BETWEEN q.qbr_on AND q.window_end
          AND a.date <= {c.as_of}
    ),
    starts AS (
        SELECT DISTINCT q.account_id, l.start_date AS on_day, CAST(l.start_date - INTERVAL 1 DAY AS DATE) AS eve
        FROM q JOIN {c.lines} l ON l.account_id = q.account_id AND l.mrr > 0
        -- usage-priced lines drift with consumption, not with a QBR
        WHERE l.start_date BETWEEN q.qbr_on AND q.window_end AND coalesce(l.pricing_model, '') <> 'usage'
    ),
    m1 AS {c.mrr_on("starts", "on_day", "mrr_day")},
    m0 AS {c.mrr_on("starts", "eve", "mrr_eve")},
    rises AS (
        SELECT s.account_id, s.on_day FROM starts s
        JOIN m1 ON m1.account_id = s.account_id AND m1.on_day = s.on_day
        JOIN m0 ON m0.account_id = s.account_id AND m0.eve = s.eve
        WHERE m0.mrr_eve > 0 AND m1.mrr_day > m0.mrr_eve
    ),
    rise AS (
        SELECT DISTINCT q.account_id, q.qbr_on FROM q JOIN rises r ON r.account_id = q.account_id
        WHERE r.on_day BETWEEN q.qbr_on AND q.window_end
    ),
    x AS (
        SELECT q.account_id, q.qbr_on, q.window_end, d.account_id IS NOT NULL AS expansion_deal,
               r.account_id IS NOT NULL AS mrr_expansion, k.account_id IS NOT NULL AS renewal_commitment
        FROM q
        LEFT JOIN deal d ON d.account_id = q.account_id AND d.qbr_on = q.qbr_on
        LEFT JOIN rise r ON r.account_id = q.account_id AND r.qbr_on = q.qbr_on
        LEFT JOIN commit_ k ON k.account_id = q.account_id AND k.qbr_on = q.qbr_on
    )
    SELECT account_id, {c.period("qbr_on")} AS period, CAST(NULL AS DATE) AS at, qbr_on,
           expansion_deal, mrr_expansion, renewal_commitment,
           expansion_deal OR mrr_expansion OR renewal_commitment AS converted,
           NOT (expansion_deal OR mrr_expansion OR renewal_commitment) AND window_end > {c.as_of} AS pending
    FROM x
    """
    return Spec(
        facts,
        [
            ("qbrs", count_of("NOT pending")),
            ("converted_qbrs", count_of("converted")),
            rate("qbr_conversion_rate", count_of("converted"), count_of("NOT pending")),
            ("with_expansion_deal", count_of("expansion_deal")),
            ("with_mrr_expansion", count_of("mrr_expansion")),
            ("with_renewal_commitment", count_of("renewal_commitment")),
            ("pending", count_of("pending")),
        ],
    )


def escalation_resolution(c: Context) -> Spec:
    facts = f"""
    SELECT account_id, {c.period("closed_at")} AS period, CAST(NULL AS DATE) AS at, ticket_id, opened_at,
           closed_at, coalesce(escalated, false) AS escalated, date_diff('day', opened_at, closed_at) AS days,
           false AS open_at_end
    FROM tickets WHERE closed_at IS NOT NULL AND closed_at <= {c.as_of}
    UNION ALL
    SELECT t.account_id, p.period, CAST(NULL AS DATE), t.ticket_id, t.opened_at, t.closed_at, true, NULL, true
    FROM tickets t JOIN {c.periods} p
      ON t.opened_at <= p.period_end AND coalesce(t.closed_at, {FAR_FUTURE}) > p.period_end
    WHERE t.escalated
    """
    closed = "escalated AND NOT open_at_end"
    return Spec(
        facts,
        [
            ("escalations_closed", count_of(closed)),
            *median_days(closed),
            ("open_escalations", count_of("open_at_end")),
            ("other_tickets_closed", count_of("NOT escalated")),
            ("median_days_not_escalated", "median(days) FILTER (WHERE NOT escalated)"),
        ],
    )


def csm_coverage(c: Context) -> Spec:
    facts = f"""SELECT account_id, period, period_end AS at, mrr
                FROM {c.book.snapshots(c.cal.grain)}"""
    assigned = "owner <> '(none)'"
    csms = f"count(DISTINCT owner) FILTER (WHERE {assigned})"
    return Spec(
        facts,
        [
            ("accounts", count_of()),
            ("csm_accounts", count_of(assigned)),
            ("csms", csms),
            rate("accounts_per_csm", count_of(assigned), csms),
            ("arr", c.money(sum_of("12 * mrr"))),
            ("csm_arr", c.money(sum_of("12 * mrr", assigned))),
            ("arr_per_csm", c.money(f"CAST(round({ratio(sum_of('12 * mrr', assigned), csms)}) AS BIGINT)")),
        ],
        needs=("owner",),
        money=("mrr",),
    )


def exec_sponsor_engagement(c: Context) -> Spec:
    s = c.settings
    meet = f"""(SELECT account_id, date FROM activities WHERE type IN ({names(s.exec_sponsor_types)})
                AND coalesce(outcome, '') NOT IN ({names(s.missed_outcomes)}) AND date <= {c.as_of})"""
    facts = f"""
    WITH now AS (SELECT account_id, period, period_end AS at FROM {c.book.snapshots(c.cal.grain)}),
    win AS (
        SELECT period, period_end, last_day(CAST(period_end - INTERVAL 12 MONTH AS DATE)) AS opened
        FROM {c.periods}
    ),
    cand AS (
        SELECT DISTINCT l.account_id, w.period, w.period_end, w.opened
        FROM win w JOIN {c.lines} l ON l.mrr > 0 AND {active_on("w.opened")}
    ),
    m0 AS {c.mrr_on("cand", "opened", "start_mrr")},
    m1 AS {c.mrr_on("cand", "period_end", "end_mrr")},
    cohort AS (
        SELECT k.account_id, k.period, k.opened, m0.start_mrr, m1.end_mrr
        FROM cand k JOIN m0 ON m0.account_id = k.account_id AND m0.opened = k.opened
        JOIN m1 ON m1.account_id = k.account_id AND m1.period_end = k.period_end
        WHERE m0.start_mrr > 0
    )
    SELECT n.account_id, n.period, n.at, 'now' AS kind,
           EXISTS (SELECT 1 FROM {meet} m WHERE m.account_id = n.account_id AND m.date <= n.at
                   AND m.date > CAST(n.at - {days(s.exec_sponsor_days)} AS DATE)) AS engaged,
           CAST(NULL AS BIGINT) AS start_mrr, CAST(NULL AS BIGINT) AS end_mrr
    FROM now n
    UNION ALL
    SELECT k.account_id, k.period, k.opened, 'cohort',
           EXISTS (SELECT 1 FROM {meet} m WHERE m.account_id = k.account_id AND m.date <= k.opened
                   AND m.date > CAST(k.opened - {days(s.exec_sponsor_days)} AS DATE)),
           k.start_mrr, k.end_mrr
    FROM cohort k
    """
    eligible = f"segment IN ({names(s.exec_sponsor_segments)})" if s.exec_sponsor_segments else "true"
    now = f"kind = 'now' AND {eligible}"
    aggs: list[tuple[str, str]] = [
        ("accounts", count_of(now)),
        ("engaged_accounts", count_of(f"{now} AND engaged")),
        rate("engagement_rate", count_of(f"{now} AND engaged"), count_of(now)),
    ]
    end, retained, still = cohort_step("start_mrr", "end_mrr")
    for label, cond in (("engaged", "engaged"), ("not_engaged", "NOT engaged")):
        g = f"kind = 'cohort' AND {eligible} AND {cond}"
        nrr, grr, logo = cohort_rates(
            sum_of("start_mrr", g), sum_of(end, g), sum_of(retained, g), count_of(g), sum_of(still, g)
        )
        aggs += [
            (f"cohort_{label}", count_of(g)),
            (f"nrr_12m_{label}", nrr),
            (f"grr_12m_{label}", grr),
            (f"logo_retention_12m_{label}", logo),
        ]
    return Spec(facts, aggs, needs=("segment",), money=("start_mrr", "end_mrr"))


def nps_csat(c: Context) -> Spec:
    later = c.settings.nps_churn_days
    facts = f"""
    WITH s AS (
        SELECT account_id, date, kind, score, {plus("date", days(later))} AS later FROM surveys
        WHERE date <= {c.as_of}
    ),
    known AS (SELECT account_id, later FROM s WHERE later <= {c.as_of}),
    l AS {c.mrr_on("known", "later", "mrr_later")}
    SELECT s.account_id, {c.period("s.date")} AS period, CAST(NULL AS DATE) AS at, s.date AS answered_on,
           s.kind, s.score,
           CASE WHEN s.later > {c.as_of} THEN NULL ELSE coalesce(l.mrr_later, 0) = 0 END AS left_after
    FROM s LEFT JOIN l ON l.account_id = s.account_id AND l.later = s.later
    """

    def nps(cond: str) -> str:
        n = f"kind = 'nps' AND {cond}"
        return f"100 * {ratio(count_of(f'{n} AND score >= 9') + ' - ' + count_of(f'{n} AND score <= 6'), count_of(n))}"

    return Spec(
        facts,
        [
            ("nps_responses", count_of("kind = 'nps'")),
            ("promoters", count_of("kind = 'nps' AND score >= 9")),
            ("detractors", count_of("kind = 'nps' AND score <= 6")),
            ("nps", nps("true")),
            ("csat_responses", count_of("kind = 'csat'")),
            ("csat", "CAST(avg(score) FILTER (WHERE kind = 'csat') AS DOUBLE)"),
            ("leaver_responses", count_of("kind = 'nps' AND left_after")),
            ("nps_leavers", nps("left_after")),
            ("nps_stayers", nps("NOT left_after")),
        ],
        beside_retention=True,
    )
