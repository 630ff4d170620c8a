"""Renewal dates known on a scoring date, and the contract ends that cannot be known then.

Exports often hold current values: a ``subscriptions.contract_end_date`` repeated on every row of an
account is the end of the term in force at export time, not of the term a past row belonged to.
Read on a past scoring date it tells the outcome (a churned account's rows all carry the day it
left). So, under ``[lifecycle] contract_end = "own_term"`` (the default), a row's contract end is
known on a scoring date only where it ends the row's own term: the row is still open (no end_date:
its term is the one in force now) or the contract end lies within the row's life
(start_date < contract_end_date <= end_date). Any other contract end (after the row's own end, or
not after its start) is ignored on every date, and ``check`` reports it
(:func:`revbook.quality.current_state_findings`).

A running line's renewal date on a date *d* is then the first of, each only when after *d*:

- its contract end, where known as above;
- otherwise, for a line billed in periods of 12 months or more, the end of its billing cycle after
  *d* (start + k x billing_period_months; a yearly line renews on its anniversaries);
- and, for the account, a renewal date recorded in ``account_history`` (attribute ``renewal_date``,
  its value a date): the latest such row with ``valid_from`` on or before *d*, so a CRM's renewal
  field exported with its history is read as it stood on *d*, never as it stands now.

``days_to_renewal`` is the days from *d* to the nearest of them over the account's running lines and
its history; NULL for month-to-month accounts with no recorded renewal date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..contract import RENEWAL_ATTRIBUTE
from ..quality import OWN_TERM

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["OWN_TERM", "RENEWAL_ATTRIBUTE", "ignored_contract_ends", "renewals_sql"]


def renewals_sql(subscriptions: str, dates: str, *, rule: str = "own_term", history: str = "account_history") -> str:
    """SELECT score_date, account_id, days_to_renewal: every account with a known renewal date
    after one of the ``dates`` (a relation with a ``score_date`` column); ``history`` is the
    account_history relation whose ``renewal_date`` rows count as they stood on each date."""
    trusted = "s.contract_end_date IS NOT NULL" + ("" if rule == "as_exported" else f" AND {OWN_TERM}")
    bp = "TRY_CAST(s.billing_period_months AS INTEGER)"
    cycle = f"""CASE WHEN {bp} >= 12 AND {bp} = s.billing_period_months THEN CAST(s.start_date
                     + to_months(CAST((floor(date_sub('month', s.start_date, d.score_date) / {bp}) + 1) * {bp}
                                 AS INTEGER)) AS DATE) END"""
    lines = f"""
        SELECT d.score_date, s.account_id,
               CASE WHEN {trusted} THEN CASE WHEN s.contract_end_date > d.score_date THEN s.contract_end_date END
                    ELSE {cycle} END AS renews_on
        FROM {dates} d JOIN {subscriptions} s
          ON s.start_date <= d.score_date AND (s.end_date IS NULL OR s.end_date > d.score_date)
         AND NOT coalesce(s.is_trial, false)
        UNION ALL
        SELECT d.score_date, h.account_id, arg_max_null(TRY_CAST(h.value AS DATE), h.valid_from) AS renews_on
        FROM {dates} d JOIN {history} h ON h.attribute = '{RENEWAL_ATTRIBUTE}' AND h.valid_from <= d.score_date
        GROUP BY ALL"""
    return f"""
        SELECT score_date, account_id, min(date_diff('day', score_date, renews_on)) AS days_to_renewal
        FROM ({lines}) r WHERE renews_on > score_date GROUP BY ALL"""


def ignored_contract_ends(ws: Store) -> tuple[int, str]:
    """How many paid subscription rows have a contract_end_date that does not end their own term
    (ignored under the default rule), and one example ("" when none)."""
    if "contract_end_date" not in ws.con.execute("SELECT * FROM subscriptions LIMIT 0").to_arrow_table().column_names:
        return 0, ""  # pragma: no cover - the canonical table always has the column
    first = ws.count_and_first(
        f"""SELECT s.account_id || ' ' || s.subscription_id || ': ' || CAST(s.start_date AS VARCHAR)
                   || '..' || coalesce(CAST(s.end_date AS VARCHAR), 'open') || ', contract_end_date '
                   || CAST(s.contract_end_date AS VARCHAR), s._row
            FROM subscriptions s
            WHERE s.contract_end_date IS NOT NULL AND NOT coalesce(s.is_trial, false) AND NOT ({OWN_TERM})""",
        "2",
    )
    return (first[0], str(first[1][0])) if first else (0, "")
