"""Save verification: was an account that was flagged at risk and then renewed really at risk?

For each episode of at-risk flags (:mod:`.saves_flags`) the renewal rule decides what happened:

- the **pre-flag MRR** is the account's MRR on the episode's flag date (``ledger.account_mrr_sql``);
- the **check date** is the first renewal date known on the flag date (:mod:`revbook.health.renewals`:
  a running line's contract end of its own term, or a yearly billing cycle's end), or, when no
  renewal date is known (month to month), the flag date plus ``[saves] horizon_days``;
- on the check date the episode is **renewed** when the account's MRR is at least ``[saves]
  renewal_share`` x the pre-flag MRR, **churned** when it is zero, **contracted** otherwise, and
  **pending** while the check date is after the as-of date.

A renewed episode is a claimed save. Its verdict compares the churn probability the health model
would have given on the flag date (:mod:`.saves_model`, point in time) with the segment's base
rate *b*: **credible** when the probability is at least ``credible_ratio`` x *b* and at least
``credible_min``; **never_at_risk** when it is at most *b*; **uncertain** otherwise, or when there
is too little data (no model, or a segment too thin for a base rate; the reason says which).
The ARR saved is counted as expected ARR: ARR on the flag date x the probability (rounded to four
decimals, as shown), rounded once, half to even, to the currency's minor units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import ConfigError
from ..frame import Frame
from ..health.renewals import renewals_sql
from ..ledger import account_mrr_sql
from ..metrics.book import book_of
from .saves_flags import FLAG_KINDS, episodes_of, flags, window
from .saves_model import Score, Scorer, model_scorer, slices_on

if TYPE_CHECKING:
    from ..config import SavesSettings
    from ..store import Store

__all__ = ["FLAG_KINDS", "OUTCOMES", "SAVE_VERDICTS", "episodes", "flags", "saves", "saves_summary", "verdict"]

#: what an episode came to on its check date
OUTCOMES = ("renewed", "contracted", "churned", "pending")
#: the verdict on a renewed episode
SAVE_VERDICTS = ("credible", "never_at_risk", "uncertain")


def _money(minor_units: int) -> pa.DataType:
    return pa.decimal128(18, minor_units)


def _arr(mrr_minor: int, minor_units: int) -> Decimal:
    return Decimal(12 * int(mrr_minor)).scaleb(-minor_units)


def _episode_rows(store: Store, start: dt.date | str | None, end: dt.date | str | None) -> list[dict[str, Any]]:
    """The rows of :func:`episodes`, each with its ``flag_dates`` as well."""
    first, last = window(store, start, end)
    s = store.config.saves
    eps = episodes_of(flags(store, start=first, end=last).to_pylist(), s.episode_days)
    mu = store.config.minor_units
    if eps:
        _check_dates(store, eps)
        pairs = [(e["account_id"], e["flag_date"]) for e in eps]
        for e, sl in zip(eps, slices_on(store, pairs, ["owner", "owner_name", "segment"]), strict=True):
            e.update(sl)
    as_of = store.config.snapshot_date()
    rows = []
    for e in eps:
        pending = e["check_date"] > as_of
        if pending:
            outcome = "pending"
        elif e["mrr_at_check"] <= 0:
            outcome = "churned"
        elif Decimal(e["mrr_at_check"]) >= Decimal(str(s.renewal_share)) * e["mrr"]:
            outcome = "renewed"
        else:
            outcome = "contracted"
        rows.append(
            {**{k: e[k] for k in ("account_id", "flag_date", "last_flag", "flags", "flag_kinds", "detail")},
             "owner": e["owner"], "owner_name": e["owner_name"], "segment": e["segment"],
             "arr": _arr(e["mrr"], mu), "check_date": e["check_date"], "check": e["check"],
             "arr_at_check": None if pending else _arr(e["mrr_at_check"], mu), "outcome": outcome,
             "flag_dates": e["flag_dates"]}
        )  # fmt: skip
    return rows


def episodes(store: Store, *, start: dt.date | str | None = None, end: dt.date | str | None = None) -> Frame:
    """Every episode of flags from ``start`` to ``end`` and what it came to: account_id, flag_date,
    last_flag, flags, flag_kinds, detail, owner and owner_name (the CSM on the flag date), segment
    (on the flag date), arr (on the flag date), check_date, check ("renewal" or "horizon"),
    arr_at_check (null while pending) and outcome (:data:`OUTCOMES`)."""
    money = _money(store.config.minor_units)
    schema = pa.schema(
        [("account_id", pa.string()), ("flag_date", pa.date32()), ("last_flag", pa.date32()), ("flags", pa.int64()),
         ("flag_kinds", pa.string()), ("detail", pa.string()), ("owner", pa.string()), ("owner_name", pa.string()),
         ("segment", pa.string()), ("arr", money), ("check_date", pa.date32()), ("check", pa.string()),
         ("arr_at_check", money), ("outcome", pa.string())]
    )  # fmt: skip
    rows = [{k: r[k] for k in schema.names} for r in _episode_rows(store, start, end)]
    return Frame("save_episodes", pa.Table.from_pylist(rows, schema=schema))


def _check_dates(store: Store, eps: list[dict[str, Any]]) -> None:
    """Each episode's MRR on its flag date, check date (and which rule gave it) and MRR then."""
    book = book_of(store)
    horizon = store.config.saves.horizon_days
    book.engine.register(
        "rb_saves_eps",
        pa.table(
            {
                "account_id": pa.array([e["account_id"] for e in eps], pa.string()),
                "score_date": pa.array([e["flag_date"] for e in eps], pa.date32()),
            }
        ),
    )
    try:
        ren = renewals_sql("subscriptions", "rb_saves_eps", rule=store.config.lifecycle.contract_end)
        pre = account_mrr_sql(book.ledger(), "rb_saves_eps", "score_date")
        got = book.engine.arrow(
            f"""WITH ren AS ({ren}),
                chk AS (
                    SELECT e.account_id, e.score_date,
                           coalesce(e.score_date + CAST(ren.days_to_renewal AS INTEGER),
                                    e.score_date + {int(horizon)}) AS check_date,
                           CASE WHEN ren.days_to_renewal IS NULL THEN 'horizon' ELSE 'renewal' END AS "check"
                    FROM rb_saves_eps e LEFT JOIN ren USING (score_date, account_id))
                SELECT chk.account_id, chk.score_date, pre.mrr, chk.check_date, chk."check", post.mrr AS mrr_at_check
                FROM chk JOIN {pre} pre USING (account_id, score_date)
                JOIN {account_mrr_sql(book.ledger(), "chk", "check_date")} post USING (account_id, check_date)"""
        ).to_pylist()
    finally:
        book.engine.drop("rb_saves_eps")
    by_key = {(r["account_id"], r["score_date"]): r for r in got}
    for e in eps:
        r = by_key[(e["account_id"], e["flag_date"])]
        e.update(mrr=int(r["mrr"]), check_date=r["check_date"], check=r["check"], mrr_at_check=int(r["mrr_at_check"]))


