"""revbook.toml: the workspace's settings and the column mapping of its sources.

Every setting has a default, so a workspace works with no file at all::

    [workspace]
    path = "revbook.duckdb"            # the DuckDB file, relative to this file
    reporting_currency = "USD"
    fiscal_year_start_month = 1        # 1 = January
    churn_grace_days = 0               # gaps of at most this many days are bridged at the previous MRR
    mrr_source = "subscriptions"       # or "invoices"; the other is kept for reconciliation
    as_of = "2026-11-15"               # the snapshot date; default: today
    arr_bands = [10000, 50000, 250000] # ARR band edges, in the reporting currency
    reactivation_as_new_after_months = 0  # 0: a return is always a reactivation
    cohort_slice = "year"              # the acquisition-cohort slice: "year" or "quarter"
    memory_limit = "8GB"               # DuckDB's memory before it spills to disk; default: half the RAM

    [sources.subscriptions]
    path = "exports/subscriptions.csv" # or paths = [...]
    date_format = "%m/%d/%Y"           # only when dates are ambiguous
    decimal = ","                      # only when amounts use a decimal comma without thousands

    [sources.subscriptions.columns]    # canonical name = "your column"
    mrr = "Monthly Amount"
    account_id = "Customer ID"

    [churn_reasons.price]              # the churn-reason taxonomy: override or extend the defaults
    keywords = ["too expensive", "pricing"]  # (docs/churn-reasons.md; a reason set to false is dropped)

    [signals.competitor]               # trigger-phrase rules in notes: override or extend the defaults
    add_patterns = ["\\bmoving to acme\\b"]

    [lifecycle]  [health]  [rum]  [catalogue]  [survival]
                                       # customer-success settings, each read and checked by its module
                                       # (revbook.rum, revbook.health, revbook.metrics.catalogue); see
                                       # docs/rum.md, docs/health.md and docs/definitions.md
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .contract import CURRENCY_MINOR_UNITS, LOADABLE_TABLES, TABLES
from .definitions import ARR_BAND_EDGES
from .errors import ConfigError

__all__ = ["Config", "SourceConfig", "load_config"]

CONFIG_NAME = "revbook.toml"
GRAINS = ("month", "quarter", "year")
#: sections beside [workspace] and [sources.*], each kept as given and read by its own module
SECTIONS = ("churn_reasons", "signals", "lifecycle", "health", "rum", "catalogue", "survival")


@dataclass(frozen=True)
class SourceConfig:
    """Where one canonical table comes from and how its columns are named."""

    table: str
    paths: tuple[Path, ...]
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class Config:
    """The settings of one workspace. Build it with :func:`load_config` or directly."""

    workspace: Path = Path("revbook.duckdb")
    reporting_currency: str = "USD"
    fiscal_year_start_month: int = 1
    churn_grace_days: int = 0
    mrr_source: str = "subscriptions"
    as_of: dt.date | None = None
    arr_bands: tuple[int, ...] = ARR_BAND_EDGES
    reactivation_as_new_after_months: int = 0
    cohort_slice: str = "year"
    memory_limit: str | None = None
    sources: Mapping[str, SourceConfig] = field(default_factory=dict)
    #: [churn_reasons]: overrides of the churn-reason taxonomy (revbook.insights.taxonomy)
    churn_reasons: Mapping[str, Any] = field(default_factory=dict)
    #: [signals]: overrides of the trigger-phrase rules (revbook.insights.signals)
    signals: Mapping[str, Any] = field(default_factory=dict)
    #: [lifecycle]: stage rules and milestones (revbook.rum)
    lifecycle: Mapping[str, Any] = field(default_factory=dict)
    #: [health]: composite components, weights and bands; model horizons (revbook.health)
    health: Mapping[str, Any] = field(default_factory=dict)
    #: [rum]: expansion potential and risk bands (revbook.rum)
    rum: Mapping[str, Any] = field(default_factory=dict)
    #: [catalogue]: key features, windows of the CS metric catalogue (revbook.metrics.catalogue)
    catalogue: Mapping[str, Any] = field(default_factory=dict)
    #: [survival]: gross margin and curve settings for survival and CLTV (revbook.health.survival)
    survival: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reporting_currency not in CURRENCY_MINOR_UNITS:
            raise ConfigError(
                f"unknown reporting_currency '{self.reporting_currency}'", hint="use an ISO 4217 code such as USD"
            )
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ConfigError("fiscal_year_start_month must be 1 to 12", value=self.fiscal_year_start_month)
        if self.churn_grace_days < 0:
            raise ConfigError("churn_grace_days must be 0 or more", value=self.churn_grace_days)
        if self.mrr_source not in ("subscriptions", "invoices"):
            raise ConfigError("mrr_source must be 'subscriptions' or 'invoices'", value=self.mrr_source)
        if list(self.arr_bands) != sorted(set(self.arr_bands)) or any(b <= 0 for b in self.arr_bands):
            raise ConfigError("arr_bands must be increasing positive numbers", value=self.arr_bands)
        if self.reactivation_as_new_after_months < 0:
            raise ConfigError("reactivation_as_new_after_months must be 0 or more")
        if self.cohort_slice not in ("year", "quarter"):
            raise ConfigError("cohort_slice must be 'year' or 'quarter'", value=self.cohort_slice)

    def memory_limit_setting(self) -> str:
        """DuckDB's memory_limit: the configured one, else half the machine's memory."""
        if self.memory_limit:
            return self.memory_limit
        import os

        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return "4GB"
        return f"{max(total // 2 // 2**20, 512)}MB"

    @property
    def minor_units(self) -> int:
        return CURRENCY_MINOR_UNITS[self.reporting_currency]

    def snapshot_date(self) -> dt.date:
        """The 'as of' date: the configured one, else today."""
        return self.as_of or dt.date.today()

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def _date(value: object, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{name} must be a date like 2026-11-15", value=value) from None


def parse_sources(raw: Mapping[str, Any], base: Path) -> dict[str, SourceConfig]:
    sources: dict[str, SourceConfig] = {}
    for table, spec in raw.items():
        if table not in LOADABLE_TABLES:
            raise ConfigError(
                f"[sources.{table}] is not a table revbook loads",
                hint=f"use one of: {', '.join(LOADABLE_TABLES)}",
            )
        if not isinstance(spec, Mapping):
            raise ConfigError(f"[sources.{table}] must be a table with 'path' or 'paths'")
        paths = spec.get("paths") or ([spec["path"]] if "path" in spec else [])
        if isinstance(paths, str):
            paths = [paths]
        columns = dict(spec.get("columns", {}))
        known = set(TABLES[table].names)
        for canonical in columns:
            if canonical not in known:
                raise ConfigError(
                    f"[sources.{table}.columns] maps '{canonical}', which is not a column of {table}",
                    hint=f"its columns are: {', '.join(TABLES[table].names)}",
                )
        decimal = spec.get("decimal")
        if decimal not in (None, ".", ","):
            raise ConfigError(f"[sources.{table}] decimal must be '.' or ','", value=decimal)
        sources[table] = SourceConfig(
            table=table,
            paths=tuple((base / p) if not Path(p).is_absolute() else Path(p) for p in paths),
            columns=columns,
            date_format=spec.get("date_format"),
            decimal=decimal,
            delimiter=spec.get("delimiter"),
            encoding=spec.get("encoding"),
            sheet=spec.get("sheet"),
        )
    return sources


def config_from_mapping(data: Mapping[str, Any], base: Path) -> Config:
    ws = dict(data.get("workspace", {}))
    extra = set(data) - {"workspace", "sources", *SECTIONS}
    if extra:
        raise ConfigError(
            f"unknown section(s) in revbook.toml: {', '.join(sorted(extra))}",
            hint="sections are [workspace], [sources.<table>], " + ", ".join(f"[{s}]" for s in SECTIONS),
        )
    for section in SECTIONS:
        if not isinstance(data.get(section, {}), Mapping):
            raise ConfigError(f"[{section}] must be a table of settings", value=data.get(section))
    unknown = set(ws) - {
        "path",
        "reporting_currency",
        "fiscal_year_start_month",
        "churn_grace_days",
        "mrr_source",
        "as_of",
        "arr_bands",
        "reactivation_as_new_after_months",
        "cohort_slice",
        "memory_limit",
    }
    if unknown:
        raise ConfigError(f"unknown setting(s) in [workspace]: {', '.join(sorted(unknown))}")
    path = Path(ws.get("path", "revbook.duckdb"))
    try:
        return Config(
            workspace=path if path.is_absolute() else base / path,
            reporting_currency=str(ws.get("reporting_currency", "USD")).upper(),
            fiscal_year_start_month=int(ws.get("fiscal_year_start_month", 1)),
            churn_grace_days=int(ws.get("churn_grace_days", 0)),
            mrr_source=str(ws.get("mrr_source", "subscriptions")),
            as_of=_date(ws.get("as_of"), "as_of"),
            arr_bands=tuple(int(b) for b in ws.get("arr_bands", ARR_BAND_EDGES)),
            reactivation_as_new_after_months=int(ws.get("reactivation_as_new_after_months", 0)),
            cohort_slice=str(ws.get("cohort_slice", "year")),
            memory_limit=str(ws["memory_limit"]) if ws.get("memory_limit") else None,
            sources=parse_sources(data.get("sources", {}), base),
            **{section: dict(data.get(section, {})) for section in SECTIONS},
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"invalid [workspace] setting: {exc}") from None


def load_config(path: str | Path | None = None) -> Config:
    """Read revbook.toml (``path``, or ``./revbook.toml`` if present, else the defaults)."""
    if path is None:
        candidate = Path.cwd() / CONFIG_NAME
        if not candidate.exists():
            return Config(workspace=Path.cwd() / "revbook.duckdb")
        path = candidate
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}", hint="create it or pass --config with its path")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return config_from_mapping(data, path.parent.resolve())


def template() -> str:
    """A commented revbook.toml: every setting with its default, a [sources.*] section per table."""
    lines = [
        "# revbook.toml: settings and column mapping for this workspace (see docs/definitions.md).",
        "",
        "[workspace]",
        'path = "revbook.duckdb"             # the workspace file, relative to this file',
        'reporting_currency = "USD"          # ISO 4217',
        "fiscal_year_start_month = 1         # 1 = January",
        "churn_grace_days = 0                # bridge gaps of up to N days between paid lines (late renewals)",
        'mrr_source = "subscriptions"        # or "invoices"; the other is used for reconciliation',
        '# as_of = "2026-10-31"              # the snapshot date; default: today',
        f"arr_bands = [{', '.join(map(str, ARR_BAND_EDGES))}]  # ARR band edges for the arr_band slice",
        "reactivation_as_new_after_months = 0  # 0: a returning customer is always a reactivation",
        'cohort_slice = "year"               # the cohort slice: "year" or "quarter" of first MRR',
        '# memory_limit = "8GB"              # memory before spilling to disk; default: half the RAM',
        "",
    ]
    for name in LOADABLE_TABLES:
        t = TABLES[name]
        required = [c.name for c in t.columns if c.required]
        lines.append(f"# {name}: {t.description}; required columns: {', '.join(required)}")
        if t.one_of:
            lines.append("#   price: " + " or ".join("(" + ", ".join(g) + ")" for g in t.one_of))
        lines.append(f"# [sources.{name}]")
        lines.append(f'# path = "exports/{name}.csv"')
        lines.append(f'# [sources.{name}.columns]   # canonical = "your column", for names that differ')
        lines.append(f'# {t.columns[0].name} = "{t.columns[0].name.replace("_", " ").title()}"')
        lines.append("")
    return "\n".join(lines)
