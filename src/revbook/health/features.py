"""Point-in-time account features: what was known about each paying account on a scoring date.

The point-in-time rule: a feature on date *d* reads only rows dated on or before *d* (usage and
surveys by ``date``, tickets by ``opened_at`` and, for their state, ``closed_at`` <= *d*, activities
by ``date``, milestones by ``achieved_at``, opportunities by ``created_at`` / ``closed_at``, ledger
lines by ``start_date``, and a line's end only when it is on or before *d*). Nothing about the
future leaks in, which tests/health/test_health.py checks by cutting the data at *d* and comparing.
Labels (:func:`labels`) are the only place that looks past *d*, on purpose.

Features are computed in DuckDB SQL over the workspace (a DuckDB-only path: health needs the
activity tables, which the portable metric definitions do not read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import ConfigError, WorkspaceError
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from .renewals import renewals_sql

if TYPE_CHECKING:
    from ..config import HealthSettings, LifecycleSettings
    from ..store import Store

__all__ = ["FEATURES", "SIGNAL_FEATURES", "features", "labels", "register_dates", "usage_metrics"]

#: feature -> what it measures (the model's drivers and the composite's inputs are named by these)
FEATURES: dict[str, str] = {
    "arr": "ARR on the scoring date (reporting currency)",
    "tenure_days": "days since the account first paid",
    "mrr_change_90d": "relative change of MRR over the last 90 days",
    "usage_90d": "the first usage metric per measurement (mean) in the last 90 days",
    "usage_trend": "each usage metric per measurement in the last 90 days over the 90 days before, minus 1 (mean)",
    "utilisation": "active users (latest in the last 45 days) over licensed seats (per-seat lines' quantity)",
    "features_used": "key features used in the last 90 days",
    "feature_breadth": "key features used in the last 90 days over the product's key features (the feature_ "
    "metrics seen in usage by the date)",
    "activities_90d": "touchpoints (QBRs, calls, meetings) held in the last 90 days",
    "days_since_activity": "days since the last touchpoint held",
    "exec_meeting_180d": "1 if an executive sponsor meeting was held in the last 180 days",
    "renewal_committed": "1 if a touchpoint in the last 120 days recorded the renewal as committed",
    "tickets_90d": "support cases opened in the last 90 days",
    "escalations_90d": "escalated cases opened in the last 90 days",
    "open_tickets": "cases open on the scoring date",
    "nps": "latest NPS answer in the last 365 days (0-10)",
    "csat": "mean CSAT (surveys and rated cases) in the last 180 days (1-5)",
    "milestone_progress": "share of the onboarding milestones reached",
    "onboarding_overdue": "1 if onboarding is not done past its target days",
    "cancel_requested": "1 if a running line has a requested cancellation",
    "days_to_renewal": "days to the nearest renewal known on the date (health.renewals: a contract end of the "
    "row's own term, or a yearly billing cycle's end)",
    "open_expansion_arr": "ARR of open expansion opportunities",
    "risk_signals_90d": "notes with a risk trigger phrase in the last 90 days (dated before the scoring date)",
    "expansion_signals_90d": "notes with an expansion trigger phrase in the last 90 days",
    "days_since_risk_signal": "days since the last note with a risk trigger phrase (in the last 90 days)",
}
#: the features read from notes (revbook.insights.signals.signal_features), NULL without notes
SIGNAL_FEATURES = ("risk_signals_90d", "expansion_signals_90d", "days_since_risk_signal")
#: a licensed seat: a per-seat line's quantity (a line priced per unit without a pricing model counts too)
_LICENSED = (
    "s.quantity > 0 AND (s.pricing_model = 'per_seat' OR (s.pricing_model IS NULL AND s.unit_price IS NOT NULL))"
)

_DATES = "rb_score_dates"
_SIGNALS = "rb_score_signals"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def usage_metrics(ws: Store, settings: HealthSettings, key_feature_prefix: str = "feature_") -> tuple[str, ...]:
    """The usage metrics of the usage trend: ``[health] usage_metrics`` when set; otherwise
    ``actions`` when the usage table has it, else its most common metric that is neither the
    users metric nor a key feature (``feature_...``); none without usage."""
    if settings.usage_metrics:
        return settings.usage_metrics
    rows = ws.con.execute(
        "SELECT metric, count(*) AS n FROM usage WHERE metric IS NOT NULL AND metric <> ? "
        "AND NOT starts_with(metric, ?) GROUP BY metric ORDER BY n DESC, metric",
        [settings.users_metric, key_feature_prefix],
    ).fetchall()
    names = [r[0] for r in rows]
    if "actions" in names:
        return ("actions",)
    return (names[0],) if names else ()


def _register_signals(ws: Store, dates: Sequence[dt.date]) -> None:
    """The notes' signal features on every scoring date (notes dated before it), as a table."""
    from ..insights.signals.features import signal_features_on

    t = signal_features_on(ws, dates, windows=(90,), rules=ws.config.signals)
    table = pa.table({"score_date": t["as_of"], "account_id": t["account_id"], **{c: t[c] for c in SIGNAL_FEATURES}})
    book_of(ws).engine.register(_SIGNALS, table)


