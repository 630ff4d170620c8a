"""Survival: how long accounts keep paying, and what a customer is worth over that life (CLTV).

Definitions (docs/definitions.md, "Survival and customer lifetime value"):

- **Duration**, in whole months on the month-end snapshots every other metric reads: an
  account's life starts at its first paid month (its first snapshot with MRR above zero, the
  month its *new* movement and its cohort are dated) and ends at its churn, the first later
  snapshot at zero (churn is dated as the ledger dates it: when the paid service ends; churn
  grace bridges apply). Duration = churn month - first paid month, i.e. the number of paid
  snapshots in the spell. An account still paying on the as-of date is **censored** at
  as-of month - first paid month (the month-to-month transitions it was seen to survive).
- **Reactivation**: ``spell = "first"`` (default) ends a life at its first churn, whatever
  happened after; ``spell = "whole"`` runs from the first paid month to the last churn, gaps
  included, censored when the account pays on the as-of date.
- **Slices are fixed at the start**: the slice an account had on its first paid snapshot (the
  one its *new* movement is counted in); the cohort is the year (or quarter) of that month.
- **Kaplan-Meier** per group with lifelines (one fit per group, on counts per duration, weighted),
  confidence band from lifelines (exponential Greenwood).
- **Monthly churn hazard** = churned accounts / exposure months (the sum of durations): the
  constant-hazard estimate. **ARPA** = MRR on the as-of date of the group's accounts paying then,
  over their number, exact. **CLTV** = ARPA x gross margin / hazard, and the curve's variant
  ARPA x gross margin x restricted mean lifetime (the area under the curve to the horizon).

Durations are computed in SQL from the month change points (``rb_changes_month``): one row per
account, then counts per (group, duration, churned), so lifelines sees a few hundred rows per group
whatever the number of accounts. lifelines (1.4 s of import) is imported only inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..config import SurvivalSettings
from ..frame import Frame
from ..metrics.book import book_of

if TYPE_CHECKING:
    import pyarrow as pa

    from ..metrics.book import Book
    from ..store import Store

__all__ = ["lifetimes", "print_lifetimes", "survival"]

# -- durations (SQL) ---------------------------------------------------------------------------


def _dimensions(by: str | Sequence[str] | None) -> list[str]:
    from ..metrics.book import expand_dimensions

    if by is None:
        return []
    names = [b.strip() for b in by.split(",")] if isinstance(by, str) else list(by)
    return expand_dimensions([n for n in names if n])


def _starts(book: Book) -> str:
    """One row per account that ever paid: its first paid month, that snapshot's date and MRR."""
    name = "rb_surv_start"
    if name not in book._built:
        changes = book.changes("month")
        periods, _, _ = book.spine("month")
        book.engine.materialize(
            name,
            f"""
            SELECT c.account_id, c.period, p.period_end, c.mrr
            FROM (SELECT account_id, period, mrr,
                         row_number() OVER (PARTITION BY account_id ORDER BY period) AS rn
                  FROM {changes} WHERE mrr > 0) c
            JOIN {periods} p ON p.period = c.period
            WHERE c.rn = 1
            """,
        )
        book._built.add(name)
    return name


