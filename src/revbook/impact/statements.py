"""Verified impact statements: what a CSM (a team, a segment) can put in a review, generated only from
measured data, and the claims it refuses with the reason (docs/impact-statements.md).

Each statement reads [action] + [segment] + [metric, before -> after] + [method], e.g. "Reduced gross
revenue churn from 14.0% to 6.0% (owner c01 Ada, 45 accounts; the 12 months to 2025-01-31 against the
12 before) after qbr began (first on 2024-03-10)". The two windows, the measures and the slice are
:mod:`.statement_measures`'s; every number carries its provenance (metric, windows, slice, accounts in
each window) and a bootstrap interval of the change (:mod:`.resample`: each window's accounts
resampled, seeded). The method is read from the slice's own activities: the plays (``activities.type``)
that began in the "after" window (none in "before") or whose rate per account rose by
``cadence_ratio`` or more, with the date of the first touchpoint; never invented. When no play began or
rose, the statement says "method: not recorded" and is still verified: the outcome is measured, only
its method is not. The refusals are the rules of :mod:`.statement_rules`, tried in order.

Beside NRR, the renewal rate (renewed ARR / ARR due in the window) with the reading of the pair
(:data:`.statement_rules.READINGS`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..definitions import NO_VALUE
from ..errors import ConfigError, NotFoundError, WorkspaceError
from ..frame import Frame
from .attribution import expansions
from .csm_model import Cohort, cohort
from .resample import generator, interval, picks, ratio_draws
from .saves import saves
from .statement_measures import (
    METRICS,
    Metric,
    Play,
    Sample,
    Scope,
    plays,
    proxy_samples,
    renewal_samples,
    revenue_samples,
    scope_of,
)
from .statement_rules import reading

if TYPE_CHECKING:
    from ..config import ImpactStatementsSettings
    from ..store import Store

__all__ = ["COLUMNS", "STATUSES", "provenance", "statements"]

VERIFIED, REFUSED = "verified", "refused"
#: a statement's status
STATUSES = (VERIFIED, REFUSED)
NOT_RECORDED = "not recorded"
#: how many plays a method names at most (the most touchpoints first)
MAX_PLAYS = 3
#: what a unit's change is in, and how a bootstrap draw (100 x a ratio) converts to it
_SCALE = {"rate": 1.0, "count": 0.01, "score": 1.0}


def _window(store: Store, window: int | None) -> int:
    st = store.config.impact_statements
    if window is None:
        return st.window
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 60:
        raise ConfigError(f"window must be a whole number of months from 1 to 60, not {window!r}")
    return window


def _cohorts(store: Store, w: int, end: dt.date | str | None) -> tuple[Cohort, Cohort]:
    after = cohort(store, window=w, end=end, extra=("segment",))
    try:
        before = cohort(store, window=w, end=after.start, extra=("segment",))
    except WorkspaceError as e:
        raise WorkspaceError(
            f"a statement compares two windows of {w} months; the one before {after.start} is not in the data",
            hint=f"pass a shorter --window (the data must cover {2 * w} months before the end) or a later end",
        ) from e
    return before, after


def _scopes(after: Cohort, owner: str | None, team: str | None, segment: str | None) -> list[Scope]:
    given = [(k, v) for k, v in (("owner", owner), ("team", team), ("segment", segment)) if v is not None]
    if len(given) > 1:
        raise ConfigError("give one of owner, team or segment", hint="statements are per CSM, per team or per segment")
    names = dict(zip(after.table["owner"].to_pylist(), after.table["owner_name"].to_pylist(), strict=True))
    if given:
        kind, value = given[0]
        if kind == "owner":
            name = names.get(value)
            return [scope_of("owner", value, f"owner {value}" + (f" {name}" if name and name != value else ""))]
        return [scope_of(kind, value)]
    return [
        Scope("owner", o, f"owner {o}" + (f" {names[o]}" if names[o] and names[o] != o else ""))
        for o in sorted({o for o in names if o != NO_VALUE})
    ]


def _method(found: list[Play], settings: ImpactStatementsSettings) -> str:
    parts = []
    for p in sorted(found, key=lambda p: (-p.after, p.type)):
        if p.after and not p.before and p.first_after is not None:
            parts.append(f"{p.type} began (first on {p.first_after.isoformat()})")
        elif p.before and p.after and p.rate("after") >= settings.cadence_ratio * p.rate("before"):
            parts.append(
                f"{p.type} cadence rose from {p.rate('before'):.1f} to {p.rate('after'):.1f} per account a year"
            )
    return " and ".join(parts[:MAX_PLAYS]) if parts else NOT_RECORDED


def _shown(value: float, metric: Metric) -> str:
    if metric.unit == "rate":
        return f"{100 * value:.1f}%"
    if metric.unit == "score":
        return f"{100 * value:+.0f}"
    return f"{value:,.2f}"


def _change(
    b: Sample, a: Sample, metric: Metric, scope: Scope, settings: ImpactStatementsSettings
) -> tuple[float, float, float]:
    """The change (after - before) in the metric's unit and its bootstrap interval."""
    scale = _SCALE[metric.unit]
    change = (a.value - b.value) * 100 * scale
    rng = generator(settings.seed, scope.kind, scope.value, metric.name)
    db = ratio_draws(b.num, b.den, picks(rng, len(b.den), settings.draws))
    da = ratio_draws(a.num, a.den, picks(rng, len(a.den), settings.draws))
    low, high = interval((da - db) * scale, settings.confidence)
    return change, low, high


