"""The sample company's text: churn reasons and notes, with their labelled sets.

Called by :mod:`revbook.sample` (builders ``churn_reasons`` and ``notes`` of ``TABLE_BUILDERS``,
switched on by ``SampleConfig(text=True)``) and by :func:`revbook.sample.labels`.

What is planted (documented in docs/churn-reasons.md, kept as labels)
--------------------------------------------------------------------
- **events** come from the sample's own subscription lines, as the ledger will see them: an account's
  month-end MRR (local currency) as a step function; a *churn* is a drop to zero that is not refilled
  the next month (a late renewal is not a churn), dated at the end of the last paid line; a
  *contraction* is a drop of more than 10% that stays above zero, dated at the day the line ended;
  an *expansion* is a rise of more than 10%, dated at the day the larger line started.
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
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from . import Book

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
COMPETITORS = ("Retainio", "Churnly", "Pulsegrid", "Loyalto", "Veritrack")
ACQUIRERS = ("Hollis Group", "Brightline Capital", "Kestrel Holdings", "Marlow Industries", "Oakbridge")
CITIES = ("Austin", "Berlin", "Singapore", "Toronto", "Madrid", "Sydney")
DEPTS = ("finance", "marketing", "operations", "support", "HR", "sales ops")
NAMES = ("Sarah", "Tom", "Priya", "Jonas", "Mei", "Carlos", "Aisha", "Dmitri")
TITLES = ("VP of Operations", "CTO", "CFO", "Head of Customer Experience", "COO")

# -- churn reason comments ---------------------------------------------------------------------
COMMENTS: dict[str, tuple[str, ...]] = {
    "fit": (
        "Not the right fit for how their team works",
        "They realised it was never a good fit for a {n}-person shop",
        "poor fit from the start, sold to the wrong persona",
        "Wrong tool for their use case, they needed something simpler",
        "product didn't match their workflow at all",
        "Too complex for what they do, onboarding never stuck",
        "Not worth it for them, they only needed a spreadsheet",
    ),
    "missing_features": (
        "Missing features they needed, mainly the Salesforce integration",
        "No native integration with their data warehouse",
        "Product lacks custom reporting; on the roadmap for too long",
        "they needed SSO and audit logs which we dont have",
        "Kept asking for the mobile app, never shipped",
        "feature gaps in workflow automation",
        "Needed multi-currency support we don't offer",
        "support said the integration is on the roadmap; they could not wait",
        "Not worth it without the API features",
    ),
    "support": (
        "Unhappy with support response times",
        "Support was slow and tickets bounced between teams",
        "Two escalations went unanswered for a week",
        "Bad experience with our help desk after the outage",
        "felt ignored by the support team",
        "Slow responses to their tickets during onboarding",
        "Support never answered their questions about the missing export",
    ),
    "price": (
        "Too expensive for what they use",
        "Price increase at renewal was too much",
        "Found a cheaper option",
        "Cost too much for a small team, couldn't justify the spend",
        "price went up {p}% and they walked",
        "said we are overpriced compared to alternatives",
        "Pricing per seat doesn't work for them",
        "cant justify the cost anymore",
        "too pricey",
        "Budget is tight and the price went up again",
        "They said a competitor is cheaper",
        "Not worth it anymore",
    ),
    "change_in_needs": (
        "No longer need the product, the project ended",
        "They changed strategy and dropped this use case",
        "Project finished, nothing left to track",
        "Their needs changed after moving to in-house tooling",
        "Don't need it since the team was repurposed",
        "Use case went away",
        "Not worth it anymore since the team changed focus",
    ),
    "financial_struggle": (
        "Company is going out of business",
        "Filed for bankruptcy",
        "Cash flow problems, cutting all non-essential vendors",
        "They are shutting down operations",
        "Insolvency proceedings started",
        "Struggling financially, could not pay the invoices",
        "Had to cut every vendor to survive, business is in trouble",
    ),
    "acquisition": (
        "Acquired by {acq}, moving to the parent's tools",
        "They were bought by {acq} and consolidated vendors",
        "Merger with {acq}; the new parent has its own platform",
        "post-acquisition consolidation",
        "New owners standardised on another stack after the merger",
        "Got acquired, contract not renewed by the parent",
        "New parent company wants one vendor for everything",
        "After the deal closed the buyer moved them to their tools",
    ),
    "champion_left": (
        "Our champion {name} left and nobody picked it up",
        "Main contact left the company",
        "New {title} came in and cut the tool",
        "Champion departed, new leadership didn't see the value",
        "{name} (our sponsor) quit; the team never adopted it after",
        "Lost our champion to a reorg",
        "After our champion left, the new team said it was too expensive",
        "New leadership, new priorities; nobody owns the tool now",
    ),
    "competitor": (
        "Switched to {comp}",
        "Moved to a competitor with better reporting",
        "They went with {comp} after a bake-off",
        "Lost to {comp} on features and price",
        "Competitor offered a bundle we couldn't match",
        "switching to {comp} next quarter",
        "Competitor was cheaper and had better reporting",
        "{comp} gave them a better deal",
    ),
    "budget_cut": (
        "Budget cut across IT",
        "Budget freeze for the rest of the year",
        "Their department budget was cut in half",
        "Cost-cutting program, all tools under review",
        "Spending freeze from the CFO",
        "budget reductions hit the CS tooling line",
        "Budget was cut, so the price no longer made sense",
        "finance told them to drop tools that aren't essential",
    ),
    "unknown": (
        "",
        "No reason given",
        "did not say",
        "Customer declined to give feedback",
        "n/a",
    ),
}
ALIASES: dict[str, tuple[str, ...]] = {
    "fit": ("Poor fit", "bad fit", "Fit"),
    "missing_features": ("Missing features", "Product gaps", "feature gap"),
    "support": ("Support", "Bad support"),
    "price": ("Price", "Pricing", "Too expensive", "price / cost"),
    "change_in_needs": ("Change in needs", "No longer needed"),
    "financial_struggle": ("Financial", "Out of business"),
    "acquisition": ("Acquisition", "Merger", "M&A"),
    "champion_left": ("Champion left", "Champion"),
    "competitor": ("Competitor", "Lost to competitor"),
    "budget_cut": ("Budget", "Budget cut"),
    "unknown": ("Other", "n/a", "Unknown"),
}

# -- notes ---------------------------------------------------------------------------------------
ROUTINE = (
    "Monthly check-in, no issues raised",
    "QBR went well, adoption is steady",
    "Onboarding call with {name}; covered SSO setup",
    "Sent the renewal quote",
    "Walked them through the new reporting dashboard",
    "Ticket about CSV export resolved",
    "Training session for new users scheduled",
    "They asked about API rate limits",
    "Invoice question from their finance team, resolved",
    "Shared the product roadmap webinar",
    "Health check: usage flat, sentiment positive",
    "Followed up on the integration setup",
    "Quick call about permissions for admins",
    "Exec sponsor meeting moved to next month",
)
TRIGGERS: dict[str, tuple[str, ...]] = {
    "acquisition": (
        "They are being acquired by {acq}",
        "Heads up: the merger with {acq} closes next quarter",
        "They were acquired by {acq} last month",
        "Contact mentioned an acquisition by {acq} is in progress",
        "They got bought by {acq}, new parent runs a different stack",
    ),
    "champion_left": (
        "{name}, our champion, is leaving the company next month",
        "Our main contact {name} has left",
        "A new {title} started and is reviewing all vendors",
        "{name} resigned, no clear owner for the account now",
        "Our sponsor {name} is moving on at the end of the month",
    ),
    "budget_cut": (
        "Budget cuts across the department this quarter",
        "Finance announced a spending freeze",
        "Their budget was cut by {p}%",
        "They have to cut costs and are reviewing every subscription",
    ),
    "layoffs_reorg": (
        "They laid off {p}% of staff",
        "Layoffs announced last week",
        "Big reorganisation underway, the team is being restructured",
        "Reorg: the ops team is being folded into finance",
    ),
    "competitor": (
        "They're evaluating {comp}",
        "Saw a demo of {comp} last week, comparing pricing",
        "Procurement asked for a comparison with {comp}",
        "They are trialling {comp} in parallel",
        "They are evaluating other vendors",
    ),
    "underuse": (
        "They're not using all the functionality",
        "Only using about half of the features they pay for",
        "They aren't using the reporting module at all",
        "Low adoption of the advanced features",
        "they dont use most of the features",
    ),
    "new_team": (
        "They're opening a new office in {city}",
        "Launching a new product line next quarter",
        "Expanding into a new region next year",
        "They are building a new team of {n} analysts",
    ),
    "expansion_intent": (
        "Asked for a quote for {n} more seats",
        "Another department wants access",
        "The {dept} team wants to roll it out too",
        "They want to add more licenses",
        "Interested in upgrading to the enterprise plan",
    ),
}
HARD_NEGATIVES: dict[str, tuple[str, ...]] = {
    "acquisition": (
        "We are not being acquired, despite the rumours",
        "Asked what happens to the contract if we were acquired, just due diligence",
        "The merger of two internal teams went fine",
        "Whether or not they get acquired, the contract stands",
        "No acquisition plans, they said",
    ),
    "champion_left": (
        "Our champion {name} is not leaving, she was promoted",
        "If {name} ever left we would need a new sponsor",
    ),
    "budget_cut": ("No budget cuts this year", "Budget was not cut after all", "If budget cuts come, they keep us"),
    "layoffs_reorg": ("There were no layoffs, the team is growing", "If layoffs happen they would keep this tool"),
    "competitor": ("They are not evaluating other vendors", "Never trialled {comp}, happy with us"),
    "expansion_intent": ("No plans to add more seats", "They won't add another department this year"),
    "new_team": ("No new office planned", "If they open a new office in {city} we might talk"),
}


@dataclass
class TextPlan:
    """Events from the lines and the reasons planted on them (arrays, aligned)."""

    acct: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # 0 churn, 1 contraction, 2 expansion
    arr_usd: np.ndarray  # ARR before the event, approximate USD
    lost_usd: np.ndarray  # ARR lost by the event (all of it for a churn), approximate USD
    reason: np.ndarray  # index into REASONS (churn / contraction), -1 for expansions
    has_row: np.ndarray  # a churn_reasons row is recorded


def _events(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(acct, day, kind, mrr_before, mrr_after) in local cents of churns, contractions, expansions.

    See the module docstring for the definitions.
    """
    from . import K_ADDON, K_TRIAL, K_USAGE, NULL, _month_of, running_per_account

    ln = book.lines
    kind = ln["kind"]
    per_seat = (kind != K_ADDON) & (kind != K_USAGE)
    mrr = np.where(
        kind == K_USAGE,
        ln["mrr"],
        np.where(kind == K_ADDON, ln["amount"] / np.maximum(ln["bp"], 1), 0.0),
    ).astype(float)
    seat = ln["unit"] * ln["qty"] / np.maximum(ln["bp"], 1) * (100 - ln["disc"]) / 100
    mrr = np.where(per_seat & (kind != K_TRIAL), seat, mrr)
    mrr = np.where(kind == K_TRIAL, 0.0, mrr)
    ok = mrr > 0
    acct, start, end, mrr = ln["acct"][ok], ln["start"][ok], ln["end"][ok], mrr[ok]
    ends = end != NULL
    e_acct = np.r_[acct, acct[ends]]
    e_month = np.r_[_month_of(start), _month_of(end[ends])]
    e_delta = np.r_[mrr, -mrr[ends]]
    e_start_day = np.r_[start, np.full(ends.sum(), NULL)]
    e_end_day = np.r_[np.full(len(start), NULL), end[ends]]
    o = np.lexsort((e_month, e_acct))
    e_acct, e_month, e_delta = e_acct[o], e_month[o], e_delta[o]
    e_start_day, e_end_day = e_start_day[o], e_end_day[o]
    key = e_acct * 100_000 + e_month
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    grp = np.cumsum(first) - 1
    g_idx = np.flatnonzero(first)
    g_acct, g_month = e_acct[g_idx], e_month[g_idx]
    delta = np.bincount(grp, weights=e_delta) if len(grp) else np.zeros(0)
    last_end = np.full(len(g_idx), NULL, np.int64)
    np.maximum.at(last_end, grp, e_end_day)
    last_start = np.full(len(g_idx), NULL, np.int64)
    np.maximum.at(last_start, grp, e_start_day)
    # the level at each change point, running per account
    new_acct = np.r_[True, g_acct[1:] != g_acct[:-1]] if len(g_acct) else np.zeros(0, bool)
    level = np.round(running_per_account(delta, new_acct), 2)
    prev = np.where(new_acct, 0.0, np.r_[0.0, level[:-1]])
    nxt_same = np.r_[g_acct[1:] == g_acct[:-1], False]
    nxt_month = np.r_[g_month[1:], 0]
    refilled = nxt_same & (nxt_month == g_month + 1)
    churn = (prev > 0) & (level <= 0.5) & ~refilled
    contraction = (prev > 0) & (level > 0.5) & (level < 0.9 * prev)
    expansion = (prev > 0) & (level > 1.1 * prev)
    kind_out = np.where(churn, 0, np.where(contraction, 1, np.where(expansion, 2, -1)))
    day = np.where(kind_out == 2, last_start, last_end)
    keep = (kind_out >= 0) & (day != NULL)
    return g_acct[keep], day[keep], kind_out[keep], prev[keep], level[keep]


