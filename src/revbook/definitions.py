"""What revbook's words mean, kept once: every surface renders its definitions from here.

The movement kinds, the health bands, the lifecycle (RUM) stages, the default ARR bands and the
glossary: one :class:`Term` per defined term, with the wording each surface prints of it. The
dashboard's Definitions page and "?" tooltips and the HTML report print ``label`` and ``text``
(:data:`GLOSSARY` and :data:`CS_GLOSSARY` list which, in order); the workbook's Definitions sheet
prints ``sheet_label`` and ``sheet_text`` (:data:`WORKBOOK`), worded for its formulas; the CLI
headline prints ``headline_label`` and ``headline_text`` (:data:`HEADLINE`). docs/definitions.md
has the full text with worked examples, and a test holds it to this module.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .benchmarks import summary as benchmark_bands

__all__ = [
    "ARR_BAND_EDGES",
    "CS_GLOSSARY",
    "GAINS",
    "GLOSSARY",
    "HEADLINE",
    "HEALTH_BANDS",
    "HEALTH_CANCEL_CAP",
    "HEALTH_GREEN",
    "HEALTH_YELLOW",
    "IDENTITY",
    "JOURNEY_STAGES",
    "LOSSES",
    "LOSSES_SQL",
    "MOVEMENTS",
    "MOVEMENT_KINDS",
    "NO_CSM",
    "NO_CSM_VALUES",
    "NO_VALUE",
    "STAGES",
    "STAGE_FLOW",
    "TERMS",
    "TO_DATE",
    "UNKNOWN_BAND",
    "UNMANAGED",
    "WORKBOOK",
    "Movement",
    "Term",
    "band_labels",
    "glossary",
]


# -- movements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One kind of MRR movement of an account between two snapshots."""

    kind: str
    #: the waterfall's and the glossary's name
    label: str
    #: the name of a narrow column (the CLI's movements table)
    short: str
    #: how its account count is named: ``{counted}_accounts``
    counted: str
    #: +1 when it adds to MRR, -1 when it takes away; its amount is always positive
    sign: int


MOVEMENTS: dict[str, Movement] = {
    m.kind: m
    for m in (
        Movement("new", "New", "new", "new", 1),
        Movement("reactivation", "Reactivation", "reactiv.", "reactivated", 1),
        Movement("expansion", "Expansion", "expansion", "expanded", 1),
        Movement("contraction", "Contraction", "contract.", "contracted", -1),
        Movement("churn", "Churn", "churn", "churned", -1),
    )
}
MOVEMENT_KINDS = tuple(MOVEMENTS)
GAINS = tuple(k for k, m in MOVEMENTS.items() if m.sign > 0)
LOSSES = tuple(k for k, m in MOVEMENTS.items() if m.sign < 0)
#: the losses as the items of a SQL list: 'contraction', 'churn'
LOSSES_SQL = ", ".join(f"'{k}'" for k in LOSSES)
#: the movement identity, every period and slice, to the cent
IDENTITY = "start " + " ".join(f"{'+' if m.sign > 0 else '−'} {k}" for k, m in MOVEMENTS.items()) + " = end"


# -- health bands ----------------------------------------------------------------------------

#: the composite health score's default band edges: green at or above, yellow at or above, red below
HEALTH_GREEN = 57.0
HEALTH_YELLOW = 47.0
#: a requested cancellation caps the composite score here, in the red band (``[health] cancel_cap``)
HEALTH_CANCEL_CAP = 30.0
UNKNOWN_BAND = "unknown"
#: worst first, then the band of an account without data
HEALTH_BANDS = ("red", "yellow", "green", UNKNOWN_BAND)


def _edge(v: float) -> str:
    return f"{v:g}"


# -- lifecycle stages ------------------------------------------------------------------------

#: the lifecycle stages of a paying account (revbook.rum), in the order of the customer's life
STAGES = ("onboarding", "adoption", "expansion window", "renewal window")
#: a stage flow's ends: not yet paying at the start, no longer paying at the end
STAGE_FLOW = ("new", *STAGES, "churned")
#: the team of an account no CSM owns (pooled, tech touch)
UNMANAGED = "unmanaged"
#: the data value of a slice column where an account has no value (no CSM, no segment, ...)
NO_VALUE = "(none)"
#: the one word the dashboard and the report show for an account no CSM owns, whatever the data value
#: (``"(none)"`` in a metric's slice columns, :data:`UNMANAGED` as RUM's team, empty); the data keep theirs
NO_CSM = "unassigned"
#: the data values shown as :data:`NO_CSM`
NO_CSM_VALUES = (NO_VALUE, UNMANAGED)


