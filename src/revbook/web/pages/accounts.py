"""Accounts: the accounts behind every figure, sortable, filterable and paged in memory.

Three views of the same list:
- ``list`` (default): every account on the period's snapshot: ARR, slices, status, last movement, tenure;
- ``movement``: the accounts with one movement in the period (the bars of a waterfall);
- ``cohort``: the accounts a retention window started with, their MRR then and at its end (NRR, GRR, logos).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...errors import ConfigError
from ..data import MOVEMENTS
from ..filters import Filters, Query, choice, filters, number, period, text
from ..paging import sorted_slice
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("Accounts", "/accounts")

SORTS = (
    "name",
    "account_id",
    "arr",
    "mrr",
    "segment",
    "owner_name",
    "team",
    "plan",
    "region",
    "status",
    "tenure_months",
    "last_movement_period",
    "change",
    "start_mrr",
    "end_mrr",
    "retained_mrr",
    "movement",
)
#: (column, heading, numeric) per view
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "list": [
        ("name", "account", False),
        ("arr", "ARR", True),
        ("segment", "segment", False),
        ("owner_name", "CSM", False),
        ("plan", "plan", False),
        ("status", "status", False),
        ("last_movement_period", "last movement", False),
        ("tenure_months", "tenure (months)", True),
    ],
    "movement": [
        ("name", "account", False),
        ("movement", "movement", False),
        ("segment", "segment", False),
        ("owner_name", "CSM", False),
        ("start_mrr", "MRR before", True),
        ("end_mrr", "MRR after", True),
        ("change", "change", True),
    ],
    "cohort": [
        ("name", "account", False),
        ("segment", "segment (at start)", False),
        ("owner_name", "CSM (at start)", False),
        ("start_mrr", "MRR at start", True),
        ("end_mrr", "MRR at end", True),
        ("retained_mrr", "retained (capped)", True),
        ("status", "status", False),
    ],
}
DEFAULT_SORT = {"list": "arr", "movement": "change", "cohort": "start_mrr"}
PARAMS = Query(
    choice("view", ("list", "movement", "cohort"), "view", default="list"),
    choice("movement", MOVEMENTS, "movement"),
    choice("status", ("paying", "churned", "not yet paying", "all"), "status", default="paying"),
    period("cohort_month", "cohort month", months_only=True),
    text("q", "search (name or id contains)", max_length=100),
    choice("sort", SORTS, "sort column"),
    choice("dir", ("asc", "desc"), "sort direction"),
    number("page", "page", 1),
    number("size", "page size", 50, low=10, high=500),
)


def list_view(f: Filters, status: str, cohort_month: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    import polars as pl

    df = f.store.account_list(f.grain, f.period)
    if status != "all":
        df = df.filter(pl.col("status") == status)
    if cohort_month:
        df = df.filter(pl.col("cohort_month") == cohort_month)
    return df, {}


def movement_view(f: Filters, movement: str | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    import polars as pl

    if movement is None:
        raise ConfigError(
            "movement: view=movement needs a movement", hint=f"add movement= one of: {', '.join(MOVEMENTS)}"
        )
    moves = f.store.moves(f.grain).filter((pl.col("period") == f.label) & (pl.col("movement") == movement))
    names = f.store.table("accounts").select("account_id", "name")
    return moves.join(names, on="account_id", how="left"), {}


def cohort_view(f: Filters) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The window's starting accounts (slices as of the start) with their MRR at start and end."""
    import polars as pl

    if f.grain != "month":
        raise ConfigError("grain: view=cohort reads month snapshots", hint="use grain=month")
    opening = f.store.shift("month", f.label, f.window)
    if opening is None:
        raise ConfigError(
            f"window: no snapshot {f.window} months before {f.label}", hint="choose a later period or a shorter window"
        )

    def compute() -> pl.DataFrame:
        start = f.store.snapshot("month", opening["period_end"]).rename({"mrr": "start_mrr"}).drop("arr", "period")
        end = f.store.snapshot("month", f.period["period_end"]).select("account_id", pl.col("mrr").alias("end_mrr"))
        names = f.store.table("accounts").select("account_id", "name")
        return (
            start.join(end, on="account_id", how="left")
            .with_columns(pl.col("end_mrr").fill_null(0))
            .with_columns(
                pl.min_horizontal("start_mrr", "end_mrr").alias("retained_mrr"),
                pl.when(pl.col("end_mrr") == 0)
                .then(pl.lit("churned"))
                .when(pl.col("end_mrr") > pl.col("start_mrr"))
                .then(pl.lit("expanded"))
                .when(pl.col("end_mrr") < pl.col("start_mrr"))
                .then(pl.lit("contracted"))
                .otherwise(pl.lit("flat"))
                .alias("status"),
            )
            .join(names, on="account_id", how="left")
        )

    # the window's accounts are the same for every filter, sort and page of it: joined once
    return f.store.memo(("cohort_view", f.label, f.window), compute), {"opening": opening}


