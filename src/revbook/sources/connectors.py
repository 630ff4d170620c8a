"""Connectors: sources read through an API or a database rather than from files (Stripe, a SQL
warehouse, ...). Each maps its objects into the data contract and loads them through the same checks
and the same atomic load as files (:meth:`revbook.store.Store.load_frames`).

A connector is registered here by name, as the module and factory that build it, so that the
registry imports no client library until one is used. The factory takes the workspace's
:class:`revbook.config.Config` and returns a :class:`Connector`. Credentials come only from the
environment or a keyring, never from revbook.toml; they are never logged, stored in the workspace
or shown in an error message.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError

if TYPE_CHECKING:
    import duckdb

    from ..config import Config

__all__ = ["CONNECTORS", "Connector", "Loads", "Seen", "Synced", "connector"]


class Loads(Protocol):
    """What a connector needs of the store it loads into (:class:`revbook.store.Store`, a layer
    above the sources, which a connector so never imports): its atomic load, and its connection
    for a connector's own state (Stripe's cursor and raw objects), never for the loaded tables."""

    @property
    def con(self) -> duckdb.DuckDBPyConnection: ...

    def load_frames(
        self,
        frames: Mapping[str, Any],
        *,
        force: bool = ...,
        replace: bool = ...,
        strict: bool = ...,
        columns: Mapping[str, Mapping[str, str]] | None = ...,
        labels: Mapping[str, str] | None = ...,
    ) -> list[Any]: ...


@dataclass(frozen=True)
class Seen:
    """One line of ``revbook connect NAME --check``: what the credentials can read of one kind of object."""

    objects: str
    #: the contract table the objects map into
    table: str
    readable: bool
    #: e.g. "12 seen on the first page" or the permission the key lacks
    detail: str


@dataclass(frozen=True)
class Synced:
    """What a sync loaded: rows per contract table, how long it took, and anything the user should know."""

    rows: Mapping[str, int]
    seconds: float
    warnings: tuple[str, ...] = ()


class Connector(Protocol):
    name: str

    def check(self) -> list[Seen]:
        """What the credentials can see, without loading anything."""
        ...

    def sync(self, store: Loads, *, full: bool = False, replace: bool = False) -> Synced:
        """Read the source (from the last cursor unless ``full``) and load it into ``store``;
        ``replace`` lets the load remove more of a table's rows than ``max_shrink`` allows."""
        ...


#: name -> "module:factory", the factory taking a Config and returning a Connector
CONNECTORS: dict[str, str] = {
    "warehouse": "revbook.sources.warehouse:warehouse_connector",
    "hubspot": "revbook.sources.hubspot:hubspot_connector",
    "salesforce": "revbook.sources.salesforce:salesforce_connector",
    "stripe": "revbook.sources.stripe:build",
}


def connector(name: str, config: Config) -> Connector:
    """The connector ``name`` for the workspace of ``config``."""
    if name not in CONNECTORS:
        known = ", ".join(sorted(CONNECTORS)) or "none is installed"
        raise ConfigError(f"unknown source '{name}'", hint=f"connect one of: {known}")
    module, factory = CONNECTORS[name].split(":")
    build: Callable[[Config], Any] = getattr(importlib.import_module(module), factory)
    made: Connector = build(config)
    return made
