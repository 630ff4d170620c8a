"""The renewal book: every paying account with a renewal due in the next days, its ARR, the
likelihood it renews, whether it is committed and by what, its risk reasons, the last touch and the
owner; a summary by bucket; and the renewal rate by cohort of due date (docs/renewals.md).

Everything is read on the date ``on`` (point in time: only rows dated on or before it):

- **due date**: the account's renewal known on ``on`` (:mod:`revbook.health.renewals`: a contract
  end of the row's own term, else a yearly billing cycle's end), the nearest over its running lines;
  ``days_to_due`` = due date - ``on`` (1 or more). Month-to-month accounts have none.
- **bucket**: the first of ``[renewals] buckets`` (30, 60, 90, 180) at or above ``days_to_due``;
  ``within`` cuts the last bucket (``within=45``: 1-30 and 31-45).
- **ARR**: 12 x MRR on ``on``, exact (the RUM accounts frame's ``arr``).
- **likelihood** = 1 - p, p the renewal outlook's probability of a churn or a contraction (MRR down
  10% or more) within the renewal window (:func:`revbook.rum.outlook.renewal_model`, the model of
  :func:`revbook.rum.accounts`, applied to every account of the book, not only those in the window);
  NULL when the outlook cannot be trained (no event, or only events, in the training rows).
  ``expected_arr`` = ARR x likelihood, rounded half-even to the currency's minor units.
- **committed** by any of (each named in ``committed_by``): a renewal ``opportunity`` created on or
  before ``on`` in one of ``commit_stages`` (or won): open on ``on``, or closed in the
  ``commit_days`` up to it; an ``activity`` whose outcome is one of ``[catalogue]
  renewal_commitment_outcomes`` in the ``commit_days``; a ``note`` with the ``renewal_commit``
  signal in the ``commit_days``.
- **risk reasons**: cancel requested; health red, with the health score's drivers (the components
  costing it most; the cancellation, a reason of its own, left out of them); the notes' risk
  signals in the ``signal_days`` up to ``on``.
- **last touch**: the latest activity on or before ``on`` whose outcome is not one of
  ``[catalogue] missed_outcomes``, and its type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from ..frame import Frame
from ..metrics.owners import for_owner

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "COMMIT_RULE",
    "COMMIT_SOURCES",
    "RATE_BY",
    "bucket_edges",
    "bucket_label",
    "bucket_of",
    "renewal_book",
    "renewal_rate",
    "renewal_summary",
    "summary_of",
]

#: the notes' signal rule that records a commitment to renew (revbook.insights.signals)
COMMIT_RULE = "renewal_commit"
#: what can commit a renewal, in the order ``committed_by`` names them
COMMIT_SOURCES = ("opportunity", "activity", "note")
#: the cohorts of the renewal rate: ``by`` -> the calendar grain of the due date
RATE_BY = {"due_month": "month", "due_quarter": "quarter", "due_year": "year"}
MAX_WITHIN = 3650


def bucket_edges(buckets: Sequence[int], within: int) -> tuple[int, ...]:
    """The buckets' upper edges for a book of ``within`` days: the settings' edges below it, then it."""
    return (*(b for b in buckets if b < within), within)


def bucket_of(days: int, edges: Sequence[int]) -> int | None:
    """The bucket (its upper edge) of a renewal ``days`` away: the first edge at or above it."""
    return next((e for e in edges if days <= e), None)


def bucket_label(edge: int, edges: Sequence[int]) -> str:
    """``"31 to 60 days"``: the bucket's first and last day."""
    i = list(edges).index(edge)
    return f"{1 if i == 0 else edges[i - 1] + 1} to {edge} days"


def _within(within: int) -> int:
    if isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= MAX_WITHIN:
        raise ConfigError(
            f"within must be 1 to {MAX_WITHIN} days, got {within!r}", hint="e.g. within=90 for the next quarter"
        )
    return within