def _durations(book: Book, spell: str) -> str:
    """account_id, duration (months), churned, mrr_now (minor units on the as-of date)."""
    name = f"rb_surv_{spell}"
    if name in book._built:
        return name
    changes = book.changes("month")
    starts = _starts(book)
    last = book.calendar("month").period_of(book.as_of)
    if spell == "first":
        # the first change to zero after the first paid month ends the first spell
        ends = f"""SELECT c.account_id, min(c.period) AS end_period
                   FROM {changes} c JOIN {starts} s ON s.account_id = c.account_id
                   WHERE c.mrr = 0 AND c.period > s.period GROUP BY c.account_id"""
    else:
        # the last change is to zero: the account left for good (as far as the as-of date shows)
        ends = f"""SELECT account_id, max(period) AS end_period FROM {changes} GROUP BY account_id
                   HAVING max(period) > max(CASE WHEN mrr > 0 THEN period END)"""
    book.engine.materialize(
        name,
        f"""
        WITH ends AS ({ends}),
        now AS (
            SELECT account_id, mrr FROM (
                SELECT account_id, mrr, row_number() OVER (PARTITION BY account_id ORDER BY period DESC) AS rn
                FROM {changes}) l
            WHERE rn = 1
        )
        SELECT s.account_id,
               CAST(coalesce(e.end_period, {last}) - s.period AS BIGINT) AS duration,
               CAST(CASE WHEN e.end_period IS NULL THEN 0 ELSE 1 END AS BIGINT) AS churned,
               CAST(n.mrr AS BIGINT) AS mrr_now
        FROM {starts} s
        LEFT JOIN ends e ON e.account_id = s.account_id
        JOIN now n ON n.account_id = s.account_id
        """,
    )
    book._built.add(name)
    return name


@dataclass
class _Group:
    key: tuple[str, ...]
    durations: list[int]
    churned: list[int]
    counts: list[int]
    paying: int = 0
    mrr_now: int = 0

    @property
    def accounts(self) -> int:
        return sum(self.counts)

    @property
    def events(self) -> int:
        return sum(n for e, n in zip(self.churned, self.counts, strict=True) if e)

    @property
    def exposure(self) -> int:
        return sum(d * n for d, n in zip(self.durations, self.counts, strict=True))


def _groups(ws: Store, dims: list[str], spell: str) -> list[_Group]:
    book = book_of(ws)
    durations = _durations(book, spell)
    if dims:
        sl = book.slices_of(_starts(book), dims)
        d_sel = "".join(f"sl.{d}, " for d in dims)
        join = f"JOIN {sl} sl ON sl.account_id = d.account_id"
    else:
        d_sel, join = "", ""
    rows = book.engine.arrow(
        f"""SELECT {d_sel}d.duration, d.churned, count(*) AS n,
                   sum(CASE WHEN d.mrr_now > 0 THEN 1 ELSE 0 END) AS paying, sum(d.mrr_now) AS mrr_now
            FROM {durations} d {join}
            GROUP BY {d_sel}d.duration, d.churned
            ORDER BY {d_sel}d.duration, d.churned"""
    ).to_pylist()
    groups: dict[tuple[str, ...], _Group] = {}
    for r in rows:
        key = tuple(str(r[d]) for d in dims)
        g = groups.setdefault(key, _Group(key, [], [], []))
        g.durations.append(int(r["duration"]))
        g.churned.append(int(r["churned"]))
        g.counts.append(int(r["n"]))
        g.paying += int(r["paying"])
        g.mrr_now += int(r["mrr_now"])
    return list(groups.values())


def _fit(g: _Group, confidence: float) -> Any:
    """lifelines' Kaplan-Meier on the group's counts per (duration, churned), as weights."""
    import numpy as np
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1 - confidence)
    return kmf.fit(
        np.asarray(g.durations, dtype=float),
        event_observed=np.asarray(g.churned, dtype=bool),
        weights=np.asarray(g.counts, dtype=float),
    )


# -- the public functions ---------------------------------------------------------------------