def plan(book: Book) -> TextPlan:
    """The events and planted reasons, seeded apart (``[seed, 201]``) and cached on the book."""
    cached = vars(book).get("_text_plan")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from . import _approx_rate

    rng = np.random.default_rng([book.config.seed, 201])
    acct, day, kind, mrr_before, mrr_after = _events(book)
    rate = np.array([_approx_rate(book.config, c) for c in book.config.currencies])[book.currency[acct]]
    arr_usd = mrr_before * 12 / 100 * rate
    lost_usd = np.maximum(mrr_before - mrr_after, 0) * 12 / 100 * rate
    band = np.searchsorted(np.asarray(ARR_BAND_EDGES_USD, float), arr_usd, side="right")
    reason = np.full(len(acct), -1, np.int64)
    for (k, b), mix in REASON_MIX.items():
        m = (kind == (0 if k == "churn" else 1)) & (band == b)
        p = np.asarray(mix) / sum(mix)
        reason[m] = rng.choice(len(REASONS), size=int(m.sum()), p=p)
    recorded = rng.random(len(acct)) < np.where(kind == 0, 0.92, 0.65)
    has_row = (kind < 2) & recorded
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


def _date(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, np.int64).astype(np.int32)).cast(pa.date32())


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
    assert book.account_ids is not None
    ids = book.account_ids.take(pa.array(pl.acct[idx]))
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
            "movement": pa.array(np.where(pl.kind[idx] == 0, "churn", "contraction").tolist(), pa.string()),
            "arr_before_usd": pa.array(np.round(pl.arr_usd[idx], 2)),
            "arr_lost_usd": pa.array(np.round(pl.lost_usd[idx], 2)),
        }
    )
    return table, labels


def notes_table(book: Book, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """The ``notes`` table and its labels (``labels_signals``): see the module docstring."""
    from . import NULL

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
        if kind < 2 and r >= 0 and REASONS[int(r)] in FORESHADOW and rng.random() < 0.65:
            rule = FORESHADOW[REASONS[int(r)]]
            lead = int(rng.integers(20, 171))
        elif kind == 2:
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
    assert book.account_ids is not None
    ids = book.account_ids.take(pa.array(acct[kept])) if len(kept) else pa.array([], pa.string())
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