def register_dates(ws: Store, dates: Sequence[dt.date]) -> None:
    if book_of(ws).engine.dialect != "duckdb":
        raise ConfigError(
            "health scores, the model and RUM run on the DuckDB engine",
            hint="open the workspace without engine='spark' for them (the movement metrics run on Spark)",
        )
    if not dates:
        raise WorkspaceError("no scoring dates given", hint="pass at least one date")
    table = pa.table({"score_date": pa.array(sorted(set(dates)), pa.date32())})
    book_of(ws).engine.register(_DATES, table)


def _mrr_on(lines: str, *, days_before: int = 0, paying_only: bool = True) -> str:
    """Each account's MRR (minor units) on every scoring date, or ``days_before`` it: the accounts
    the features and the labels are rows of (``paying_only``: MRR above zero)."""
    m = account_mrr_sql(lines, _DATES, "score_date", every_account=True, days_before=days_before)
    return f"""
        SELECT m.score_date, m.account_id, CAST(m.mrr AS BIGINT) AS mrr
        FROM {m} m{" WHERE m.mrr > 0" if paying_only else ""}"""


def _has(ws: Store, table: str) -> bool:
    return bool(ws.row_counts().get(table, 0))


def features(
    ws: Store,
    dates: Sequence[dt.date],
    *,
    lifecycle: LifecycleSettings | None = None,
    settings: HealthSettings | None = None,
    key_feature_prefix: str = "feature_",
    sample_every: int = 1,
) -> pa.Table:
    """One row per account paying on each scoring date: ``account_id``, ``score_date``, ``mrr``
    (minor units), ``segment`` and ``owner`` on that date, and every column of :data:`FEATURES`
    (NULL where the table it needs is not loaded or the account has no rows).

    ``sample_every`` > 1 keeps one account in that many (by a hash of its id: the same accounts on
    every date), for training on a large book at a fraction of the cost. The onboarding milestones
    and days and the contract-end rule are ``lifecycle``'s, the usage metrics ``settings``'s, by
    default the workspace's [lifecycle] and [health] settings."""
    lc = lifecycle or ws.config.lifecycle
    hs = settings or ws.config.health
    onboarding_milestones, onboarding_days = lc.onboarding_milestones, lc.onboarding_days
    book = book_of(ws)
    register_dates(ws, dates)

    def src(table: str) -> str:
        if sample_every <= 1:
            return table
        return f"(SELECT * FROM {table} WHERE hash(account_id) % {int(sample_every)} = 0)"

    lines = src(book.ledger())
    scale = 10**ws.config.minor_units
    tables = ("usage", "tickets", "activities", "milestones", "surveys", "opportunities", "notes")
    has = {t: _has(ws, t) for t in tables}
    ms = ", ".join("'" + m.replace("'", "''") + "'" for m in onboarding_milestones) or "NULL"
    n_ms = max(len(onboarding_milestones), 1)
    ctes = [
        f"base AS ({_mrr_on(lines)})",
        f"past AS ({_mrr_on(lines, days_before=90, paying_only=False)})",
        f"""first_paid AS (
            SELECT account_id, min(start_date) AS first_day FROM {lines} WHERE mrr > 0 GROUP BY account_id)""",
        f"""lic AS (
            SELECT d.score_date, s.account_id,
                   sum(CASE WHEN {_LICENSED} THEN s.quantity END) AS seats,
                   max(CASE WHEN s.cancel_requested_at <= d.score_date THEN 1 ELSE 0 END) AS cancel_requested
            FROM {_DATES} d JOIN {src("subscriptions")} s
              ON s.start_date <= d.score_date AND (s.end_date IS NULL OR s.end_date > d.score_date)
             AND NOT coalesce(s.is_trial, false)
            GROUP BY ALL)""",
        f"ren AS ({renewals_sql(src('subscriptions'), _DATES, rule=lc.contract_end)})",
    ]
    cols = [
        f"CAST(12 * b.mrr AS DOUBLE) / {scale} AS arr",
        "date_diff('day', fp.first_day, b.score_date) AS tenure_days",
        "CASE WHEN coalesce(p.mrr, 0) > 0 THEN CAST(b.mrr AS DOUBLE) / p.mrr - 1 END AS mrr_change_90d",
        "CAST(coalesce(lic.cancel_requested, 0) AS INTEGER) AS cancel_requested",
        "ren.days_to_renewal",
    ]
    joins = [
        "LEFT JOIN past p USING (score_date, account_id)",
        "LEFT JOIN first_paid fp USING (account_id)",
        "LEFT JOIN lic USING (score_date, account_id)",
        "LEFT JOIN ren USING (score_date, account_id)",
    ]
    if has["usage"]:
        metrics = usage_metrics(ws, hs, key_feature_prefix)
        primary = _sql_text(metrics[0]) if metrics else "NULL"
        listed = ", ".join(_sql_text(m) for m in metrics) or "NULL"
        users = _sql_text(hs.users_metric)
        ctes.append(
            f"""um AS (
            SELECT d.score_date, x.account_id, x.metric,
                   avg(CASE WHEN x.date > d.score_date - 90 THEN x.value END) AS u90,
                   avg(CASE WHEN x.date <= d.score_date - 90 THEN x.value END) AS u180
            FROM {_DATES} d JOIN {src("usage")} x
              ON x.account_id IS NOT NULL AND x.metric IN ({listed})
             AND x.date <= d.score_date AND x.date > d.score_date - 180
            GROUP BY ALL),
            ut AS (
            SELECT score_date, account_id, max(CASE WHEN metric = {primary} THEN u90 END) AS u90,
                   avg(CASE WHEN u180 > 0 THEN CAST(coalesce(u90, 0) AS DOUBLE) / u180 - 1 END) AS trend
            FROM um GROUP BY ALL),
            u AS (
            SELECT d.score_date, x.account_id,
                   count(DISTINCT CASE WHEN starts_with(x.metric, {_sql_text(key_feature_prefix)})
                                        AND x.date > d.score_date - 90 AND x.value > 0 THEN x.metric END) AS feats,
                   arg_max(CASE WHEN x.metric = {users} AND x.date > d.score_date - 45 THEN x.value END,
                           CASE WHEN x.metric = {users} AND x.date > d.score_date - 45 THEN x.date END)
                       AS users
            FROM {_DATES} d JOIN {src("usage")} x
              ON x.account_id IS NOT NULL AND x.date <= d.score_date AND x.date > d.score_date - 90
            GROUP BY ALL),
            kf AS (
            SELECT d.score_date, count(DISTINCT x.metric) AS n
            FROM {_DATES} d JOIN usage x
              ON starts_with(x.metric, {_sql_text(key_feature_prefix)}) AND x.date <= d.score_date
            GROUP BY ALL)"""
        )
        cols += [
            "CAST(coalesce(ut.u90, 0) AS DOUBLE) AS usage_90d",
            "ut.trend AS usage_trend",
            "CASE WHEN lic.seats > 0 THEN CAST(u.users AS DOUBLE) / lic.seats END AS utilisation",
            "coalesce(u.feats, 0) AS features_used",
            "CASE WHEN kf.n > 0 THEN CAST(coalesce(u.feats, 0) AS DOUBLE) / kf.n END AS feature_breadth",
        ]
        joins += [
            "LEFT JOIN ut USING (score_date, account_id)",
            "LEFT JOIN u USING (score_date, account_id)",
            "LEFT JOIN kf USING (score_date)",
        ]
    if has["activities"]:
        ctes.append(
            f"""act AS (
            SELECT d.score_date, a.account_id,
                   count(*) FILTER (WHERE a.date > d.score_date - 90) AS n90,
                   max(a.date) AS last_date,
                   max(CASE WHEN a.type = 'exec_sponsor_meeting' AND a.date > d.score_date - 180 THEN 1 ELSE 0 END)
                       AS exec180,
                   max(CASE WHEN a.outcome = 'renewal_committed' AND a.date > d.score_date - 120 THEN 1 ELSE 0 END)
                       AS committed120
            FROM {_DATES} d JOIN {src("activities")} a
              ON a.date <= d.score_date AND coalesce(a.outcome, '') <> 'no_show'
            GROUP BY ALL)"""
        )
        cols += [
            "coalesce(act.n90, 0) AS activities_90d",
            "date_diff('day', act.last_date, b.score_date) AS days_since_activity",
            "CAST(coalesce(act.exec180, 0) AS INTEGER) AS exec_meeting_180d",
            "CAST(coalesce(act.committed120, 0) AS INTEGER) AS renewal_committed",
        ]
        joins.append("LEFT JOIN act USING (score_date, account_id)")
    if has["tickets"]:
        ctes.append(
            f"""tk AS (
            SELECT d.score_date, t.account_id,
                   count(*) FILTER (WHERE t.opened_at > d.score_date - 90) AS n90,
                   count(*) FILTER (WHERE t.opened_at > d.score_date - 90 AND t.escalated) AS esc90,
                   count(*) FILTER (WHERE t.closed_at IS NULL OR t.closed_at > d.score_date) AS open_now,
                   sum(CASE WHEN t.closed_at <= d.score_date AND t.closed_at > d.score_date - 180 THEN t.csat END)
                       AS csat_sum,
                   count(CASE WHEN t.closed_at <= d.score_date AND t.closed_at > d.score_date - 180 THEN t.csat END)
                       AS csat_n
            FROM {_DATES} d JOIN {src("tickets")} t ON t.opened_at <= d.score_date
             AND (t.opened_at > d.score_date - 180 OR t.closed_at IS NULL OR t.closed_at > d.score_date - 180)
            GROUP BY ALL)"""
        )
        cols += [
            "coalesce(tk.n90, 0) AS tickets_90d",
            "coalesce(tk.esc90, 0) AS escalations_90d",
            "coalesce(tk.open_now, 0) AS open_tickets",
        ]
        joins.append("LEFT JOIN tk USING (score_date, account_id)")
    csat_parts = []
    if has["surveys"]:
        ctes.append(
            f"""sv AS (
            SELECT d.score_date, s.account_id,
                   arg_max(CASE WHEN s.kind = 'nps' AND s.date > d.score_date - 365 THEN s.score END,
                           CASE WHEN s.kind = 'nps' AND s.date > d.score_date - 365 THEN s.date END) AS nps,
                   sum(CASE WHEN s.kind = 'csat' AND s.date > d.score_date - 180 THEN s.score END) AS csat_sum,
                   count(CASE WHEN s.kind = 'csat' AND s.date > d.score_date - 180 THEN s.score END) AS csat_n
            FROM {_DATES} d JOIN {src("surveys")} s ON s.date <= d.score_date AND s.date > d.score_date - 365
            GROUP BY ALL)"""
        )
        cols.append("CAST(sv.nps AS DOUBLE) AS nps")
        joins.append("LEFT JOIN sv USING (score_date, account_id)")
        csat_parts.append("sv")
    if has["tickets"]:
        csat_parts.append("tk")
    if csat_parts:
        total = " + ".join(f"coalesce({p}.csat_sum, 0)" for p in csat_parts)
        count = " + ".join(f"coalesce({p}.csat_n, 0)" for p in csat_parts)
        cols.append(f"CASE WHEN {count} > 0 THEN CAST({total} AS DOUBLE) / ({count}) END AS csat")
    if has["milestones"]:
        ctes.append(
            f"""mi AS (
            SELECT d.score_date, m.account_id, count(DISTINCT m.milestone) AS reached
            FROM {_DATES} d JOIN {src("milestones")} m ON m.achieved_at <= d.score_date AND m.milestone IN ({ms})
            GROUP BY ALL)"""
        )
        cols += [
            f"CAST(coalesce(mi.reached, 0) AS DOUBLE) / {n_ms} AS milestone_progress",
            f"""CASE WHEN coalesce(mi.reached, 0) < {len(onboarding_milestones)}
                      AND date_diff('day', fp.first_day, b.score_date) > {int(onboarding_days)}
                 THEN 1 ELSE 0 END AS onboarding_overdue""",
        ]
        joins.append("LEFT JOIN mi USING (score_date, account_id)")
    if has["opportunities"]:
        ctes.append(
            f"""op AS (
            SELECT d.score_date, o.account_id, sum(o.arr_delta) AS open_arr
            FROM {_DATES} d JOIN {src("opportunities")} o
              ON o.kind = 'expansion' AND o.created_at <= d.score_date
             AND (o.closed_at IS NULL OR o.closed_at > d.score_date)
            GROUP BY ALL)"""
        )
        cols.append("CAST(coalesce(op.open_arr, 0) AS DOUBLE) AS open_expansion_arr")
        joins.append("LEFT JOIN op USING (score_date, account_id)")
    if has["notes"]:
        _register_signals(ws, dates)
        cols += [f"CAST(sg.{c} AS DOUBLE) AS {c}" for c in SIGNAL_FEATURES]
        joins.append(f"LEFT JOIN {_SIGNALS} sg USING (score_date, account_id)")
    sql = f"""
        WITH {", ".join(ctes)}
        SELECT b.account_id, b.score_date, b.mrr, {", ".join(cols)}
        FROM base b {" ".join(joins)}
        ORDER BY b.score_date, b.account_id
    """
    table = ws.con.execute(sql).to_arrow_table()
    # every feature is a column, NULL where its table is not loaded
    for name in FEATURES:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.float64()))
    return table.select(["account_id", "score_date", "mrr", *FEATURES])


