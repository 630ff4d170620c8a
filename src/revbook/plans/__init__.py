"""Account plans of VIP accounts, kept in the workspace with their full history (docs/account-plans.md).

- :mod:`.vip`: which accounts are VIP ([vip] of revbook.toml);
- :mod:`.model`: a plan's content and its checks; :mod:`.kpis`: the metrics a KPI may name and their
  live figures; :mod:`.storage`: the append-only versions beside the workspace;
- :mod:`.plans`: create, edit, current, history, the plan page's content.
"""

from __future__ import annotations

from .kpis import KPI_METRICS, KpiMetric, kpi_status, live_values
from .model import LISTS, MAX_ITEMS, MAX_TEXT, Kpi, Plan, Stage
from .plans import (
    PlanVersion,
    create_plan,
    current_plan,
    edit_plan,
    journey_history,
    offerings,
    plan_history,
    plan_view,
    planned_accounts,
)
from .storage import plans_path
from .vip import unknown_listed, vip_accounts, vip_reasons

__all__ = [
    "KPI_METRICS",
    "LISTS",
    "MAX_ITEMS",
    "MAX_TEXT",
    "Kpi",
    "KpiMetric",
    "Plan",
    "PlanVersion",
    "Stage",
    "create_plan",
    "current_plan",
    "edit_plan",
    "journey_history",
    "kpi_status",
    "live_values",
    "offerings",
    "plan_history",
    "plan_view",
    "planned_accounts",
    "plans_path",
    "unknown_listed",
    "vip_accounts",
    "vip_reasons",
]
