"""The filters every page shares (period, grain, slice, window), validated, and kept in the URL.

FastAPI validates the types and the allowed values (a bad grain or slice is a 422); a period
that is well formed but not one of the workspace's is a 400. No value ever reaches SQL: pages
filter the library's cached frames in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import HTTPException, Query, Request

from .data import Store

__all__ = ["GRAINS", "PERIOD_PATTERN", "SLICES", "WINDOWS", "Filters", "filters", "store_of"]

GRAINS = ("month", "quarter", "year")
WINDOWS = (1, 3, 12)
SLICES = ("segment", "region", "industry", "owner", "team", "plan", "cohort", "arr_band")
SLICE_LABELS = {
    "segment": "Segment",
    "region": "Region",
    "industry": "Industry",
    "owner": "CSM",
    "team": "Team",
    "plan": "Plan",
    "cohort": "Cohort (year of first MRR)",
    "arr_band": "ARR band",
}
PERIOD_PATTERN = r"^(FY)?\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$"

GrainParam = Literal["month", "quarter", "year"]
SliceParam = Literal["", "segment", "region", "industry", "owner", "team", "plan", "cohort", "arr_band"]


def store_of(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


@dataclass
class Filters:
    """The validated filters of one request, and links that keep them."""

    path: str
    grain: str
    period: dict[str, Any]
    by: str | None
    value: str | None
    window: int
    store: Store = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.period["period"]

    @property
    def slice_label(self) -> str | None:
        return self.store.slice_label(self.by, self.value)

    def params(self, **overrides: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "grain": self.grain,
            "period": self.label,
            "by": self.by,
            "value": self.value,
            "window": self.window,
            **self.extra,
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None and v != ""}

    def url(self, path: str | None = None, **overrides: Any) -> str:
        """A link to ``path`` (default: this page) with these filters, changed by ``overrides``."""
        query = urlencode(self.params(**overrides))
        return f"{path or self.path}?{query}" if query else (path or self.path)

    def month_label(self) -> str:
        """The month whose snapshot closes this period (retention windows are counted in months)."""
        end = self.period["period_end"]
        return f"{end.year}-{end.month:02d}"


def filters(
    request: Request,
    grain: Annotated[GrainParam, Query(description="period length")] = "month",
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN, max_length=12, description="e.g. 2026-Q4")] = None,
    by: Annotated[SliceParam, Query(description="slice dimension")] = "",
    value: Annotated[str | None, Query(max_length=200, description="one value of the slice")] = None,
    window: Annotated[int, Query(ge=1, le=12, description="retention window in months: 1, 3 or 12")] = 12,
) -> Filters:
    if window not in WINDOWS:
        raise HTTPException(422, f"window must be 1, 3 or 12 (months), not {window}")
    store = store_of(request)
    found = store.period(grain, period)
    if found is None:
        periods = store.periods(grain)
        span = f"{periods[0]['period']} … {periods[-1]['period']}" if periods else "none"
        raise HTTPException(400, f"period {period!r} is not a {grain} of this workspace (its {grain}s: {span})")
    if value is not None and value != "" and not by:
        raise HTTPException(400, "value needs a slice: add by=segment (or owner, team, ...)")
    return Filters(
        path=request.url.path,
        grain=grain,
        period=found,
        by=by or None,
        value=(value or None) if by else None,
        window=window,
        store=store,
    )
