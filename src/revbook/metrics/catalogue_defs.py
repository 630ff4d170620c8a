"""The definitions of the CS metric catalogue, one function each (docs/definitions.md).

Each returns a :class:`~revbook.metrics.catalogue.Spec`: the SQL of its facts (one row per thing
counted: ``account_id, period, at`` then keys and measures) and its aggregates. Conventions:

- a fact whose outcome needs a window that is still open on the as-of date and has not succeeded
  yet is **pending**: counted apart, in neither numerator nor denominator;
- MRR and ARR are minor units until printed (``money``); deal amounts are the loaded DECIMALs;
- an account's MRR on a day is the sum of its ledger lines active that day (Context.mrr_on).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..ledger import FAR_FUTURE
from .catalogue import Context, Metric, Spec, days, names, plus, ratio

__all__ = ["METRICS"]


def _count(cond: str = "true") -> str:
    return f"count(*) FILTER (WHERE {cond})"


def _sum(expr: str, cond: str = "true") -> str:
    return f"coalesce(sum({expr}) FILTER (WHERE {cond}), 0)"


def _rate(name: str, num: str, den: str) -> tuple[str, str]:
    return name, ratio(num, den)


def _median_days(cond: str) -> list[tuple[str, str]]:
    return [
        ("median_days", f"median(days) FILTER (WHERE {cond})"),
        ("mean_days", f"avg(days) FILTER (WHERE {cond})"),
    ]


def _check_milestones(c: Context, names_: tuple[str, ...], setting: str) -> None:
    """A milestone the config names that no loaded row has is a typo more often than not."""
    found = {r["milestone"] for r in c.book.engine.arrow("SELECT DISTINCT milestone FROM milestones").to_pylist()}
    missing = [n for n in names_ if n not in found]
    if missing:
        raise ConfigError(
            f"milestone(s) {', '.join(missing)} not found in the milestones table",
            table="milestones",
            hint=f"set [catalogue] {setting} to names it has: {', '.join(sorted(found)) or '(none loaded)'}",
        )


def _features(c: Context) -> list[str]:
    if c.settings.key_features:
        return list(c.settings.key_features)
    found = [
        r["metric"]
        for r in c.book.engine.arrow(
            "SELECT DISTINCT metric FROM usage WHERE metric LIKE 'feature\\_%' ESCAPE '\\' ORDER BY 1"
        ).to_pylist()
    ]
    if not found:
        raise ConfigError(
            "no key features: the usage table has no metric named feature_*",
            table="usage",
            hint='name them in revbook.toml: [catalogue] key_features = ["reports", ...]',
        )
    return found


def _feature_values(features: list[str]) -> str:
    return f"(SELECT * FROM (VALUES {', '.join(f'({names([f])})' for f in features)}) v(feature))"


# -- renewals and contracts -------------------------------------------------------------------
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
            ("contracts_up", _count(known)),
            ("contracts_renewed", _count(f"{known} AND renewed_on IS NOT NULL")),
            _rate("renewal_rate", _count(f"{known} AND renewed_on IS NOT NULL"), _count(known)),
            ("arr_up", c.money(_sum("arr_up", known))),
            ("arr_renewed", c.money(_sum("least(arr_after, arr_up)", known))),
            _rate("arr_renewal_rate", _sum("least(arr_after, arr_up)", known), _sum("arr_up", known)),
            ("net_arr_renewed", c.money(_sum("arr_after", known))),
            _rate("net_arr_renewal_rate", _sum("arr_after", known), _sum("arr_up", known)),
            ("pending", _count("pending")),
        ],
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
            ("contracts", _count()),
            ("multi_year_contracts", _count("multi_year")),
            _rate("multi_year_rate", _count("multi_year"), _count()),
            ("arr_signed", c.money(_sum("arr"))),
            ("multi_year_arr", c.money(_sum("arr", "multi_year"))),
            _rate("multi_year_arr_share", _sum("arr", "multi_year"), _sum("arr")),
        ],
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
            ("trials_ended", _count("NOT pending")),
            ("converted", _count("converted")),
            _rate("conversion_rate", _count("converted"), _count("NOT pending")),
            ("pending", _count("pending")),
        ],
    )


# -- onboarding and value ----------------------------------------------------------------------
def time_to_value(c: Context) -> Spec:
    milestone = c.settings.value_milestone
    _check_milestones(c, (milestone,), "value_milestone")
    facts = f"""
    SELECT m.account_id, {c.period("m.achieved_at")} AS period, CAST(NULL AS DATE) AS at,
           fp.first_paid, m.achieved_at AS value_on,
           greatest(date_diff('day', fp.first_paid, m.achieved_at), 0) AS days
    FROM milestones m JOIN {c.first_paid()} fp ON fp.account_id = m.account_id
    WHERE m.milestone = {names([milestone])} AND m.achieved_at <= {c.as_of}
    """
    return Spec(facts, [("accounts", _count()), *_median_days("true")])


def onboarding_time(c: Context) -> Spec:
    s = c.settings
    _check_milestones(c, s.onboarding_milestones, "onboarding_milestones")
    facts = f"""
    WITH done AS (
        SELECT account_id, max(achieved_at) AS done_on, count(DISTINCT milestone) AS n
        FROM milestones WHERE milestone IN ({names(s.onboarding_milestones)}) AND achieved_at <= {c.as_of}
        GROUP BY account_id
    ),
    d AS (
        SELECT d.account_id, d.done_on, fp.first_paid,
               greatest(date_diff('day', fp.first_paid, d.done_on), 0) AS days,
               CAST(fp.first_paid + INTERVAL 12 MONTH AS DATE) AS year_on
        FROM done d JOIN {c.first_paid()} fp ON fp.account_id = d.account_id
        WHERE d.n = {len(set(s.onboarding_milestones))}
    ),
    known AS (SELECT account_id, year_on FROM d WHERE year_on <= {c.as_of}),
    y AS {c.mrr_on("known", "year_on", "mrr_year")}
    SELECT d.account_id, {c.period("d.done_on")} AS period, CAST(NULL AS DATE) AS at,
           d.first_paid, d.done_on AS onboarded_on, d.days, d.days > {s.onboarding_target_days} AS slow,
           CASE WHEN d.year_on > {c.as_of} THEN NULL ELSE coalesce(y.mrr_year, 0) > 0 END AS paying_12m_later
    FROM d LEFT JOIN y ON y.account_id = d.account_id AND y.year_on = d.year_on
    """
    known = "paying_12m_later IS NOT NULL"
    return Spec(
        facts,
        [
            ("accounts", _count()),
            *_median_days("true"),
            ("slow_accounts", _count("slow")),
            _rate("slow_share", _count("slow"), _count()),
            ("slow_known_12m", _count(f"slow AND {known}")),
            _rate("logo_retention_12m_slow", _count("slow AND paying_12m_later"), _count(f"slow AND {known}")),
            ("on_time_known_12m", _count(f"NOT slow AND {known}")),
            _rate(
                "logo_retention_12m_on_time", _count("NOT slow AND paying_12m_later"), _count(f"NOT slow AND {known}")
            ),
        ],
    )


def product_adoption(c: Context) -> Spec:
    features = _features(c)
    w = c.settings.adoption_window_days
    facts = f"""
    WITH u AS (
        SELECT account_id, metric, date, {c.period("date")} AS p0 FROM usage
        WHERE metric IN ({names(features)}) AND value > 0
    ),
    used AS (
        -- the periods whose end is within w days after the use: the use's own and the next few
        -- (an equality join on the period: a range join over millions of usage rows is slow)
        SELECT DISTINCT u.account_id, p.period, u.metric AS feature
        FROM u CROSS JOIN (SELECT * FROM (VALUES {", ".join(f"({k})" for k in range(w // 28 + 2))}) t(k)) k
        JOIN {c.periods} p ON p.period = u.p0 + k.k
        WHERE u.date <= p.period_end AND u.date > CAST(p.period_end - {days(w)} AS DATE)
    )
    SELECT s.account_id, s.period, s.period_end AS at, f.feature, u.account_id IS NOT NULL AS adopted
    FROM {c.book.snapshots(c.cal.grain)} s CROSS JOIN {_feature_values(features)} f
    LEFT JOIN used u ON u.account_id = s.account_id AND u.period = s.period AND u.feature = f.feature
    """
    return Spec(
        facts,
        [
            ("accounts", _count()),
            ("adopting_accounts", _count("adopted")),
            _rate("adoption_rate", _count("adopted"), _count()),
        ],
        keys=("feature",),
    )


def feature_activation(c: Context) -> Spec:
    features = _features(c)
    n = c.settings.activation_days
    facts = f"""
    WITH a AS (
        SELECT account_id, first_paid, {plus("first_paid", days(n))} AS window_end FROM {c.first_paid()} fp
    ),
    used AS (
        SELECT DISTINCT a.account_id, u.metric AS feature
        FROM a JOIN usage u ON u.account_id = a.account_id AND u.date >= a.first_paid AND u.date <= a.window_end
        WHERE u.metric IN ({names(features)}) AND u.value > 0 AND u.date <= {c.as_of}
    )
    SELECT a.account_id, {c.period("a.first_paid")} AS period, CAST(NULL AS DATE) AS at, f.feature,
           a.first_paid, u.account_id IS NOT NULL AS activated,
           u.account_id IS NULL AND a.window_end > {c.as_of} AS pending
    FROM a CROSS JOIN {_feature_values(features)} f
    LEFT JOIN used u ON u.account_id = a.account_id AND u.feature = f.feature
    """
    return Spec(
        facts,
        [
            ("accounts", _count("NOT pending")),
            ("activated_accounts", _count("activated")),
            _rate("activation_rate", _count("activated"), _count("NOT pending")),
            ("pending", _count("pending")),
        ],
        keys=("feature",),
    )


# -- CS motions ---------------------------------------------------------------------------------
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
            ("qbrs", _count("NOT pending")),
            ("converted_qbrs", _count("converted")),
            _rate("qbr_conversion_rate", _count("converted"), _count("NOT pending")),
            ("with_expansion_deal", _count("expansion_deal")),
            ("with_mrr_expansion", _count("mrr_expansion")),
            ("with_renewal_commitment", _count("renewal_commitment")),
            ("pending", _count("pending")),
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
            ("escalations_closed", _count(closed)),
            *_median_days(closed),
            ("open_escalations", _count("open_at_end")),
            ("other_tickets_closed", _count("NOT escalated")),
            ("median_days_not_escalated", "median(days) FILTER (WHERE NOT escalated)"),
        ],
    )


def _won_expansions(c: Context) -> str:
    return f"""
    SELECT account_id, {c.period("closed_at")} AS period, CAST(NULL AS DATE) AS at, opportunity_id, closed_at,
           coalesce(source, '(none)') AS source, arr_delta,
           coalesce(source, '') IN ({names(c.settings.self_serve_sources)}) AS self_serve
    FROM opportunities
    WHERE kind = 'expansion' AND won AND closed_at IS NOT NULL AND closed_at <= {c.as_of}
      AND arr_delta IS NOT NULL
    """


def expansion_deal_size(c: Context) -> Spec:
    mu = c.book.config.minor_units
    return Spec(
        _won_expansions(c),
        [
            ("deals", _count()),
            ("arr", "sum(arr_delta)"),
            ("median_arr", f"CAST(median(arr_delta) AS DECIMAL(18, {mu}))"),
            ("mean_arr", f"CAST(avg(arr_delta) AS DECIMAL(18, {mu}))"),
        ],
        keys=("source",),
        totals=True,
    )


def self_serve_upsell(c: Context) -> Spec:
    return Spec(
        _won_expansions(c),
        [
            ("deals", _count()),
            ("self_serve_deals", _count("self_serve")),
            _rate("self_serve_deal_share", _count("self_serve"), _count()),
            ("arr", "sum(arr_delta)"),
            ("self_serve_arr", _sum("arr_delta", "self_serve")),
            _rate("self_serve_arr_share", _sum("arr_delta", "self_serve"), "sum(arr_delta)"),
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
            ("accounts", _count()),
            ("csm_accounts", _count(assigned)),
            ("csms", csms),
            _rate("accounts_per_csm", _count(assigned), csms),
            ("arr", c.money(_sum("12 * mrr"))),
            ("csm_arr", c.money(_sum("12 * mrr", assigned))),
            ("arr_per_csm", c.money(f"CAST(round({ratio(_sum('12 * mrr', assigned), csms)}) AS BIGINT)")),
        ],
        needs=("owner",),
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
        FROM win w JOIN {c.lines} l ON l.mrr > 0 AND l.start_date <= w.opened
             AND coalesce(l.end_date, {FAR_FUTURE}) > w.opened
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
        ("accounts", _count(now)),
        ("engaged_accounts", _count(f"{now} AND engaged")),
        _rate("engagement_rate", _count(f"{now} AND engaged"), _count(now)),
    ]
    for label, cond in (("engaged", "engaged"), ("not_engaged", "NOT engaged")):
        g = f"kind = 'cohort' AND {eligible} AND {cond}"
        aggs += [
            (f"cohort_{label}", _count(g)),
            _rate(f"nrr_12m_{label}", _sum("end_mrr", g), _sum("start_mrr", g)),
            _rate(f"grr_12m_{label}", _sum("least(end_mrr, start_mrr)", g), _sum("start_mrr", g)),
            _rate(f"logo_retention_12m_{label}", _count(f"{g} AND end_mrr > 0"), _count(g)),
        ]
    return Spec(facts, aggs, needs=("segment",))


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
        return f"100 * {ratio(_count(f'{n} AND score >= 9') + ' - ' + _count(f'{n} AND score <= 6'), _count(n))}"

    return Spec(
        facts,
        [
            ("nps_responses", _count("kind = 'nps'")),
            ("promoters", _count("kind = 'nps' AND score >= 9")),
            ("detractors", _count("kind = 'nps' AND score <= 6")),
            ("nps", nps("true")),
            ("csat_responses", _count("kind = 'csat'")),
            ("csat", "CAST(avg(score) FILTER (WHERE kind = 'csat') AS DOUBLE)"),
            ("leaver_responses", _count("kind = 'nps' AND left_after")),
            ("nps_leavers", nps("left_after")),
            ("nps_stayers", nps("NOT left_after")),
        ],
        beside_retention=True,
    )


def _m(name: str, title: str, unit: str, tables: tuple[str, ...], headline: tuple[str, str | None, str],
       build: object, definition: str) -> Metric:  # fmt: skip
    return Metric(name, title, unit, definition, tables, headline, build)  # type: ignore[arg-type]


_SUBS = ("subscriptions",)
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _m(
            "renewal_rate",
            "Renewal rate",
            "rate",
            _SUBS,
            ("renewal_rate", "contracts_renewed", "contracts_up"),
            renewal_rate,
            "contracts ending in the period renewed (paying on the end date or within the grace "
            "days), by count and by ARR up (capped; net uncapped)",
        ),
        _m(
            "time_to_value",
            "Time to value",
            "days",
            ("milestones",),
            ("median_days", None, "accounts"),
            time_to_value,
            "median days from the first paid day to the value milestone, of accounts reaching it",
        ),
        _m(
            "onboarding_time",
            "Onboarding time",
            "days",
            ("milestones",),
            ("median_days", None, "accounts"),
            onboarding_time,
            "median days from the first paid day to the last onboarding milestone, with the "
            "12-month logo retention of slow and on-time accounts",
        ),
        _m(
            "product_adoption",
            "Product adoption rate",
            "rate",
            ("usage",),
            ("adoption_rate", "adopting_accounts", "accounts"),
            product_adoption,
            "share of accounts paying at the period end that used each key feature in the trailing window",
        ),
        _m(
            "feature_activation",
            "Feature activation",
            "rate",
            ("usage",),
            ("activation_rate", "activated_accounts", "accounts"),
            feature_activation,
            "share of accounts first paying in the period that used each key feature within N days",
        ),
        _m(
            "qbr_conversion",
            "QBR conversion",
            "rate",
            ("activities",),
            ("qbr_conversion_rate", "converted_qbrs", "qbrs"),
            qbr_conversion,
            "QBRs held followed within N days by a won expansion deal, an MRR increase or a renewal commitment",
        ),
        _m(
            "escalation_resolution",
            "Escalation resolution time",
            "days",
            ("tickets",),
            ("median_days", None, "escalations_closed"),
            escalation_resolution,
            "median days from opened to closed of escalated tickets closed in the period; open ones at its end",
        ),
        _m(
            "expansion_deal_size",
            "Expansion deal size",
            "money",
            ("opportunities",),
            ("median_arr", "arr", "deals"),
            expansion_deal_size,
            "median and mean ARR of won expansion deals closed in the period, by source",
        ),
        _m(
            "multi_year_contract_rate",
            "Multi-year contract rate",
            "rate",
            _SUBS,
            ("multi_year_rate", "multi_year_contracts", "contracts"),
            multi_year_contract_rate,
            "share of contracts signed in the period running 24 months or more",
        ),
        _m(
            "trial_to_paid",
            "Trial-to-paid conversion",
            "rate",
            _SUBS,
            ("conversion_rate", "converted", "trials_ended"),
            trial_to_paid,
            "trials ended in the period followed by a paid line within N days",
        ),
        _m(
            "self_serve_upsell",
            "Self-serve upsell rate",
            "rate",
            ("opportunities",),
            ("self_serve_arr_share", "self_serve_arr", "arr"),
            self_serve_upsell,
            "share of won expansion ARR (and deals) sourced by the product or self-serve",
        ),
        _m(
            "csm_coverage",
            "CSM-to-account ratio and ARR per CSM",
            "accounts",
            ("owners",),
            ("accounts_per_csm", "csm_accounts", "csms"),
            csm_coverage,
            "paying accounts and ARR with a CSM at the period end per distinct CSM",
        ),
        _m(
            "exec_sponsor_engagement",
            "Executive sponsor engagement",
            "rate",
            ("activities",),
            ("engagement_rate", "engaged_accounts", "accounts"),
            exec_sponsor_engagement,
            "share of paying (enterprise) accounts with an exec sponsor meeting in the trailing 180 days, with "
            "the 12-month NRR/GRR of engaged and other accounts",
        ),
        _m(
            "nps_csat",
            "NPS and CSAT beside retention",
            "score",
            ("surveys",),
            ("nps", None, "nps_responses"),
            nps_csat,
            "NPS (% promoters − % detractors) and mean CSAT of the period's answers, beside the "
            "slice's 12-month NRR, GRR and logo retention",
        ),
    )
}