@router.get("/accounts", response_class=HTMLResponse)
def accounts(
    request: Request,
    f: Filters = Depends(filters),  # noqa: B008
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    import polars as pl

    view, movement, status, cohort_month = p["view"], p["movement"], p["status"], p["cohort_month"]
    q, sort, dir, page, size = p["q"], p["sort"], p["dir"], p["page"], p["size"]

    if view == "list":
        df, info = list_view(f, status, cohort_month)
    elif view == "movement":
        df, info = movement_view(f, movement)
    else:
        df, info = cohort_view(f)
    if f.by and f.value is not None:
        df = df.filter(pl.col(f.by) == f.value)
    if q:
        needle = q.lower()
        df = df.filter(
            pl.col("name").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("account_id").str.to_lowercase().str.contains(needle, literal=True)
        )
    columns = COLUMNS[view]
    sort_key = sort if sort in {c for c, _, _ in columns} | {"account_id"} else DEFAULT_SORT[view]
    desc = (dir or ("asc" if sort_key in ("name", "account_id", "segment", "owner_name") else "desc")) == "desc"
    totals = _totals(df, view)
    pages = max(1, -(-df.height // size))
    page = min(page, pages)
    rows = sorted_slice(df, [sort_key, "account_id"], [desc, False], (page - 1) * size, size).to_dicts()
    f.extra = {
        "view": view if view != "list" else None,
        "movement": movement,
        "status": status if view == "list" else None,
        "cohort_month": cohort_month,
        "q": q,
        "sort": sort,
        "dir": dir,
        "size": size if size != 50 else None,
    }
    return render(
        request,
        "accounts.html",
        title="Accounts",
        f=f,
        view=view,
        movement=movement,
        status=status,
        q=q or "",
        cohort_month=cohort_month,
        columns=columns,
        rows=rows,
        total=df.height,
        totals=totals,
        page=page,
        pages=pages,
        sort=sort_key,
        desc=desc,
        retention=_retention_row(f) if view == "cohort" else None,
        **info,
    )


def _totals(df: pl.DataFrame, view: str) -> dict[str, Any]:
    cols = {
        "list": ["arr", "mrr"],
        "movement": ["start_mrr", "end_mrr", "change"],
        "cohort": ["start_mrr", "end_mrr", "retained_mrr"],
    }[view]
    sums = df.select(cols).sum().to_dicts()[0] if df.height else dict.fromkeys(cols, 0)
    return {k: v or 0 for k, v in sums.items()}


def _retention_row(f: Filters) -> dict[str, Any] | None:
    """The library's NRR, GRR and logo retention of this window and slice, shown beside the list."""
    by = f.by if f.value is not None else None
    rows = f.store.rows_at("retention", f.period["period_end"], grain="month", by=by)
    return next(
        (r for r in rows if r["window_months"] == f.window and (by is None or r[by] == f.value)),
        None,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    def default_list() -> object:
        period = store.period("month", None)
        return store.account_list("month", period) if period else None

    return [default_list]