def verdict(score: Score, settings: SavesSettings) -> tuple[str, str]:
    """The verdict (:data:`SAVE_VERDICTS`) on a renewed episode and its reason in words."""
    p, b = score.probability, score.base_rate
    if p is None or b is None:
        return "uncertain", score.note or "too little data: no probability or base rate"
    bar = max(b * settings.credible_ratio, settings.credible_min)
    said = f"churn probability {p:.1%} against the segment's base rate {b:.1%}"
    if score.note:
        return "uncertain", f"{said}; {score.note}"
    if p >= bar:
        ratio, low = settings.credible_ratio, settings.credible_min
        return "credible", f"{said}: at least {ratio:g} x the base rate and {low:.0%}"
    if p <= b:
        return "never_at_risk", f"{said}: no higher than the base rate"
    below = "the credible minimum" if b * settings.credible_ratio < settings.credible_min else (
        f"{settings.credible_ratio:g} x the base rate"
    )  # fmt: skip
    return "uncertain", f"{said}: above the base rate but below {below} ({bar:.1%})"


def _riskiest(scored: list[tuple[dt.date, Score]]) -> tuple[dt.date, Score]:
    """The flag an episode's verdict reads: the one with the highest probability (the earliest of
    equals); the first flag when no flag has one (its note says why)."""
    known = [(d, sc) for d, sc in scored if sc.probability is not None]
    if not known:
        return scored[0]
    return max(known, key=lambda pair: (pair[1].probability, -pair[0].toordinal()))


