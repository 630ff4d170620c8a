"""Concentration and masking: how much of a book's retention a few accounts carry, and how much churn
its expansion hides (docs/concentration.md).

Over the trailing window of ``window`` months ending at the as-of date, the cohort is the one of
:mod:`revbook.metrics.retention`: every account paying on the snapshot of the window's start month, in
the slice it had then. Each member's start and end MRR go through the one cohort step
(:func:`~revbook.metrics.retention.cohort_step`, :func:`~revbook.metrics.retention.cohort_rates`), so
NRR, GRR and logo retention here are metrics.retention's, to the cent. Beside them, in ARR (12 x MRR):

    lost        = churn + contraction = start - retained          (what GRR misses)
    expansion   = end - retained = sum of each account's rise      (the GRR-NRR gap, in ARR)
    masked      = min(lost, expansion)                             (the loss that expansion covers)
    top N       = the N accounts with the largest rise (ties: account id), and their share of expansion
    NRR without the top N = the cohort's NRR with those accounts removed, from the start and the end
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..config.concentration import tops as checked_tops
from ..config.concentration import window_months as checked_window
from ..frame import Frame
from ..metrics.book import book_of
from ..metrics.movements import money
from ..metrics.retention import cohort_rates, cohort_step
from ..metrics.tables import slice_columns

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "Alert",
    "alerts",
    "amount_text",
    "concentration",
    "masking_sentence",
    "percent_text",
    "with_cents",
]


def _share(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / CAST(nullif({den}, 0) AS DOUBLE)"


def concentration_sql(store: Store, window: int, tops: Sequence[int], dims: Sequence[str]) -> str:
    """One row per slice of the cohort of the window of ``window`` months ending at the as-of month."""
    book = book_of(store)
    snap = book.snapshots("month")
    slices = book.slices("month", dims)
    periods, _, last = book.spine("month")
    mu = store.config.minor_units
    d_sl = "".join(f", sl.{d}" for d in dims)
    d_plain = "".join(f", {d}" for d in dims)
    part = f"PARTITION BY {', '.join(dims)} " if dims else ""
    end_mrr, retained_mrr, retained_n = cohort_step("start_mrr", "end_mrr")
    nrr, grr, logo = cohort_rates("start_mrr", "end_mrr", "retained_mrr", "start_accounts", "retained_accounts")
    tops_sums = []
    for n in tops:
        top = f"expansion_rank <= {n}"
        rest = f"(expansion_rank IS NULL OR expansion_rank > {n})"
        tops_sums.append(
            f"sum(CASE WHEN {top} THEN end_mrr - start_mrr ELSE 0 END) AS top_{n}_expansion,"
            f" sum(CASE WHEN {rest} THEN start_mrr ELSE 0 END) AS start_wo_{n},"
            f" sum(CASE WHEN {rest} THEN end_mrr ELSE 0 END) AS end_wo_{n},"
            f" sum(CASE WHEN {rest} THEN retained_mrr ELSE 0 END) AS retained_wo_{n}"
        )
    tops_cols = [
        *(f"{_share(f'end_wo_{n}', f'start_wo_{n}')} AS nrr_without_top_{n}" for n in tops),
        *(f"{_share(f'retained_wo_{n}', f'start_wo_{n}')} AS grr_without_top_{n}" for n in tops),
        *(f"{_share(f'top_{n}_expansion', 'expansion')} AS top_{n}_expansion_share" for n in tops),
        *(f"{money(f'12 * top_{n}_expansion', mu)} AS top_{n}_expansion_arr" for n in tops),
    ]
    return f"""
    WITH cohort AS (
        SELECT s.account_id{d_sl}, s.mrr AS start_mrr, coalesce(e.mrr, 0) AS end_mrr
        FROM {snap} s
        JOIN {slices} sl ON sl.account_id = s.account_id AND sl.period = s.period
        LEFT JOIN {snap} e ON e.account_id = s.account_id AND e.period = {last}
        WHERE s.period = {last - window}
    ),
    stepped AS (
        SELECT account_id{d_plain}, start_mrr, {end_mrr} AS end_mrr, {retained_mrr} AS retained_mrr,
               {retained_n} AS retained_n,
               CASE WHEN end_mrr > start_mrr THEN row_number() OVER (
                   {part}ORDER BY end_mrr - start_mrr DESC, account_id) END AS expansion_rank
        FROM cohort
    ),
    sums AS (
        SELECT {", ".join(dims) + ", " if dims else ""}count(*) AS start_accounts, sum(retained_n) AS retained_accounts,
               sum(start_mrr) AS start_mrr, sum(end_mrr) AS end_mrr, sum(retained_mrr) AS retained_mrr,
               sum(CASE WHEN end_mrr = 0 THEN start_mrr ELSE 0 END) AS churn,
               sum(CASE WHEN end_mrr > 0 AND end_mrr < start_mrr THEN start_mrr - end_mrr ELSE 0 END) AS contraction,
               sum(end_mrr - retained_mrr) AS expansion,
               sum(CASE WHEN end_mrr > start_mrr THEN 1 ELSE 0 END) AS expanding_accounts,
               {", ".join(tops_sums)}
        FROM stepped
        {"GROUP BY " + ", ".join(dims) if dims else ""}
        HAVING count(*) > 0
    )
    SELECT p.label AS period, p.period_end, w.period_end AS window_start, {window} AS window_months{d_plain},
           CAST(start_accounts AS BIGINT) AS start_accounts, CAST(retained_accounts AS BIGINT) AS retained_accounts,
           CAST(expanding_accounts AS BIGINT) AS expanding_accounts,
           {nrr} AS nrr, {grr} AS grr, {logo} AS logo_retention,
           {money("12 * start_mrr", mu)} AS start_arr, {money("12 * end_mrr", mu)} AS end_arr,
           {money("12 * retained_mrr", mu)} AS retained_arr,
           {money("12 * churn", mu)} AS churn_arr, {money("12 * contraction", mu)} AS contraction_arr,
           {money("12 * (start_mrr - retained_mrr)", mu)} AS lost_arr,
           {money("12 * expansion", mu)} AS expansion_arr,
           {money("12 * least(start_mrr - retained_mrr, expansion)", mu)} AS masked_arr,
           {", ".join(tops_cols)}
    FROM sums
    JOIN {periods} p ON p.period = {last}
    JOIN {periods} w ON w.period = {last - window}
    ORDER BY {", ".join(dims) if dims else "1"}
    """


def concentration(
    store: Store,
    *,
    window: int | None = None,
    tops: Sequence[int] | None = None,
    by: str | Sequence[str] | None = None,
) -> Frame:
    """NRR, GRR and logo retention of the trailing ``window`` months (default ``[concentration]
    window_months``) ending at the as-of date, per slice of ``by`` (fixed at the window's start), with
    the ARR lost to churn and contraction, the gross expansion, the part of the loss it masks, and for
    each N of ``tops`` (default ``[concentration] tops``): the top N expanding accounts' expansion and
    share of it, and NRR and GRR without them. A ``sentence`` column says it in words
    (:func:`masking_sentence`). One row per slice with accounts paying at the window's start; none when
    the data start after it."""
    settings = store.config.concentration
    months = checked_window(settings.window_months if window is None else window)
    counts = checked_tops(list(settings.tops if tops is None else tops))
    dims = slice_columns(by)
    # a window that opens before the first period joins no period: no rows
    table = book_of(store).engine.arrow(concentration_sql(store, months, counts, dims))
    sentences = [
        masking_sentence(
            start_arr=r["start_arr"],
            retained_arr=r["retained_arr"],
            end_arr=r["end_arr"],
        )
        for r in table.select(["start_arr", "retained_arr", "end_arr"]).to_pylist()
    ]
    return Frame("concentration", table.append_column("sentence", pa.array(sentences, pa.string())))


def amount_text(value: Decimal | int, *, cents: bool | None = None) -> str:
    """An amount as a sentence prints it, exactly: thousands separators, and two decimals (or the
    value's own, when it has more) when ``cents``, by default when it has a fraction. A sentence
    passes one ``cents`` for all its figures (:func:`with_cents`), so that they print alike."""
    d = Decimal(value)
    if cents is None:
        cents = d != d.to_integral_value()
    if not cents:
        return f"{d:,.0f}"
    exponent = d.as_tuple().exponent
    return f"{d:,.{max(2, -exponent if isinstance(exponent, int) else 2)}f}"


def with_cents(*values: Decimal | int) -> bool:
    """Whether any of ``values`` has a fraction: then a sentence prints all of them with cents."""
    return any(Decimal(v) != Decimal(v).to_integral_value() for v in values)


def percent_text(value: float | None) -> str:
    """A rate as a sentence prints it: one decimal (106.0%), or a dash when there is none."""
    return "–" if value is None else f"{value * 100:.1f}%"


def masking_sentence(*, start_arr: Decimal, retained_arr: Decimal, end_arr: Decimal) -> str:
    """What expansion does to the headline, in the words a leader needs, from three figures of a
    cohort: its ARR at the start, the part of it kept (each account capped at its start) and its ARR
    at the end. Lost = start - kept (churn and contraction); expansion = end - kept; expansion masks
    min(lost, expansion). When expansion is below the loss it covers only part of it and NRR is
    below 100%; the sentence says how much is left uncovered."""
    start, kept, end = Decimal(start_arr), Decimal(retained_arr), Decimal(end_arr)
    if start <= 0:
        return "no accounts were paying at the window's start"
    lost, expansion = start - kept, end - kept
    cents = with_cents(start, kept, end)

    def money(value: Decimal) -> str:
        return amount_text(value, cents=cents)

    nrr, grr = percent_text(float(end / start)), percent_text(float(kept / start))
    book = f"the book of {money(start)} renewed {money(kept)} (GRR {grr})"
    if lost == 0:
        if expansion == 0:
            return f"nothing was lost to churn or contraction and nothing expanded: {book}, NRR {nrr}"
        return (
            "nothing was lost to churn or contraction, so expansion masks nothing:"
            f" {book} and expanded {money(expansion)} (NRR {nrr})"
        )
    if expansion == 0:
        return f"no expansion masks the {money(lost)} lost to churn and contraction: {book}, and NRR is GRR, {nrr}"
    if expansion >= lost:
        return (
            f"expansion is masking {money(lost)} of churn and contraction: {book} and expanded"
            f" {money(expansion)}, so NRR reads {nrr}"
        )
    return (
        f"expansion covers {money(expansion)} of the {money(lost)} lost to churn and contraction,"
        f" leaving {money(lost - expansion)} uncovered: {book} and expanded {money(expansion)}"
        f" (NRR {nrr})"
    )


@dataclass(frozen=True)
class Alert:
    """A headline that misleads: its code, ``warning`` or ``info``, a sentence, and the figures behind
    it (with the slice's values when the table is sliced)."""

    code: str
    severity: str
    sentence: str
    figures: Mapping[str, Any] = field(default_factory=dict)


#: the alert codes, each with its severity and what it means (docs/concentration.md)
ALERTS: Mapping[str, tuple[str, str]] = {
    "nrr_carried_by_few": ("warning", "NRR is at or above 100% only because of its top N expanding accounts"),
    "expansion_concentrated": ("info", "the top N accounts hold more than the set share of gross expansion"),
    "logo_dollar_divergence": ("warning", "logo retention and GRR differ by more than the set number of points"),
}


def alerts(
    store: Store,
    *,
    window: int | None = None,
    by: str | Sequence[str] | None = None,
    frame: Frame | None = None,
) -> list[Alert]:
    """The alerts of the [concentration] thresholds on :func:`concentration` (or on ``frame``, its
    result): per slice with at least ``min_accounts`` accounts in the cohort,

    - ``nrr_carried_by_few``: NRR at or above 100% while NRR without the top N is below it, for the
      smallest N of ``tops`` where that holds;
    - ``expansion_concentrated``: the top ``top_share_accounts`` hold more than ``top_share_max`` of
      gross expansion;
    - ``logo_dollar_divergence``: logo retention and GRR (dollar retention before expansion) differ by
      more than ``logo_divergence``.
    """
    s = store.config.concentration
    tops = tuple(sorted({*s.tops, s.top_share_accounts}))
    table = frame if frame is not None else concentration(store, window=window, tops=tops, by=by)
    rows = table.to_pylist()
    dims = [d for d in slice_columns(by) if d != "owner_name"] if frame is None else _dims_of(table)
    found: list[Alert] = []
    for r in rows:
        if r["start_accounts"] < s.min_accounts:
            continue
        where = {d: r[d] for d in dims}
        label = ", ".join(f"{d} {v}" for d, v in where.items())
        prefix = f"{label}: " if label else ""
        window_text = f"{r['window_months']}-month"
        nrr, grr, logo = r["nrr"], r["grr"], r["logo_retention"]
        carried = [n for n in tops if f"nrr_without_top_{n}" in r and r[f"nrr_without_top_{n}"] is not None]
        if nrr is not None and nrr >= 1:
            for n in carried:
                without = r[f"nrr_without_top_{n}"]
                if without < 1:
                    who = "its top expanding account" if n == 1 else f"its top {n} expanding accounts"
                    found.append(
                        _alert(
                            "nrr_carried_by_few",
                            f"{prefix}{window_text} NRR of {percent_text(nrr)} is carried by {who}:"
                            f" without {'it' if n == 1 else 'them'} NRR is {percent_text(without)}",
                            {**where, "nrr": nrr, f"nrr_without_top_{n}": without, "top": n},
                        )
                    )
                    break
        n = s.top_share_accounts
        share = r.get(f"top_{n}_expansion_share")
        # with N or fewer accounts expanding, the top N hold all of it whatever the book: no alert
        if share is not None and share > s.top_share_max and r["expanding_accounts"] > n:
            who = "the top account holds" if n == 1 else f"the top {n} accounts hold"
            found.append(
                _alert(
                    "expansion_concentrated",
                    f"{prefix}{who} {percent_text(share)} of the {amount_text(r['expansion_arr'])} gross expansion"
                    f" of {r['expanding_accounts']} accounts (above {percent_text(s.top_share_max)})",
                    {**where, "top": n, "share": share, "expansion_arr": r["expansion_arr"]},
                )
            )
        if logo is not None and grr is not None and abs(logo - grr) > s.logo_divergence:
            lower = "small accounts leave" if logo < grr else "large accounts leave"
            found.append(
                _alert(
                    "logo_dollar_divergence",
                    f"{prefix}logo retention {percent_text(logo)} and GRR {percent_text(grr)} differ by"
                    f" {abs(logo - grr) * 100:.1f} points (above {s.logo_divergence * 100:.1f}): {lower}",
                    {**where, "logo_retention": logo, "grr": grr, "nrr": nrr},
                )
            )
    return found


def _dims_of(frame: Frame) -> list[str]:
    from ..metrics.book import DIMENSIONS

    return [c for c in frame.to_arrow().column_names if c in DIMENSIONS]


def _alert(code: str, sentence: str, figures: Mapping[str, Any]) -> Alert:
    return Alert(code, ALERTS[code][0], sentence, dict(figures))
