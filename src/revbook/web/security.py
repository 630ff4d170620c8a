"""Who may read the dashboard: loopback only without a token; with one, only who presents it.

- No token: the server answers only requests between loopback addresses whose Host header names
  the loopback (so a page elsewhere cannot reach it through DNS rebinding). Serving on any other
  address needs a token (``serve`` refuses to start without one).
- A token (``create_app(token=)`` or env ``REVBOOK_TOKEN``): every request must carry it, as the
  ``revbook_token`` cookie (set by a first visit with ``?token=...``, then redirected to drop it
  from the address bar), an ``Authorization: Bearer`` header or an ``X-Revbook-Token`` header.
- Read-only: GET and HEAD only. Every response carries a strict content security policy.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import Request, Response

__all__ = ["COOKIE", "guard", "is_loopback"]

COOKIE = "revbook_token"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
HEADERS = {
    # vega compiles its expressions with Function(): 'unsafe-eval' for scripts from this server only
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    if header.startswith("["):
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _supplied(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-revbook-token") or request.query_params.get("token") or request.cookies.get(COOKIE)


def guard(token: str | None) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware enforcing the rules above."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        from fastapi.responses import PlainTextResponse, RedirectResponse

        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("revbook serve is read-only", status_code=405, headers={"Allow": "GET, HEAD"})
        if token:
            supplied = _supplied(request)
            if not supplied or not hmac.compare_digest(supplied.encode(), token.encode()):
                return PlainTextResponse(
                    "an access token is required: open the link printed by `revbook serve` (…?token=…)",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if "token" in request.query_params:
                from urllib.parse import urlencode

                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response: Response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                return response
        else:
            client = request.client.host if request.client else None
            server = request.scope.get("server")
            host = _host_name(request.headers.get("host", ""))
            if not (is_loopback(client) and server and is_loopback(server[0]) and is_loopback(host)):
                return PlainTextResponse(
                    "without an access token revbook serves this machine only (127.0.0.1); "
                    "set REVBOOK_TOKEN (or --token) to serve on another address",
                    status_code=403,
                )
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    return middleware
