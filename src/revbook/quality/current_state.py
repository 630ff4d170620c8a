"""Current-state columns: values as of the export that would read as known on past dates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["OWN_TERM", "current_state_findings"]

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
        first = ws.count_and_first(sql, "2, 3, 1")  # the first example in file order
        if first:
            n, (example, file, row) = first
            where = f" ({Path(file).name}, row {row})" if file else ""
            out.append(
                {"severity": "warning", "check": name, "table": table, "rows": int(n), "message": message,
                 "example": f"{example}{where}", "hint": hint}
            )  # fmt: skip
    return out
