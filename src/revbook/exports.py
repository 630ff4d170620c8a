"""Every metric table of a workspace, written as files: what ``revbook demo`` leaves in ``metrics/``."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
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


#: the metric tables that are always there, by name: how each is computed
_TABLES: dict[str, Callable[[Workspace], Frame]] = {
    "mrr_monthly": lambda ws: ws.mrr(),
    "mrr_by_account": lambda ws: ws.mrr(accounts=True),
    "movements_monthly": lambda ws: ws.movements(),
    "movements_quarterly": lambda ws: ws.movements(grain="quarter"),
    "movements_yearly": lambda ws: ws.movements(grain="year"),
    "movements_by_segment": lambda ws: ws.movements(by="segment"),
    "movements_by_owner": lambda ws: ws.movements(by="owner"),
    "retention": lambda ws: ws.retention(),
    "retention_by_segment": lambda ws: ws.retention(by="segment"),
    "retention_by_owner": lambda ws: ws.retention(by="owner"),
    "retention_by_team": lambda ws: ws.retention(by="team"),
    "retention_by_plan": lambda ws: ws.retention(by="plan"),
    "retention_by_region": lambda ws: ws.retention(by="region"),
    "retention_by_cohort": lambda ws: ws.retention(by="cohort"),
    "retention_by_arr_band": lambda ws: ws.retention(by="arr_band"),
    "cohorts": lambda ws: ws.cohorts(),
    "cohorts_logo_retention_triangle": lambda ws: ws.cohorts(triangle="logo_retention"),
    "cohorts_nrr_triangle": lambda ws: ws.cohorts(triangle="nrr"),
    "recognised_revenue": lambda ws: ws.revenue(),
    "ledger": lambda ws: ws.ledger(),
}
#: the insight tables, there when the workspace has the table each reads
INSIGHT_TABLES = ("churn_reasons_classified", "churn_pareto", "signals", "signal_lift")
#: every metric table's name, in the order they are written
METRIC_TABLES = (*_TABLES, *INSIGHT_TABLES, "data_quality")


def metric_tables(ws: Workspace, names: Sequence[str] | None = None) -> dict[str, Frame]:
    """Every metric table by file name: MRR, movements (by grain and slice), retention (by slice),
    cohorts and their triangles, recognised revenue, the ledger, the insight tables, data quality;
    only ``names`` (of :data:`METRIC_TABLES`) when given, each computed only when asked for."""
    if names is None:
        return {
            **{name: build(ws) for name, build in _TABLES.items()},
            **insight_tables(ws),
            "data_quality": ws.check(),
        }
    if unknown := [n for n in names if n not in METRIC_TABLES]:
        near = difflib.get_close_matches(unknown[0], METRIC_TABLES, n=1)
        raise ConfigError(
            f"unknown metric table '{unknown[0]}'",
            hint=f"did you mean '{near[0]}'?" if near else f"the tables are: {', '.join(METRIC_TABLES)}",
        )
    insights = insight_tables(ws) if any(n in INSIGHT_TABLES for n in names) else {}
    out: dict[str, Frame] = {}
    for name in dict.fromkeys(names):
        if name in _TABLES:
            out[name] = _TABLES[name](ws)
        elif name == "data_quality":
            out[name] = ws.check()
        elif name in insights:
            out[name] = insights[name]
        else:
            source = "churn_reasons" if name.startswith("churn") else "notes"
            raise ConfigError(f"no {name} table: the workspace has no {source}", hint=f"load {source} first")
    return out


def write_metric_tables(
    ws: Workspace, directory: Path | str, *, formats: Sequence[str] = FORMATS, names: Sequence[str] | None = None
) -> dict[str, Frame]:
    """Write every table of :func:`metric_tables` (only ``names`` when given) to
    ``directory/<format>/<name>.<format>`` for each of ``formats`` (csv, parquet, json); return the tables."""
    if unknown := [f for f in formats if f not in ("csv", "parquet", "json")]:
        raise ConfigError(f"unknown output format '{unknown[0]}'", hint="use csv, parquet or json")
    directory = Path(directory)
    frames = metric_tables(ws, names)
    for name, frame in frames.items():
        for fmt in formats:
            frame.write(directory / fmt / f"{name}.{fmt}")
    return frames


def write_warehouse(ws: Workspace, *, schema: str | None = None, tables: Sequence[str] | None = None) -> dict[str, int]:
    """Write the metric tables (``tables``, default every one of :func:`metric_tables`) into the
    warehouse schema ``schema`` (default ``[warehouse] export_schema``), all in one transaction that
    replaces the tables of the same names, exact numerics; return the rows written per table."""
    from .sources.warehouse_write import write_tables

    frames = metric_tables(ws, tables)
    note = f"as of {ws.config.snapshot_date()}, {ws.config.reporting_currency}"
    return write_tables(ws.config.warehouse, frames, schema=schema, note=note)


__all__ = [
    "FORMATS",
    "INSIGHT_TABLES",
    "METRIC_TABLES",
    "insight_tables",
    "metric_tables",
    "write_metric_tables",
    "write_warehouse",
]