def saves(
    store: Store,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    owner: str | None = None,
    scorer: Scorer | None = None,
) -> Frame:
    """Every renewed episode (a claimed save) from ``start`` to ``end``, with the highest churn
    probability the health model would have given on one of its flag dates up to the check date
    (``scored_on``: that flag's date, each scored on what was known on it), the segment's base rate,
    the verdict (:data:`SAVE_VERDICTS`), its reason and the expected ARR saved; ``owner``: only the
    episodes of this CSM on the flag date. ``scorer`` replaces the model (:data:`.saves_model.Scorer`)."""
    settings = store.config.saves
    eps = [e for e in _episode_rows(store, start, end) if e["outcome"] == "renewed"]
    if owner is not None:
        eps = [e for e in eps if e["owner"] == owner]
    asked = [(i, d) for i, e in enumerate(eps) for d in e["flag_dates"] if d <= e["check_date"]]
    got = (scorer or model_scorer)(store, [(eps[i]["account_id"], d, eps[i]["segment"]) for i, d in asked])
    if len(got) != len(asked):
        raise ConfigError("the scorer must give one score per flag date", value=(len(asked), len(got)))
    by_episode: list[list[tuple[dt.date, Score]]] = [[] for _ in eps]
    for (i, d), sc in zip(asked, got, strict=True):
        by_episode[i].append((d, sc))
    scores = [_riskiest(scored) for scored in by_episode]
    mu = store.config.minor_units
    unit = Decimal(1).scaleb(-mu)
    rows = []
    for e, (on, sc) in zip(eps, scores, strict=True):
        said, why = verdict(sc, settings)
        p = None if sc.probability is None else round(sc.probability, 4)
        expected = None if p is None else (e["arr"] * Decimal(f"{p:.4f}")).quantize(unit, rounding=ROUND_HALF_EVEN)
        rows.append(
            {"account_id": e["account_id"], "flag_date": e["flag_date"], "flag_kinds": e["flag_kinds"],
             "owner": e["owner"], "owner_name": e["owner_name"], "segment": e["segment"], "arr": e["arr"],
             "churn_probability": p, "base_rate": None if sc.base_rate is None else round(sc.base_rate, 4),
             "scored_on": on, "verdict": said, "expected_arr_saved": expected, "renewed_on": e["check_date"],
             "arr_renewed": e["arr_at_check"], "reason": why}
        )  # fmt: skip
    money = _money(mu)
    schema = pa.schema(
        [("account_id", pa.string()), ("flag_date", pa.date32()), ("flag_kinds", pa.string()), ("owner", pa.string()),
         ("owner_name", pa.string()), ("segment", pa.string()), ("arr", money), ("churn_probability", pa.float64()),
         ("base_rate", pa.float64()), ("scored_on", pa.date32()), ("verdict", pa.string()),
         ("expected_arr_saved", money), ("renewed_on", pa.date32()), ("arr_renewed", money), ("reason", pa.string())]
    )  # fmt: skip
    return Frame("saves", pa.Table.from_pylist(rows, schema=schema))


def saves_summary(frame: Frame, *, verdicts: Sequence[str] = SAVE_VERDICTS) -> Frame:
    """Counts, ARR and expected ARR saved per verdict of a :func:`saves` frame: overall (owner
    "all") and per CSM, every verdict on a row of its own (zeros included)."""
    table = frame.to_arrow()
    money = table.schema.field("arr").type
    unit = Decimal(1).scaleb(-money.scale)
    groups: dict[tuple[str, str], list[Any]] = {}
    owners = sorted({str(o) for o in table["owner"].to_pylist()})
    for who in ("all", *owners):
        for v in verdicts:
            groups[(who, v)] = [0, Decimal(0), Decimal(0)]
    for r in table.to_pylist():
        for who in ("all", str(r["owner"])):
            g = groups[(who, r["verdict"])]
            g[0] += 1
            g[1] += r["arr"]
            g[2] += r["expected_arr_saved"] or Decimal(0)
    rows = [
        {"owner": who, "verdict": v, "saves": n, "arr": arr.quantize(unit), "expected_arr_saved": exp.quantize(unit)}
        for (who, v), (n, arr, exp) in groups.items()
    ]
    schema = pa.schema(
        [("owner", pa.string()), ("verdict", pa.string()), ("saves", pa.int64()), ("arr", money),
         ("expected_arr_saved", money)]
    )  # fmt: skip
    return Frame("saves_summary", pa.Table.from_pylist(rows, schema=schema))
