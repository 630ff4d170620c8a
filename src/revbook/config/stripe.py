"""[stripe]: where the Stripe connector (revbook.sources.stripe) reads, how it pages and retries, checked.

The API key is never a setting: it comes from the environment (STRIPE_API_KEY) or a keyring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError
from .keys import check_keys, integer

__all__ = ["StripeSettings"]


@dataclass(frozen=True)
class StripeSettings:
    """The [stripe] section of revbook.toml, checked."""

    #: the API's base address; empty = Stripe's own (a local server in tests)
    api_base: str | None = None
    #: retries of a request that failed with a network error, 409, 429 or 5xx, with exponential backoff
    max_network_retries: int = 3
    #: objects per page (Stripe allows 1 to 100)
    page_size: int = 100

    def __post_init__(self) -> None:
        if self.api_base is not None and not str(self.api_base).startswith(("http://", "https://")):
            raise ConfigError("[stripe] api_base must be an http(s) address", value=self.api_base)
        if not 0 <= self.max_network_retries <= 10:
            raise ConfigError("[stripe] max_network_retries must be 0 to 10", value=self.max_network_retries)
        if not 1 <= self.page_size <= 100:
            raise ConfigError("[stripe] page_size must be 1 to 100 (Stripe's limit)", value=self.page_size)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> StripeSettings:
        """The [stripe] table of revbook.toml, checked."""
        check_keys("stripe", raw, [f.name for f in fields(cls)])
        if "api_key" in raw:  # pragma: no cover - check_keys refuses it first
            raise ConfigError("[stripe] cannot hold the API key")
        values: dict[str, Any] = {}
        if "api_base" in raw:
            base = raw["api_base"]
            if not isinstance(base, str):
                raise ConfigError("[stripe] api_base must be text", value=base)
            values["api_base"] = base.rstrip("/") or None
        for name in ("max_network_retries", "page_size"):
            if name in raw:
                values[name] = integer("stripe", name, raw[name])
        return cls(**values)
