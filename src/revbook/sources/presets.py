"""Named mappings of other tools' exports into a contract table (``[sources.<table>] preset = "..."``):
Stripe's dashboard exports of subscriptions and invoices (docs/connectors.md, "Stripe's CSV exports").

A preset rewrites each file, row for row, into the table's canonical columns before the normal read,
so every check, warning and row number is the one files get; a row the preset leaves out (a draft
invoice, a subscription that never started) becomes a blank row, which the read skips, and is counted
in a warning. Each canonical column is taken from the first of its candidate export columns present.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..config.core import SOURCE_PRESETS
from ..contract import Finding, Table
from ..errors import SourceError
from ._sql import _ident

__all__ = ["PRESETS", "Preset", "rewrite"]


def _date(col: str) -> str:
    """An export's date or date-time text ("2026-01-10 00:00", "2026-01-10T00:00:00Z") as an ISO date."""
    return f"strftime(TRY_CAST(left(trim({col}), 10) AS DATE), '%Y-%m-%d')"


def _num(col: str) -> str:
    return f"TRY_CAST(replace(nullif(trim({col}), ''), ',', '') AS DECIMAL(38, 10))"


@dataclass(frozen=True)
class Preset:
    name: str
    table: str
    #: canonical column -> (candidate export columns, SQL over them: {0}, {1}, ... in candidate order)
    columns: dict[str, tuple[tuple[str, ...], str]]
    #: the export columns that must be present (one of each tuple)
    required: tuple[tuple[str, ...], ...]
    #: SQL true for a row that is left out, and what such rows are (for the warning)
    skip: tuple[tuple[str, ...], str, str] | None = None
    #: a column whose values the preset cannot turn into money, and the warning when it is not empty
    unmapped: tuple[str, str] | None = None
    #: canonical columns filled only when one of these export columns is present (else left empty)
    only_with: dict[str, tuple[str, ...]] | None = None


_SUBSCRIPTION_START = ("Start Date (UTC)", "Start (UTC)", "Created (UTC)")
PRESETS: dict[str, Preset] = {
    "stripe_subscriptions_export": Preset(
        "stripe_subscriptions_export",
        "subscriptions",
        {
            "account_id": (("Customer ID", "Customer"), "{0}"),
            "subscription_id": (("id", "Subscription ID"), "{0}"),
            "product": (("Product", "Product ID"), "{0}"),
            "plan": (("Plan", "Plan ID", "Price ID"), "{0}"),
            # a trial has no MRR: the paid line starts when the trial ends
            "start_date": (
                (*_SUBSCRIPTION_START, "Trial End (UTC)"),
                "CASE WHEN {3} IS NOT NULL AND "
                + _date("{3}")
                + " > "
                + _date("coalesce({0}, {1}, {2})")
                + " THEN "
                + _date("{3}")
                + " ELSE "
                + _date("coalesce({0}, {1}, {2})")
                + " END",
            ),
            "end_date": (("Ended At (UTC)",), _date("{0}")),
            "cancel_requested_at": (("Canceled At (UTC)",), _date("{0}")),
            "unit_price": (("Amount", "Plan Amount", "Price"), _num("{0}")),
            "quantity": (("Quantity",), "coalesce(" + _num("{0}") + ", 1)"),
            "billing_period_months": (
                ("Interval", "Plan Interval", "Interval Count", "Plan Interval Count"),
                "CASE lower(trim(coalesce({0}, {1}))) WHEN 'month' THEN 1 WHEN 'year' THEN 12 END"
                " * coalesce(" + _num("coalesce({2}, {3})") + ", 1)",
            ),
            "currency": (("Currency", "Plan Currency"), "upper(trim(coalesce({0}, {1})))"),
        },
        required=(
            ("Customer ID", "Customer"),
            ("id", "Subscription ID"),
            _SUBSCRIPTION_START,
            ("Amount", "Plan Amount", "Price"),
            ("Interval", "Plan Interval"),
        ),
        skip=(("Status",), "lower(trim({0})) IN ('incomplete', 'incomplete_expired')", "never started (incomplete)"),
        unmapped=("Coupon", "the export names the coupon but not its value: these lines load before discount"),
    ),
    "stripe_invoices_export": Preset(
        "stripe_invoices_export",
        "invoices",
        {
            "account_id": (("Customer", "Customer ID"), "{0}"),
            "invoice_id": (("id", "Invoice ID"), "{0}"),
            "line_id": (("Number",), "{0}"),
            "invoice_date": (("Date (UTC)", "Created (UTC)"), _date("coalesce({0}, {1})")),
            # Stripe's period end is the first moment after the service; the contract's is inclusive
            "service_start": (
                ("Period Start (UTC)", "Period End (UTC)"),
                "CASE WHEN " + _date("{1}") + " > " + _date("{0}") + " THEN " + _date("{0}") + " END",
            ),
            "service_end": (
                ("Period Start (UTC)", "Period End (UTC)"),
                "CASE WHEN "
                + _date("{1}")
                + " > "
                + _date("{0}")
                + " THEN strftime(CAST("
                + _date("{1}")
                + " AS DATE) - 1, '%Y-%m-%d') END",
            ),
            # after discounts (the total), before tax
            "amount": (("Total", "Tax"), _num("{0}") + " - coalesce(" + _num("{1}") + ", 0)"),
            "currency": (("Currency",), "upper(trim({0}))"),
            # as the API's mapping: due on its due date (sent for payment), else on its date (charged
            # automatically); paid when Paid At says so, or on its date when its status is paid
            "due_date": (
                ("Due Date (UTC)", "Due Date", "Date (UTC)", "Created (UTC)"),
                _date("coalesce(nullif(trim({0}), ''), nullif(trim({1}), ''), {2}, {3})"),
            ),
            "paid_date": (
                ("Paid At (UTC)", "Paid At", "Status", "Date (UTC)", "Created (UTC)"),
                "coalesce(" + _date("coalesce(nullif(trim({0}), ''), nullif(trim({1}), ''))") + ", CASE WHEN "
                "lower(trim({2})) = 'paid' THEN " + _date("coalesce({3}, {4})") + " END)",
            ),
        },
        required=(("Customer", "Customer ID"), ("id", "Invoice ID"), ("Date (UTC)", "Created (UTC)"), ("Total",)),
        skip=(("Status",), "lower(trim({0})) IN ('draft', 'void')", "draft or void (nothing billed)"),
        # without a payment column nothing tells paid from unpaid: no due date, never delinquent
        only_with={c: ("Paid At (UTC)", "Paid At", "Status") for c in ("due_date", "paid_date")},
    ),
}
assert {p.name: p.table for p in PRESETS.values()} == SOURCE_PRESETS


