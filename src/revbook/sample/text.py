"""The sample company's text: churn reasons and notes, with their labelled sets.

Called by :mod:`revbook.sample` (builders ``churn_reasons`` and ``notes`` of ``TABLE_BUILDERS``,
switched on by ``SampleConfig(text=True)``) and by :func:`revbook.sample.labels`.

What is planted (documented in docs/churn-reasons.md, kept as labels)
--------------------------------------------------------------------
- **events** (churns, contractions, expansions) come from the sample's own subscription lines, as the
  ledger will see them (:mod:`revbook.sample.events`).
- **churn reasons**: 92% of churns and 65% of contractions get a row dated on the event. The true
  reason is drawn by the ARR before the event (< 25k, 25k-100k, 100k+ USD) from
  :data:`REASON_MIX`: small accounts leave mostly for price, large ones for champion-left or
  acquisition, so the Pareto by count and the one by ARR lost disagree. Half of the rows carry the
  reason in ``primary_reason`` (a code, a label or a picklist alias); 85% carry a free-text
  ``comment`` (every row without a primary reason has one, unless the reason is unknown), in varied
  wording with misspellings, a few with HTML or a tab kept as data. ``labels_churn_reasons`` holds
  the true reason of every row.
- **notes**: routine notes over each account's paying life (about one per 2.5 months), plus trigger
  notes: 65% of churns / contractions whose reason has a matching signal get one 20-170 days
  before (acquisition, champion_left, budget_cut, competitor, layoffs_reorg from financial struggle,
  underuse from fit / missing features / change in needs); 45% of expansions get an expansion-intent
  or new-team note 15-150 days before (and 10% an underuse note: it is both risk and cross-sell);
  trigger notes at random on active accounts (noise, so precision of the lift is honest); and hard
  negatives (negations, hypotheticals, "the merger of two internal teams went fine").
  ``labels_signals`` holds one row per planted trigger or hard negative (rule, polarity, kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ._util import NULL, _date
from .events import CHURN, CONTRACTION, EXPANSION, events
from .phrases import (
    ACQUIRERS,
    ALIASES,
    CITIES,
    COMMENTS,
    COMPETITORS,
    DEPTS,
    HARD_NEGATIVES,
    NAMES,
    ROUTINE,
    TITLES,
    TRIGGERS,
)
from .settings import _approx_rate
from .simulation import Book

__all__ = ["REASON_MIX", "TextPlan", "churn_reasons_table", "notes_table", "plan"]

REASONS = (
    "fit",
    "missing_features",
    "support",
    "price",
    "change_in_needs",
    "financial_struggle",
    "acquisition",
    "champion_left",
    "competitor",
    "budget_cut",
    "unknown",
)
#: reason shares by (event kind, ARR band before the event), in the order of ``REASONS``
REASON_MIX: dict[tuple[str, int], tuple[float, ...]] = {
    ("churn", 0): (0.10, 0.08, 0.06, 0.40, 0.08, 0.09, 0.02, 0.03, 0.06, 0.04, 0.04),
    ("churn", 1): (0.04, 0.09, 0.05, 0.07, 0.04, 0.02, 0.20, 0.28, 0.10, 0.07, 0.04),
    ("churn", 2): (0.02, 0.04, 0.03, 0.03, 0.02, 0.01, 0.38, 0.38, 0.04, 0.03, 0.02),
    ("contraction", 0): (0.04, 0.10, 0.05, 0.30, 0.16, 0.08, 0.01, 0.04, 0.06, 0.12, 0.04),
    ("contraction", 1): (0.02, 0.09, 0.04, 0.07, 0.09, 0.03, 0.14, 0.26, 0.07, 0.15, 0.04),
    ("contraction", 2): (0.02, 0.05, 0.02, 0.03, 0.05, 0.01, 0.30, 0.34, 0.03, 0.13, 0.02),
}
ARR_BAND_EDGES_USD = (25_000, 100_000)
#: the signal a reason's trigger note plants, if any
FORESHADOW = {
    "acquisition": "acquisition",
    "champion_left": "champion_left",
    "budget_cut": "budget_cut",
    "competitor": "competitor",
    "financial_struggle": "layoffs_reorg",
    "fit": "underuse",
    "missing_features": "underuse",
    "change_in_needs": "underuse",
}
POLARITY = {
    "acquisition": "risk",
    "champion_left": "risk",
    "budget_cut": "risk",
    "layoffs_reorg": "risk",
    "competitor": "risk",
    "underuse": "both",
    "new_team": "expansion",
    "expansion_intent": "expansion",
}


@dataclass
class TextPlan:
    """Events from the lines and the reasons planted on them (arrays, aligned)."""

    acct: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # CHURN, CONTRACTION or EXPANSION
    arr_usd: np.ndarray  # ARR before the event, approximate USD
    lost_usd: np.ndarray  # ARR lost by the event (all of it for a churn), approximate USD
    reason: np.ndarray  # index into REASONS (churn / contraction), -1 for expansions
    has_row: np.ndarray  # a churn_reasons row is recorded


def plan(book: Book) -> TextPlan:
    """The events and planted reasons, seeded apart (``[seed, 201]``) and cached on the book."""
    cached = vars(book).get("_text_plan")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rng = np.random.default_rng([book.config.seed, 201])
    acct, day, kind, mrr_before, mrr_after = events(book)
    rate = np.array([_approx_rate(book.config, c) for c in book.config.currencies])[book.currency[acct]]
    arr_usd = mrr_before * 12 / 100 * rate
    lost_usd = np.maximum(mrr_before - mrr_after, 0) * 12 / 100 * rate
    band = np.searchsorted(np.asarray(ARR_BAND_EDGES_USD, float), arr_usd, side="right")
    reason = np.full(len(acct), -1, np.int64)
    for (k, b), mix in REASON_MIX.items():
        m = (kind == (CHURN if k == "churn" else CONTRACTION)) & (band == b)
        p = np.asarray(mix) / sum(mix)
        reason[m] = rng.choice(len(REASONS), size=int(m.sum()), p=p)
    recorded = rng.random(len(acct)) < np.where(kind == CHURN, 0.92, 0.65)
    has_row = (kind < EXPANSION) & recorded
    out = TextPlan(acct, day, kind, arr_usd, lost_usd, reason, has_row)
    vars(book)["_text_plan"] = out
    return out


def _misspell(text: str, rng: np.random.Generator) -> str:
    """Swap two letters (or drop one) in one longer word: the typos of a hurried CSM."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not long:
        return text
    i = long[int(rng.integers(0, len(long)))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 2))
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.6 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _fill(template: str, rng: np.random.Generator) -> str:
    def pick(xs: tuple[str, ...]) -> str:
        return xs[int(rng.integers(0, len(xs)))]

    return template.format(
        n=int(rng.integers(5, 60)),
        p=int(rng.integers(10, 40)),
        acq=pick(ACQUIRERS),
        comp=pick(COMPETITORS),
        name=pick(NAMES),
        title=pick(TITLES),
        city=pick(CITIES),
        dept=pick(DEPTS),
    )


