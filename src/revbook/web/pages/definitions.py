"""Definitions: every figure's definition (the anchors the dashboard's "?" links point to) and data quality."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..filters import store_of
from ..render import render

router = APIRouter()
NAV = ("Definitions", "/definitions")


@router.get("/definitions", response_class=HTMLResponse)
def definitions(request: Request) -> HTMLResponse:
    store = store_of(request)
    return render(request, "definitions.html", title="Definitions", findings=store.findings())