def survival(
    ws: Store,
    *,
    by: str | Sequence[str] | None = None,
    spell: str | None = None,
    confidence: float | None = None,
) -> Frame:
    """The Kaplan-Meier retention curve per group: one row per group and month since the first
    paid month (0 .. the group's longest duration), with the accounts at risk, those that churned
    (``events``) and were censored at that month, the survival estimate and its confidence band.

    ``by``: slices fixed at each account's start (segment, region, industry, owner, team, plan,
    cohort, arr_band). ``spell`` and ``confidence`` override [survival] of revbook.toml.
    """
    import numpy as np
    import pyarrow as pa

    settings = ws.config.survival.override(spell=spell, confidence=confidence)
    dims = _dimensions(by)
    columns: dict[str, list[Any]] = {d: [] for d in dims}
    for name in ("month", "at_risk", "events", "censored", "survival", "ci_lower", "ci_upper"):
        columns[name] = []
    for g in _groups(ws, dims, settings.spell):
        kmf = _fit(g, settings.confidence)
        months = np.arange(max(g.durations) + 1)
        d = np.asarray(g.durations)
        e = np.asarray(g.churned, dtype=bool)
        n = np.asarray(g.counts)
        at_risk = np.array([n[d >= t].sum() for t in months])
        events = np.bincount(d[e], weights=n[e], minlength=len(months)).astype(np.int64)
        censored = np.bincount(d[~e], weights=n[~e], minlength=len(months)).astype(np.int64)
        band = kmf.confidence_interval_survival_function_.reindex(months, method="ffill")
        for i, name in enumerate(dims):
            columns[name].extend([g.key[i]] * len(months))
        columns["month"].extend(months.tolist())
        columns["at_risk"].extend(at_risk.tolist())
        columns["events"].extend(events.tolist())
        columns["censored"].extend(censored.tolist())
        columns["survival"].extend(kmf.survival_function_at_times(months).to_numpy().tolist())
        columns["ci_lower"].extend(band.iloc[:, 0].to_numpy().tolist())
        columns["ci_upper"].extend(band.iloc[:, 1].to_numpy().tolist())
    types = {"month": pa.int64(), "at_risk": pa.int64(), "events": pa.int64(), "censored": pa.int64()}
    return Frame(
        "survival",
        pa.table(
            {k: pa.array(v, types.get(k, pa.string() if k in dims else pa.float64())) for k, v in columns.items()}
        ),
    )


def _money(value: Fraction | None, minor_units: int) -> Decimal | None:
    """An exact amount in minor units, rounded half-even once to the reporting currency's unit."""
    if value is None:
        return None
    return Decimal(round(value)).scaleb(-minor_units)


def lifetimes(
    ws: Store,
    *,
    by: str | Sequence[str] | None = None,
    spell: str | None = None,
    gross_margin: float | None = None,
    horizon_months: int | None = None,
) -> Frame:
    """Per group: accounts, churned, median and restricted mean lifetime (months), the monthly churn
    hazard, ARPA on the as-of date, and CLTV two ways (constant hazard; Kaplan-Meier).

    ``median_lifetime`` is empty when the curve never falls to 50% ("not reached"); ``cltv`` is
    empty when no account of the group churned (hazard 0) or none pays on the as-of date.
    The options override [survival] of revbook.toml.
    """
    import pyarrow as pa
    from lifelines.utils import restricted_mean_survival_time

    settings = ws.config.survival.override(spell=spell, gross_margin=gross_margin, horizon_months=horizon_months)
    dims = _dimensions(by)
    mu = ws.config.minor_units
    margin = Fraction(settings.gross_margin)
    money_type = pa.decimal128(18, mu)
    types: dict[str, pa.DataType] = {d: pa.string() for d in dims}
    types.update(
        accounts=pa.int64(),
        churned=pa.int64(),
        exposure_months=pa.int64(),
        median_lifetime=pa.float64(),
        restricted_mean_lifetime=pa.float64(),
        horizon_months=pa.int64(),
        survival_12m=pa.float64(),
        monthly_churn_hazard=pa.float64(),
        paying_accounts=pa.int64(),
        arpa=money_type,
        gross_margin=pa.float64(),
        cltv=money_type,
        cltv_km=money_type,
    )
    columns: dict[str, list[Any]] = {k: [] for k in types}
    for g in _groups(ws, dims, settings.spell):
        kmf = _fit(g, settings.confidence)
        longest = max(g.durations)
        horizon = min(settings.horizon_months, longest)
        median = float(kmf.median_survival_time_)
        rmst = float(restricted_mean_survival_time(kmf, t=horizon)) if horizon > 0 else None
        hazard = Fraction(g.events, g.exposure) if g.exposure else None
        arpa = Fraction(g.mrr_now, g.paying) if g.paying else None  # minor units, exact
        cltv = arpa * margin / hazard if arpa is not None and hazard else None
        cltv_km = arpa * margin * Fraction(rmst) if arpa is not None and rmst is not None else None
        for i, name in enumerate(dims):
            columns[name].append(g.key[i])
        columns["accounts"].append(g.accounts)
        columns["churned"].append(g.events)
        columns["exposure_months"].append(g.exposure)
        columns["median_lifetime"].append(median if math.isfinite(median) else None)
        columns["restricted_mean_lifetime"].append(rmst)
        columns["horizon_months"].append(horizon)
        columns["survival_12m"].append(float(kmf.predict(12)) if longest >= 12 else None)
        columns["monthly_churn_hazard"].append(None if hazard is None else float(hazard))
        columns["paying_accounts"].append(g.paying)
        columns["arpa"].append(_money(arpa, mu))
        columns["gross_margin"].append(float(settings.gross_margin))
        columns["cltv"].append(_money(cltv, mu))
        columns["cltv_km"].append(_money(cltv_km, mu))
    return Frame("lifetimes", pa.table({k: pa.array(v, types[k]) for k, v in columns.items()}))


