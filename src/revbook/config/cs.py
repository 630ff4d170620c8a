"""The customer-success sections of revbook.toml: [lifecycle], [health] and [rum], parsed and checked.

Settings (docs/rum.md and docs/health.md have what each one does)::

    [lifecycle]
    onboarding_milestones = ["kickoff", "go_live"]
    value_milestone = "first_value"
    onboarding_days = 90
    renewal_window_days = 90
    expansion_utilisation = 0.85
    churned_days = 90
    contract_end = "own_term"          # or "as_exported": trust subscriptions.contract_end_date on every row

    [health]
    weights = { usage = 0.25, utilisation = 0.2, engagement = 0.15, support = 0.15, sentiment = 0.15, milestones = 0.1 }
    bands = { green = 57, yellow = 47 }
    horizons = [90, 180]
    contraction_threshold = 0.1
    test_months = 6
    train_months = 24
    usage_metrics = ["actions"]        # default: actions, else the most common usage metric
    users_metric = "active_users"
    cancel_cap = 30
    max_feature_auc = 0.9
    feature_auc_margin = 0.02
    max_feature_drift = 0.7
    allow_features = []
    drop_features = []

    [rum]
    target_utilisation = 0.75
    usage_metric = "actions"
    usage_tiers = { starter = 25, team = 30, business = 35 }
    cross_sell_share = 0.25
    potential_bands = [0.25, 0.10]
    growth_band = 0.02
    train_months = 6
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ..definitions import HEALTH_CANCEL_CAP, HEALTH_GREEN, HEALTH_YELLOW
from ..errors import ConfigError
from .keys import as_table, check_keys, integer, names, number

__all__ = [
    "CONTRACT_END_RULES",
    "DEFAULT_WEIGHTS",
    "HEALTH_COMPONENTS",
    "HealthSettings",
    "LifecycleSettings",
    "RumSettings",
]

#: the composite's components (revbook.health.composite.COMPONENTS says what each reads)
HEALTH_COMPONENTS = ("usage", "utilisation", "engagement", "support", "sentiment", "milestones")
HEALTH_KEYS = (
    "weights",
    "bands",
    "horizons",
    "contraction_threshold",
    "test_months",
    "train_months",
    "usage_metrics",
    "users_metric",
    "cancel_cap",
    "max_feature_auc",
    "feature_auc_margin",
    "max_feature_drift",
    "allow_features",
    "drop_features",
)
#: how subscriptions.contract_end_date is read for a past scoring date (docs/health.md)
CONTRACT_END_RULES = ("own_term", "as_exported")
DEFAULT_WEIGHTS = {
    "usage": 0.25,
    "utilisation": 0.20,
    "engagement": 0.15,
    "support": 0.15,
    "sentiment": 0.15,
    "milestones": 0.10,
}


def _string(section: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"invalid [{section}] setting: {name} must be a name", value=value)
    return value


def _simple(section: str, cls: type, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``raw`` that are fields of ``cls``, each read as the type of its default."""
    defaults = cls()
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        default, value = getattr(defaults, f.name), raw[f.name]
        if isinstance(default, tuple) and all(isinstance(v, str) for v in default):
            out[f.name] = names(section, f.name, value)
        elif isinstance(default, int):
            out[f.name] = integer(section, f.name, value)
        elif isinstance(default, float):
            out[f.name] = number(section, f.name, value)
        elif isinstance(default, str):
            out[f.name] = _string(section, f.name, value)
    return out


@dataclass(frozen=True)
class LifecycleSettings:
    """[lifecycle]: the stage rules of RUM and the onboarding milestones health features read."""

    onboarding_milestones: tuple[str, ...] = ("kickoff", "go_live")
    value_milestone: str = "first_value"
    onboarding_days: int = 90
    renewal_window_days: int = 90
    expansion_utilisation: float = 0.85
    churned_days: int = 90
    #: "own_term": a contract_end_date counts on a past date only where it ends the row's own term;
    #: "as_exported": every row's value is trusted (for exports that keep one row per term)
    contract_end: str = "own_term"

    def __post_init__(self) -> None:
        if self.contract_end not in CONTRACT_END_RULES:
            raise ConfigError(
                f"[lifecycle] contract_end must be one of {', '.join(CONTRACT_END_RULES)}", value=self.contract_end
            )
        if self.onboarding_days < 1 or self.renewal_window_days < 1 or self.churned_days < 1:
            raise ConfigError("[lifecycle] day counts must be at least 1")
        if not 0 < self.expansion_utilisation <= 2:
            raise ConfigError("[lifecycle] expansion_utilisation is a share of the licence, e.g. 0.85")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> LifecycleSettings:
        """The [lifecycle] table of revbook.toml, checked."""
        check_keys("lifecycle", raw, [f.name for f in fields(cls)])
        return cls(**_simple("lifecycle", cls, raw))