def labels(
    ws: Store, dates: Sequence[dt.date], *, horizon_days: int, threshold: float = 0.1, sample_every: int = 1
) -> pa.Table:
    """What happened after each scoring date: for each account paying on it, ``event`` is true
    when its MRR fell to zero (churn) or by at least ``threshold`` of its scoring-date MRR
    (contraction) at any time in the next ``horizon_days`` days; ``lost_mrr`` is the deepest fall
    in minor units; ``mrr_end`` the MRR at the horizon's end (``mrr_start`` on the date); ``known``
    is false when the horizon runs past the as-of date (not yet known). ``sample_every``: as in :func:`features`."""
    book = book_of(ws)
    lines = book.ledger()
    if sample_every > 1:
        lines = f"(SELECT * FROM {lines} WHERE hash(account_id) % {int(sample_every)} = 0)"
    register_dates(ws, dates)
    as_of = ws.config.snapshot_date().isoformat()
    sql = f"""
        WITH ev AS (
            SELECT account_id, start_date AS day, mrr AS delta FROM {lines} WHERE mrr <> 0
            UNION ALL
            SELECT account_id, end_date, -mrr FROM {lines} WHERE mrr <> 0 AND end_date IS NOT NULL
        ),
        steps AS (SELECT account_id, day, sum(delta) AS delta FROM ev GROUP BY ALL),
        lv AS (
            SELECT account_id, day, sum(delta) OVER (PARTITION BY account_id ORDER BY day) AS level FROM steps
        ),
        base AS ({_mrr_on(lines)}),
        low AS (
            SELECT b.score_date, b.account_id, min(lv.level) AS low
            FROM base b JOIN lv ON lv.account_id = b.account_id
             AND lv.day > b.score_date AND lv.day <= b.score_date + {int(horizon_days)}
            GROUP BY ALL
        ),
        fin AS (
            SELECT b.score_date, b.account_id, arg_max(lv.level, lv.day) AS level
            FROM base b JOIN lv ON lv.account_id = b.account_id
             AND lv.day > b.score_date AND lv.day <= b.score_date + {int(horizon_days)}
            GROUP BY ALL
        )
        SELECT b.account_id, b.score_date,
               coalesce(low.low, b.mrr) <= 0 OR coalesce(low.low, b.mrr) <= b.mrr * (1 - {float(threshold)})
                   AS event,
               CAST(greatest(b.mrr - greatest(coalesce(low.low, b.mrr), 0), 0) AS BIGINT) AS lost_mrr,
               CAST(greatest(coalesce(fin.level, b.mrr), 0) AS BIGINT) AS mrr_end,
               CAST(b.mrr AS BIGINT) AS mrr_start,
               b.score_date + {int(horizon_days)} <= DATE '{as_of}' AS known
        FROM base b LEFT JOIN low USING (score_date, account_id) LEFT JOIN fin USING (score_date, account_id)
        ORDER BY b.score_date, b.account_id
    """
    return ws.con.execute(sql).to_arrow_table()
