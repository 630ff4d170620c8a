"""Config and SourceConfig, read from revbook.toml by :func:`load_config` (the settings are in
:mod:`revbook.config`'s docstring)."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..contract import CURRENCY_MINOR_UNITS, LOADABLE_TABLES, TABLES
from ..definitions import ARR_BAND_EDGES
from ..errors import ConfigError, WorkspaceError
from .attribution import AttributionSettings
from .benchmarks import BenchmarkSettings
from .catalogue import CatalogueSettings
from .concentration import ConcentrationSettings
from .crm import HubspotSettings, SalesforceSettings
from .cs import HealthSettings, LifecycleSettings, RumSettings
from .csm_impact import CsmImpactSettings
from .forecast import ForecastSettings
from .impact_statements import ImpactStatementsSettings
from .insights import ReasonOverride, SignalOverride, reason_overrides, signal_overrides
from .keys import as_table, check_keys, parse_date
from .renewals import RenewalSettings
from .saves import SavesSettings
from .stripe import StripeSettings
from .survival import SurvivalSettings
from .vip import VipSettings
from .warehouse import WarehouseSettings

__all__ = ["Config", "ReadOptions", "SourceConfig", "load_config", "parse_date", "template"]

CONFIG_NAME = "revbook.toml"
GRAINS = ("month", "quarter", "year")
#: the longest past-due grace past_due_churn_after_days takes (a year)
MAX_PAST_DUE_DAYS = 365
#: the typed sections: name -> the settings class that parses and checks it
SETTINGS: dict[str, Any] = {
    "lifecycle": LifecycleSettings,
    "health": HealthSettings,
    "rum": RumSettings,
    "catalogue": CatalogueSettings,
    "hubspot": HubspotSettings,
    "salesforce": SalesforceSettings,
    "survival": SurvivalSettings,
    "attribution": AttributionSettings,
    "concentration": ConcentrationSettings,
    "csm_impact": CsmImpactSettings,
    "saves": SavesSettings,
    "benchmarks": BenchmarkSettings,
    "vip": VipSettings,
    "warehouse": WarehouseSettings,
    "stripe": StripeSettings,
    "impact_statements": ImpactStatementsSettings,
    "forecast": ForecastSettings,
    "renewals": RenewalSettings,
}
#: sections beside [workspace] and [sources.*]
SECTIONS = ("churn_reasons", "signals", *SETTINGS)
WORKSPACE_KEYS = (
    "path",
    "reporting_currency",
    "fiscal_year_start_month",
    "churn_grace_days",
    "past_due_churn_after_days",
    "mrr_source",
    "invoice_service_months",
    "churn_recognition",
    "mrr_price",
    "as_of",
    "arr_bands",
    "reactivation_as_new_after_months",
    "movement_grain",
    "intra_month",
    "trial_conversion",
    "cohort_slice",
    "memory_limit",
    "max_shrink",
)


@dataclass(frozen=True)
class ReadOptions:
    """How the files of one table are read: its column names, date format, decimal mark, delimiter,
    encoding and Excel sheet (the keys of ``[sources.<table>]`` besides its paths)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    #: a named mapping of another tool's export (SOURCE_PRESETS), e.g. "stripe_subscriptions_export"
    preset: str | None = None


@dataclass(frozen=True, kw_only=True)
class SourceConfig(ReadOptions):
    """Where one canonical table comes from and how its files are read."""

    table: str
    paths: tuple[Path, ...]


#: when a line's churn is recognised (docs/definitions.md, "Conventions where tools differ")
CHURN_RECOGNITION = ("end_of_service", "cancellation")
#: the price MRR is measured at
MRR_PRICES = ("net", "list")
#: what movements are classified for: each account, or each (account, subscription_id)
MOVEMENT_GRAINS = ("account", "subscription")
#: a spell of MRR inside one period: netted at the snapshots, or shown as its new and its churn
INTRA_MONTH = ("net", "gross")
#: when a trial's conversion (its new MRR) is dated
TRIAL_CONVERSIONS = ("paid_start", "trial_start")

