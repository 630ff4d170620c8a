"""The catalogue's metrics by name, each with its title, unit, tables, headline and definition."""

from __future__ import annotations

from .context import Metric
from .expansion import expansion_deal_size, self_serve_upsell
from .motions import csm_coverage, escalation_resolution, exec_sponsor_engagement, nps_csat, qbr_conversion
from .onboarding import feature_activation, onboarding_time, product_adoption, time_to_value
from .renewals import multi_year_contract_rate, renewal_rate, trial_to_paid

__all__ = ["METRICS"]


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
