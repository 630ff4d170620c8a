"""What an AI assistant may ask revbook: a few read-only questions, each answered with revbook's own
figures and the written definition of every figure it returns, never with raw SQL.

Each tool is a plain function of an open (read-only) :class:`revbook.Workspace` and a few validated
arguments, returning a JSON-ready dict: ``figures`` (rows), ``definitions`` (term -> text, from
:mod:`revbook.definitions`), ``as_of`` and ``currency``. Money is a string with its exact minor units
("68426199.48"), never a float; ratios are floats (1.126 is 112.6%). A slice is one of the
dimensions the metrics know (:data:`revbook.metrics.book.DIMENSIONS`); anything else is an error
that names the allowed values. No argument reaches SQL as text: slices are checked against the
enumeration and ids are compared as values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..contract import CURRENCY_MINOR_UNITS
from ..definitions import HEADLINE, NO_CSM, TERMS, owner_shown
from ..errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["TOOLS", "Tool", "json_value"]

#: the most rows a tool returns (an assistant's context is small; the figures are sorted first)
MAX_ROWS = 200


def json_value(value: Any) -> Any:
    """A value as JSON can carry it: exact money as text, dates as YYYY-MM-DD."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in r.items() if columns is None or k in columns} for r in rows[:MAX_ROWS]]


def _answer(ws: Workspace, figures: list[dict[str, Any]], terms: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {
        "as_of": ws.config.snapshot_date().isoformat(),
        "currency": ws.config.reporting_currency,
        "figures": figures,
        "definitions": {k: f"{TERMS[k].label}: {TERMS[k].text}" for k in terms},
        **extra,
    }


def _slice(by: str | None) -> list[str]:
    from ..metrics.book import DIMENSIONS

    if by is None or by == "":
        return []
    if by not in DIMENSIONS:
        raise ConfigError(f"unknown slice '{by}'", hint=f"slice by one of: {', '.join(DIMENSIONS)}")
    return [by]


def headline(ws: Workspace) -> dict[str, Any]:
    """ARR, MRR, paying accounts, and 12-month NRR, GRR, logo retention and quick ratio on the as-of date."""
    figures = {k: json_value(v) for k, v in ws.headline().items() if k not in ("as_of", "currency")}
    return _answer(ws, [figures], HEADLINE)


def retention(ws: Workspace, window: int = 12, by: str | None = None) -> dict[str, Any]:
    """NRR, GRR and logo retention over the trailing ``window`` months ending at the last complete
    period, overall or per slice (``by``: segment, region, industry, owner, team, plan, cohort, arr_band)."""
    if window not in (1, 3, 6, 12, 24, 36):
        raise ConfigError(f"window {window} is not offered", hint="ask for 1, 3, 6, 12, 24 or 36 months")
    dims = _slice(by)
    rows = ws.retention(window=window, by=dims or None).to_pylist()
    last = max((r["period_end"] for r in rows), default=None)
    keep = [*dims, "owner_name" if "owner" in dims else "", "period_end", "start_mrr", "end_mrr"]
    keep += ["nrr", "grr", "logo_retention", "start_accounts", "retained_accounts"]
    latest = [r for r in rows if r["period_end"] == last]
    latest.sort(key=lambda r: -(r.get("start_mrr") or 0))
    return _answer(
        ws,
        _rows(latest, keep),
        ("nrr", "grr", "logo_retention", "retention_cohort", "window", "slice"),
        window_months=window,
    )


def movements(ws: Workspace, months: int = 12, by: str | None = None) -> dict[str, Any]:
    """Monthly MRR movements (new, reactivation, expansion, contraction, churn) for the last ``months``
    complete months, overall or per slice; each row satisfies start + gains - losses = end to the cent."""
    if not 1 <= months <= 60:
        raise ConfigError(f"months {months} is out of range", hint="ask for 1 to 60 months")
    dims = _slice(by)
    rows = ws.movements(by=dims or None).to_pylist()
    ends = sorted({r["period_end"] for r in rows})[-months:]
    return _answer(
        ws,
        _rows([r for r in rows if r["period_end"] in ends]),
        ("movements", "identity", "new", "reactivation", "expansion", "contraction", "churn"),
    )


_ACCOUNT_COLUMNS = (
    "account_id",
    "arr",
    "stage",
    "reason",
    "health_score",
    "health_band",
    "health_drivers",
    "risk_band",
    "p_churn_or_contract",
    "expected_renewal_arr",
    "potential_arr",
    "open_expansion_arr",
    "owner",
    "owner_name",
    "team",
)


def _owner_label(row: Mapping[str, Any]) -> Any:
    return NO_CSM if row.get("owner") is None else owner_shown(row["owner"])


def account_health(ws: Workspace, account_id: str) -> dict[str, Any]:
    """One paying account's health: composite score and band with the components that lower it, the
    renewal model's churn-or-contraction probability, its lifecycle stage, ARR, potential and owner."""
    from .. import rum

    found = [r for r in rum.accounts(ws).to_pylist() if r["account_id"] == account_id]
    if not found:
        raise NotFoundError(
            f"account '{account_id}' is not paying on {ws.config.snapshot_date()}",
            hint="ask with an account_id of a paying account (book lists a CSM's accounts)",
        )
    row = {**found[0], "owner": _owner_label(found[0])}
    return _answer(
        ws,
        _rows([row], _ACCOUNT_COLUMNS),
        ("health_score", "arr_at_risk", "expected_renewal", "rum", "potential"),
    )


def book(ws: Workspace, owner: str) -> dict[str, Any]:
    """A CSM's book: the paying accounts the owner (an owner_id, or 'unassigned') holds on the as-of
    date, largest ARR first, with stage, health and renewal outlook; and its totals."""
    from .. import rum

    rows = [r for r in rum.accounts(ws).to_pylist() if _owner_label(r) == owner]
    if not rows:
        owners = sorted({str(_owner_label(r)) for r in rum.accounts(ws).to_pylist()})
        raise NotFoundError(
            f"owner '{owner}' holds no paying account on {ws.config.snapshot_date()}",
            hint="ask with one of: " + ", ".join(owners[:30]) + (" ..." if len(owners) > 30 else ""),
        )
    rows.sort(key=lambda r: -(r["arr"] or 0))
    zero = Decimal(0).scaleb(-CURRENCY_MINOR_UNITS.get(ws.config.reporting_currency, 2))
    total = sum((r["arr"] for r in rows), zero)
    at_risk = sum((r["arr"] for r in rows if r["health_band"] == "red"), zero)
    return _answer(
        ws,
        _rows([{**r, "owner": _owner_label(r)} for r in rows], _ACCOUNT_COLUMNS),
        ("rum", "health_score", "arr_at_risk", "expected_renewal"),
        totals={"accounts": len(rows), "arr": str(total), "arr_in_red_health": str(at_risk)},
    )


def define(ws: Workspace, term: str | None = None) -> dict[str, Any]:
    """revbook's written definition of a term (arr, nrr, grr, churn, rum, health_score, ...); without a
    term, every definition."""
    if term is not None and term not in TERMS:
        raise NotFoundError(f"no definition of '{term}'", hint=f"ask for one of: {', '.join(TERMS)}")
    keys = [term] if term is not None else list(TERMS)
    return _answer(ws, [], keys)


Tool = Callable[..., dict[str, Any]]
#: the tools the MCP server offers, by name (each one's docstring is its description)
TOOLS: dict[str, Tool] = {
    "headline": headline,
    "retention": retention,
    "movements": movements,
    "account_health": account_health,
    "book": book,
    "define": define,
}
