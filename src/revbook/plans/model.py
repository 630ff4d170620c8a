"""An account plan's content, checked: what a create or an edit may hold, and the errors it meets.

A plan holds lists of short texts (challenges, goals, initiatives, plays), KPIs (a metric of
:data:`revbook.plans.kpis.KPI_METRICS`, a target and a due date) and, per offering (a product of
the book), the account's stage in the customer decision journey
(:data:`revbook.definitions.JOURNEY_STAGES`) with the date it reached it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..config.core import parse_date
from ..definitions import JOURNEY_STAGES
from ..errors import ConfigError
from .kpis import KPI_METRICS

__all__ = ["LISTS", "MAX_ITEMS", "MAX_TEXT", "Kpi", "Plan", "Stage", "checked_changes"]

#: the plan's lists of texts, in the order a plan shows them
LISTS = ("challenges", "goals", "initiatives", "plays")
#: the longest text of one item (characters), an author's name and an edit's note
MAX_TEXT = 500
MAX_AUTHOR = 100
#: the most items of one list, KPIs or offerings
MAX_ITEMS = 30
FIELDS = (*LISTS, "kpis", "journey")


@dataclass(frozen=True)
class Kpi:
    metric: str
    target: Decimal
    due: dt.date

    def to_json(self) -> dict[str, str]:
        return {"metric": self.metric, "target": str(self.target), "due": self.due.isoformat()}


@dataclass(frozen=True)
class Stage:
    product: str
    stage: str
    #: the day the account reached this stage
    since: dt.date

    def to_json(self) -> dict[str, str]:
        return {"product": self.product, "stage": self.stage, "since": self.since.isoformat()}


@dataclass(frozen=True)
class Plan:
    challenges: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    initiatives: tuple[str, ...] = ()
    plays: tuple[str, ...] = ()
    kpis: tuple[Kpi, ...] = ()
    journey: tuple[Stage, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: list(getattr(self, name)) for name in LISTS}
        out["kpis"] = [k.to_json() for k in self.kpis]
        out["journey"] = [s.to_json() for s in self.journey]
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Plan:
        return cls(
            **{name: tuple(raw.get(name, ())) for name in LISTS},
            kpis=tuple(Kpi(k["metric"], Decimal(k["target"]), dt.date.fromisoformat(k["due"])) for k in raw["kpis"]),
            journey=tuple(Stage(s["product"], s["stage"], dt.date.fromisoformat(s["since"])) for s in raw["journey"]),
        )

    def stage_of(self, product: str) -> Stage | None:
        return next((s for s in self.journey if s.product == product), None)


def text(value: object, what: str, limit: int = MAX_TEXT) -> str:
    """A short text, stripped; empty, over ``limit`` characters or not text is a ConfigError."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text", value=value)
    out = value.strip()
    if not out:
        raise ConfigError(f"{what} is empty", hint="write something, or leave the item out")
    if len(out) > limit:
        raise ConfigError(
            f"{what} is {len(out):,} characters long, over the limit of {limit}",
            value=out[:40] + "…",
            hint="shorten it: a plan's items are one or two sentences; put the detail in a linked document",
        )
    return out


def _items(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"{what} must be a list of texts", value=value, hint=f'e.g. {what} = ["...", "..."]')
    if len(value) > MAX_ITEMS:
        raise ConfigError(
            f"{what} holds {len(value)} items, over the limit of {MAX_ITEMS}", hint="keep the few that matter"
        )
    return tuple(text(v, f"{what} item {i + 1}") for i, v in enumerate(value))


def _metric(value: object) -> str:
    name = text(value, "a KPI's metric", 60)
    if name not in KPI_METRICS:
        near = difflib.get_close_matches(name, KPI_METRICS, n=1)
        raise ConfigError(
            f"unknown KPI metric '{name}'",
            value=name,
            hint=(f"did you mean '{near[0]}'? " if near else "") + f"the metrics: {', '.join(KPI_METRICS)}",
        )
    return name


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ConfigError(f"{what} must be a number", value=value, hint="e.g. 250000, or 1.1 for 110%")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{what} must be a number", value=value, hint="e.g. 250000, or 1.1 for 110%") from None
    if not number.is_finite():
        raise ConfigError(f"{what} must be a finite number", value=value)
    return number


