"""Catalogue metrics of expansion deals: deal size and the self-serve share (docs/definitions.md)."""

from __future__ import annotations

from .context import Context, Spec, count_of, names, rate, sum_of

__all__ = ["expansion_deal_size", "self_serve_upsell"]


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
            ("deals", count_of()),
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
            ("deals", count_of()),
            ("self_serve_deals", count_of("self_serve")),
            rate("self_serve_deal_share", count_of("self_serve"), count_of()),
            ("arr", "sum(arr_delta)"),
            ("self_serve_arr", sum_of("arr_delta", "self_serve")),
            rate("self_serve_arr_share", sum_of("arr_delta", "self_serve"), "sum(arr_delta)"),
        ],
    )
