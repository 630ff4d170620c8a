"""The Stripe connector: reads customers, coupons, subscriptions (items, prices, discounts), invoices
(lines) and credit notes with a read-only key through the official ``stripe`` client, keeps them in
the workspace, and loads the mapped accounts, subscriptions and invoices through the normal atomic
load (docs/connectors.md, "Stripe").

Incremental: each kind is listed with ``created[gte]`` its cursor (the newest ``created`` of the last
run; objects seen again are upserted), then the events since the last run name the objects that
changed (a cancellation, a voided invoice, ...), and each is read again. Every page is committed
with the position it reached, so a run that fails after some pages resumes from the last committed
page. The key comes from ``STRIPE_API_KEY`` or a keyring only; it is never logged, stored or shown.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, SourceError
from .connectors import Loads, Seen, Synced
from .stripe_map import ACCOUNT_COLUMNS, INVOICE_COLUMNS, SUBSCRIPTION_COLUMNS, map_objects

if TYPE_CHECKING:
    import duckdb

    from ..config import Config

__all__ = ["KEY_ENV", "KINDS", "StripeConnector", "api_key", "build"]

KEY_ENV = "STRIPE_API_KEY"
KEYRING_SERVICE = "revbook"
_KEY_SHAPE = re.compile(r"^(rk|sk)_(test|live)_[0-9A-Za-z]{8,}$")
_ANY_KEY = re.compile(r"\b(rk|sk|pk)_(test|live)_[0-9A-Za-z*]+")
OBJECTS = "_revbook_stripe_objects"
STATE = "_revbook_stripe_sync"
#: Stripe keeps events for 30 days; a cursor older than that cannot see every change
EVENTS_KEPT_SECONDS = 30 * 86_400


@dataclass(frozen=True)
class Kind:
    """One kind of Stripe object: its list service, the contract table it maps into, what to expand."""

    name: str
    service: str
    table: str
    expand: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    #: the "object" field of this kind in events
    object: str = ""


KINDS: tuple[Kind, ...] = (
    Kind("customers", "customers", "accounts", object="customer"),
    Kind("coupons", "coupons", "subscriptions", object="coupon"),
    Kind(
        "subscriptions",
        "subscriptions",
        "subscriptions",
        expand=("data.discounts", "data.items.data.discounts"),
        params=(("status", "all"),),
        object="subscription",
    ),
    Kind("invoices", "invoices", "invoices", object="invoice"),
    Kind("credit_notes", "credit_notes", "invoices", object="credit_note"),
)
_EVENT_TYPES = (
    "customer.updated",
    "coupon.updated",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.updated",
    "invoice.finalized",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "credit_note.updated",
    "credit_note.voided",
)


def api_key() -> str:
    """The Stripe key from ``STRIPE_API_KEY``, else the keyring (service "revbook", name "stripe");
    a key that is not shaped like a secret or restricted key is refused without being shown."""
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        try:
            import keyring

            key = (keyring.get_password(KEYRING_SERVICE, "stripe") or "").strip()
        except Exception:  # no keyring installed, or no backend
            key = ""
    if not key:
        raise ConfigError(
            "no Stripe key: STRIPE_API_KEY is not set and no keyring holds one",
            hint=f"create a restricted key with read access (docs/connectors.md) and export {KEY_ENV}=rk_...",
        )
    if not _KEY_SHAPE.match(key):
        raise ConfigError(
            "the Stripe key is not a secret (sk_) or restricted (rk_) key",
            hint="a publishable key (pk_) or a truncated value cannot read the API; use a restricted read-only key",
        )
    return key


def scrub(text: str, key: str | None = None) -> str:
    """``text`` with the key, and anything shaped like a Stripe key, taken out."""
    if key:
        text = text.replace(key, "[key]")
    return _ANY_KEY.sub("[key]", text)


_NO_EVENTS = (
    "the Stripe key cannot read events, so later runs do not see changes to objects already read (a "
    "cancellation, a voided invoice): grant Read on events, or run revbook connect stripe --full"
)


class _NoKeysInLogs(logging.Filter):
    """Takes anything shaped like a Stripe key out of the ``stripe`` client's log records (it logs
    the API's error bodies, which name the key, masked or not)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = scrub(text)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return True


_LOG_FILTER = _NoKeysInLogs()


def _guard_logs() -> None:
    log = logging.getLogger("stripe")  # the client's one logger
    if _LOG_FILTER not in log.filters:
        log.addFilter(_LOG_FILTER)


@dataclass(frozen=True)
class _Page:
    data: list[dict[str, Any]]
    has_more: bool


class NoPermission(SourceError):
    """The key lacks the read permission of one kind of object (Stripe's 403 ``permission_error``)."""


