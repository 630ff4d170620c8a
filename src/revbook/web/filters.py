"""Every page's query parameters, parsed and validated in one place, and the filters kept in the URL.

A page declares what it reads: :data:`filters` (the period, grain, slice and window every figure
page shares, as a :class:`Filters`) and/or a :class:`Query` of its own :class:`Param`; both are the
route's FastAPI dependencies, so a page never reads a raw parameter. A value that is malformed or
not allowed is a ``ConfigError`` that names the parameter and what it allows (the app answers 400);
a well-formed name the workspace does not have (a slice value, a CSM, a team, a reason, an account)
is a ``NotFoundError`` (404), raised where the page looks it up. An empty value is an absent one
(what a form's blank choice sends). Parameters a page does not declare are ignored (the access token
travels in the URL). No value ever reaches SQL: pages filter the library's cached frames in memory.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request

from ..errors import ConfigError, NotFoundError
from .data import Store

__all__ = [
    "GRAINS",
    "PERIOD_PATTERN",
    "SHARED",
    "SLICES",
    "WINDOWS",
    "Filters",
    "Param",
    "Query",
    "choice",
    "date",
    "filters",
    "filters_with",
    "flag",
    "key",
    "lookup",
    "number",
    "period",
    "slice_param",
    "store_of",
    "text",
]

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
PERIOD_FORM = "use YYYY-MM, YYYY-Qn or YYYY (FY before a fiscal year), e.g. 2026-Q4"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,60}$"
CODE_FORM = "use letters, digits, '_', '.' or '-' (at most 60)"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SHOWN_CHARS = 60  # of a refused value, quoted in the message
SHOWN_VALUES = 12  # of a slice's values, listed when one is not found

Kind = Literal["choice", "int", "flag", "date", "period", "text", "key"]


def store_of(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= SHOWN_CHARS else raw[:SHOWN_CHARS] + "…")


@dataclass(frozen=True)
class Param:
    """One query parameter: its kind, what it allows, and its value when absent (or empty).

    Kinds: ``choice`` (one of ``choices``), ``int`` (from ``low`` to ``high``, one of ``choices``
    when given), ``flag`` (1/0, true/false, yes/no, on/off), ``date`` (YYYY-MM-DD), ``period`` (a
    period label), ``text`` (free text up to ``max_length``) and ``key`` (a name the page looks up
    in the workspace: malformed is a 400, unknown a 404). A ``pattern`` is the form a value must
    have, and ``form`` says it in words. ``requires`` names the parameter this one is read with (a
    slice ``value`` needs a ``by``).
    """

    name: str
    kind: Kind
    about: str
    default: Any = None
    choices: tuple[Any, ...] = ()
    low: int | None = None
    high: int | None = None
    max_length: int = 200
    pattern: str | None = None
    form: str | None = None
    requires: str | None = None

    def read(self, params: Mapping[str, str]) -> Any:
        raw = params.get(self.name)
        if raw is None or raw == "":
            return self.default
        return self.parse(raw)

    def parse(self, raw: str) -> Any:
        """The value of ``raw``, or a ConfigError naming this parameter and what it allows."""
        if len(raw) > self.max_length:
            raise self.refuse(f"is longer than {self.max_length} characters", raw)
        if self.kind == "choice":
            if raw not in self.choices:
                raise self.refuse(f"is not a {self.about}", raw, f"use one of: {', '.join(self.choices)}")
            return raw
        if self.kind == "int":
            return self._number(raw)
        if self.kind == "flag":
            if raw.lower() not in TRUE + FALSE:
                raise self.refuse("is not yes or no", raw, "use 1 or 0")
            return raw.lower() in TRUE
        if self.kind == "date":
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                    raise ValueError(raw)
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise self.refuse("is not a date", raw, "use YYYY-MM-DD, e.g. 2026-01-31") from None
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise self.refuse(f"is not a well-formed {self.about}", raw, self.form)
        return raw

    def _number(self, raw: str) -> int:
        allowed = (
            f"one of: {', '.join(str(c) for c in self.choices)}"
            if self.choices
            else f"a whole number from {self.low} to {self.high}"
        )
        if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()):
            raise self.refuse("is not a whole number", raw, f"use {allowed}")
        value = int(raw)
        out_of_range = (self.low is not None and value < self.low) or (self.high is not None and value > self.high)
        if out_of_range or (self.choices and value not in self.choices):
            raise self.refuse(f"is not an allowed {self.about}", raw, f"use {allowed}")
        return value

    def refuse(self, problem: str, raw: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.name}: {_shown(raw)} {problem}", value=raw, hint=hint)

    def missing(
        self, value: Any, noun: str, values: list[str] | None = None, where: str = "in this workspace"
    ) -> NotFoundError:
        """The 404 of a well-formed value the workspace does not have ("csm: no CSM 'x' in this workspace")."""
        hint = None
        if values is not None:
            more = "" if len(values) <= SHOWN_VALUES else f", … ({len(values)} in all)"
            hint = f"{noun}s: {', '.join(values[:SHOWN_VALUES])}{more}" if values else f"there is no {noun}"
        return NotFoundError(f"{self.name}: no {noun} {_shown(str(value))} {where}", value=value, hint=hint)


def choice(name: str, choices: tuple[str, ...], about: str, default: str | None = None) -> Param:
    return Param(name, "choice", about, default=default, choices=choices)


def number(
    name: str, about: str, default: int, *, low: int = 1, high: int = 100_000, choices: tuple[int, ...] = ()
) -> Param:
    return Param(name, "int", about, default=default, low=low, high=high, choices=choices)


def flag(name: str, about: str) -> Param:
    return Param(name, "flag", about, default=False)


def date(name: str, about: str) -> Param:
    return Param(name, "date", about)


def text(name: str, about: str, *, max_length: int = 200) -> Param:
    return Param(name, "text", about, max_length=max_length)


def key(name: str, about: str, *, code: bool = False, requires: str | None = None) -> Param:
    """A name looked up in the workspace; ``code=True``: a code (letters, digits, '_', '.', '-')."""
    if code:
        return Param(name, "key", about, pattern=CODE_PATTERN, form=CODE_FORM, requires=requires)
    return Param(name, "key", about, requires=requires)


def period(name: str, about: str, *, months_only: bool = False) -> Param:
    """A period label (``months_only``: a month's, YYYY-MM)."""
    if months_only:
        return Param(name, "period", about, max_length=7, pattern=MONTH_PATTERN, form="use YYYY-MM, e.g. 2026-01")
    return Param(name, "period", about, max_length=12, pattern=PERIOD_PATTERN, form=PERIOD_FORM)


def _read(params: tuple[Param, ...], query_params: Mapping[str, str]) -> dict[str, Any]:
    values = {p.name: p.read(query_params) for p in params}
    for p in params:
        if p.requires and values[p.name] is not None and not values[p.requires]:
            needed = next(q for q in params if q.name == p.requires)
            raise ConfigError(
                f"{p.name}: a {p.about} needs {needed.name}=",
                hint=f"add {needed.name}= one of: {', '.join(str(c) for c in needed.choices)}",
            )
    return values


class Query:
    """Some query parameters as a FastAPI dependency: ``Depends(Query(...))`` gives their values by name."""

    def __init__(self, *params: Param) -> None:
        self.params = params

    def __getitem__(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def __call__(self, request: Request) -> dict[str, Any]:
        return _read(self.params, request.query_params)


#: the filters every figure page shares
SHARED = (
    choice("grain", GRAINS, "period length", default="month"),
    period("period", "period label"),
    choice("by", SLICES, "slice dimension"),
    key("value", "slice value", requires="by"),
    number("window", "retention window (months)", 12, low=1, high=12, choices=WINDOWS),
)


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
    #: whether the request chose the period (without one: the last, the one holding the as-of date)
    chosen: bool = False

    @property
    def label(self) -> str:
        return str(self.period["period"])

    @property
    def shown(self) -> str:
        """The period's label as shown: "2026-11 to date" when the as-of date cuts it short."""
        return self.store.label(self.grain, self.period)

    @property
    def moves_period(self) -> dict[str, Any]:
        """The period of the waterfall and the top movers: the one chosen, or by default the last
        complete period (a partial one's few days of movements read as a collapse of new business)."""
        if self.chosen:
            return self.period
        return self.store.last_complete(self.grain) or self.period

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


class FilterQuery(Query):
    """The shared filters as a dependency: their values checked against the workspace, as a :class:`Filters`."""

    def __call__(self, request: Request) -> Filters:  # type: ignore[override]
        v = _read(self.params, request.query_params)
        store = store_of(request)
        grain = v["grain"]
        found = store.period(grain, v["period"])
        if found is None:
            periods = store.periods(grain)
            span = f"{periods[0]['period']} … {periods[-1]['period']}" if periods else "none"
            raise ConfigError(
                f"period: {_shown(str(v['period']))} is not a {grain} of this workspace",
                value=v["period"],
                hint=f"its {grain}s: {span}",
            )
        by, value = v["by"], v["value"]
        if value is not None:
            values = [val for val, _ in store.slice_values(by)]
            if value not in values:
                raise self["value"].missing(value, by, values)
        return Filters(
            path=request.url.path,
            grain=grain,
            period=found,
            by=by,
            value=value,
            window=v["window"],
            store=store,
            chosen=v["period"] is not None,
        )


def filters_with(*overrides: Param) -> FilterQuery:
    """The shared filters with some of them replaced (e.g. a page's own allowed slices)."""
    changed = {p.name: p for p in overrides}
    return FilterQuery(*(changed.get(p.name, p) for p in SHARED))


filters = FilterQuery(*SHARED)


def slice_param(*slices: str) -> Param:
    """The ``by`` filter of a page that allows only some slices."""
    return replace(next(p for p in SHARED if p.name == "by"), choices=slices)


def lookup(
    param: Param, value: Any, known: Callable[[], Mapping[Any, Any] | list[Any]], noun: str, where: str = ""
) -> None:
    """A NotFoundError unless ``value`` (when given) is one of ``known()``."""
    if value is None:
        return
    names = known()
    if value not in names:
        raise param.missing(value, noun, [str(n) for n in names], where or "in this workspace")
