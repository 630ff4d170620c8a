"""The warehouse's connection: from the environment only, its password masked in everything revbook says.

``REVBOOK_WAREHOUSE_URL`` (a ``postgresql://`` URL) wins; without it libpq's own variables (PGHOST,
PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE, ...) are used as libpq reads them. The connection
is shown as its URL with the password replaced by ``***``, and every message revbook builds from a
driver's error has the password (as written and URL-decoded) masked too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ..config.warehouse import URL_VARIABLE, WarehouseSettings
from ..errors import ConfigError, SourceError

if TYPE_CHECKING:
    import psycopg

__all__ = ["MASK", "Connection", "connect", "connection_of", "error_text"]

MASK = "***"
_LIBPQ = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


@dataclass(frozen=True)
class Connection:
    """Where the warehouse is: what libpq is given, how revbook shows it, and the secrets to mask."""

    conninfo: str = ""
    #: the connection as revbook prints it: never the password
    shown: str = ""
    secrets: tuple[str, ...] = ()

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def connection_of(env: Mapping[str, str] | None = None) -> Connection:
    """The connection the environment names (``REVBOOK_WAREHOUSE_URL``, else libpq's PG* variables)."""
    env = os.environ if env is None else env
    password = env.get("PGPASSWORD") or ""
    url = env.get(URL_VARIABLE, "").strip()
    if url:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            raise ConfigError(
                f"{URL_VARIABLE} is not a URL revbook can read",
                hint="write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters)",
            ) from None
        secrets = tuple(s for s in {parts.password or "", unquote(parts.password or ""), password} if s)
        if parts.scheme not in ("postgresql", "postgres"):
            shown = Connection(secrets=secrets).mask(f"{parts.scheme}://...")
            raise ConfigError(
                f"{URL_VARIABLE} must be a postgresql:// URL, got {shown}",
                hint="write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
            )
        user = f"{parts.username}{':' + MASK if parts.password else ''}@" if parts.username else ""
        netloc = f"{user}{host}{':' + str(port) if port else ''}"
        query = Connection(secrets=secrets).mask(parts.query)
        return Connection(url, urlunsplit((parts.scheme, netloc, parts.path, query, "")), secrets)
    named = {k: env[k] for k in _LIBPQ if env.get(k)}
    if not named and not password:
        raise ConfigError(
            "no warehouse connection in the environment",
            hint=f"set {URL_VARIABLE}=postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or libpq's PGHOST, PGUSER, "
            "PGPASSWORD, PGDATABASE (revbook never reads a password from revbook.toml)",
        )
    shown = " ".join(f"{k}={v}" for k, v in named.items()) + (f" PGPASSWORD={MASK}" if password else "")
    return Connection("", shown.strip(), (password,) if password else ())


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "the warehouse connector needs the psycopg package",
            hint="install it: pip install 'revbook[warehouse]' (psycopg[binary])",
        ) from None
    return psycopg


@contextmanager
def connect(
    settings: WarehouseSettings, *, read_only: bool = True
) -> Iterator[tuple[psycopg.Connection[Any], Connection]]:
    """An open connection (closed on exit): read-only and on one snapshot (repeatable read) unless
    ``read_only=False``; a failure to connect is a SourceError naming the masked connection."""
    psycopg = _psycopg()
    where = connection_of()
    try:
        conn = psycopg.connect(where.conninfo, connect_timeout=settings.connect_timeout, application_name="revbook")
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot connect to the warehouse at {where.shown}: {where.mask(_first_line(exc))}",
            hint=f"check {URL_VARIABLE} (or the PG* variables): the host, port, user, password and database",
        ) from None
    try:
        from psycopg.types.string import TextLoader

        # numeric arrives as its exact text (never a float); revbook parses it as a file's amount
        conn.adapters.register_loader("numeric", TextLoader)
        if read_only:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        yield conn, where
    finally:
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def error_text(exc: BaseException, where: Connection) -> str:
    """A driver's error as one masked line (with its detail line, when the server sent one)."""
    text = _first_line(exc)
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None) if diag is not None else None
    if detail:
        text = f"{text} ({detail})"
    return where.mask(text)
