"""The local web dashboard (``revbook serve``): FastAPI, server-rendered pages, Vega-Lite charts, offline.

Imported only by ``revbook serve`` and its tests, so ``import revbook`` never loads the web stack.
"""

from __future__ import annotations

from .app import PAGES, create_app, serve

__all__ = ["PAGES", "create_app", "serve"]
