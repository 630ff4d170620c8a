"""Data-quality checks over a loaded workspace, each finding with a severity and what to do.

Severities: ``error`` (a number would be wrong or cannot be computed), ``warning`` (a number
may not mean what a reader thinks), ``info`` (worth knowing). Each finding counts the rows
concerned and shows one example, with the file and row it came from.

The contract checks (``at_load``) run inside every load, before it commits
(:func:`.run.load_findings`, called by ``Workspace.load``): an error rejects the load, a warning is
kept with it. ``revbook check`` (:func:`.run.run_checks`) runs every check over the workspace as it
is and adds what the loads' reads found (padding trimmed, an encoding guessed, ...). This module
declares the checks; :mod:`.run` runs them. docs/loading.md lists each finding and its severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..contract import CRM_ARR_ATTRIBUTE, RENEWAL_ATTRIBUTE, Finding
from ..ledger import FAR_FUTURE

if TYPE_CHECKING:
    pass

__all__ = ["CHECKS", "Check", "Finding"]


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    table: str
    #: SQL returning (example TEXT, file, row) per offending row; may use {as_of}, {rep}
    sql: str
    message: str
    hint: str
    #: the column the example names
    column: str | None = None
    #: a contract check, run by every load (its errors reject the load)
    at_load: bool = False
    #: the other tables it reads
    uses: tuple[str, ...] = ()
    #: what the finding does to the headline figures (ARR, NRR, GRR, ...), "" when it leaves them as
    #: they are; a check with an effect is shown beside the headline (dashboard Overview, report)
    effect: str = ""


def _duplicate_key(table: str, key: tuple[str, ...], differ: str | None = None, where: str = "") -> Check:
    """Rows sharing ``key`` (with more than one ``differ`` among them). The keys are found by
    themselves first and only their rows are read again for the example's file and row: a table
    with no duplicate (the usual case) is grouped once by its key alone."""
    cols = ", ".join(key)
    shown = " || ' / ' || ".join(f"coalesce(CAST(t.{c} AS VARCHAR), '')" for c in key)
    having = f"count(DISTINCT {differ}) > 1" if differ else "count(*) > 1"
    same = " AND ".join(f"d.{c} IS NOT DISTINCT FROM t.{c}" for c in key)
    return Check(
        f"duplicate_{table}_key",
        "error",
        table,
        f"""SELECT {shown} || ' x' || CAST(count(*) AS VARCHAR), min(t._file), min(t._row)
           FROM (SELECT {cols}, _file, _row FROM {table} {where}) t
           JOIN (SELECT {cols} FROM {table} {where} GROUP BY {cols} HAVING {having}) d ON {same}
           GROUP BY {", ".join(f"t.{c}" for c in key)}""",
        f"{cols} appears more than once in {table}" + (f" with different {differ}" if differ else ""),
        f"keep one row per {cols}",
        key[-1],
        True,
    )


#: keys that must be unique (lines without a line_id are numbered by row, so they always are)
KEY_CHECKS: tuple[Check, ...] = (
    _duplicate_key("people", ("owner_id",)),
    _duplicate_key("subscriptions", ("subscription_id", "line_id"), where="WHERE line_id IS NOT NULL"),
    _duplicate_key("invoices", ("invoice_id", "line_id"), where="WHERE invoice_id IS NOT NULL AND line_id IS NOT NULL"),
    _duplicate_key("tickets", ("ticket_id",)),
    _duplicate_key("opportunities", ("opportunity_id",)),
    _duplicate_key("owners", ("account_id", "role", "start_date"), differ="owner_id"),
    _duplicate_key("account_history", ("account_id", "attribute", "valid_from"), differ="coalesce(value, '')"),
)

#: the contract's rules across rows and tables
CONTRACT_CHECKS: tuple[Check, ...] = (
    Check(
        "unknown_parent",
        "warning",
        "accounts",
        """SELECT account_id || ': parent ' || parent_account_id, _file, _row FROM accounts
           WHERE parent_account_id IS NOT NULL AND parent_account_id NOT IN (SELECT account_id FROM accounts)""",
        "parent_account_id names an account that is not in accounts; roll-ups stop at the account itself",
        "load the parent accounts, or leave parent_account_id empty",
        "parent_account_id",
        True,
    ),
    Check(
        "parent_cycle",
        "error",
        "accounts",
        """WITH RECURSIVE walk(start, cur, depth) AS (
             SELECT account_id, parent_account_id, 1 FROM accounts WHERE parent_account_id IS NOT NULL
             UNION ALL
             SELECT w.start, a.parent_account_id, w.depth + 1 FROM walk w JOIN accounts a ON a.account_id = w.cur
             WHERE a.parent_account_id IS NOT NULL AND w.cur <> w.start AND w.depth < 64)
           SELECT a.account_id || ' is its own ancestor (parent ' || a.parent_account_id || ')', a._file, a._row
           FROM accounts a WHERE a.account_id IN (SELECT start FROM walk WHERE cur = start)""",
        "parent_account_id goes round in a circle, so the account has no top parent",
        "break the circle: the top parent's parent_account_id is empty",
        "parent_account_id",
        True,
    ),
    Check(
        "renewal_date_not_a_date",
        "error",
        "account_history",
        f"""SELECT account_id || ': ' || value, _file, _row FROM account_history
           WHERE attribute = '{RENEWAL_ATTRIBUTE}' AND value IS NOT NULL AND TRY_CAST(value AS DATE) IS NULL""",
        f"a {RENEWAL_ATTRIBUTE} value in account_history is not a date",
        "write the renewal date as YYYY-MM-DD (empty when the CRM had none from that day)",
        "value",
        True,
    ),
    Check(
        "crm_arr_not_a_number",
        "error",
        "account_history",
        f"""SELECT account_id || ': ' || value, _file, _row FROM account_history
           WHERE attribute = '{CRM_ARR_ATTRIBUTE}' AND value IS NOT NULL AND trim(value) <> ''
             AND TRY_CAST(trim(value) AS DECIMAL(38, 10)) IS NULL""",
        f"a {CRM_ARR_ATTRIBUTE} value in account_history is not a number",
        "write the CRM's ARR as a decimal in the reporting currency, e.g. 12000.00 (empty when the field was)",
        "value",
        True,
    ),
    Check(
        "paid_before_invoiced",
        "error",
        "invoices",
        """SELECT account_id || ': invoiced ' || CAST(invoice_date AS VARCHAR) || ', paid '
                  || CAST(paid_date AS VARCHAR), _file, _row FROM invoices WHERE paid_date < invoice_date""",
        "an invoice is paid before its invoice date",
        "give the day it was paid in full (on or after its invoice_date), or leave paid_date empty",
        "paid_date",
        True,
    ),
    Check(
        "contract_end_before_start",
        "error",
        "subscriptions",
        """SELECT account_id || ': starts ' || CAST(start_date AS VARCHAR) || ', contract ends '
                  || CAST(contract_end_date AS VARCHAR), _file, _row FROM subscriptions
           WHERE contract_end_date < start_date""",
        "the contract ends before the line starts",
        "fix contract_end_date (or start_date), or leave contract_end_date empty",
        "contract_end_date",
        True,
    ),
    Check(
        "fractional_seats",
        "warning",
        "subscriptions",
        """SELECT account_id || ': ' || CAST(quantity AS VARCHAR) || ' seats', _file, _row FROM subscriptions
           WHERE pricing_model = 'per_seat' AND quantity <> trunc(quantity)""",
        "per-seat lines with a fractional number of seats (priced as given)",
        "check the quantity; seats are whole",
        "quantity",
        True,
    ),
)

CHECKS: tuple[Check, ...] = (
    Check(
        "unknown_account",
        "error",
        "subscriptions",
        """SELECT 'account_id ' || t.account_id, t._file, t._row FROM {table} t
           WHERE t.account_id NOT IN (SELECT account_id FROM accounts)""",
        "rows refer to an account_id that is not in accounts",
        "load the missing accounts, or fix the ids in the child table",
        "account_id",
        True,
        ("accounts",),
        effect="MRR and ARR include them under accounts with no name, segment or region",
    ),
    Check(
        "overlapping_lines",
        "warning",
        "subscriptions",
        f"""SELECT a.account_id || ': ' || coalesce(a.product, '?') || ' lines ' || a.line_key || ' and ' || b.line_key,
                  a._file, a._row
           FROM (SELECT *, subscription_id || '/' || coalesce(line_id, CAST(_row AS VARCHAR)) AS line_key
                 FROM subscriptions) a
           JOIN (SELECT *, subscription_id || '/' || coalesce(line_id, CAST(_row AS VARCHAR)) AS line_key
                 FROM subscriptions) b
             ON a.account_id = b.account_id AND coalesce(a.product, '') = coalesce(b.product, '')
            AND coalesce(a.plan, '') = coalesce(b.plan, '') AND a._row < b._row AND a._file = b._file
            AND a.start_date < coalesce(b.end_date, {FAR_FUTURE}) AND b.start_date < coalesce(a.end_date, {FAR_FUTURE})
            AND NOT coalesce(a.is_trial, false) AND NOT coalesce(b.is_trial, false)""",
        "lines of the same account, product and plan overlap in time, so both count in MRR",
        "if one replaces the other, end the first where the second starts (end_date is exclusive)",
        effect="MRR, ARR and NRR read high (both lines count)",
    ),
    Check(
        "gap_reads_as_churn",
        "warning",
        "subscriptions",
        """SELECT account_id || ': ' || CAST(gap_days AS VARCHAR) || ' days without a line from '
                  || CAST(covered_to AS VARCHAR), _file, _row
           FROM (
             SELECT *, date_diff('day', covered_to, start_date) AS gap_days FROM (
               SELECT account_id, start_date, _file, _row,
                      max(coalesce(end_date, DATE '9999-12-31')) OVER (PARTITION BY account_id ORDER BY start_date, _row
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_to
               FROM subscriptions WHERE NOT coalesce(is_trial, false)) o
             WHERE covered_to IS NOT NULL AND start_date > covered_to) g
           WHERE gap_days <= 31""",
        "short gaps between an account's lines read as churn then reactivation (late renewals?)",
        "set churn_grace_days in revbook.toml [workspace] to bridge gaps up to that many days",
        effect="GRR and logo retention read low (each gap counts as churn, then reactivation)",
    ),
    Check(
        "negative_mrr",
        "error",
        "subscriptions",
        """SELECT account_id || ': ' || CAST(coalesce(mrr, amount, unit_price) AS VARCHAR), _file, _row
           FROM subscriptions WHERE coalesce(mrr, amount, unit_price) < 0""",
        "lines with a negative price",
        "record credits as invoices with a service period; fix the line's price",
        "mrr",
        True,
        effect="MRR, ARR and NRR read low (these lines subtract)",
    ),
    Check(
        "zero_mrr",
        "info",
        "subscriptions",
        """SELECT account_id || ': ' || subscription_id, _file, _row FROM subscriptions
           WHERE NOT coalesce(is_trial, false) AND (coalesce(mrr, amount, unit_price * quantity) = 0
                 OR coalesce(discount_percent, 0) >= 100)""",
        "paid lines at zero price count as no MRR (an account with only these is not a customer yet)",
        "mark free trials with is_trial = true",
    ),
    Check(
        "empty_lines",
        "warning",
        "subscriptions",
        """SELECT account_id || ': ' || subscription_id || ' on ' || CAST(start_date AS VARCHAR), _file, _row
           FROM subscriptions WHERE end_date = start_date""",
        "lines that end on the day they start cover no day and are ignored",
        "end_date is exclusive: a one-day line ends the day after it starts",
        "end_date",
        True,
    ),
    Check(
        "missing_fx_rate",
        "error",
        "subscriptions",
        """SELECT account_id || ': ' || upper(currency) || ' on ' || CAST(start_date AS VARCHAR), _file, _row
           FROM subscriptions s
           WHERE currency IS NOT NULL AND upper(currency) <> '{rep}'
             AND NOT EXISTS (SELECT 1 FROM fx_rates f WHERE f.currency = upper(s.currency)
                             AND f.date <= s.start_date)""",
        "lines in a currency with no FX rate on or before their start date",
        "load fx_rates (date, currency, rate_to_reporting) covering these dates",
        "currency",
        True,
        ("fx_rates",),
        effect="no MRR can be computed until these lines have a rate",
    ),
    Check(
        "duplicate_fx_rates",
        "warning",
        "fx_rates",
        """SELECT currency || ' on ' || CAST(date AS VARCHAR), min(_file), min(_row)
           FROM fx_rates GROUP BY currency, date HAVING count(DISTINCT rate_to_reporting) > 1""",
        "a currency has two different rates on the same date; the higher one is used",
        "keep one rate per currency and date",
        "rate_to_reporting",
        True,
        effect="MRR and ARR may read high (the higher rate converts these lines)",
    ),
    Check(
        "future_dates",
        "info",
        "subscriptions",
        """SELECT account_id || ': starts ' || CAST(start_date AS VARCHAR), _file, _row FROM subscriptions
           WHERE start_date > DATE '{as_of}'""",
        "lines start after the as-of date and are not counted yet",
        "set as_of in revbook.toml [workspace] if the data is newer than it",
    ),
    Check(
        "duplicate_rows",
        "warning",
        "subscriptions",
        """SELECT account_id || ': ' || subscription_id || ' x' || CAST(n AS VARCHAR), f, r FROM (
             SELECT account_id, subscription_id, count(*) AS n, min(_file) AS f, min(_row) AS r
             FROM subscriptions
             GROUP BY account_id, subscription_id, line_id, product, plan, start_date, end_date, mrr, amount,
                      unit_price, quantity, billing_period_months, currency
             HAVING count(*) > 1) d""",
        "identical lines appear more than once and are counted each time",
        "remove the duplicates from the export",
        effect="MRR, ARR and NRR read high (each copy counts)",
    ),
    Check(
        "duplicate_accounts",
        "error",
        "accounts",
        """SELECT account_id || ' x' || CAST(count(*) AS VARCHAR), min(_file), min(_row) FROM accounts
           GROUP BY account_id HAVING count(*) > 1""",
        "account_id appears more than once in accounts",
        "keep one row per account; put attribute changes over time in account_history",
        "account_id",
        True,
        effect="figures joined to accounts may count these accounts more than once",
    ),
    Check(
        "no_owner",
        "info",
        "owners",
        f"""SELECT a.account_id, a._file, a._row FROM accounts a
           WHERE a.account_id IN (SELECT account_id FROM subscriptions WHERE start_date <= DATE '{{as_of}}'
                                  AND coalesce(end_date, {FAR_FUTURE}) > DATE '{{as_of}}')
             AND a.account_id NOT IN (SELECT account_id FROM owners WHERE role = 'csm'
                                      AND start_date <= DATE '{{as_of}}'
                                      AND coalesce(end_date, {FAR_FUTURE}) > DATE '{{as_of}}')""",
        "active accounts with no CSM on the as-of date (pooled or tech-touch, or a gap in owners)",
        "load owners with role = 'csm' if these accounts are managed",
    ),
    Check(
        "overlapping_owners",
        "warning",
        "owners",
        f"""SELECT a.account_id || ': ' || a.owner_id || ' and ' || b.owner_id, a._file, a._row
           FROM owners a JOIN owners b ON a.account_id = b.account_id AND a.role = b.role AND a._row < b._row
            AND a.start_date < coalesce(b.end_date, {FAR_FUTURE})
            AND b.start_date < coalesce(a.end_date, {FAR_FUTURE})""",
        "an account has two owners of the same role at once; the later start wins in slices",
        "end the earlier assignment where the next one starts (end_date is exclusive)",
        "start_date",
        True,
    ),
    Check(
        "unknown_owner",
        "warning",
        "owners",
        """SELECT owner_id, min(_file), min(_row) FROM owners
           WHERE owner_id NOT IN (SELECT owner_id FROM people) AND (SELECT count(*) FROM people) > 0
           GROUP BY owner_id""",
        "owners are not in people, so they have no name or team",
        "add them to the people table",
        "owner_id",
        True,
        ("people",),
    ),
    *KEY_CHECKS,
    *CONTRACT_CHECKS,
)