def churn_reasons_table(book: Book, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """The ``churn_reasons`` table and its labels (``labels_churn_reasons``)."""
    pl = plan(book)
    idx = np.flatnonzero(pl.has_row)
    idx = idx[np.lexsort((pl.day[idx], pl.acct[idx]))]
    # the key is (account_id, date): one row per account and day
    keep = np.r_[True, (pl.acct[idx][1:] != pl.acct[idx][:-1]) | (pl.day[idx][1:] != pl.day[idx][:-1])]
    idx = idx[keep]
    primary: list[str | None] = []
    secondary: list[str | None] = []
    comments: list[str | None] = []
    for r_i in pl.reason[idx]:
        r = REASONS[int(r_i)]
        has_primary = rng.random() < 0.5
        if has_primary:
            u = rng.random()
            primary.append(r if u < 0.5 else ALIASES[r][int(rng.integers(0, len(ALIASES[r])))])
        else:
            primary.append(None)
        wants_comment = (not has_primary) or rng.random() < 0.7
        if r == "unknown":
            wants_comment = rng.random() < 0.6
        if wants_comment:
            c = _fill(COMMENTS[r][int(rng.integers(0, len(COMMENTS[r])))], rng)
            if c and rng.random() < 0.2:
                c = _misspell(c, rng)
            if c and rng.random() < 0.3:
                c = c.lower()
            if c and rng.random() < 0.02:
                c = f"<b>{c}</b>" if rng.random() < 0.5 else c.replace(" ", "\t", 1)
            comments.append(c or None)
        else:
            comments.append(None)
        if r != "unknown" and rng.random() < 0.2:
            others = [x for x in REASONS if x not in (r, "unknown")]
            secondary.append(",".join(sorted({others[int(rng.integers(0, len(others)))] for _ in range(2)})))
        else:
            secondary.append(None)
    ids = book.ids_of(pl.acct[idx])
    dates = _date(pl.day[idx])
    table = pa.table(
        {
            "account_id": ids,
            "date": dates,
            "primary_reason": pa.array(primary, pa.string()),
            "secondary_reasons": pa.array(secondary, pa.string()),
            "comment": pa.array(comments, pa.string()),
        }
    )
    labels = pa.table(
        {
            "account_id": ids,
            "date": dates,
            "reason": pa.array([REASONS[int(r)] for r in pl.reason[idx]], pa.string()),
            "movement": pa.array(np.where(pl.kind[idx] == CHURN, "churn", "contraction").tolist(), pa.string()),
            "arr_before_usd": pa.array(np.round(pl.arr_usd[idx], 2)),
            "arr_lost_usd": pa.array(np.round(pl.lost_usd[idx], 2)),
        }
    )
    return table, labels


def notes_table(book: Book, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """The ``notes`` table and its labels (``labels_signals``): see the module docstring."""

    pl = plan(book)
    as_of = book.as_of
    paid = book.paid_start != NULL
    first = np.where(paid, book.paid_start, book.first_day)
    last = np.where(book.active | (book.churn_day == NULL), as_of, book.churn_day)
    rows: list[tuple[int, int, str, str | None, str | None]] = []  # acct, day, text, rule, kind

    def sentence(pool: tuple[str, ...]) -> str:
        s = _fill(pool[int(rng.integers(0, len(pool)))], rng)
        return _misspell(s, rng) if rng.random() < 0.1 else s

    def wrap(core: str) -> str:
        u = rng.random()
        if u < 0.4:
            return f"{core}."
        before = sentence(ROUTINE)
        return f"{before}. {core}." if u < 0.75 else f"{core}. {before}."

    # routine notes: about one per 2.5 months of each paying life
    for a in np.flatnonzero(paid):
        span = max(int(last[a] - first[a]), 1)
        k = rng.poisson(span / 75)
        for d in first[a] + rng.integers(0, span, k):
            rows.append((int(a), int(d), f"{sentence(ROUTINE)}.", None, None))
    # foreshadowing trigger notes
    for a, d, kind, r in zip(pl.acct, pl.day, pl.kind, pl.reason, strict=True):
        rule: str | None = None
        if kind < EXPANSION and r >= 0 and REASONS[int(r)] in FORESHADOW and rng.random() < 0.65:
            rule = FORESHADOW[REASONS[int(r)]]
            lead = int(rng.integers(20, 171))
        elif kind == EXPANSION:
            u = rng.random()
            rule = "expansion_intent" if u < 0.3 else "new_team" if u < 0.45 else "underuse" if u < 0.55 else None
            lead = int(rng.integers(15, 151))
        if rule is None:
            continue
        nd = int(d) - lead
        if nd >= first[a]:
            rows.append((int(a), nd, wrap(sentence(TRIGGERS[rule])), rule, "positive"))
    # noise triggers and hard negatives on random accounts at random paying days
    live = np.flatnonzero(paid & (last > first))
    n_noise = len(pl.acct) // 6 + 1
    n_hard = len(pl.acct) // 5 + 1
    for count, pools, kind_ in ((n_noise, TRIGGERS, "positive"), (n_hard, HARD_NEGATIVES, "hard_negative")):
        names = list(pools)
        for a in rng.choice(live, size=min(count, len(live) * 3), replace=True) if len(live) else []:
            rule = names[int(rng.integers(0, len(names)))]
            nd = int(first[a] + rng.integers(0, max(int(last[a] - first[a]), 1)))
            rows.append((int(a), nd, wrap(sentence(pools[rule])), rule, kind_))
    # one note per (account, date, author): authors are the account's CSM-like names
    author_pool = np.array([f"{n} ({r})" for n in NAMES for r in ("CSM", "AE")], dtype=object)
    acct = np.array([r[0] for r in rows], np.int64)
    day = np.minimum(np.array([r[1] for r in rows], np.int64), as_of)
    author = author_pool[(acct * 7 + rng.integers(0, 3, len(rows))) % len(author_pool)]
    order = np.lexsort((np.arange(len(rows)), day, acct))
    seen: set[tuple[int, int, str]] = set()
    keep: list[int] = []
    for i in order:
        key = (int(acct[i]), int(day[i]), str(author[i]))
        if key not in seen:
            seen.add(key)
            keep.append(int(i))
    kept = np.array(keep, np.int64)
    ids = book.ids_of(acct[kept])
    texts = [rows[i][2] for i in kept]
    source = np.array(["call", "email", "note"], dtype=object)[rng.integers(0, 3, len(kept))]
    notes = pa.table(
        {
            "account_id": ids,
            "date": _date(day[kept]),
            "author": pa.array(author[kept].tolist(), pa.string()),
            "source": pa.array(source.tolist(), pa.string()),
            "text": pa.array(texts, pa.string()),
        }
    )
    lab = [j for j, i in enumerate(kept) if rows[i][3] is not None]
    sel = pa.array(lab, pa.int64())
    labels = pa.table(
        {
            "account_id": notes["account_id"].take(sel),
            "date": notes["date"].take(sel),
            "author": notes["author"].take(sel),
            "rule": pa.array([rows[kept[j]][3] for j in lab], pa.string()),
            "polarity": pa.array([POLARITY[str(rows[kept[j]][3])] for j in lab], pa.string()),
            "kind": pa.array([rows[kept[j]][4] for j in lab], pa.string()),
            "text": notes["text"].take(sel),
        }
    )
    return notes, labels