def _date(value: object, what: str) -> dt.date:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{what} is missing", hint="give a date like 2027-06-30")
    if isinstance(value, dt.datetime):
        return value.date()
    day = parse_date(value.strip() if isinstance(value, str) else value, what)
    assert day is not None
    return day


def _kpis(value: object) -> tuple[Kpi, ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise ConfigError("kpis must be a list of {metric, target, due}", value=value)
    if len(value) > MAX_ITEMS:
        raise ConfigError(f"kpis holds {len(value)} items, over the limit of {MAX_ITEMS}")
    out = []
    for i, k in enumerate(value):
        if not isinstance(k, Mapping):
            raise ConfigError(f"KPI {i + 1} must be a table of metric, target and due", value=k)
        unknown = set(k) - {"metric", "target", "due"}
        if unknown:
            raise ConfigError(
                f"KPI {i + 1} has unknown keys: {', '.join(sorted(map(str, unknown)))}",
                hint="a KPI has metric, target and due",
            )
        metric = _metric(k.get("metric"))
        out.append(
            Kpi(
                metric,
                _number(k.get("target"), f"the target of KPI {metric}"),
                _date(k.get("due"), f"the due date of KPI {metric}"),
            )
        )
    return tuple(out)


def _journey(value: object, products: Sequence[str], today: dt.date) -> dict[str, tuple[str, dt.date | None]]:
    """product -> (stage, since or None) from a mapping {product: stage or {stage, since}}."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            "journey must map offerings to stages", value=value, hint='e.g. journey = {Analytics = "consideration"}'
        )
    if len(value) > MAX_ITEMS:
        raise ConfigError(f"journey holds {len(value)} offerings, over the limit of {MAX_ITEMS}")
    out: dict[str, tuple[str, dt.date | None]] = {}
    for product, spec in value.items():
        if product not in products:
            near = difflib.get_close_matches(str(product), products, n=1)
            raise ConfigError(
                f"unknown offering '{product}': no subscription line has that product",
                value=product,
                hint=(f"did you mean '{near[0]}'? " if near else "") + f"the offerings: {', '.join(products)}",
            )
        since = None
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"stage", "since"}
            if unknown:
                raise ConfigError(
                    f"the journey of {product} has unknown keys: {', '.join(sorted(map(str, unknown)))}",
                    hint="give stage and, optionally, since",
                )
            since = _date(spec["since"], f"the date {product} reached its stage") if "since" in spec else None
            spec = spec.get("stage")
        stage = text(spec, f"the stage of {product}", 40).lower()
        if stage not in JOURNEY_STAGES:
            raise ConfigError(
                f"'{stage}' is not a stage of the decision journey",
                value=stage,
                hint=f"use one of: {', '.join(JOURNEY_STAGES)}",
            )
        if since is not None and since > today:
            raise ConfigError(f"the date {product} reached {stage} ({since}) is in the future", value=since)
        out[str(product)] = (stage, since)
    return out


def checked_changes(raw: Mapping[str, Any], products: Sequence[str], today: dt.date) -> dict[str, Any]:
    """The fields a create or an edit gives, each checked: lists of texts as tuples, kpis as
    :class:`Kpi`, journey as {product: (stage, since or None)}; an unknown field is an error."""
    unknown = [k for k in raw if k not in FIELDS]
    if unknown:
        near = difflib.get_close_matches(str(unknown[0]), FIELDS, n=1)
        raise ConfigError(
            f"a plan has no field '{unknown[0]}'",
            value=unknown[0],
            hint=(f"did you mean '{near[0]}'? " if near else "") + f"the fields: {', '.join(FIELDS)}",
        )
    out: dict[str, Any] = {}
    for name in LISTS:
        if name in raw:
            out[name] = _items(raw[name], name)
    if "kpis" in raw:
        out["kpis"] = _kpis(raw["kpis"])
    if "journey" in raw:
        out["journey"] = _journey(raw["journey"], products, today)
    return out