SOURCE_KEYS = ("path", "paths", *(f.name for f in fields(ReadOptions)))
#: the named mappings of other tools' exports (revbook.sources.presets) and the table each fills
SOURCE_PRESETS: dict[str, str] = {
    "stripe_subscriptions_export": "subscriptions",
    "stripe_invoices_export": "invoices",
}


@dataclass(frozen=True)
class Config:
    """The settings of one workspace. Build it with :func:`load_config` or directly."""

    workspace: Path = Path("revbook.duckdb")
    reporting_currency: str = "USD"
    fiscal_year_start_month: int = 1
    churn_grace_days: int = 0
    #: 0 (default): an unpaid invoice changes no MRR; N: an account with an invoice still unpaid N days
    #: after its due date churns on due date + N (delinquent churn) and returns, a reactivation, on the
    #: day it is paid (ChartMogul's "automatically cancel subscriptions that are N days past due")
    past_due_churn_after_days: int = 0
    mrr_source: str = "subscriptions"
    invoice_service_months: int = 0
    #: "end_of_service" (default): a line churns when its paid service ends; "cancellation": on the
    #: day its cancellation was requested (ChartMogul's and ProfitWell's other setting)
    churn_recognition: str = "end_of_service"
    #: "net" (default): MRR after discounts; "list": before them (coupons and discounts ignored)
    mrr_price: str = "net"
    as_of: dt.date | None = None
    arr_bands: tuple[int, ...] = ARR_BAND_EDGES
    reactivation_as_new_after_months: int = 0
    #: "account" (default): movements per account; "subscription": per (account, subscription_id), so
    #: a second subscription is new and ending one of two is churn (docs/definitions.md)
    movement_grain: str = "account"
    #: "net" (default): movements compare period-end snapshots; "gross": a spell of MRR that starts and
    #: ends between two snapshots shows its new (or reactivation) and its churn in its period
    intra_month: str = "net"
    #: "paid_start" (default): a trial's conversion is new MRR when the paid line starts;
    #: "trial_start": dated at the start of the trial line that runs up to it
    trial_conversion: str = "paid_start"
    cohort_slice: str = "year"
    memory_limit: str | None = None
    #: the largest share of a table's rows a load may remove without ``replace=True`` (--replace)
    max_shrink: float = 0.5
    sources: Mapping[str, SourceConfig] = field(default_factory=dict)
    #: [churn_reasons]: overrides of the churn-reason taxonomy (revbook.insights.taxonomy); None drops one
    churn_reasons: Mapping[str, ReasonOverride | None] = field(default_factory=dict)
    #: [signals]: overrides of the trigger-phrase rules (revbook.insights.signals); None drops one
    signals: Mapping[str, SignalOverride | None] = field(default_factory=dict)
    #: [lifecycle]: stage rules and milestones (revbook.rum, revbook.health.features)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    #: [health]: composite components, weights and bands; model horizons (revbook.health)
    health: HealthSettings = field(default_factory=HealthSettings)
    #: [rum]: expansion potential and risk bands (revbook.rum)
    rum: RumSettings = field(default_factory=RumSettings)
    #: [catalogue]: key features, windows of the CS metric catalogue (revbook.metrics.catalogue)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    #: [hubspot]: how HubSpot's objects map into the contract (revbook.sources.hubspot)
    hubspot: HubspotSettings = field(default_factory=HubspotSettings)
    #: [salesforce]: how Salesforce's objects map into the contract (revbook.sources.salesforce)
    salesforce: SalesforceSettings = field(default_factory=SalesforceSettings)
    #: [survival]: gross margin and curve settings for survival and CLTV (revbook.health.survival)
    survival: SurvivalSettings = field(default_factory=SurvivalSettings)
    #: [attribution]: deal and touch windows of expansion attribution (revbook.impact.attribution)
    attribution: AttributionSettings = field(default_factory=AttributionSettings)
    #: [concentration]: window, top-N counts and alert thresholds (revbook.impact.concentration)
    concentration: ConcentrationSettings = field(default_factory=ConcentrationSettings)
    #: [csm_impact]: risk-adjusted CSM impact and capacity weights (revbook.impact.csm, revbook.impact.capacity)
    csm_impact: CsmImpactSettings = field(default_factory=CsmImpactSettings)
    #: [saves]: what flags an account at risk and how a save is verified (revbook.impact.saves)
    saves: SavesSettings = field(default_factory=SavesSettings)
    #: [benchmarks]: bands and published medians beside the headline figures (revbook.benchmarks)
    benchmarks: BenchmarkSettings = field(default_factory=BenchmarkSettings)
    #: [vip]: which accounts are VIP and get an account plan (revbook.plans)
    vip: VipSettings = field(default_factory=VipSettings)
    #: [warehouse]: the schema or queries a SQL warehouse is read from, and where results go back (sources.warehouse)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)
    #: [stripe]: the Stripe connector's address, retries and page size (revbook.sources.stripe)
    stripe: StripeSettings = field(default_factory=StripeSettings)
    #: [impact_statements]: thresholds of the verified impact statements (revbook.impact.statements)
    impact_statements: ImpactStatementsSettings = field(default_factory=ImpactStatementsSettings)
    #: [forecast]: horizons, draws, interval and backtest dates of the NRR/GRR forecast (revbook.rum.forecast)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    #: [renewals]: the renewal book's buckets and what commits a renewal (revbook.rum.renewals)
    renewals: RenewalSettings = field(default_factory=RenewalSettings)

    def __post_init__(self) -> None:
        if self.reporting_currency not in CURRENCY_MINOR_UNITS:
            raise ConfigError(
                f"unknown reporting_currency '{self.reporting_currency}'", hint="use an ISO 4217 code such as USD"
            )
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ConfigError("fiscal_year_start_month must be 1 to 12", value=self.fiscal_year_start_month)
        if self.churn_grace_days < 0:
            raise ConfigError("churn_grace_days must be 0 or more", value=self.churn_grace_days)
        days = self.past_due_churn_after_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_PAST_DUE_DAYS:
            raise ConfigError(
                f"past_due_churn_after_days must be a whole number of days from 0 (off) to {MAX_PAST_DUE_DAYS}",
                value=days,
                hint="e.g. past_due_churn_after_days = 30: an invoice unpaid 30 days after its due date churns",
            )
        if self.mrr_source not in ("subscriptions", "invoices"):
            raise ConfigError("mrr_source must be 'subscriptions' or 'invoices'", value=self.mrr_source)
        if self.churn_recognition not in CHURN_RECOGNITION:
            raise ConfigError(
                f"churn_recognition must be {' or '.join(repr(v) for v in CHURN_RECOGNITION)}",
                value=self.churn_recognition,
            )
        if self.mrr_price not in MRR_PRICES:
            raise ConfigError(f"mrr_price must be {' or '.join(repr(v) for v in MRR_PRICES)}", value=self.mrr_price)
        if not 0 <= self.invoice_service_months <= 120:
            raise ConfigError(
                "invoice_service_months must be 0 (off) to 120",
                value=self.invoice_service_months,
                hint="the months of service one invoice line without service dates bills, e.g. 1 or 12",
            )
        if list(self.arr_bands) != sorted(set(self.arr_bands)) or any(b <= 0 for b in self.arr_bands):
            raise ConfigError("arr_bands must be increasing positive numbers", value=self.arr_bands)
        if self.reactivation_as_new_after_months < 0:
            raise ConfigError("reactivation_as_new_after_months must be 0 or more")
        for key, allowed in (
            ("movement_grain", MOVEMENT_GRAINS),
            ("intra_month", INTRA_MONTH),
            ("trial_conversion", TRIAL_CONVERSIONS),
        ):
            if getattr(self, key) not in allowed:
                raise ConfigError(
                    f"{key} must be {' or '.join(repr(v) for v in allowed)}",
                    value=getattr(self, key),
                    hint='see docs/definitions.md, "Conventions where tools differ"',
                )
        if self.intra_month == "gross" and self.movement_grain == "subscription":
            raise ConfigError(
                "intra_month = 'gross' works at movement_grain = 'account' only",
                hint="choose one of the two conventions (docs/definitions.md)",
            )
        if not 0 <= self.max_shrink <= 1:
            raise ConfigError("max_shrink must be a share from 0 to 1 (0.5: half the rows)", value=self.max_shrink)
        if self.cohort_slice not in ("year", "quarter"):
            raise ConfigError("cohort_slice must be 'year' or 'quarter'", value=self.cohort_slice)
        for name, cls in SETTINGS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(
                    f"Config.{name} must be a {cls.__name__}",
                    value=getattr(self, name),
                    hint=f"build it with {cls.__name__}(...) or {cls.__name__}.from_mapping({{...}})",
                )

    @property
    def by_subscription(self) -> bool:
        """Whether movements are classified per subscription: ``movement_grain = "subscription"`` with
        subscriptions as the MRR source (revbook.toml refuses it with invoices; a Config built so, as
        the reconciliation's book of the other source is, classifies per account)."""
        return self.movement_grain == "subscription" and self.mrr_source == "subscriptions"

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

    def on_date(self, on: dt.date | str | None = None) -> dt.date:
        """The date RUM and health are read on: ``on`` (a date or YYYY-MM-DD), by default the as-of
        date, never after it."""
        if on is None:
            return self.snapshot_date()
        if isinstance(on, str):
            try:
                on = dt.date.fromisoformat(on)
            except ValueError:
                raise ConfigError(f"'{on}' is not a date", hint="use YYYY-MM-DD") from None
        if on > self.snapshot_date():
            raise WorkspaceError(
                f"{on} is after the as-of date {self.snapshot_date()}", hint="RUM is read on or before the as-of date"
            )
        return on

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def parse_sources(raw: Mapping[str, Any], base: Path) -> dict[str, SourceConfig]:
    sources: dict[str, SourceConfig] = {}
    for table, spec in raw.items():
        if table not in LOADABLE_TABLES:
            near = difflib.get_close_matches(table, LOADABLE_TABLES, n=1)
            raise ConfigError(
                f"[sources.{table}] is not a table revbook loads",
                hint=f"did you mean '{near[0]}'?" if near else f"use one of: {', '.join(LOADABLE_TABLES)}",
            )
        if not isinstance(spec, Mapping):
            raise ConfigError(f"[sources.{table}] must be a table with 'path' or 'paths'")
        check_keys(f"sources.{table}", spec, SOURCE_KEYS)
        paths = spec.get("paths") or ([spec["path"]] if "path" in spec else [])
        if isinstance(paths, str):
            paths = [paths]
        columns = dict(spec.get("columns", {}))
        known = set(TABLES[table].names)
        for canonical in columns:
            if canonical not in known:
                near = difflib.get_close_matches(canonical, TABLES[table].names, n=1)
                raise ConfigError(
                    f"[sources.{table}.columns] maps '{canonical}', which is not a column of {table}",
                    hint=f"did you mean '{near[0]}'?" if near else f"its columns are: {', '.join(TABLES[table].names)}",
                )
        decimal = spec.get("decimal")
        if decimal not in (None, ".", ","):
            raise ConfigError(f"[sources.{table}] decimal must be '.' or ','", value=decimal)
        preset = spec.get("preset")
        if preset is not None and columns:
            raise ConfigError(
                f"[sources.{table}] has both a preset and a column mapping",
                hint="the preset names the export's columns itself: drop one of them",
            )
        if preset is not None and SOURCE_PRESETS.get(preset) != table:
            fits = [name for name, t in SOURCE_PRESETS.items() if t == table]
            raise ConfigError(
                f"[sources.{table}] preset '{preset}' is not a mapping of {table}",
                hint=f"use one of: {', '.join(fits)}" if fits else f"{table} has no preset; map its columns",
            )
        sources[table] = SourceConfig(
            table=table,
            paths=tuple((base / p) if not Path(p).is_absolute() else Path(p) for p in paths),
            columns=columns,
            date_format=spec.get("date_format"),
            decimal=decimal,
            delimiter=spec.get("delimiter"),
            encoding=spec.get("encoding"),
            sheet=spec.get("sheet"),
            preset=preset,
        )
    return sources