@dataclass(frozen=True)
class HealthSettings:
    """[health]: the composite's weights and bands, and the model's horizons and backtest months."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    green: float = HEALTH_GREEN
    yellow: float = HEALTH_YELLOW
    horizons: tuple[int, ...] = (90, 180)
    #: a fall of MRR by at least this share within the horizon is a contraction event
    contraction_threshold: float = 0.1
    #: months of scoring dates held out at the end of the history in the backtest
    test_months: int = 6
    #: months of scoring dates before the test ones used to train
    train_months: int = 24
    #: the usage metrics of the usage trend (empty: ``actions``, else the most common usage metric)
    usage_metrics: tuple[str, ...] = ()
    #: the usage metric counting active users (utilisation = it over licensed seats)
    users_metric: str = "active_users"
    #: a requested cancellation caps the composite score here (in the red band)
    cancel_cap: float = HEALTH_CANCEL_CAP
    #: the leak guard: a feature whose own ROC AUC reaches this is suspect ...
    max_feature_auc: float = 0.9
    #: ... or comes within this of the best model's
    feature_auc_margin: float = 0.02
    #: ... or whose values on past scoring dates are told apart from the as-of date's this well
    max_feature_drift: float = 0.7
    #: suspect features the user has confirmed as known on the scoring date
    allow_features: tuple[str, ...] = ()
    #: features left out of the models
    drop_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.cancel_cap < self.yellow:
            raise ConfigError("[health] cancel_cap must be in the red band: 0 <= cancel_cap < bands.yellow",
                              value=self.cancel_cap)  # fmt: skip
        for name in ("max_feature_auc", "max_feature_drift"):
            if not 0.5 < getattr(self, name) <= 1:
                raise ConfigError(f"[health] {name} is a ROC AUC in (0.5, 1]", value=getattr(self, name))
        if not 0 <= self.feature_auc_margin < 0.5:
            raise ConfigError("[health] feature_auc_margin is an AUC difference in [0, 0.5)",
                              value=self.feature_auc_margin)  # fmt: skip
        for name, w in self.weights.items():
            if name not in HEALTH_COMPONENTS:
                near = difflib.get_close_matches(name, HEALTH_COMPONENTS, n=1)
                raise ConfigError(
                    f"[health] weights names an unknown component '{name}'",
                    hint=f"did you mean '{near[0]}'?" if near else f"components: {', '.join(HEALTH_COMPONENTS)}",
                )
            if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
                raise ConfigError(f"[health] weight of '{name}' must be a number >= 0", value=w)
        if sum(self.weights.values()) <= 0:
            raise ConfigError("[health] weights must not all be 0")
        if not 0 <= self.yellow <= self.green <= 100:
            raise ConfigError(
                "[health] bands need 0 <= yellow <= green <= 100", value={"green": self.green, "yellow": self.yellow}
            )
        if not self.horizons or any(h < 7 for h in self.horizons):
            raise ConfigError("[health] horizons are days, each at least 7", value=self.horizons)
        if not 0 < self.contraction_threshold <= 1:
            raise ConfigError("[health] contraction_threshold must be in (0, 1]", value=self.contraction_threshold)
        if self.test_months < 1 or self.train_months < 1:
            raise ConfigError("[health] test_months and train_months must be at least 1")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> HealthSettings:
        """The [health] table of revbook.toml, checked; ``weights`` not named keep their defaults."""
        check_keys("health", raw, HEALTH_KEYS)
        values = _simple("health", cls, raw)
        if "weights" in raw:
            given = dict(as_table("health.weights", raw["weights"]))
            for name, w in given.items():
                if isinstance(w, bool) or not isinstance(w, int | float):
                    raise ConfigError(f"[health] weight of '{name}' must be a number >= 0", value=w)
            values["weights"] = {**DEFAULT_WEIGHTS, **{k: float(w) for k, w in given.items()}}
        if "bands" in raw:
            bands = as_table("health.bands", raw["bands"])
            check_keys("health.bands", bands, ("green", "yellow"))
            values.update({k: number("health", f"bands.{k}", v) for k, v in bands.items()})
        if "horizons" in raw:
            horizons = raw["horizons"]
            if isinstance(horizons, str) or not isinstance(horizons, Sequence):
                raise ConfigError("[health] horizons are days, each at least 7", value=horizons)
            values["horizons"] = tuple(integer("health", "horizons", h) for h in horizons)
        return cls(**values)


@dataclass(frozen=True)
class RumSettings:
    """[rum]: expansion potential, its bands, and the renewal outlook's trend band and training months."""

    target_utilisation: float = 0.75
    usage_metric: str = "actions"
    usage_tiers: Mapping[str, float] = field(default_factory=lambda: {"starter": 25.0, "team": 30.0, "business": 35.0})
    cross_sell_share: float = 0.25
    potential_bands: tuple[float, float] = (0.25, 0.10)
    growth_band: float = 0.02
    train_months: int = 6

    def __post_init__(self) -> None:
        if not 0 < self.target_utilisation <= 1 or not 0 < self.cross_sell_share <= 1:
            raise ConfigError("[rum] target_utilisation and cross_sell_share are shares in (0, 1]")
        if len(self.potential_bands) != 2 or not self.potential_bands[0] >= self.potential_bands[1] >= 0:
            raise ConfigError("[rum] potential_bands = [high, medium] shares of ARR, high >= medium >= 0")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> RumSettings:
        """The [rum] table of revbook.toml, checked."""
        check_keys("rum", raw, [f.name for f in fields(cls)])
        values = _simple("rum", cls, raw)
        if "usage_tiers" in raw:
            tiers = as_table("rum.usage_tiers", raw["usage_tiers"])
            values["usage_tiers"] = {str(k): number("rum", f"usage_tiers.{k}", v) for k, v in tiers.items()}
        if "potential_bands" in raw:
            bands = raw["potential_bands"]
            if isinstance(bands, str) or not isinstance(bands, Sequence) or len(bands) != 2:
                raise ConfigError("[rum] potential_bands = [high, medium] shares of ARR, high >= medium >= 0")
            values["potential_bands"] = tuple(number("rum", "potential_bands", b) for b in bands)
        return cls(**values)
