"""Health: the composite health score of every paying account on the as-of date
(``health.composite``): its distribution, ARR by band, the components, the worst accounts and
their drivers; and the backtest (``health.backtest``) that answers whether the score predicts churn,
beside the logistic and boosting models. Definitions: the docstrings of :mod:`revbook.health`.

The backtest takes seconds (5-20 s at 2,000 accounts): it runs once per horizon in a background
thread (``revbook serve`` starts the 90-day one at start-up); meanwhile the page says so and reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...definitions import HEALTH_BANDS as BANDS
from ...reports import cs_charts
from ..filters import Query, choice, number, store_of
from ..render import render

if TYPE_CHECKING:
    import polars as pl

    from ..data import Store

router = APIRouter()
NAV = ("Health", "/health")
WORST = 50
COMPOSITE = "composite health score"
HORIZONS = (90, 180)
PARAMS = Query(
    number("horizon", "backtest horizon (days)", 90, low=1, high=3650, choices=HORIZONS),
    choice("band", BANDS, "health band"),
)


def band_table(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Accounts and ARR per band (of ``composite()`` rows)."""
    total = float(df["arr"].sum() or 0)
    out = []
    for b in BANDS:
        part = df.filter(df["band"] == b)
        arr = float(part["arr"].sum() or 0)
        out.append({"band": b, "accounts": part.height, "arr": arr, "share": arr / total if total else None})
    return out


def component_table(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Each component's mean score over the accounts with data for it, and its mean points lost."""
    from ...health.composite import COMPONENTS

    rows = []
    for name, (_, description) in COMPONENTS.items():
        known = df[name].drop_nulls()
        rows.append(
            {
                "component": name,
                "description": description,
                "accounts": known.len(),
                "mean": float(known.mean()) if known.len() else None,  # type: ignore[arg-type]
                "lost": float(df[f"lost_{name}"].mean()) if df.height else None,  # type: ignore[arg-type]
            }
        )
    return rows


def verdict(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer, in words, to "does our composite health score predict churn?" from the backtest."""
    by = {m["scorer"]: m for m in metrics}
    comp = by.get(COMPOSITE)
    if comp is None or comp["roc_auc"] != comp["roc_auc"]:  # NaN: no event, or only events, in the test rows
        return {"answer": "Cannot tell", "detail": "the test months have no churn or contraction (or only those)."}
    auc = comp["roc_auc"]
    answer = (
        "Yes" if auc >= 0.75 else "Somewhat" if auc >= 0.65 else "Barely" if auc >= 0.55 else "No better than chance"
    )
    models = [m for m in metrics if m["scorer"] != COMPOSITE and m["roc_auc"] == m["roc_auc"]]
    best = max(models, key=lambda m: m["roc_auc"]) if models else None
    kind = best["scorer"].removeprefix("model (").removesuffix(")") if best else None
    gap = (best["roc_auc"] - auc) if best else None
    return {"answer": answer, "auc": auc, "comp": comp, "best": best, "best_kind": kind, "gap": gap}


@router.get("/health", response_class=HTMLResponse)
def health(
    request: Request,
    p: dict[str, Any] = Depends(PARAMS),  # noqa: B008
) -> HTMLResponse:
    import polars as pl

    horizon, band = p["horizon"], p["band"] or ""
    store = store_of(request)
    df = store.health()
    worst = df.filter(pl.col("band") == band) if band else df
    state, bt, problem = store.backtest(horizon)
    backtest: dict[str, Any] | None = None
    if state == "ready" and bt is not None:
        metrics = bt.metrics.to_pylist()
        backtest = {
            "metrics": metrics,
            "verdict": verdict(metrics),
            "spec": cs_charts.reliability_curves(bt.reliability.to_pylist(), horizon=horizon),
            "coefficients": bt.coefficients[:12],
            "importance": bt.importance[:8],
            "train": (bt.train_dates[0], bt.train_dates[-1], len(bt.train_dates)),
            "test": (bt.test_dates[0], bt.test_dates[-1], len(bt.test_dates)),
        }
    components = component_table(df)
    return render(
        request,
        "health.html",
        title="Health",
        horizon=horizon,
        band=band,
        accounts=df.height,
        scored=int(df["score"].drop_nulls().len()),
        mean_score=df["score"].mean() if df.height else None,
        bands=band_table(df),
        components=components,
        hist=cs_charts.health_histogram(
            df.select("score", "band").to_dicts(), href=lambda b: f"/health?band={b}#worst"
        ),
        comp_spec=cs_charts.component_bars(components),
        worst=worst.head(WORST).to_dicts(),
        worst_total=worst.height,
        state=state,
        problem=problem,
        backtest=backtest,
    )


def warm(store: Store) -> list[Callable[[], object]]:
    return [store.health, lambda: store.backtest(90, wait=True)]