def _refusal(
    metric: Metric, b: Sample, a: Sample, change: float, low: float, high: float, ctx: dict[str, Any]
) -> tuple[str, str] | None:
    """The first rule that refuses this change, and its reason with the figures (None: verified)."""
    st: ImpactStatementsSettings = ctx["settings"]
    n = min(b.accounts, a.accounts)
    if n < st.min_accounts:
        return "too_few_accounts", f"{b.accounts} accounts before and {a.accounts} after; fewer than {st.min_accounts}"
    level = abs(b.value) * 100 * _SCALE[metric.unit]
    small = abs(change) < (st.min_change if metric.unit != "count" else st.min_change / 100 * level)
    if small:
        return "no_change", f"{_shown(b.value, metric)} -> {_shown(a.value, metric)}: a level, not a change"
    if change * metric.better < 0:
        return "wrong_way", f"{metric.words} went from {_shown(b.value, metric)} to {_shown(a.value, metric)}"
    if not (low > 0 or high < 0):
        return "inside_noise", f"the {st.confidence:.0%} interval of the change, {low:+.1f} to {high:+.1f}, spans 0"
    if metric.name == "nrr" and ctx["product_share"] is not None and ctx["product_share"] >= st.product_share:
        return "product_driven", (
            f"{ctx['product_share']:.0%} of the window's gross expansion was product-driven or self-serve "
            f"(at least {st.product_share:.0%})"
        )
    grr = ctx["grr_change"]
    if metric.name == "nps" and (grr is None or grr < st.min_change):
        said = "not measured" if grr is None else f"{grr:+.1f} points"
        return "satisfaction_without_retention", f"NPS rose {change:+.0f} but GRR did not rise ({said})"
    return None


def _text(metric: Metric, b: Sample, a: Sample, change: float, scope: Scope, ctx: dict[str, Any]) -> str:
    where = f"({scope.label}, {a.accounts:,} accounts; {ctx['windows']})"
    before, after = _shown(b.value, metric), _shown(a.value, metric)
    words = f"{scope.value} {metric.words}" if scope.kind == "segment" else metric.words
    if change * metric.better > 0:
        verb = "Raised" if metric.better > 0 else "Reduced"
        if metric.unit == "score":
            verb = "Improved"
        lead = f"{verb} {words} from {before} to {after} {where}"
    else:  # not an improvement: no action, and no method to credit
        return f"{words[:1].upper()}{words[1:]} went from {before} to {after} {where}"
    method = ctx["method"]
    return f"{lead} after {method}" if method != NOT_RECORDED else f"{lead}; method: {NOT_RECORDED}"


