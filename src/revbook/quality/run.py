"""Running the declared checks (:mod:`.checks`) over a workspace: the contract checks a load judges
itself by (:func:`contract_findings`, :func:`load_findings`), every check for ``revbook check``
(:func:`run_checks`), and the findings that change the headline (:func:`headline_findings`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..contract import Finding
from .checks import CHECKS, Check

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["CHILD_TABLES", "contract_findings", "headline_findings", "load_findings", "run_checks"]

#: the tables an ``unknown_account`` check reads
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
    "notes",
    "churn_reasons",
)


def _run(ws: Store, checks: tuple[Check, ...]) -> list[Finding]:
    as_of = ws.config.snapshot_date().isoformat()
    rep = ws.config.reporting_currency
    counts = ws.row_counts()
    findings: list[Finding] = []
    for check in checks:
        tables = CHILD_TABLES if check.name == "unknown_account" else (check.table,)
        for table in tables:
            if counts.get(table, 0) == 0 and table != "owners":
                continue
            if check.name == "unknown_account" and counts.get("accounts", 0) == 0:
                continue  # accounts not loaded yet: every id would be unknown
            sql = check.sql.format(as_of=as_of, rep=rep, table=table)
            first = ws.count_and_first(sql, "2, 3, 1")  # the first example in file order, the same every run
            if first is None:
                continue
            n, (example, file, row) = first
            hint = check.hint
            if check.name == "unknown_account":
                hint = _float_id_hint(ws, table) or hint
            findings.append(
                Finding(
                    check.severity,
                    check.name,
                    table,
                    check.message,
                    hint,
                    int(n),
                    file,
                    None if row is None else int(row),
                    None,
                    check.column,
                    str(example),
                )
            )
    return findings


def _float_id_hint(ws: Store, table: str) -> str | None:
    """When the unknown ids are known ids written as floats ('1001.0' for '1001'), say so."""
    hit = ws.con.execute(
        f"""SELECT t.account_id, a.account_id FROM {table} t JOIN accounts a
            ON regexp_replace(t.account_id, '\\.0+$', '') = regexp_replace(a.account_id, '\\.0+$', '')
            WHERE t.account_id NOT IN (SELECT account_id FROM accounts) LIMIT 1"""
    ).fetchone()
    if hit is None:
        return None
    return (
        f"'{hit[0]}' here is '{hit[1]}' in accounts: an id exported as a number with a decimal part; "
        "export the ids as text in both files"
    )


def contract_findings(ws: Store) -> list[Finding]:
    """What the contract checks (``at_load``) find over the workspace as it is, each at its own
    severity: what :func:`load_findings` judges a load by, and what :func:`run_checks` reads again
    when given them (the same tables: the load that just committed them)."""
    return _run(ws, tuple(c for c in CHECKS if c.at_load))


def load_findings(ws: Store, loaded: tuple[str, ...], contract: Sequence[Finding] | None = None) -> list[Finding]:
    """The contract checks a load runs before it commits (``contract``: their findings, when
    :func:`contract_findings` has run them). An error about tables this load did not touch (left
    by an earlier version's load) is kept as a warning, so it does not block others."""
    out = []
    for f in contract_findings(ws) if contract is None else contract:
        check = next(c for c in CHECKS if c.name == f.check)
        if f.severity == "error" and not ({f.table, *check.uses} & set(loaded)):
            f = replace(f, severity="warning", message=f.message + " (loaded earlier; fix it and load it again)")
        out.append(f)
    return out


def run_checks(ws: Store, contract: Sequence[Finding] | None = None) -> pa.Table:
    """Every check over the workspace as it is, with what the loads' reads found. ``contract``:
    the findings of :func:`contract_findings` over these same tables, when a load has just run
    them (they are not run again)."""
    if contract is None:
        findings = _run(ws, CHECKS)
    else:
        findings = list(contract) + _run(ws, tuple(c for c in CHECKS if not c.at_load))
    kept = ws.load_warnings().to_pylist()
    findings += [Finding(**r) for r in kept if r["check"] not in {c.name for c in CHECKS}]
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order[f.severity], f.check))
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
    rows = [
        {
            "severity": f.severity,
            "check": f.check,
            "table": f.table,
            "rows": f.rows,
            "message": f.message,
            "example": f.example(),
            "hint": f.hint,
        }
        for f in findings
    ]
    # the checks that build their own rows: current-state columns, invoice lines without a service period
    from .current_state import current_state_findings
    from .invoices import invoice_service_periods

    rows += current_state_findings(ws) + invoice_service_periods(ws)
    rows.sort(key=lambda r: (order[str(r["severity"])], str(r["check"])))
    return pa.Table.from_pylist(rows, schema=schema)


def headline_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The data-quality findings (rows of ``ws.check()``) that change the headline figures, each with
    its ``effect`` in words: those of a check that declares an effect (``Check.effect``), and every
    error (one of no declared effect, or a finding the load kept, reads "a headline figure may be wrong")."""
    effects = {c.name: c.effect for c in CHECKS}
    out = []
    for f in findings:
        effect = effects.get(str(f["check"])) or None
        if effect is None and f["severity"] == "error":
            effect = "a headline figure may be wrong until it is fixed"
        if effect:
            out.append({**f, "effect": effect})
    return out