# -- the terminal ------------------------------------------------------------------------------


def print_lifetimes(frame: Frame, *, console: Any, currency: str, title: str | None = None) -> None:
    """The lifetimes table for the terminal (``revbook survival``), with the formulas beneath."""
    from rich import box
    from rich.table import Table

    data = frame.to_arrow()
    fixed = set(SurvivalSettings.__dataclass_fields__) | {
        "accounts",
        "churned",
        "exposure_months",
        "median_lifetime",
        "restricted_mean_lifetime",
        "survival_12m",
        "monthly_churn_hazard",
        "paying_accounts",
        "arpa",
        "cltv",
        "cltv_km",
    }
    dims = [c for c in data.column_names if c not in fixed]
    t = Table(title=title or "Customer lifetimes and CLTV", box=box.SIMPLE_HEAD, header_style="bold")
    for d in dims:
        t.add_column(d.replace("_", " "), no_wrap=True)
    heads = (
        "accounts",
        "churned",
        "median life (mo)",
        "mean life to horizon (mo)",
        "alive at 12 mo",
        "churn hazard / mo",
        f"ARPA ({currency})",
        "margin",
        f"CLTV ({currency})",
        f"CLTV, curve ({currency})",
    )
    for h in heads:
        t.add_column(h, justify="right", no_wrap=True)

    def num(v: Any, fmt: str, empty: str = "–") -> str:
        return empty if v is None else format(v, fmt)

    def pct(v: float | None, digits: int) -> str:
        return "–" if v is None else f"{100 * v:.{digits}f}%"

    for r in data.to_pylist():
        mean = r["restricted_mean_lifetime"]
        t.add_row(
            *(str(r[d]) for d in dims),
            f"{r['accounts']:,}",
            f"{r['churned']:,}",
            num(r["median_lifetime"], ".0f", "not reached"),
            "–" if mean is None else f"{mean:.1f} ({r['horizon_months']})",
            pct(r["survival_12m"], 1),
            pct(r["monthly_churn_hazard"], 2),
            num(r["arpa"], ",.2f"),
            f"{r['gross_margin']:.0%}",
            num(r["cltv"], ",.0f"),
            num(r["cltv_km"], ",.0f"),
        )
    console.print(t)
    console.print(
        "[dim]life: months from the first paid month to churn (censored at the as-of date); median: first month "
        "the Kaplan-Meier curve is at or below 50%; hazard = churned / exposure months; ARPA: MRR of the group's "
        "paying accounts on the as-of date; CLTV = ARPA x margin / hazard; CLTV, curve = ARPA x margin x mean "
        "life to the horizon (months in brackets). Slices are fixed at each account's first paid month.[/]",
        soft_wrap=True,
    )