class StripeConnector:
    """``revbook connect stripe``: see the module's docstring."""

    name = "stripe"

    def __init__(
        self,
        config: Config,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ):
        self.settings = config.stripe
        self._sources = config.sources
        self._sleep = sleep
        self._now = now

    # -- the client -------------------------------------------------------------------------
    def _client(self) -> tuple[Any, str]:
        import stripe

        key = api_key()
        _guard_logs()
        base = {"api": self.settings.api_base} if self.settings.api_base else None
        return stripe.StripeClient(key, base_addresses=base, max_network_retries=self.settings.max_network_retries), key  # type: ignore[arg-type]

    def _call(self, key: str, fn: Callable[[], Any], what: str = "these objects") -> Any:
        """``fn()`` with rate limits retried: the client retries network errors, 409 and 5xx itself
        (with backoff) but a 429 only when Stripe's ``Stripe-Should-Retry`` header asks, so a 429 is
        retried here, with the client's backoff (0.5 s doubling, at most 5 s)."""
        import stripe

        for attempt in range(self.settings.max_network_retries + 1):
            try:
                return fn()
            except stripe.RateLimitError:
                if attempt == self.settings.max_network_retries:
                    raise SourceError(
                        "Stripe kept refusing requests for the rate limit", hint="wait a minute and run it again"
                    ) from None
                self._sleep(min(0.5 * 2**attempt, 5.0))
            except stripe.PermissionError:
                raise NoPermission(
                    f"the Stripe key cannot read {what} (Stripe: permission_error)",
                    hint=f"give the restricted key Read access to {what} in Stripe's dashboard (Developers, API keys)",
                ) from None
            except stripe.AuthenticationError:
                raise ConfigError(
                    "Stripe refused the key (authentication failed)",
                    hint=f"check {KEY_ENV}: the key may be revoked, or from another account or mode",
                ) from None
            except stripe.StripeError as exc:
                raise SourceError(
                    f"Stripe answered {exc.http_status or 'no status'}: {scrub(exc.user_message or str(exc), key)}",
                    hint="run revbook connect stripe again to resume from the last page read",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, client: Any, key: str, path: str, params: dict[str, Any], what: str) -> dict[str, Any]:
        """The JSON of ``GET /v1/<path>`` through the client (its retries, its errors), as plain data:
        ``raw_request`` skips building a StripeObject per object, which costs more than the request."""
        response = self._call(key, functools.partial(client.raw_request, "get", f"/v1/{path}", **params), what)
        data: dict[str, Any] = response.data
        return data

    def _page(self, client: Any, key: str, kind: Kind, params: dict[str, Any]) -> _Page:
        body = self._get(client, key, kind.service, params, kind.name.replace("_", " "))
        return _Page(list(body.get("data") or []), bool(body.get("has_more")))

    # -- check ------------------------------------------------------------------------------
    def check(self) -> list[Seen]:
        """Per kind of object, whether the key can read it (one object asked for each)."""
        client, key = self._client()
        kind_of_key = "restricted" if key.startswith("rk_") else "secret"
        mode = "live" if "_live_" in key else "test"
        seen = [
            Seen(
                "key",
                "-",
                True,
                f"a {kind_of_key} {mode}-mode key"
                + (
                    "" if kind_of_key == "restricted" else "; a secret key can write: prefer a restricted read-only key"
                ),
            )
        ]
        for kind in (*KINDS, Kind("events", "events", "-")):
            try:
                page = self._page(client, key, kind, {"limit": 1})
                n = len(page.data)
                detail = "readable" + (f" ({n} seen on the first page)" if n else " (none yet)")
                seen.append(Seen(kind.name, kind.table, True, detail))
            except NoPermission:
                what = kind.name.replace("_", " ")
                seen.append(
                    Seen(kind.name, kind.table, False, f"no read permission (permission_error): grant Read on {what}")
                )
        return seen

    # -- sync -------------------------------------------------------------------------------
    def sync(self, store: Loads, *, full: bool = False, replace: bool = False) -> Synced:
        """Read what changed since the last run (everything when ``full`` or on the first run), keep it,
        and load the mapped tables through the store's atomic load. The tables are mapped from every
        object kept, the whole company as Stripe holds it, so they always replace the loaded ones
        (``replace`` changes nothing here)."""
        started = time.perf_counter()
        for table in ("accounts", "subscriptions", "invoices"):
            source = self._sources.get(table)
            if source is not None and (source.columns or source.preset):
                raise ConfigError(
                    f"revbook.toml maps the columns of [sources.{table}], which Stripe's rows would be read through",
                    hint=f"the Stripe connector loads {table} in the contract's own columns: remove that "
                    f"[sources.{table}] mapping (or its preset) to load {table} from Stripe",
                )
        client, key = self._client()
        con = store.con
        _ensure_tables(con)
        warnings: list[str] = []
        if key.startswith("sk_"):
            warnings.append("the Stripe key is a secret key, which can write; a restricted read-only key is enough")
        if full:  # everything again: the workspace's copy then mirrors Stripe (deleted objects go)
            with _transaction(con):
                con.execute(f"DELETE FROM {STATE}")
                con.execute(f"DELETE FROM {OBJECTS}")
        if _state(con, "events") is None:
            # the first run reads everything: changes from now on are the events after the newest one,
            # noted before reading so that a change during the read (or a resumed read) is seen next time
            try:
                newest = self._page(client, key, Kind("events", "events", "-"), {"limit": 1}).data
            except NoPermission:
                newest = []
                warnings.append(_NO_EVENTS)
            cursor = int(newest[0]["created"]) if newest else int(self._now())
            _set_state(con, "events", cursor=cursor, run_gte=None, after=None, high=cursor)
            for kind in KINDS:
                self._read_kind(client, key, con, kind)
        else:
            for kind in KINDS:
                self._read_kind(client, key, con, kind)
            warnings.extend(self._read_events(client, key, con))
        mapped = map_objects(_stored(con))
        warnings.extend(mapped.warnings)
        frames = {
            "accounts": _frame(mapped.accounts, "accounts", ACCOUNT_COLUMNS),
            "subscriptions": _frame(mapped.subscriptions, "subscriptions", SUBSCRIPTION_COLUMNS),
            "invoices": _frame(mapped.invoices, "invoices", INVOICE_COLUMNS),
        }
        frames = {name: f for name, f in frames.items() if f.num_rows}
        if not frames:
            raise SourceError("Stripe holds no customers, subscriptions or invoices this key can read")
        results = store.load_frames(frames, replace=True)
        for result in results:
            warnings.extend(f"{result.table}: {w.message}" for w in result.warnings)
        rows = {r.table: int(r.rows) for r in results}
        return Synced(rows=rows, seconds=time.perf_counter() - started, warnings=tuple(warnings))

    def _read_kind(self, client: Any, key: str, con: duckdb.DuckDBPyConnection, kind: Kind) -> None:
        """Every page of ``kind`` created since its cursor, each committed with the position reached."""
        state = _state(con, kind.name)
        cursor = state[0] if state else 0
        run_gte, after, high = (
            (state[1], state[2], state[3]) if state and state[1] is not None else (cursor, None, cursor)
        )
        for page in self._pages(client, key, kind, run_gte, after):
            objs = [self._complete(client, key, kind, o) for o in page.data]
            high = max([high, *(int(o.get("created") or 0) for o in objs)])
            with _transaction(con):
                _upsert(con, kind.name, objs)
                if page.has_more:
                    _set_state(con, kind.name, cursor=cursor, run_gte=run_gte, after=objs[-1]["id"], high=high)
                else:
                    _set_state(con, kind.name, cursor=high, run_gte=None, after=None, high=high)

    def _pages(self, client: Any, key: str, kind: Kind, gte: int, after: str | None) -> Iterator[Any]:
        while True:
            params: dict[str, Any] = {"limit": self.settings.page_size, **dict(kind.params)}
            if gte:
                params["created"] = {"gte": gte}
            if after:
                params["starting_after"] = after
            if kind.expand:
                params["expand"] = list(kind.expand)
            page = self._page(client, key, kind, params)
            yield page
            if not page.has_more or not page.data:
                return
            after = page.data[-1]["id"]

    def _read_events(self, client: Any, key: str, con: duckdb.DuckDBPyConnection) -> list[str]:
        """The objects that changed since the last run, read again (one page of events at a time)."""
        state = _state(con, "events")
        assert state is not None
        cursor = state[0]
        if self._now() - cursor > EVENTS_KEPT_SECONDS:
            return [
                "the last Stripe sync is more than 30 days old, beyond the events Stripe keeps: changes to "
                "objects created before it may be missing; run revbook connect stripe --full"
            ]
        run_gte, after, high = (state[1], state[2], state[3]) if state[1] is not None else (cursor, None, cursor)
        kinds = {k.object: k for k in KINDS}
        events = Kind("events", "events", "-", params=())
        while True:
            params: dict[str, Any] = {"limit": self.settings.page_size, "created": {"gte": run_gte}}
            params["types"] = list(_EVENT_TYPES)
            if after:
                params["starting_after"] = after
            try:
                page = self._page(client, key, events, params)
            except NoPermission:
                return [_NO_EVENTS]
            changed: dict[tuple[str, str], Any] = {}
            for event in page.data:
                obj = event["data"]["object"]
                kind = kinds.get(obj.get("object"))
                if kind is not None:
                    changed[(kind.name, obj["id"])] = kind
                high = max(high, int(event["created"]))
            by_kind: dict[str, list[dict[str, Any]]] = {k.name: [] for k in KINDS}
            for (name, oid), kind in changed.items():
                obj = self._retrieve(client, key, kind, oid)
                if obj is not None:
                    by_kind[name].append(obj)
            with _transaction(con):
                for name, objs in by_kind.items():
                    _upsert(con, name, objs)
                if page.has_more and page.data:
                    after = page.data[-1]["id"]
                    _set_state(con, "events", cursor=cursor, run_gte=run_gte, after=after, high=high)
                else:
                    _set_state(con, "events", cursor=high, run_gte=None, after=None, high=high)
            if not page.has_more or not page.data:
                return []

    def _retrieve(self, client: Any, key: str, kind: Kind, oid: str) -> dict[str, Any] | None:
        expand = [e.removeprefix("data.") for e in kind.expand]
        obj = self._get(client, key, f"{kind.service}/{oid}", {"expand": expand} if expand else {}, kind.name)
        return None if obj.get("deleted") else self._complete(client, key, kind, obj)

    def _complete(self, client: Any, key: str, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` with every line of its embedded list (Stripe embeds the first ones and ``has_more``)."""
        field = {"invoices": "lines", "credit_notes": "lines", "subscriptions": "items"}.get(kind.name)
        embedded = obj.get(field) if field else None
        if not isinstance(embedded, dict) or not embedded.get("has_more"):
            return obj
        data = list(embedded.get("data") or [])
        while True:
            params: dict[str, Any] = {"limit": 100}
            if data:
                params["starting_after"] = data[-1]["id"]
            if kind.name == "subscriptions":
                params |= {"subscription": obj["id"], "expand": ["data.discounts"]}
            path = "subscription_items" if kind.name == "subscriptions" else f"{kind.service}/{obj['id']}/lines"
            page = self._get(client, key, path, params, kind.name.replace("_", " "))
            data.extend(page.get("data") or [])
            if not page.get("has_more") or not page.get("data"):
                break
        obj[str(field)] = {**embedded, "data": data, "has_more": False}
        return obj


def build(config: Config) -> StripeConnector:
    """The factory registered in :data:`revbook.sources.connectors.CONNECTORS`."""
    return StripeConnector(config)


# -- the workspace's own tables -------------------------------------------------------------
def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {OBJECTS} (kind VARCHAR, id VARCHAR, created BIGINT, json VARCHAR, "
        "PRIMARY KEY (kind, id))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE} (kind VARCHAR PRIMARY KEY, cursor BIGINT, run_gte BIGINT, "
        "after VARCHAR, high BIGINT)"
    )


class _transaction:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, kind: object, *_: object) -> None:
        self.con.execute("COMMIT" if kind is None else "ROLLBACK")


def _state(con: duckdb.DuckDBPyConnection, kind: str) -> tuple[int, int | None, str | None, int] | None:
    row = con.execute(f"SELECT cursor, run_gte, after, high FROM {STATE} WHERE kind = ?", [kind]).fetchone()
    return None if row is None else (int(row[0]), row[1], row[2], int(row[3]))


def _set_state(
    con: duckdb.DuckDBPyConnection, kind: str, *, cursor: int, run_gte: int | None, after: str | None, high: int
) -> None:
    con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES (?, ?, ?, ?, ?)", [kind, cursor, run_gte, after, high])


def _upsert(con: duckdb.DuckDBPyConnection, kind: str, objs: list[dict[str, Any]]) -> None:
    """Insert or replace ``objs`` in one statement (row-by-row ``executemany`` is ~10 ms a row)."""
    if not objs:
        return
    import pyarrow as pa

    batch = pa.table(
        {
            "kind": [kind] * len(objs),
            "id": [str(o["id"]) for o in objs],
            "created": pa.array([int(o.get("created") or 0) for o in objs], pa.int64()),
            "json": [json.dumps(o, sort_keys=True) for o in objs],
        }
    )
    con.register("_rb_stripe_batch", batch)
    try:
        con.execute(f"INSERT OR REPLACE INTO {OBJECTS} SELECT kind, id, created, json FROM _rb_stripe_batch")
    finally:
        con.unregister("_rb_stripe_batch")


def _stored(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {k.name: [] for k in KINDS}
    for kind, text in con.execute(f"SELECT kind, json FROM {OBJECTS} ORDER BY kind, id").fetchall():
        out.setdefault(kind, []).append(json.loads(text))
    return out


def _frame(rows: list[dict[str, Any]], name: str, columns: tuple[str, ...]) -> Any:
    """The rows as an Arrow table with the contract's types (dates as dates, money as decimals)."""
    import pyarrow as pa

    from ..contract import TABLES

    table = TABLES[name]
    types = {
        "string": pa.string(),
        "date": pa.date32(),
        "decimal": pa.decimal128(38, 12),
        "boolean": pa.bool_(),
    }
    schema = pa.schema([(c.name, types[c.type]) for c in table.columns if c.name in columns])
    return pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