def _day(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def _names(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = store.con.execute(sql).to_arrow_table().to_pylist()
    return rows


def _commitments(store: Store, day: dt.date, accounts: pa.Array) -> dict[str, dict[str, dt.date]]:
    """account -> {source: the latest date it committed the renewal}, each source dated on or before ``day``."""
    from ..insights.signals import find_signals

    s, cat = store.config.renewals, store.config.catalogue
    counts = store.row_counts()
    since = day - dt.timedelta(days=s.commit_days)
    found: dict[str, dict[str, dt.date]] = {}

    def add(account: str, source: str, when: dt.date) -> None:
        got = found.setdefault(account, {})
        if source not in got or when > got[source]:
            got[source] = when

    if counts.get("opportunities", 0):
        for r in _rows(
            store,
            f"""SELECT account_id, max(coalesce(closed_at, created_at)) AS d FROM opportunities
                WHERE kind = 'renewal' AND created_at <= {_day(day)}
                  AND (stage IN ({_names(s.commit_stages)}) OR coalesce(won, false))
                  AND (closed_at IS NULL OR (closed_at <= {_day(day)} AND closed_at > {_day(since)}))
                GROUP BY account_id""",
        ):
            add(r["account_id"], "opportunity", r["d"])
    if counts.get("activities", 0):
        for r in _rows(
            store,
            f"""SELECT account_id, max(date) AS d FROM activities
                WHERE outcome IN ({_names(cat.renewal_commitment_outcomes)})
                  AND date <= {_day(day)} AND date > {_day(since)}
                GROUP BY account_id""",
        ):
            add(r["account_id"], "activity", r["d"])
    if counts.get("notes", 0):
        hits = find_signals(store, since=since + dt.timedelta(days=1), before=day + dt.timedelta(days=1),
                            rules=store.config.signals).to_arrow()  # fmt: skip
        for r in hits.filter(pc.equal(hits["rule"], COMMIT_RULE)).select(["account_id", "date"]).to_pylist():
            add(r["account_id"], "note", r["date"])
    wanted = set(accounts.to_pylist())
    return {a: v for a, v in found.items() if a in wanted}


def _risk_signals(store: Store, day: dt.date) -> dict[str, list[str]]:
    """account -> the notes' risk signal rules in the ``signal_days`` up to ``day``, most frequent first."""
    from ..insights.signals import find_signals

    if not store.row_counts().get("notes", 0):
        return {}
    since = day - dt.timedelta(days=store.config.renewals.signal_days - 1)
    hits = find_signals(store, since=since, before=day + dt.timedelta(days=1), rules=store.config.signals).to_arrow()
    counts: dict[str, dict[str, int]] = {}
    for r in hits.select(["account_id", "rule", "polarity"]).to_pylist():
        if r["polarity"] in ("risk", "both"):
            rules = counts.setdefault(r["account_id"], {})
            rules[r["rule"]] = rules.get(r["rule"], 0) + 1
    return {a: [k for k, _ in sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))] for a, v in counts.items()}


def _last_touches(store: Store, day: dt.date) -> dict[str, tuple[dt.date, str]]:
    """account -> (date, type) of its latest activity held on or before ``day``."""
    if not store.row_counts().get("activities", 0):
        return {}
    missed = _names(store.config.catalogue.missed_outcomes)
    rows = _rows(
        store,
        f"""SELECT account_id, max(date) AS d, arg_max(type, date) AS t FROM activities
            WHERE date <= {_day(day)} AND coalesce(outcome, '') NOT IN ({missed})
            GROUP BY account_id""",
    )
    return {r["account_id"]: (r["d"], r["t"]) for r in rows}


def _names_of(store: Store) -> dict[str, str]:
    return {
        r["account_id"]: r["name"]
        for r in _rows(store, "SELECT account_id, any_value(name) AS name FROM accounts GROUP BY ALL")
    }


def _likelihood(store: Store, feats: pa.Table, day: dt.date) -> list[float | None]:
    """1 - the renewal outlook's p(churn or contraction within the renewal window), per row of ``feats``."""
    from .outlook import renewal_model

    cfg = store.config
    p, _, _ = renewal_model(store, feats, day, cfg.health, cfg.rum, cfg.lifecycle)
    if p is None:
        return [None] * feats.num_rows
    return [round(1 - float(v), 4) for v in p]


