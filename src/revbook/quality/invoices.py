"""Invoice lines without a service period: revenue on the invoice date, never MRR."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["invoice_service_periods"]


def invoice_service_periods(ws: Store) -> list[dict[str, object]]:
    """Invoice lines without a service period: revenue on the invoice date, never MRR (with invoices
    as the MRR source), or read as ``invoice_service_months`` of service from it. A warning when most
    lines have none, since MRR then misses most of what is billed; else worth knowing. Beside
    subscriptions as the MRR source, the charges among them (not the credits), which reconcile with nothing."""
    cfg = ws.config
    # beside subscriptions, only charges matter (they drop out of the reconciliation); a credit without
    # a service period is revenue only by definition
    charges = "" if cfg.mrr_source == "invoices" else " AND amount >= 0"
    first = ws.count_and_first(
        f"""SELECT (SELECT count(*) FROM invoices) AS total,
                  account_id || ': ' || CAST(amount AS VARCHAR) || ' on ' || CAST(invoice_date AS VARCHAR), _file, _row
           FROM invoices WHERE (service_start IS NULL OR service_end IS NULL){charges}""",
        "_file, _row",
    )
    if first is None:
        return []
    n, (total, example, file, row) = first
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
