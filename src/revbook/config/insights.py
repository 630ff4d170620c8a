"""[churn_reasons] and [signals]: overrides of the churn-reason taxonomy and of the trigger-phrase
rules (revbook.insights.taxonomy and revbook.insights.signals hold the defaults they change).

Each sub-table is checked once: its keys, their types and the regular expressions of the reasons;
``false`` drops a default (read as ``None``)::

    [churn_reasons.price]
    label = "Price"                    # also: owner, keywords, replace_keywords
    aliases = ["Too costly"]           # picklist values that mean this reason (case, spacing and
                                       # punctuation do not matter); they win over a default alias
    keywords = ["too expensive"]

    [signals.competitor]
    add_patterns = ["\\bmoving to acme\\b"]  # also: patterns, polarity, exclude, negation_inside, description
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError
from .keys import check_keys

__all__ = ["POLARITIES", "ReasonOverride", "SignalOverride", "reason_overrides", "signal_overrides"]

#: what a signal rule's hits suggest
POLARITIES = ("risk", "expansion", "both")
UNKNOWN_REASON = "unknown"


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} must be a string or a list of strings", value=value)


@dataclass(frozen=True)
class ReasonOverride:
    """One [churn_reasons.<code>] table: what it changes of the reason (None: keep the default's)."""

    label: str | None = None
    owner: str | None = None
    #: picklist values that mean this reason, added to the default aliases (and taken from any
    #: other reason's defaults: the configuration wins)
    aliases: tuple[str, ...] = ()
    #: regular expressions, added to the default ones unless ``replace_keywords``
    keywords: tuple[str, ...] = ()
    replace_keywords: bool = False


@dataclass(frozen=True)
class SignalOverride:
    """One [signals.<name>] table: what it changes of the rule (None: keep the default's)."""

    #: replace the default patterns
    patterns: tuple[str, ...] | None = None
    #: added to the patterns
    add_patterns: tuple[str, ...] = ()
    polarity: str | None = None
    exclude: tuple[str, ...] | None = None
    negation_inside: bool | None = None
    description: str | None = None


def _reason(code: str, spec: object) -> ReasonOverride | None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(code)):
        raise ConfigError(
            f"churn reason code '{code}' must be lower-case letters, digits and _",
            hint="e.g. [churn_reasons.data_residency]",
        )
    if spec is False or spec is None:
        if code == UNKNOWN_REASON:
            raise ConfigError("the 'unknown' churn reason cannot be removed")
        return None
    if isinstance(spec, ReasonOverride):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(f"[churn_reasons.{code}] must be a table of label, owner, aliases, keywords", value=spec)
    check_keys(f"churn_reasons.{code}", spec, [f.name for f in fields(ReasonOverride)])
    keywords = _strings(spec.get("keywords", ()), f"[churn_reasons.{code}] keywords")
    for k in keywords:
        try:
            re.compile(k)
        except re.error as exc:
            raise ConfigError(
                f"[churn_reasons.{code}] keyword '{k}' is not a valid regular expression: {exc}"
            ) from None
    aliases = _strings(spec.get("aliases", ()), f"[churn_reasons.{code}] aliases")
    for a in aliases:
        if not re.search(r"[^\W_]", a):
            raise ConfigError(f"[churn_reasons.{code}] alias {a!r} has no letters or digits", value=a)
    return ReasonOverride(
        label=str(spec["label"]) if "label" in spec else None,
        owner=str(spec["owner"]) if "owner" in spec else None,
        aliases=aliases,
        keywords=keywords,
        replace_keywords=bool(spec.get("replace_keywords", False)),
    )


def reason_overrides(raw: Mapping[str, Any] | None) -> dict[str, ReasonOverride | None]:
    """[churn_reasons], checked: code -> its override, or None to drop the reason."""
    return {str(code): _reason(str(code), spec) for code, spec in (raw or {}).items()}


def _signal(name: str, spec: object) -> SignalOverride | None:
    if spec is False or spec is None:
        return None
    if isinstance(spec, SignalOverride):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(f"[signals.{name}] must be a table of patterns, polarity, exclude", value=spec)
    check_keys(f"signals.{name}", spec, [f.name for f in fields(SignalOverride)])
    polarity = str(spec["polarity"]) if "polarity" in spec else None
    if polarity is not None and polarity not in POLARITIES:
        raise ConfigError(f"[signals.{name}] polarity must be one of {', '.join(POLARITIES)}", value=polarity)
    return SignalOverride(
        patterns=_strings(spec["patterns"], f"[signals.{name}] patterns") if "patterns" in spec else None,
        add_patterns=_strings(spec.get("add_patterns", ()), f"[signals.{name}] add_patterns"),
        polarity=polarity,
        exclude=_strings(spec["exclude"], f"[signals.{name}] exclude") if "exclude" in spec else None,
        negation_inside=bool(spec["negation_inside"]) if "negation_inside" in spec else None,
        description=str(spec["description"]) if "description" in spec else None,
    )


def signal_overrides(raw: Mapping[str, Any] | None) -> dict[str, SignalOverride | None]:
    """[signals], checked: rule name -> its override, or None to drop the rule."""
    return {str(name): _signal(str(name), spec) for name, spec in (raw or {}).items()}