def _money(value: Decimal, minor_units: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-minor_units), rounding=ROUND_HALF_EVEN)


def renewal_book(
    store: Store, *, on: dt.date | str | None = None, within: int = 180, owner: str | None = None
) -> Frame:
    """Every account paying on ``on`` (default: the as-of date) with a renewal due in the next
    ``within`` days, soonest first: due date, days to it, bucket, ARR, likelihood to renew and the
    expected ARR, committed and by what, risk reasons, last touch, health and risk band, owner;
    ``owner``: only that CSM's accounts (docs/renewals.md)."""
    from ..health.features import features
    from .accounts import accounts_and_health

    within = _within(within)
    day = store.config.on_date(on)
    edges = bucket_edges(store.config.renewals.buckets, within)
    feats = features(store, [day], lifecycle=store.config.lifecycle)
    days = feats["days_to_renewal"].to_pylist()
    due = [d is not None and d <= within for d in days]
    likely = _likelihood(store, feats, day) if any(due) else [None] * feats.num_rows
    acc = accounts_and_health(store, day, expected=False)[0].to_arrow()
    acc = acc.filter(pc.not_equal(acc["stage"], "churned"))
    rum_rows = {r["account_id"]: r for r in acc.to_pylist()}
    ids = pa.array([a for a, keep in zip(feats["account_id"].to_pylist(), due, strict=True) if keep], pa.string())
    commits = _commitments(store, day, ids)
    signals = _risk_signals(store, day)
    touches = _last_touches(store, day)
    names = _names_of(store)
    minor = store.config.minor_units
    rows = []
    for account, d, keep, lk in zip(feats["account_id"].to_pylist(), days, due, likely, strict=True):
        if not keep:
            continue
        r = rum_rows[account]
        arr = r["arr"]
        by = commits.get(account, {})
        reasons = []
        if r["overlay"] == "cancel requested":
            reasons.append("cancel requested")
        if r["health_band"] == "red":
            # the cancellation is a reason of its own: the drivers say what else costs the score
            drivers = [d for d in (r["health_drivers"] or "").split(", ") if d and not d.startswith("cancellation")]
            reasons.append("health red" + (f": {', '.join(drivers)}" if drivers else ""))
        if signals.get(account):
            reasons.append("notes: " + ", ".join(signals[account]))
        touch = touches.get(account)
        edge = bucket_of(int(d), edges)
        assert edge is not None
        rows.append(
            {
                "account_id": account,
                "name": names.get(account),
                "due_date": day + dt.timedelta(days=int(d)),
                "days_to_due": int(d),
                "bucket": edge,
                "bucket_label": bucket_label(edge, edges),
                "arr": arr,
                "likelihood": lk,
                "expected_arr": None if lk is None else _money(arr * Decimal(str(lk)), minor),
                "committed": bool(by),
                "committed_by": ", ".join(s for s in COMMIT_SOURCES if s in by),
                "committed_on": max(by.values()) if by else None,
                "risk_reasons": "; ".join(reasons),
                "health_band": r["health_band"],
                "risk_band": r["risk_band"],
                "stage": r["stage"],
                "last_touch_on": touch[0] if touch else None,
                "last_touch_type": touch[1] if touch else None,
                "days_since_touch": (day - touch[0]).days if touch else None,
                "owner": r["owner"],
                "owner_name": r["owner_name"],
                "team": r["team"],
            }
        )
    rows.sort(key=lambda r: (r["due_date"], -r["arr"], r["account_id"]))
    money = pa.decimal128(18, minor)
    schema = pa.schema(
        [
            ("account_id", pa.string()), ("name", pa.string()), ("due_date", pa.date32()),
            ("days_to_due", pa.int64()), ("bucket", pa.int64()), ("bucket_label", pa.string()),
            ("arr", money), ("likelihood", pa.float64()), ("expected_arr", money), ("committed", pa.bool_()),
            ("committed_by", pa.string()), ("committed_on", pa.date32()), ("risk_reasons", pa.string()),
            ("health_band", pa.string()), ("risk_band", pa.string()), ("stage", pa.string()),
            ("last_touch_on", pa.date32()), ("last_touch_type", pa.string()), ("days_since_touch", pa.int64()),
            ("owner", pa.string()), ("owner_name", pa.string()), ("team", pa.string()),
        ]
    )  # fmt: skip
    book = Frame("renewals", pa.Table.from_pylist(rows, schema=schema))
    return for_owner(book, owner)


