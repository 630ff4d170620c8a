"""Data-quality checks over a loaded workspace, each finding with a severity and what to do.

Severities: ``error`` (a number would be wrong or cannot be computed), ``warning`` (a number
may not mean what a reader thinks), ``info`` (worth knowing). Each finding counts the rows
concerned and shows one example, with the file and row it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from .ledger import FAR_FUTURE

if TYPE_CHECKING:
    from .store import Store

__all__ = ["CHECKS", "OWN_TERM", "current_state_findings", "run_checks"]


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    table: str
    #: SQL returning (example TEXT, file, row) per offending row; may use {as_of}, {rep}
    sql: str
    message: str
    hint: str
    #: what the finding does to the headline figures (ARR, NRR, GRR, ...), "" when it leaves them as
    #: they are; a check with an effect is shown beside the headline (dashboard Overview, report)
    effect: str = ""


CHECKS: tuple[Check, ...] = (
    Check(
        "unknown_account",
        "error",
        "subscriptions",
        """SELECT 'account_id ' || t.account_id, t._file, t._row FROM {table} t
           WHERE t.account_id NOT IN (SELECT account_id FROM accounts)""",
        "rows refer to an account_id that is not in accounts",
        "load the missing accounts, or fix the ids in the child table",
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
        "info",
        "subscriptions",
        """SELECT account_id || ': ' || subscription_id || ' on ' || CAST(start_date AS VARCHAR), _file, _row
           FROM subscriptions WHERE end_date = start_date""",
        "lines that end on the day they start cover no day and are ignored",
        "end_date is exclusive: a one-day line ends the day after it starts",
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
    ),
)

CHILD_TABLES = (
    "subscriptions",
    "invoices",
    "owners",
    "account_history",
    "usage",
    "tickets",
    "activities",
    "milestones",
    "surveys",
    "opportunities",
)


def run_checks(ws: Store) -> pa.Table:
    as_of = ws.config.snapshot_date().isoformat()
    rep = ws.config.reporting_currency
    counts = ws.row_counts()
    findings: list[dict[str, object]] = []
    for check in CHECKS:
        tables = CHILD_TABLES if check.name == "unknown_account" else (check.table,)
        for table in tables:
            if counts.get(table, 0) == 0 and table != "owners":
                continue
            sql = check.sql.format(as_of=as_of, rep=rep, table=table)
            rows = ws.con.execute(f"SELECT count(*) OVER () AS n, * FROM ({sql}) q LIMIT 1").fetchall()
            if not rows:
                continue
            n, example, file, row = rows[0]
            findings.append(
                {
                    "severity": check.severity,
                    "check": check.name,
                    "table": table,
                    "rows": int(n),
                    "message": check.message,
                    "example": f"{example} ({Path(file).name}, row {row})" if file else str(example),
                    "hint": check.hint,
                }
            )
    findings += current_state_findings(ws)
    findings.extend(invoice_service_periods(ws))
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order[str(f["severity"])], str(f["check"])))
    schema = pa.schema(
        [
            ("severity", pa.string()),
            ("check", pa.string()),
            ("table", pa.string()),
            ("rows", pa.int64()),
            ("message", pa.string()),
            ("example", pa.string()),
            ("hint", pa.string()),
        ]
    )
    return pa.Table.from_pylist(findings, schema=schema)


#: SQL over a subscriptions row ``s``: its contract_end_date ends its own term (an open row's, or one
#: within start_date < contract_end_date <= end_date); any other is a value as of the export
OWN_TERM = "s.contract_end_date > s.start_date AND (s.end_date IS NULL OR s.contract_end_date <= s.end_date)"


def current_state_findings(ws: Store) -> list[dict[str, object]]:
    """Current-state columns: values as of the export that would read as known on past dates
    (docs/health.md, "Renewal dates known on the scoring date")."""
    counts = ws.row_counts()
    checks: list[tuple[str, str, str, str, str]] = []
    if counts.get("subscriptions", 0):
        paid = "s.contract_end_date IS NOT NULL AND NOT coalesce(s.is_trial, false)"
        checks += [
            (
                "contract_end_not_own_term",
                "subscriptions",
                f"""SELECT s.account_id || ' ' || s.subscription_id || ': ' || CAST(s.start_date AS VARCHAR) || '..'
                          || coalesce(CAST(s.end_date AS VARCHAR), 'open') || ', contract_end_date '
                          || CAST(s.contract_end_date AS VARCHAR), s._file, s._row
                   FROM subscriptions s WHERE {paid} AND NOT ({OWN_TERM})""",
                "contract_end_date is after the row's own end (or not after its start): a value as of the export, "
                "ignored for renewal dates",
                "give each term its own rows with its own contract end; or set [lifecycle] contract_end = "
                "'as_exported' if the values are right",
            ),
            (
                "same_contract_end_every_term",
                "subscriptions",
                f"""SELECT s.account_id || ': ' || CAST(count(DISTINCT s.start_date) AS VARCHAR)
                          || ' starts share contract_end_date ' || CAST(min(s.contract_end_date) AS VARCHAR),
                          min(s._file), min(s._row)
                   FROM subscriptions s WHERE {paid}
                   GROUP BY s.account_id
                   HAVING count(DISTINCT s.contract_end_date) = 1 AND count(DISTINCT s.start_date) > 1
                      AND min(coalesce(s.end_date, DATE '9999-12-31')) < min(s.contract_end_date)""",
                "one contract_end_date on every row of an account with several terms (the term in force at export)",
                "export the contract end each row had (one set of rows per term); the renewal dates use "
                "each line's own term meanwhile",
            ),
        ]
    if counts.get("account_history", 0) and counts.get("accounts", 0):
        for attr in ("segment", "region", "industry"):
            checks.append(
                (
                    "export_newer_than_history",
                    "account_history",
                    f"""SELECT a.account_id || ': {attr} ' || a.{attr} || ' in accounts, '
                              || h.value || ' in account_history', a._file, a._row
                       FROM accounts a JOIN (
                           SELECT account_id, arg_max(value, valid_from) AS value FROM account_history
                           WHERE attribute = '{attr}' AND valid_from <= DATE '{ws.config.snapshot_date()}'
                           GROUP BY account_id) h USING (account_id)
                       WHERE a.{attr} IS NOT NULL AND a.{attr} <> h.value""",
                    f"accounts.{attr} differs from its latest account_history value: a change the history lacks",
                    f"add the change to account_history (attribute {attr}, with its valid_from)",
                )
            )
    out: list[dict[str, object]] = []
    for name, table, sql, message, hint in checks:
        rows = ws.con.execute(f"SELECT count(*) OVER () AS n, * FROM ({sql}) q LIMIT 1").fetchall()
        if rows:
            n, example, file, row = rows[0]
            where = f" ({Path(file).name}, row {row})" if file else ""
            out.append(
                {"severity": "warning", "check": name, "table": table, "rows": int(n), "message": message,
                 "example": f"{example}{where}", "hint": hint}
            )  # fmt: skip
    return out
def invoice_service_periods(ws: Store) -> list[dict[str, object]]:
    """Invoice lines without a service period: revenue on the invoice date, never MRR (with invoices
    as the MRR source), or read as ``invoice_service_months`` of service from it. A warning when most
    lines have none, since MRR then misses most of what is billed; else worth knowing. Beside
    subscriptions as the MRR source, the charges among them (not the credits), which reconcile with nothing."""
    cfg = ws.config
    # beside subscriptions, only charges matter (they drop out of the reconciliation); a credit without
    # a service period is revenue only by definition
    charges = "" if cfg.mrr_source == "invoices" else " AND amount >= 0"
    rows = ws.con.execute(
        f"""SELECT count(*) OVER () AS n, (SELECT count(*) FROM invoices) AS total,
                  account_id || ': ' || CAST(amount AS VARCHAR) || ' on ' || CAST(invoice_date AS VARCHAR), _file, _row
           FROM invoices WHERE (service_start IS NULL OR service_end IS NULL){charges} ORDER BY _file, _row LIMIT 1"""
    ).fetchall()
    if not rows:
        return []
    n, total, example, file, row = rows[0]
    share = f"{n:,} of {total:,} invoice lines"
    months = cfg.invoice_service_months
    setting = "set invoice_service_months in revbook.toml [workspace]"
    if months:
        severity = "info"
        span = "1 month" if months == 1 else f"{months} months"
        message = (
            f"{share} have no service period; each charge is read as {span} of service from its invoice date "
            "(credits stay revenue only)"
        )
        hint = "invoice_service_months = 0 makes them revenue on the invoice date only"
    elif cfg.mrr_source == "invoices":
        severity = "warning" if 2 * n > total else "info"
        most = "most " if 2 * n > total else ""
        message = (
            f"{most}invoice lines have no service period ({share}): they count as revenue on their invoice date, "
            "never as MRR"
        )
        hint = f"if each line bills a period of service from its invoice date, {setting} (1: monthly, 12: annual)"
    else:
        severity = "info"
        message = f"{share} are charges with no service period, left out of the reconciliation with subscriptions"
        hint = f"{setting} if each line bills that many months of service from its invoice date"
    return [
        {
            "severity": severity,
            "check": "invoice_without_service_period",
            "table": "invoices",
            "rows": int(n),
            "message": message,
            "example": f"{example} ({Path(file).name}, row {row})" if file else str(example),
            "hint": hint,
        }
    ]
