"""An account plan as one printable HTML page (``revbook plan export``, the dashboard's print view).

One self-contained file: no scripts, the stylesheet inline, every text of the plan escaped (the
environment autoescapes; a plan's items are user text). The print stylesheet fits the page to one
sheet of A4 or US Letter (``paper=``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .charts import money, pct

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["PAPERS", "format_kpi", "render_plan", "write_plan"]

TEMPLATES = Path(__file__).parent / "templates"
#: paper -> the CSS page size
PAPERS = {"a4": "A4", "letter": "letter"}


def format_kpi(value: Any, unit: str) -> str:
    """A KPI's figure or target as people read it: money to the unit, a rate as a percent, a score
    or a count as a number."""
    if value is None:
        return "–"
    if unit == "money":
        return money(value, 0)
    if unit == "rate":
        return pct(float(value))
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{float(number):,.{1 if unit == 'score' else 2}f}"


def _paper(paper: str) -> str:
    key = paper.lower()
    if key not in PAPERS:
        raise ConfigError(f"unknown paper '{paper}'", value=paper, hint="use a4 or letter")
    return PAPERS[key]


def render_plan(view: dict[str, Any], *, currency: str, paper: str = "a4") -> str:
    """The page of a plan view (:func:`revbook.plans.plan_view`)."""
    import jinja2

    from .html import environment

    env = environment(jinja2.FileSystemLoader(TEMPLATES))
    env.filters["kpi"] = format_kpi
    return env.get_template("plan_print.html").render(view=view, currency=currency, page_size=_paper(paper))


def write_plan(store: Store, account_id: str, path: str | Path, *, paper: str = "a4", on: Any = None) -> Path:
    """Write the account's plan as one printable page to ``path``; returns the path."""
    from ..plans import plan_view

    size = _paper(paper)
    view = plan_view(store, account_id, on)
    if view["current"] is None:
        from ..errors import NotFoundError

        raise NotFoundError(
            f"account {account_id} has no plan to export", value=account_id, hint="create it: revbook plan create"
        )
    out = Path(path)
    out.write_text(render_plan(view, currency=store.config.reporting_currency, paper=size.lower()), encoding="utf-8")
    return out