def summary_of(book: Frame, edges: Sequence[int]) -> Frame:
    """A :func:`renewal_book` by bucket (every bucket of ``edges``, then ``all``): accounts, ARR due,
    expected ARR renewing (the sum of ARR x likelihood; NULL when no account has a likelihood),
    committed accounts and ARR."""
    rows = book.to_arrow().to_pylist()
    money = pa.decimal128(18, book.to_arrow().schema.field("arr").type.scale)
    out = []
    for edge in (*edges, None):
        part = [r for r in rows if edge is None or r["bucket"] == edge]
        known = [r["expected_arr"] for r in part if r["expected_arr"] is not None]
        out.append(
            {
                "bucket": edge,
                "bucket_label": "all" if edge is None else bucket_label(edge, edges),
                "accounts": len(part),
                "arr_due": sum((r["arr"] for r in part), Decimal(0)),
                "expected_arr": sum(known, Decimal(0)) if known else None,
                "committed_accounts": sum(1 for r in part if r["committed"]),
                "committed_arr": sum((r["arr"] for r in part if r["committed"]), Decimal(0)),
            }
        )
    schema = pa.schema(
        [
            ("bucket", pa.int64()), ("bucket_label", pa.string()), ("accounts", pa.int64()), ("arr_due", money),
            ("expected_arr", money), ("committed_accounts", pa.int64()), ("committed_arr", money),
        ]
    )  # fmt: skip
    return Frame("renewals_summary", pa.Table.from_pylist(out, schema=schema))


def renewal_summary(
    store: Store, *, on: dt.date | str | None = None, within: int = 180, owner: str | None = None
) -> Frame:
    """:func:`renewal_book` summed by bucket (:func:`summary_of`)."""
    book = renewal_book(store, on=on, within=within, owner=owner)
    return summary_of(book, bucket_edges(store.config.renewals.buckets, _within(within)))


def renewal_rate(
    store: Store, *, by: str = "due_month", end: dt.date | str | None = None, owner: str | None = None
) -> Frame:
    """The renewal rate per cohort of due date (``by``: due_month, due_quarter or due_year), up to
    ``end`` (cohorts ending on or before it): renewals due, renewed, the logo renewal rate, ARR due,
    ARR renewed (capped at the ARR due) and the dollar renewal rate, the net ARR renewed and its rate,
    and the renewals still pending (due, not renewed, grace not over). It is the catalogue's
    ``renewal_rate`` (docs/definitions.md), the one definition of "renewed", read by cohort.
    ``owner``: only the renewals of that CSM's book, the CSM as the catalogue's owner slice reads it
    (at the cohort's start)."""
    from ..metrics.catalogue import catalogue

    if by not in RATE_BY:
        raise ConfigError(f"unknown renewal cohort '{by}'", hint=f"use one of: {', '.join(RATE_BY)}")
    t = catalogue(store, "renewal_rate", grain=RATE_BY[by], end=end, by="owner" if owner else None).to_arrow()
    if owner:
        t = t.filter(pc.equal(t["owner"], owner))
    names = {
        "period": by,
        "period_start": "cohort_start",
        "period_end": "cohort_end",
        "contracts_up": "renewals_due",
        "contracts_renewed": "renewed",
        "renewal_rate": "logo_renewal_rate",
        "arr_up": "arr_due",
        "arr_renewed": "arr_renewed",
        "arr_renewal_rate": "dollar_renewal_rate",
        "net_arr_renewed": "net_arr_renewed",
        "net_arr_renewal_rate": "net_dollar_renewal_rate",
        "pending": "pending",
    }
    return Frame("renewal_rate", t.select(list(names)).rename_columns(list(names.values())))