def owner_shown(owner: Any) -> Any:
    """An owner column's value as a surface shows it: :data:`NO_CSM` for the data values of no CSM
    (:data:`NO_CSM_VALUES`), any other value as it is."""
    return NO_CSM if owner in NO_CSM_VALUES else owner


#: what the surfaces add to the label of a period that the as-of date cuts short ("2026-11 to date")
TO_DATE = "to date"


# -- the customer decision journey ---------------------------------------------------------

#: the stages of an account's decision journey towards an offering it does not own yet (an account
#: plan's offerings, revbook.plans), in order: knows of it, knows what it does, weighs it, buys it,
#: stays and renews it
JOURNEY_STAGES = ("awareness", "familiarity", "consideration", "purchase", "loyalty")


# -- ARR bands -------------------------------------------------------------------------------

#: the default edges of the arr_band slice, in the reporting currency (revbook.toml ``arr_bands``)
ARR_BAND_EDGES = (10_000, 50_000, 250_000)


def band_labels(edges: Sequence[int]) -> list[str]:
    """The arr_band slice's labels: ``(10000, 50000)`` -> ``["< 10k", "10k-50k", "50k+"]``."""

    def k(v: int) -> str:
        return f"{v // 1000}k" if v % 1000 == 0 else f"{v:,}"

    labels = [f"< {k(edges[0])}"]
    labels += [f"{k(a)}-{k(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f"{k(edges[-1])}+")
    return labels


# -- the glossary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One defined term and the wording each surface prints of it ("" where a surface has none)."""

    key: str
    label: str
    #: the glossary's definition: the dashboard, its tooltips, the HTML report
    text: str = ""
    #: the workbook's Definitions sheet, when it names the term otherwise than ``label``
    sheet_label: str = ""
    #: the workbook's definition, in the terms of its formulas
    sheet_text: str = ""
    #: the CLI headline's row label
    headline_label: str = ""
    #: the CLI headline's one-line explanation
    headline_text: str = ""


_MOVEMENT_TEXT = {
    "new": (
        "An account's first MRR ever: 0 at the previous snapshot, never positive before.",
        "0 → positive, never positive before: the new MRR.",
    ),
    "reactivation": (
        "MRR again after a snapshot at zero, having paid before.",
        "0 → positive, positive at some earlier snapshot: the new MRR.",
    ),
    "expansion": ("MRR higher than at the previous snapshot.", "positive → higher: the increase (end − start)."),
    "contraction": (
        "MRR lower than at the previous snapshot, still above zero.",
        "positive → lower, still positive: the decrease (start − end).",
    ),
    "churn": (
        "MRR to zero, dated when the paid service ends, not when cancellation is asked for.",
        "positive → 0: the previous MRR.",
    ),
}

_TERMS = (
    Term(
        "arr",
        "ARR",
        "Annual recurring revenue: 12 × MRR on the period's snapshot (the as-of date for the last period).",
        sheet_text="12 × MRR.",
        headline_label="ARR",
        headline_text="12 x MRR on the as-of date",
    ),
    Term(
        "mrr",
        "MRR",
        "Sum of an account's subscription lines active on the snapshot date (start ≤ d < end), each normalised "
        "to a month, after discounts, before tax, in the reporting currency, rounded once (half-even).",
        sheet_label="MRR of an account",
        sheet_text="The sum of its active subscription lines, each normalised to a month, after discounts, before "
        "tax, in the reporting currency, rounded half-even once to the cent.",
        headline_label="MRR",
        headline_text="sum of active lines, normalised to a month",
    ),
    Term(
        "snapshot",
        "Period snapshot",
        sheet_text="MRR on the last calendar day of the period (the as-of date for the last period).",
    ),
    Term(
        "accounts",
        "Paying accounts",
        "Accounts with MRR above zero on the snapshot. Trials are not paying.",
        headline_label="paying accounts",
        headline_text="MRR above zero",
    ),
    Term(
        "nrr",
        "NRR",
        "Net revenue retention (cohort): the accounts paying at the window's start; their MRR at the window's "
        "end over their MRR at the start, whatever happened between.",
        sheet_text="Σ MRR at e of the cohort / Σ MRR at e − w of the cohort.",
        headline_label="NRR, 12 months",
        headline_text="MRR now of accounts paying 12 months ago / their MRR then",
    ),
    Term(
        "grr",
        "GRR",
        "Gross revenue retention: as NRR, with each account capped at its start MRR, so expansion cannot hide "
        "churn or contraction (GRR ≤ 100% and GRR ≤ NRR).",
        sheet_text="Σ min(MRR at e, MRR at e − w) / Σ MRR at e − w (≤ 100%, ≤ NRR).",
        headline_label="GRR, 12 months",
        headline_text="the same, each account capped at its MRR then",
    ),
    Term(
        "logo_retention",
        "Logo retention",
        "The share of the window's starting accounts still paying at its end.",
        sheet_text="Cohort accounts with MRR at e / cohort accounts.",
        headline_label="logo retention, 12 months",
        headline_text="share of those accounts still paying",
    ),
    Term(
        "quick_ratio",
        "Quick ratio",
        "(new + reactivation + expansion) / (contraction + churn) over the window.",
        headline_label="quick ratio, 12 months",
        headline_text="(new + reactivation + expansion) / (contraction + churn)",
    ),
    Term(
        "gross_revenue_churn",
        "Gross revenue churn",
        "(churn + contraction) over the window / the MRR at its start: what the book lost, before any "
        "expansion (new accounts' losses included).",
        headline_label="gross revenue churn, 12 months",
        headline_text="(churn + contraction) / MRR 12 months ago",
    ),
    Term(
        "benchmarks",
        "Benchmarks",
        f"Bands beside the 12-month figures ({benchmark_bands()}; a year's churn is converted to a month, "
        "compounded) and the published median of the book's ACV band (the median ARR per paying account), "
        "with its source and year, at the source's precision.",
    ),
    Term(
        "window",
        "Window",
        "Retention is measured over trailing windows of 1, 3 or 12 months; 12 is the headline. Each account "
        "is counted in the slice (segment, CSM, ...) it had when the window opened.",
    ),
    Term(
        "retention_cohort",
        "Cohort",
        sheet_label="Cohort (window w ending at month e)",
        sheet_text="Every account with MRR > 0 on the snapshot of month e − w.",
    ),
    *(
        Term(k, m.label, _MOVEMENT_TEXT[k][0], sheet_label=k, sheet_text=_MOVEMENT_TEXT[k][1])
        for k, m in MOVEMENTS.items()
    ),
    Term(
        "movements",
        "MRR movements",
        f"Each account's snapshot compared with its previous one. Identity, exact to the cent: {IDENTITY}.",
    ),
    Term(
        "identity",
        "Identity",
        sheet_text=f"{IDENTITY}, every period, to the cent.",
    ),
    Term(
        "slice",
        "Slice",
        "Segment, region, industry, CSM (owner), team, plan, cohort or ARR band, as of the period's start "
        "(a new account: its first snapshot). An account that changes slice is a transfer out of one and into "
        "the other.",
        sheet_label="Slices",
        sheet_text="Segment and owner are the ones the account had at the period's start (a new account: its "
        "first snapshot's).",
    ),
    Term(
        "cohort",
        "Cohort",
        "The month of an account's first MRR (not its created date). A triangle's cell at age k: the cohort's "
        "logo retention (accounts paying k months later / cohort size) or NRR (their MRR then / cohort MRR).",
    ),
    Term(
        "tenure",
        "Tenure",
        "Months from the account's first MRR to the period's snapshot (a churned account: to its last paid snapshot).",
    ),
    Term(
        "data_quality",
        "Data-quality findings",
        "Checks of the loaded data: error (a number would be wrong), warning (a number may not mean what a "
        "reader thinks), info (worth knowing).",
    ),
    # -- Customer Success (revbook.rum, revbook.health; docs/rum.md and docs/health.md in full)
    Term(
        "rum",
        "Revenue under management (RUM)",
        "The ARR of paying accounts on a date split by lifecycle stage, expansion potential band and risk band; "
        "managed when a CSM owns the account on the date, unmanaged (pooled, tech-touch) otherwise. Churned "
        "accounts (paid in the 90 days before, not on the date) are shown beside it, not in it.",
    ),
    Term(
        "stage_onboarding",
        "Onboarding",
        "Its onboarding milestones are not all reached (without milestones loaded: it first paid fewer than "
        "onboarding_days, 90, ago).",
    ),
    Term("stage_adoption", "Adoption", "Onboarded, not in a renewal window and not ready to expand."),
    Term(
        "stage_expansion_window",
        "Expansion window",
        "Onboarded, health not red, and seat utilisation at least 85%, or usage above its plan's tier, or an "
        "open expansion deal.",
    ),
    Term(
        "stage_renewal_window",
        "Renewal window",
        "A running line's contract ends within renewal_window_days (90); this stage comes first.",
    ),
    Term(
        "potential",
        "Expansion potential",
        "Seat whitespace + usage above the plan's tier (the upgrade) + cross-sell (products most accounts of its "
        "segment own) + open expansion opportunities, in ARR; band high at 25% of the account's ARR or more, "
        "medium at 10%.",
    ),
    Term("arr_at_risk", "ARR at risk", "The ARR of accounts whose risk band is high (health band red)."),
    Term(
        "health_score",
        "Health score",
        "0-100, the weighted mean of the components an account has data for (usage 25%, utilisation 20%, "
        f"engagement, support and sentiment 15% each, milestones 10%); green ≥ {_edge(HEALTH_GREEN)}, "
        f"yellow ≥ {_edge(HEALTH_YELLOW)}, red below. "
        "Drivers: the components losing the most points (weight × (100 − component)).",
    ),
    Term(
        "expected_renewal",
        "Expected renewal ARR",
        "For accounts in the renewal window: ARR × (1 + p × g1 + (1 − p) × g0), p the logistic model's "
        "probability of a churn or contraction within the window, g1 / g0 the mean MRR change of training rows "
        "with / without one. Trend: growth above +2%, contraction below −2%, else flat.",
    ),
    Term(
        "stage_flow",
        "Stage flow",
        "Each account's stage on two dates: new (not paying at the start), churned (not paying at the end, ARR "
        "0); ARR at the start and at the end of each from → to pair.",
    ),
    Term(
        "backtest",
        "Health backtest",
        "Train on earlier month ends, test on the last month ends whose horizon has run out; on the same test "
        "rows: ROC AUC, PR AUC, the event rate of the riskiest 10% over the base rate (lift), the share of MRR "
        "lost that they hold, and the Brier score.",
    ),
    Term(
        "renewal_book",
        "Renewal book",
        "Accounts with a renewal due in the next days (30/60/90/180-day buckets): ARR, likelihood = 1 − the "
        "renewal outlook's probability of a churn or contraction, expected ARR = ARR × likelihood, committed by a "
        "renewal deal in commit or won, a meeting's outcome or a note, risk reasons and the last touch.",
    ),
    Term(
        "forecast",
        "NRR forecast",
        "Expected NRR, GRR and logo retention of the accounts paying today over the next 3, 6 and 12 months: "
        "each account's churn or contraction drawn with the renewal outlook's probability (scaled to the horizon "
        "and tied to its renewal date), its change drawn from accounts like it in the past, open expansion deals "
        "won at the known win rate; the mean of the draws, with the central 80% of them. Backtested on past "
        "month ends against what happened and against the trailing ratio.",
    ),
    Term(
        "account_plan",
        "Account plan",
        "A VIP account's plan ([vip] rules: an ARR band, segments or a list): challenges, goals, KPIs bound to "
        "revbook's live figures with their targets, initiatives, next plays and each offering's stage in the "
        "customer's decision journey, every change kept as a dated version.",
    ),
)
TERMS: dict[str, Term] = {t.key: t for t in _TERMS}

#: the revenue terms of the dashboard and the HTML report, in the order their glossary lists them
GLOSSARY = (
    "arr",
    "mrr",
    "accounts",
    "nrr",
    "grr",
    "logo_retention",
    "quick_ratio",
    "gross_revenue_churn",
    "benchmarks",
    "window",
    *MOVEMENT_KINDS,
    "movements",
    "slice",
    "cohort",
    "tenure",
    "data_quality",
)
#: the Customer Success terms the dashboard lists after :data:`GLOSSARY`
CS_GLOSSARY = (
    "rum",
    *(f"stage_{s.replace(' ', '_')}" for s in STAGES),
    "potential",
    "arr_at_risk",
    "health_score",
    "expected_renewal",
    "stage_flow",
    "backtest",
    "renewal_book",
    "forecast",
    "account_plan",
)
#: the rows of the workbook's Definitions sheet
WORKBOOK = (
    "mrr",
    "snapshot",
    *MOVEMENT_KINDS,
    "identity",
    "retention_cohort",
    "nrr",
    "grr",
    "logo_retention",
    "arr",
    "slice",
)
#: the rows of the CLI headline
HEADLINE = ("arr", "mrr", "accounts", "nrr", "grr", "logo_retention", "quick_ratio", "gross_revenue_churn")


def glossary(keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """key -> (label, text) of the glossary terms ``keys``, in their order."""
    return {k: (TERMS[k].label, TERMS[k].text) for k in keys}
