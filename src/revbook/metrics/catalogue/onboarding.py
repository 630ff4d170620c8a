"""Catalogue metrics of onboarding and value: time to value, onboarding time, product adoption and
feature activation (docs/definitions.md)."""

from __future__ import annotations

from ...errors import ConfigError
from .context import Context, Spec, count_of, days, median_days, names, plus, rate

__all__ = ["feature_activation", "onboarding_time", "product_adoption", "time_to_value"]


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
    return Spec(facts, [("accounts", count_of()), *median_days("true")])


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
            ("accounts", count_of()),
            *median_days("true"),
            ("slow_accounts", count_of("slow")),
            rate("slow_share", count_of("slow"), count_of()),
            ("slow_known_12m", count_of(f"slow AND {known}")),
            rate("logo_retention_12m_slow", count_of("slow AND paying_12m_later"), count_of(f"slow AND {known}")),
            ("on_time_known_12m", count_of(f"NOT slow AND {known}")),
            rate(
                "logo_retention_12m_on_time",
                count_of("NOT slow AND paying_12m_later"),
                count_of(f"NOT slow AND {known}"),
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
            ("accounts", count_of()),
            ("adopting_accounts", count_of("adopted")),
            rate("adoption_rate", count_of("adopted"), count_of()),
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
            ("accounts", count_of("NOT pending")),
            ("activated_accounts", count_of("activated")),
            rate("activation_rate", count_of("activated"), count_of("NOT pending")),
            ("pending", count_of("pending")),
        ],
        keys=("feature",),
    )