def config_from_mapping(data: Mapping[str, Any], base: Path) -> Config:
    """The Config of a parsed revbook.toml (``base``: the folder relative paths start from)."""
    check_keys("", data, ("workspace", "sources", *SECTIONS), what="section")
    ws = dict(as_table("workspace", data.get("workspace", {})))
    check_keys("workspace", ws, WORKSPACE_KEYS)
    sections = {name: as_table(name, data.get(name, {})) for name in SECTIONS}
    settings = {name: cls.from_mapping(sections[name]) for name, cls in SETTINGS.items()}
    path = Path(ws.get("path", "revbook.duckdb"))
    try:
        config = Config(
            workspace=path if path.is_absolute() else base / path,
            reporting_currency=str(ws.get("reporting_currency", "USD")).upper(),
            fiscal_year_start_month=int(ws.get("fiscal_year_start_month", 1)),
            churn_grace_days=int(ws.get("churn_grace_days", 0)),
            past_due_churn_after_days=ws.get("past_due_churn_after_days", 0),
            mrr_source=str(ws.get("mrr_source", "subscriptions")),
            invoice_service_months=int(ws.get("invoice_service_months", 0)),
            churn_recognition=str(ws.get("churn_recognition", "end_of_service")),
            mrr_price=str(ws.get("mrr_price", "net")),
            as_of=None if ws.get("as_of") == "" else parse_date(ws.get("as_of"), "as_of"),
            arr_bands=tuple(int(b) for b in ws.get("arr_bands", ARR_BAND_EDGES)),
            reactivation_as_new_after_months=int(ws.get("reactivation_as_new_after_months", 0)),
            movement_grain=str(ws.get("movement_grain", "account")),
            intra_month=str(ws.get("intra_month", "net")),
            trial_conversion=str(ws.get("trial_conversion", "paid_start")),
            cohort_slice=str(ws.get("cohort_slice", "year")),
            memory_limit=str(ws["memory_limit"]) if ws.get("memory_limit") else None,
            max_shrink=float(ws.get("max_shrink", 0.5)),
            sources=parse_sources(as_table("sources", data.get("sources", {})), base),
            churn_reasons=reason_overrides(sections["churn_reasons"]),
            signals=signal_overrides(sections["signals"]),
            **settings,
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"invalid [workspace] setting: {exc}") from None
    if config.movement_grain == "subscription" and config.mrr_source != "subscriptions":
        raise ConfigError(
            "movement_grain = 'subscription' needs mrr_source = 'subscriptions'",
            value=config.mrr_source,
            hint="invoices have no subscription ids (each invoice would be a subscription of its own)",
        )
    return config


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
        "past_due_churn_after_days = 0       # N: an invoice unpaid N days past its due date churns (0 = off)",
        'mrr_source = "subscriptions"        # or "invoices"; the other is used for reconciliation',
        "invoice_service_months = 0          # N: an invoice line without service dates bills N months from its date",
        'churn_recognition = "end_of_service"  # or "cancellation": churn on the day cancellation was asked for',
        'mrr_price = "net"                   # or "list": MRR before discounts and coupons',
        '# as_of = "2026-10-31"              # the snapshot date; default: today',
        f"arr_bands = [{', '.join(map(str, ARR_BAND_EDGES))}]  # ARR band edges for the arr_band slice",
        "reactivation_as_new_after_months = 0  # 0: a returning customer is always a reactivation",
        'movement_grain = "account"          # or "subscription": a second subscription is new, ending one is churn',
        'intra_month = "net"                 # or "gross": a spell inside one month shows its new and its churn',
        'trial_conversion = "paid_start"     # or "trial_start": a converted trial\'s new MRR dated at its start',
        'cohort_slice = "year"               # the cohort slice: "year" or "quarter" of first MRR',
        '# memory_limit = "8GB"              # memory before spilling to disk; default: half the RAM',
        "max_shrink = 0.5                    # a load may remove at most this share of a table's rows (else --replace)",
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
