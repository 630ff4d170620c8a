"""Server-side rendering: one Jinja environment (autoescaped) over the dashboard's and the report's templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..reports import charts

if TYPE_CHECKING:
    import jinja2
    from fastapi import Request
    from fastapi.responses import HTMLResponse

__all__ = ["environment", "render"]

HERE = Path(__file__).parent
REPORT_TEMPLATES = HERE.parent / "reports" / "templates"


def _segment(value: Any) -> str:
    """A value as one URL path segment ('/' included)."""
    from urllib.parse import quote

    return quote(str(value), safe="")


def _signed(value: Any, decimals: int = 0) -> str:
    if value is None:
        return "–"
    if float(value) == 0:
        return charts.money(0, decimals)
    text = charts.money(abs(value), decimals)
    return ("−" if float(value) < 0 else "+") + text


@cache
def environment() -> jinja2.Environment:
    import jinja2

    from ..reports.html import environment as report_environment

    env = report_environment(
        jinja2.ChoiceLoader([jinja2.FileSystemLoader(HERE / "templates"), jinja2.FileSystemLoader(REPORT_TEMPLATES)])
    )
    env.filters.update(signed=_signed, seg=_segment)
    from ..definitions import CS_GLOSSARY, GLOSSARY, NO_CSM, NO_CSM_VALUES, glossary
    from .filters import SLICE_LABELS

    env.globals.update(
        slice_labels=SLICE_LABELS,
        GLOSSARY=glossary((*GLOSSARY, *CS_GLOSSARY)),
        NO_CSM=NO_CSM,
        NO_CSM_VALUES=NO_CSM_VALUES,
    )
    return env


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    from fastapi.responses import HTMLResponse

    from .filters import store_of

    store = store_of(request)
    context.setdefault("title", "")
    html = (
        environment()
        .get_template(template)
        .render(
            nav=request.app.state.nav,
            path=request.url.path,
            as_of=store.as_of,
            currency=store.currency,
            workspace=store.ws.path.name,
            **context,
        )
    )
    return HTMLResponse(html)
