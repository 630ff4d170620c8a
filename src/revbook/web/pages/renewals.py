"""Renewals: the renewal book on the as-of date (``rum.renewals.renewal_book``): renewals due in
the next days by bucket, with ARR, likelihood, commitments, risk reasons and the last touch, each
account linking to its page; and the renewal rate by quarter of due date (``renewal_rate``).
Definitions: docs/renewals.md.

Every figure is the library's: the tiles are ``summary_of`` the book (filtered by CSM), the list
filters the book's rows by CSM and bucket in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...errors import ConfigError
from ...frame import Frame
from ..filters import Param, Query, key, lookup, number, store_of
from ..render import render

if TYPE_CHECKING:
    from ..data import Store

router = APIRouter()
NAV = ("Renewals", "/renewals")
WITHIN = 180
RATE_QUARTERS = 8
PARAMS = Query(
    key("owner", "CSM"),
    Param("bucket", "int", "bucket (its last day)", low=1, high=3650),
    number("within", "book's days ahead", WITHIN, low=1, high=3650),
)


def book(store: Store, within: int) -> Frame:
    """``renewal_book(ws, within=within)`` on the as-of date (computed once per ``within``)."""
    from ...rum.renewals import renewal_book

    return store.memo(("renewals", within), lambda: renewal_book(store.ws, within=within))


def rate_rows(store: Store, owner: str | None = None) -> list[dict[str, Any]]:
    """``renewal_rate(ws, by="due_quarter", owner=owner)`` rows, the latest quarters."""
    from ...rum.renewals import renewal_rate

    def compute() -> list[dict[str, Any]]:
        return renewal_rate(store.ws, by="due_quarter", owner=owner).to_pylist()

    rows = store.memo(("renewal_rate", owner), compute)
    return rows[-RATE_QUARTERS:]


@router.get("/renewals", response_class=HTMLResponse)
def renewals_page(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    from ...metrics.owners import for_owner
    from ...rum.renewals import bucket_edges, summary_of

    owner, bucket, within = p["owner"], p["bucket"], p["within"]
    store = store_of(request)
    edges = bucket_edges(store.ws.config.renewals.buckets, within)
    if bucket is not None and bucket not in edges:
        raise ConfigError(
            f"bucket: '{bucket}' is not a bucket of this book", hint=f"use one of: {', '.join(map(str, edges))}"
        )
    frame = book(store, within)
    rows = frame.to_pylist()
    owners = sorted(
        {(r["owner"], r["owner_name"] or r["owner"]) for r in rows if r["owner"] is not None},
        key=lambda kv: kv[1].lower(),
    )
    lookup(PARAMS["owner"], owner, lambda: dict(owners), "CSM", "with renewals due")
    mine = for_owner(frame, owner)
    summary = summary_of(mine, edges).to_pylist()
    listing = [r for r in mine.to_pylist() if bucket is None or r["bucket"] == bucket]
    params: dict[str, Any] = {"owner": owner, "within": within if within != WITHIN else None}

    def url(**overrides: Any) -> str:
        merged = {**params, **overrides}
        query = urlencode({k: v for k, v in merged.items() if v is not None and v != ""})
        return "/renewals" + (f"?{query}" if query else "")

    return render(
        request,
        "renewals.html",
        title="Renewals",
        params={**params, "bucket": bucket},
        url=url,
        within=within,
        owners=owners,
        owner_label=dict(owners).get(owner) if owner else None,
        summary=summary,
        total=summary[-1],
        bucket=bucket,
        bucket_label=next((s["bucket_label"] for s in summary if s["bucket"] == bucket), None) if bucket else None,
        listing=listing,
        rates=rate_rows(store, owner),
        grace=store.ws.config.catalogue.renewal_grace_days,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    return [lambda: book(store, WITHIN), lambda: rate_rows(store)]
