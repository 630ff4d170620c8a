"""Who may read the dashboard: loopback only without a token; with one, only who presents it.

- No token: the server answers only requests between loopback addresses whose Host header names
  the loopback (so a page elsewhere cannot reach it through DNS rebinding). Serving on any other
  address needs a token (``serve`` refuses to start without one).
- A token (``create_app(token=)`` or env ``REVBOOK_TOKEN``): every request must carry it, as the
  ``revbook_token`` cookie (set by a first visit with ``?token=...``, then redirected to drop it
  from the address bar), an ``Authorization: Bearer`` header or an ``X-Revbook-Token`` header.
- Writes: GET and HEAD only, except the account plans' forms (a POST to a path under
  :data:`WRITES`, the only writes the dashboard makes; it never writes the loaded tables). A POST
  passes the rules above (the access token off loopback), then must come from a page of this server
  (its ``Origin``, or without one its ``Referer``, names the Host it was sent to) and carry the
  session's CSRF token: the ``revbook_csrf`` cookie (set, HttpOnly and SameSite=Strict, on the
  first response) equal to the form's hidden ``csrf`` field (:func:`read_form`). Anything else is
  refused with 403 and writes nothing.
- Every response carries a strict content security policy.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from fastapi import Request, Response

__all__ = [
    "COOKIE",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "WRITES",
    "FormRefused",
    "csrf_token",
    "guard",
    "is_loopback",
    "read_form",
]

COOKIE = "revbook_token"
CSRF_COOKIE = "revbook_csrf"
CSRF_FIELD = "csrf"
#: the paths under which a POST is allowed: the account plans' forms (revbook.web.pages.plans)
WRITES = ("/plans/",)
#: the largest form body read (bytes): a plan is a few kilobytes
MAX_FORM = 256 * 1024
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
HEADERS = {
    # vega compiles its expressions with Function(): 'unsafe-eval' for scripts from this server only
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin: a form posted from a page of this server says so (Origin); nothing leaks elsewhere
    "Referrer-Policy": "same-origin",
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


class FormRefused(Exception):
    """A POST the dashboard refuses: its status and the reason shown."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _same_origin(request: Request) -> bool:
    """Whether the request says it comes from a page of the host it was sent to."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        return origin != "null" and parts.scheme in ("http", "https") and parts.netloc == host
    referer = request.headers.get("referer")
    return bool(referer) and urlsplit(referer).netloc == host


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for the hidden field of a form (set by :func:`guard`)."""
    return str(request.state.csrf)


async def read_form(request: Request) -> dict[str, list[str]]:
    """The fields of a POSTed form (application/x-www-form-urlencoded), after checking its CSRF
    token against the session's cookie; a :class:`FormRefused` (403, 413, 415) otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormRefused(415, "a form is sent as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise FormRefused(413, f"the form is larger than {MAX_FORM // 1024} kB")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=2000)
    except (UnicodeDecodeError, ValueError):
        raise FormRefused(400, "the form could not be read") from None
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = (fields.get(CSRF_FIELD) or [""])[0]
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise FormRefused(
            403, "the form's CSRF token is missing or wrong: nothing was saved; reload the page and try again"
        )
    return fields


def guard(token: str | None) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware enforcing the rules above."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        from fastapi.responses import PlainTextResponse, RedirectResponse

        writable = request.url.path.startswith(WRITES)
        if request.method not in ("GET", "HEAD") and not (request.method == "POST" and writable):
            allow = "GET, HEAD, POST" if writable else "GET, HEAD"
            return PlainTextResponse(
                "revbook serve is read-only but for the account plans' forms", status_code=405, headers={"Allow": allow}
            )
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
        if request.method == "POST" and not _same_origin(request):
            return PlainTextResponse(
                "a form is accepted only from a page of this dashboard (Origin or Referer): nothing was saved",
                status_code=403,
            )
        sent = request.cookies.get(CSRF_COOKIE)
        request.state.csrf = sent or secrets.token_urlsafe(32)
        response = await call_next(request)
        response.headers.update(HEADERS)
        if not sent:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
        return response

    return middleware