def _row(scope: Scope, kind: str, metric: str, text: str, ctx: dict[str, Any], **values: Any) -> dict[str, Any]:
    refusal = values.pop("refusal", None)
    rule, reason = refusal if refusal else (None, None)
    row = {
        "scope": scope.kind, "scope_value": scope.value, "scope_label": scope.label, "kind": kind, "metric": metric,
        "status": REFUSED if rule else VERIFIED, "rule": rule,
        "reason": reason,
        "text": text, "method": ctx["method"], "unit": None, "before": None, "after": None, "change": None,
        "low": None, "high": None, "accounts_before": None, "accounts": None,
        "before_start": ctx["before"].start, "window_start": ctx["after"].start, "window_end": ctx["after"].end,
    }  # fmt: skip
    row.update(values)
    return row


def _value(x: float, metric: Metric) -> float:
    return round(x * (100 if metric.unit == "score" else 1), 4 if metric.unit == "rate" else 2)


def _changes(scope: Scope, samples: dict[str, tuple[Sample, Sample]], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    st = ctx["settings"]
    for metric in METRICS:
        if metric.name not in samples:
            continue
        b, a = samples[metric.name]
        if not b.accounts or not a.accounts:
            continue
        change, low, high = _change(b, a, metric, scope, st)
        refusal = _refusal(metric, b, a, change, low, high, ctx)
        rows.append(
            _row(scope, metric.kind, metric.name, _text(metric, b, a, change, scope, ctx), ctx,
                 refusal=refusal, unit="points" if metric.unit != "count" else "per account",
                 before=_value(b.value, metric), after=_value(a.value, metric), change=round(change, 2),
                 low=round(low, 2), high=round(high, 2), accounts_before=b.accounts, accounts=a.accounts)
        )  # fmt: skip
    return rows


def _activities(scope: Scope, found: list[Play], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _row(
            scope,
            "activity",
            "activities",
            f"Ran {p.after:,} {p.type} {_touchpoints(p.after)} ({scope.label}; {ctx['windows']})",
            ctx,
            refusal=(
                "activity_only",
                f"{p.after:,} {p.type} {_touchpoints(p.after)} say what was done, not what changed",
            ),
            unit="touchpoints",
            before=float(p.before),
            after=float(p.after),
            change=float(p.after - p.before),
            accounts_before=p.accounts_before,
            accounts=p.accounts_after,
        )
        for p in found
        if p.after
    ]


def _saves(scope: Scope, claimed: list[dict[str, Any]], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    mine = [s for s in claimed if s[scope.kind] == scope.value]
    credible = [s for s in mine if s["verdict"] == "credible"]
    hollow = [s for s in mine if s["verdict"] != "credible"]
    after = ctx["after"]
    flagged = f"flagged at risk after {after.start} and by {after.end}"
    rows = []
    if credible:
        saved = sum((s["expected_arr_saved"] or Decimal(0) for s in credible), Decimal(0))
        rows.append(
            _row(scope, "save", "saves",
                 f"Saved {_accounts(len(credible))} that were at risk ({scope.label}; {flagged}; expected ARR saved "
                 f"{saved:,.0f}: ARR on the flag date x the churn probability then)", ctx,
                 unit="accounts", after=float(len(credible)), accounts=len(credible))
        )  # fmt: skip
    if hollow:
        never = sum(1 for s in hollow if s["verdict"] == "never_at_risk")
        rows.append(
            _row(scope, "save", "saves", f"Saved {_accounts(len(hollow))} ({scope.label}; {flagged})", ctx,
                 refusal=("save_not_credible", f"{never:,} never at risk and {len(hollow) - never:,} uncertain"),
                 unit="accounts", after=float(len(hollow)), accounts=len(hollow))
        )  # fmt: skip
    return rows


def _touchpoints(n: int) -> str:
    return "touchpoint" if n == 1 else "touchpoints"


def _accounts(n: int) -> str:
    return f"{n:,} account" + ("" if n == 1 else "s")


def _renewal(scope: Scope, rb: Sample, ra: Sample, nrr: Sample, ctx: dict[str, Any]) -> dict[str, Any] | None:
    st: ImpactStatementsSettings = ctx["settings"]
    if not ra.accounts:
        return None
    rate = ra.value
    pair = f"{rate:.0%} renewal + {nrr.value:.0%} NRR: {reading(rate, nrr.value, st)}"
    text = (
        f"{pair} ({scope.label}; {ra.accounts:,} renewals due after {ctx['after'].start} and by {ctx['after'].end}; "
        "renewal rate = renewed ARR / ARR due)"
    )
    refusal = None
    if ra.accounts < st.min_accounts:
        refusal = ("too_few_accounts", f"{ra.accounts} renewals due; fewer than {st.min_accounts}")
    values: dict[str, Any] = {"unit": "points", "after": round(rate, 4), "accounts": ra.accounts}
    if rb.accounts:
        rng = generator(st.seed, scope.kind, scope.value, "renewal_rate")
        db = ratio_draws(rb.num, rb.den, picks(rng, len(rb.den), st.draws))
        da = ratio_draws(ra.num, ra.den, picks(rng, len(ra.den), st.draws))
        low, high = interval(da - db, st.confidence)
        values.update(before=round(rb.value, 4), change=round(100 * (rate - rb.value), 2), low=round(low, 2),
                      high=round(high, 2), accounts_before=rb.accounts)  # fmt: skip
    return _row(scope, "reading", "renewal_rate", text, ctx, refusal=refusal, **values)


def _product_share(rows: list[dict[str, Any]], accounts: set[str]) -> float | None:
    gross = Decimal(0)
    product = Decimal(0)
    for r in rows:
        if r["account_id"] in accounts and r["arr_delta"] > 0:
            gross += r["arr_delta"]
            if r["attribution"] in ("product", "self_serve"):
                product += r["arr_delta"]
    return float(product / gross) if gross else None


def statements(
    store: Store,
    *,
    owner: str | None = None,
    team: str | None = None,
    segment: str | None = None,
    window: int | None = None,
    end: dt.date | str | None = None,
) -> Frame:
    """Candidate impact statements of one CSM (``owner``), ``team`` or ``segment``, or of every CSM
    when none is given: each verified or refused by the rules of :mod:`.statement_rules`. ``window``:
    months of each window (default ``[impact_statements] window``); ``end``: the last month end on or
    before it (default: the as-of date)."""
    st = store.config.impact_statements
    w = _window(store, window)
    before, after = _cohorts(store, w, end)
    scopes = _scopes(after, owner, team, segment)
    day = dt.timedelta(days=1)
    expanded = expansions(store, start=after.start + day, end=after.end).to_pylist()
    claimed = _claimed(store, after, owner=scopes[0].value if len(scopes) == 1 and scopes[0].kind == "owner" else None)
    proxies = proxy_samples(store, [after.start, after.end], scopes, (after.end - after.start).days)
    windows = f"the {w} months to {after.end} against the {w} before"
    rows: list[dict[str, Any]] = []
    for scope in scopes:
        b_at, a_at = scope.mask(before.table), scope.mask(after.table)
        if len(scopes) == 1 and not (b_at.any() or a_at.any()):
            raise NotFoundError(
                f"no account was in {scope.label} at the start of either window ({before.start}, {after.start})",
                hint=f"see `revbook metrics retention --by {scope.kind}` for the {scope.kind}s with accounts",
            )
        ids_b = [a for a, k in zip(before.table["account_id"].to_pylist(), b_at.tolist(), strict=True) if k]
        ids_a = [a for a, k in zip(after.table["account_id"].to_pylist(), a_at.tolist(), strict=True) if k]
        found = plays(store, (before.start, before.end, ids_b), (after.start, after.end, ids_a), w)
        rb, ra = revenue_samples(before, b_at), revenue_samples(after, a_at)
        samples = {k: (rb[k], ra[k]) for k in ra}
        pb, pa_ = proxies[(scope.value, after.start)], proxies[(scope.value, after.end)]
        samples.update({k: (pb[k], pa_[k]) for k in pa_ if k in pb})
        grr_b, grr_a = samples["grr"]
        ctx: dict[str, Any] = {
            "settings": st, "before": before, "after": after, "windows": windows, "method": _method(found, st),
            "product_share": _product_share(expanded, set(ids_a)),
            "grr_change": 100 * (grr_a.value - grr_b.value) if grr_b.accounts and grr_a.accounts else None,
        }  # fmt: skip
        rows += _changes(scope, samples, ctx)
        renewal = _renewal(
            scope, renewal_samples(store, before, b_at), renewal_samples(store, after, a_at), ra["nrr"], ctx
        )
        rows += [renewal] if renewal else []
        rows += _saves(scope, claimed, ctx)
        rows += _activities(scope, found, ctx)
    return Frame("impact_statements", _table(rows))


def _claimed(store: Store, after: Cohort, *, owner: str | None) -> list[dict[str, Any]]:
    """The claimed saves flagged in the "after" window (``owner``: only that CSM's), with the team of their CSM."""
    claimed = saves(store, start=after.start + dt.timedelta(days=1), end=after.end, owner=owner).to_pylist()
    teams = dict(zip(after.table["owner"].to_pylist(), after.table["team"].to_pylist(), strict=True))
    for s in claimed:
        s["team"] = teams.get(s["owner"], NO_VALUE)
    return claimed


#: the columns of the impact_statements frame, in order
COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("scope", pa.string()), ("scope_value", pa.string()), ("scope_label", pa.string()), ("kind", pa.string()),
    ("metric", pa.string()), ("status", pa.string()), ("rule", pa.string()), ("reason", pa.string()),
    ("text", pa.string()), ("method", pa.string()), ("unit", pa.string()), ("before", pa.float64()),
    ("after", pa.float64()), ("change", pa.float64()), ("low", pa.float64()), ("high", pa.float64()),
    ("accounts_before", pa.int64()), ("accounts", pa.int64()), ("before_start", pa.date32()),
    ("window_start", pa.date32()), ("window_end", pa.date32()),
)  # fmt: skip


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    clean = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()} for r in rows]
    return pa.Table.from_pylist(clean, schema=pa.schema(list(COLUMNS)))


def provenance(row: dict[str, Any]) -> str:
    """Where a statement's numbers come from, in words: metric, before -> after, the change and its
    interval, the accounts of each window, the windows and the slice (one row of :func:`statements`)."""
    parts = [f"metric {row['metric']}"]
    unit = row["unit"]
    if row["after"] is not None and unit in ("points", "per account"):
        pct = unit == "points" and row["metric"] != "nps"
        values = [v for v in (row["before"], row["after"]) if v is not None]
        parts.append(" -> ".join(f"{100 * v:.1f}%" if pct else f"{v:,.2f}" for v in values))
    if row["change"] is not None and unit in ("points", "per account"):
        where = "" if row["low"] is None else f" (interval {row['low']:+.1f} to {row['high']:+.1f})"
        parts.append(f"change {row['change']:+.1f} {unit}{where}")
    if row["accounts"] is not None:
        before = "" if row["accounts_before"] is None else f"{row['accounts_before']:,} accounts before, "
        parts.append(f"{before}{row['accounts']:,} after")
    parts.append(f"windows {row['before_start']}..{row['window_start']} and {row['window_start']}..{row['window_end']}")
    parts.append(f"slice {row['scope_label']}")
    parts.append(f"method: {row['method']}")
    return "; ".join(parts)