def rewrite(
    con: duckdb.DuckDBPyConnection, table: Table, file: str | Path, name: str, out: Path, warnings: list[Finding]
) -> Path:
    """``file`` (a CSV export) rewritten by the preset ``name`` into ``out``, row for row."""
    preset = PRESETS[name]
    try:
        rel = con.execute("SELECT * FROM read_csv(?, all_varchar=true, header=true)", [str(file)])
    except duckdb.Error as exc:
        raise SourceError(f"cannot read the export: {str(exc).splitlines()[0]}", file=str(file)) from None
    header = [d[0] for d in rel.description or ()]
    present = set(header)
    missing = [" or ".join(f"'{c}'" for c in group) for group in preset.required if not present & set(group)]
    if missing:
        raise SourceError(
            f"not a {name.replace('_', ' ')}: no column {', '.join(missing)}",
            file=str(file),
            table=table.name,
            hint="export it again from Stripe's dashboard, or drop the preset and map columns in "
            f"[sources.{table.name}.columns]",
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rb_export AS SELECT * FROM read_csv(?, all_varchar=true, header=true)",
        [str(file)],
    )

    def sql(candidates: Sequence[str], template: str) -> str:
        return template.format(*(_ident(c) if c in present else "CAST(NULL AS VARCHAR)" for c in candidates))

    def filled(col: str) -> bool:
        return not preset.only_with or col not in preset.only_with or bool(present & set(preset.only_with[col]))

    exprs = [
        f"CAST({sql(*spec) if filled(col) else 'NULL'} AS VARCHAR) AS {_ident(col)}"
        for col, spec in preset.columns.items()
    ]
    keep = "true"
    if preset.skip and preset.skip[0][0] in present:
        keep = f"NOT coalesce({sql(preset.skip[0], preset.skip[1])}, false)"
    rows = con.execute(f"SELECT {keep} AS _keep, {', '.join(exprs)} FROM _rb_export").fetchall()
    skipped = sum(1 for r in rows if not r[0])
    if skipped and preset.skip:
        warnings.append(_finding(table, file, skipped, f"{skipped} rows {preset.skip[2]} not loaded (preset {name})"))
    if preset.unmapped and preset.unmapped[0] in present:
        col = _ident(preset.unmapped[0])
        n = con.execute(f"SELECT count(*) FROM _rb_export WHERE nullif(trim({col}), '') IS NOT NULL").fetchone()
        if n and n[0]:
            warnings.append(_finding(table, file, int(n[0]), f"{n[0]} rows: {preset.unmapped[1]}"))
    con.execute("DROP TABLE _rb_export")
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(preset.columns))
        for r in rows:
            writer.writerow(["" if v is None or not r[0] else v for v in r[1:]])
    return out


def _finding(table: Table, file: str | Path, rows: int, message: str) -> Finding:
    return Finding(severity="warning", check="preset", table=table.name, rows=rows, message=message, file=str(file))
