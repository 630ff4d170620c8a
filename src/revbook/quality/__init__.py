"""Data-quality checks over a loaded workspace, each finding with a severity and what to do:
the contract checks every load runs (:func:`load_findings`) and everything ``revbook check``
shows (:func:`run_checks`); docs/loading.md lists each finding and whether it is an error."""

from __future__ import annotations

from .checks import CHECKS, Check, Finding
from .current_state import OWN_TERM, current_state_findings
from .invoices import invoice_service_periods
from .run import contract_findings, headline_findings, load_findings, run_checks

__all__ = [
    "CHECKS",
    "OWN_TERM",
    "Check",
    "Finding",
    "contract_findings",
    "current_state_findings",
    "headline_findings",
    "invoice_service_periods",
    "load_findings",
    "run_checks",
]
