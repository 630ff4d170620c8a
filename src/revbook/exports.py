"""Every metric table of a workspace, written as files: what ``revbook demo`` leaves in ``metrics/``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from .frame import Frame
    from .workspace import Workspace

#: the file formats :func:`write_metric_tables` writes, each into a folder of its name
FORMATS = ("csv", "parquet")


def insight_tables(ws: Workspace) -> dict[str, Frame]:
    """The churn reasons (classified, and their Pareto) and the signals (found, and their lift),
    each only when the workspace has the table it reads."""
    from .insights import classify_reasons, find_signals, pareto, signal_lift

    counts = ws.row_counts()
    tables: dict[str, Frame] = {}
    if counts.get("churn_reasons"):
        classified = classify_reasons(ws, reasons=ws.config.churn_reasons)
        tables["churn_reasons_classified"] = classified
        tables["churn_pareto"] = pareto(ws, reasons=ws.config.churn_reasons, classified=classified)
    if counts.get("notes"):
        tables["signals"] = find_signals(ws, rules=ws.config.signals)
        tables["signal_lift"] = signal_lift(ws, rules=ws.config.signals)
    return tables


def metric_tables(ws: Workspace) -> dict[str, Frame]:
    """Every metric table by file name: MRR, movements (by grain and slice), retention (by slice),
    cohorts and their triangles, recognised revenue, the ledger, the insight tables, data quality."""
    return {
        "mrr_monthly": ws.mrr(),
        "mrr_by_account": ws.mrr(accounts=True),
        "movements_monthly": ws.movements(),
        "movements_quarterly": ws.movements(grain="quarter"),
        "movements_yearly": ws.movements(grain="year"),
        "movements_by_segment": ws.movements(by="segment"),
        "movements_by_owner": ws.movements(by="owner"),
        "retention": ws.retention(),
        "retention_by_segment": ws.retention(by="segment"),
        "retention_by_owner": ws.retention(by="owner"),
        "retention_by_team": ws.retention(by="team"),
        "retention_by_plan": ws.retention(by="plan"),
        "retention_by_region": ws.retention(by="region"),
        "retention_by_cohort": ws.retention(by="cohort"),
        "retention_by_arr_band": ws.retention(by="arr_band"),
        "cohorts": ws.cohorts(),
        "cohorts_logo_retention_triangle": ws.cohorts(triangle="logo_retention"),
        "cohorts_nrr_triangle": ws.cohorts(triangle="nrr"),
        "recognised_revenue": ws.revenue(),
        "ledger": ws.ledger(),
        **insight_tables(ws),
        "data_quality": ws.check(),
    }


def write_metric_tables(ws: Workspace, directory: Path | str, *, formats: Sequence[str] = FORMATS) -> dict[str, Frame]:
    """Write every table of :func:`metric_tables` to ``directory/<format>/<name>.<format>`` for each
    of ``formats`` (csv, parquet, json); return the tables."""
    if unknown := [f for f in formats if f not in ("csv", "parquet", "json")]:
        raise ConfigError(f"unknown output format '{unknown[0]}'", hint="use csv, parquet or json")
    directory = Path(directory)
    frames = metric_tables(ws)
    for name, frame in frames.items():
        for fmt in formats:
            frame.write(directory / fmt / f"{name}.{fmt}")
    return frames


__all__ = ["FORMATS", "insight_tables", "metric_tables", "write_metric_tables"]
