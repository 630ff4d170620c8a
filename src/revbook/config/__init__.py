"""revbook.toml: the workspace's settings and the column mapping of its sources.

Every setting has a default, so a workspace works with no file at all::

    [workspace]
    path = "revbook.duckdb"            # the DuckDB file, relative to this file
    reporting_currency = "USD"
    fiscal_year_start_month = 1        # 1 = January
    churn_grace_days = 0               # gaps of at most this many days are bridged at the previous MRR
    past_due_churn_after_days = 0      # N: an account whose invoice is unpaid N days past its due date
                                       # churns then (delinquent churn) and returns when it is paid
    mrr_source = "subscriptions"       # or "invoices"; the other is kept for reconciliation
    invoice_service_months = 0         # N: an invoice line with no service dates is N months of
                                       # service from its invoice date; 0: revenue on that date only
    churn_recognition = "end_of_service"  # or "cancellation": churn dated when cancellation is asked for
    mrr_price = "net"                  # or "list": MRR before discounts and coupons
    as_of = "2026-11-15"               # the snapshot date; default: today
    arr_bands = [10000, 50000, 250000] # ARR band edges, in the reporting currency
    reactivation_as_new_after_months = 0  # 0: a return is always a reactivation
    movement_grain = "account"         # or "subscription": movements per (account, subscription_id)
    intra_month = "net"                # or "gross": a spell inside one period shows its new and its churn
    trial_conversion = "paid_start"    # or "trial_start": a converted trial's new MRR dated at its start
    cohort_slice = "year"              # the acquisition-cohort slice: "year" or "quarter"
    memory_limit = "8GB"               # DuckDB's memory before it spills to disk; default: half the RAM
    max_shrink = 0.5                   # a load may remove at most this share of a table's rows; more
                                       # (or emptying it) needs --replace (docs/loading.md)

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

    [lifecycle]  [health]  [rum]  [catalogue]  [survival]  [saves]
                                       # customer-success settings (docs/rum.md, docs/health.md,
                                       # docs/saves.md and docs/definitions.md; every key in
                                       # revbook.config.cs, .catalogue, .survival and .saves)
    [hubspot]  [salesforce]            # how a CRM's objects map into the contract: owner roles, deal
    [hubspot.fields]                   # kinds and sources, custom fields (docs/connectors.md; every
                                       # key in revbook.config.crm)
    [attribution]                      # deal and touch windows of expansion attribution
                                       # (docs/attribution.md; every key in revbook.config.attribution)

    [concentration]                    # NRR without the top accounts, masking, their alerts
                                       # (docs/concentration.md; every key in .concentration)

    [csm_impact]                       # risk-adjusted CSM impact and capacity weights
                                       # (docs/csm-impact.md; every key in revbook.config.csm_impact)

    [benchmarks]                       # bands and published medians beside the headline figures
                                       # (docs/benchmarks.md; every key in revbook.config.benchmarks)
    [vip]                              # which accounts are VIP and get an account plan
                                       # (docs/account-plans.md; every key in revbook.config.vip)
    [warehouse]                        # a PostgreSQL warehouse: the schema or queries the tables are read
                                       # from, where results are written back (docs/connectors.md; every
                                       # key in revbook.config.warehouse; the connection: environment only)
    [stripe]                           # the Stripe connector: api_base, max_network_retries, page_size
                                       # (docs/connectors.md; the key only from STRIPE_API_KEY or a keyring)
    [impact_statements]                # thresholds of the verified impact statements
                                       # (docs/impact-statements.md; every key in .impact_statements)
    [forecast]                         # horizons, draws, interval, backtest dates of the NRR/GRR
                                       # forecast (docs/forecast.md; every key in .forecast)
    [renewals]                         # the renewal book's buckets and what commits a renewal
                                       # (docs/renewals.md; every key in revbook.config.renewals)

:func:`load_config` reads and checks every section once: each of [lifecycle], [health], [rum],
[catalogue], [survival] and [saves] becomes a frozen settings object (``config.health`` is a
:class:`HealthSettings`, ...), each [churn_reasons.<code>] and [signals.<name>] an override
(:class:`ReasonOverride`, :class:`SignalOverride`), and an unknown key anywhere is a ConfigError naming the key, its
section and the nearest valid key.
"""

from __future__ import annotations

from .benchmarks import BenchmarkSettings
from .catalogue import CatalogueSettings
from .concentration import ConcentrationSettings
from .core import (
    CONFIG_NAME,
    GRAINS,
    Config,
    ReadOptions,
    SourceConfig,
    config_from_mapping,
    load_config,
    parse_sources,
    template,
)
from .crm import CrmSettings, HubspotSettings, SalesforceSettings
from .cs import DEFAULT_WEIGHTS, HEALTH_COMPONENTS, HealthSettings, LifecycleSettings, RumSettings
from .csm_impact import CsmImpactSettings
from .forecast import ForecastSettings
from .impact_statements import ImpactStatementsSettings
from .insights import POLARITIES, ReasonOverride, SignalOverride
from .renewals import RenewalSettings
from .saves import SAVE_MODELS, SavesSettings
from .stripe import StripeSettings
from .survival import SPELLS, SurvivalSettings
from .vip import VipSettings
from .warehouse import WarehouseSettings

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_WEIGHTS",
    "GRAINS",
    "HEALTH_COMPONENTS",
    "POLARITIES",
    "SAVE_MODELS",
    "SPELLS",
    "BenchmarkSettings",
    "CatalogueSettings",
    "ConcentrationSettings",
    "Config",
    "CrmSettings",
    "CsmImpactSettings",
    "ForecastSettings",
    "HealthSettings",
    "HubspotSettings",
    "ImpactStatementsSettings",
    "LifecycleSettings",
    "ReadOptions",
    "ReasonOverride",
    "RenewalSettings",
    "RumSettings",
    "SalesforceSettings",
    "SavesSettings",
    "SignalOverride",
    "SourceConfig",
    "StripeSettings",
    "SurvivalSettings",
    "VipSettings",
    "WarehouseSettings",
    "config_from_mapping",
    "load_config",
    "parse_sources",
    "template",
]
