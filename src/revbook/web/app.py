"""The dashboard application: ``create_app`` builds it, ``serve`` runs it.

A page is one module of ``revbook.web.pages`` (an APIRouter named ``router``, and ``NAV``, its
menu entry or None) and one template; add it to ``PAGES`` below and it is served and in the menu.
Its query parameters are declared and validated in :mod:`revbook.web.filters`.

Errors: a page raises the library's errors, and one handler answers them with the error page
(the message and its hint, escaped; never a traceback): ``ConfigError`` (a bad parameter) 400,
``NotFoundError`` (an account, CSM, team, reason or slice value the workspace lacks) 404, any other
``RevbookError`` 409: the request is well formed but the workspace, as loaded, cannot answer it
(too little history, a missing FX rate, nothing loaded yet).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse

    from ..config import Config
    from ..errors import RevbookError
    from .data import Store

__all__ = ["PAGES", "create_app", "serve"]

#: the pages, in menu order; each is a module of revbook.web.pages
PAGES = (
    "overview",
    "retention",
    "accounts",
    "book",
    "churn",
    "signals",
    "rum",
    "health",
    "attribution",
    "impact",
    "renewals",
    "reconcile",
    "account",
    "definitions",
    "plans",
)
STATIC = Path(__file__).parent / "static"


def _warm_steps(store: Store) -> list[Any]:
    """The frames behind the default pages, computed in the background when the server starts."""
    from .pages import accounts, attribution, book, churn, health, impact, overview, plans, retention, rum, signals

    return [
        store.headline,
        *overview.warm(store),
        *retention.warm(store),
        *accounts.warm(store),
        *book.warm(store),
        *churn.warm(store),
        *signals.warm(store),
        *rum.warm(store),
        *health.warm(store),
        *attribution.warm(store),
        *impact.warm(store),
        *plans.warm(store),
    ]


def create_app(
    workspace_path: str | Path | None = None,
    *,
    config: Config | None = None,
    token: str | None = None,
    warm: bool = False,
) -> FastAPI:
    """The dashboard over one workspace, opened read-only once for the app's life.

    ``token`` (default: env ``REVBOOK_TOKEN``) is required from every request when set; without
    one, only loopback requests are served. ``warm=True`` computes the default pages' figures in
    a background thread at start-up, so the first visits are fast too.
    """
    from fastapi import FastAPI
    from fastapi.middleware.gzip import GZipMiddleware
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from ..config import load_config
    from ..errors import RevbookError
    from ..workspace import Workspace
    from .data import Store
    from .security import guard

    cfg = config or load_config()
    ws = Workspace(workspace_path, config=cfg, read_only=True)
    store = Store(ws)
    token = token if token is not None else (os.environ.get("REVBOOK_TOKEN") or None)
    stop = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if warm:
            thread = threading.Thread(target=store.warm, args=(_warm_steps(store), stop), daemon=True)
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join()
        store.close()

    app = FastAPI(title="revbook", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.store = store
    app.state.nav = []
    app.add_middleware(GZipMiddleware, minimum_size=2000)
    app.middleware("http")(guard(token))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in PAGES:
        module = importlib.import_module(f"{__package__}.pages.{name}")
        app.include_router(module.router)
        if getattr(module, "NAV", None):
            app.state.nav.append(module.NAV)

    @app.exception_handler(RevbookError)
    async def refused(request: Request, exc: RevbookError) -> HTMLResponse:
        return _error(request, status_of(exc), [str(exc)])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        return _error(request, exc.status_code, [str(exc.detail)])

    return app


def status_of(exc: RevbookError) -> int:
    """The HTTP status of a library error (see the module's docstring)."""
    from ..errors import ConfigError, NotFoundError

    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConfigError):
        return 400
    return 409


def _error(request: Request, status: int, problems: list[str]) -> HTMLResponse:
    from fastapi.responses import HTMLResponse

    from .render import environment

    html = (
        environment()
        .get_template("error.html")
        .render(nav=request.app.state.nav, path=request.url.path, status=status, problems=problems, title="Error")
    )
    return HTMLResponse(html, status_code=status)


def serve(
    workspace_path: str | Path | None = None,
    *,
    config: Config | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
) -> None:
    """Run the dashboard with uvicorn until interrupted. Any address but loopback needs a token."""
    import uvicorn

    from ..errors import ConfigError
    from .security import is_loopback

    token = token or os.environ.get("REVBOOK_TOKEN") or None
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"serving on {host} needs an access token",
            hint="set REVBOOK_TOKEN (or pass --token), or serve on 127.0.0.1",
        )
    app = create_app(workspace_path, config=config, token=token, warm=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
