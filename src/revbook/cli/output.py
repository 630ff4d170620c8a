"""What the commands print: terminal tables, the headline, and a frame to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .options import Format

if TYPE_CHECKING:
    from ..frame import Frame
    from ..workspace import Workspace


def console(stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr); 140 columns wide when the stream has no width."""
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # piped or captured output has no width: give tables room rather than truncating figures
    wide = None if stream.isatty() or "COLUMNS" in os.environ else 140
    return Console(stderr=stderr, highlight=False, width=wide)


def _fmt(value: Any) -> str:
    from decimal import Decimal

    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


#: the columns a terminal table shows by default (every column goes to csv, parquet and json)
TERMINAL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "movements": (
        "period",
        "start_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churn_mrr",
        "end_mrr",
        "transfer_in_mrr",
        "transfer_out_mrr",
    ),
    "retention": (
        "period",
        "window_months",
        "start_accounts",
        "start_mrr",
        "nrr",
        "grr",
        "logo_retention",
        "movement_nrr",
        "quick_ratio",
    ),
    "mrr": ("period", "accounts", "mrr", "arr"),
    "accounts": ("period", "account_id", "mrr", "arr"),
    "cohorts": ("cohort", "months_since_start", "cohort_accounts", "active_accounts", "logo_retention", "nrr"),
    "ledger": ("account_id", "subscription_id", "line_id", "plan", "currency", "start_date", "end_date", "mrr"),
    "check": ("severity", "check", "rows", "message", "example", "hint"),
    "pareto": (
        "reason_label",
        "owner_function",
        "events",
        "churned_logos",
        "contractions",
        "arr_lost",
        "share_arr",
        "cum_share_arr",
        "rank_arr",
        "rank_count",
        "vital_few_arr",
        "vital_few_count",
    ),
    "upstream": (
        "reason",
        "feature",
        "metric_owner",
        "n_left",
        "n_stayed",
        "left_mean",
        "stayed_mean",
        "gap",
        "gap_low",
        "gap_high",
        "status",
    ),
    "signals": ("date", "account_id", "rule", "polarity", "sentence"),
    "churn_reasons_classified": ("date", "account_id", "reason_label", "source", "confidence", "evidence", "comment"),
}
HEADINGS = {
    "window_months": "window",
    "logo_retention": "logo ret.",
    "movement_nrr": "mvmt NRR",
    "quick_ratio": "quick",
    "months_since_start": "month",
    "nrr": "NRR",
    "grr": "GRR",
}
#: the columns a terminal table shows as percentages
RATIO_COLUMNS = frozenset(
    {
        "share_arr",
        "cum_share_arr",
        "share_count",
        "cum_share_count",
        "nrr",
        "grr",
        "logo_retention",
        "movement_nrr",
        "gross_revenue_churn",
        "net_revenue_churn",
        "expansion_rate",
    }
)


def print_frame(
    frame: Frame,
    *,
    title: str | None = None,
    limit: int = 200,
    dims: Sequence[str] = (),
    all_columns: bool = False,
    columns: Sequence[str] | None = None,
    ratios: Collection[str] = (),
) -> None:
    """``frame`` as a terminal table: its :data:`TERMINAL_COLUMNS` (or ``columns``) and the slices
    ``dims``, the last ``limit`` rows, ratios (:data:`RATIO_COLUMNS` and ``ratios``) as percentages."""
    from rich.table import Table

    data = frame.to_arrow()
    preferred = TERMINAL_COLUMNS.get(frame.name) if columns is None else tuple(columns)
    percent = RATIO_COLUMNS.union(ratios)
    names = [c for c in data.column_names if all_columns or preferred is None or c in preferred or c in dims]
    # slices right after the period, the rest in the table's order
    names = (
        [n for n in names if n in ("period", "cohort")]
        + [n for n in dims if n in names]
        + [n for n in names if n not in ("period", "cohort") and n not in dims]
    )
    table = Table(title=title, header_style="bold")
    rows = data.select(names).to_pylist()
    shown = rows[-limit:]
    for name in names:
        pa_type = str(data.schema.field(name).type)
        numeric = pa_type.startswith(("decimal", "int", "double", "float"))
        prose = name in ("message", "example", "hint", "sentence", "comment", "evidence")
        head = HEADINGS.get(name, name.removesuffix("_mrr").replace("_accounts", " accts").replace("_", " "))
        cells = [len(_fmt(r[name])) for r in shown[:50]] or [0]
        table.add_column(
            head,
            justify="right" if numeric else "left",
            no_wrap=not prose,
            overflow="fold",
            min_width=None if prose else min(max(cells), 24),
        )
    for row in shown:
        table.add_row(*(_pct(v) if k in percent and v is not None else _fmt(v) for k, v in row.items()))
    out = console()
    out.print(table)
    hidden = len(data.column_names) - len(names)
    notes = []
    if len(rows) > limit:
        notes.append(f"showing the last {limit} of {len(rows)} rows")
    if hidden:
        notes.append(f"{hidden} more columns with --all-columns")
    if notes:
        out.print(f"[dim]{'; '.join(notes)}; --format csv --out FILE writes everything[/]")


def _whole(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def print_headline(ws: Workspace) -> None:
    """The headline figures, each with its definition."""
    from rich import box
    from rich.table import Table

    from ..definitions import HEADLINE, TERMS

    h = ws.headline()
    t = Table(title=f"Headline as of {h['as_of']}", box=box.SIMPLE_HEAD, show_header=False)
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("definition", style="dim")
    cur = h["currency"]
    quick = h["quick_ratio_12m"]
    values = {
        "arr": f"{_fmt(h['arr'])} {cur}",
        "mrr": f"{_fmt(h['mrr'])} {cur}",
        "accounts": f"{h['accounts']:,}",
        "nrr": _pct(h["nrr_12m"]),
        "grr": _pct(h["grr_12m"]),
        "logo_retention": _pct(h["logo_retention_12m"]),
        "quick_ratio": "–" if quick is None else f"{quick:.2f}",
    }
    for key in HEADLINE:
        t.add_row(TERMS[key].headline_label, values[key], TERMS[key].headline_text)
    console().print(t)


def print_movements(ws: Workspace, months: int = 12) -> None:
    """The last ``months`` monthly movements in whole units."""
    from rich import box
    from rich.table import Table

    rows = ws.movements().to_pylist()[-months:]
    cur = ws.config.reporting_currency
    t = Table(
        title=f"MRR movements, last {len(rows)} months ({cur}, whole units; exact in the files)",
        box=box.SIMPLE_HEAD,
        header_style="bold",
    )
    from ..definitions import MOVEMENTS

    churned = MOVEMENTS["churn"].counted
    cols = ("period", "start_mrr", *(f"{k}_mrr" for k in MOVEMENTS), "end_mrr", f"{churned}_accounts")
    heads = ("period", "start", *(m.short for m in MOVEMENTS.values()), "end", churned)
    losses = {f"{k}_mrr" for k, m in MOVEMENTS.items() if m.sign < 0}
    for c, head in zip(cols, heads, strict=True):
        t.add_column(head, justify="left" if c == "period" else "right", no_wrap=True)
    for r in rows:
        cells = [r["period"]]
        for c in cols[1:-1]:
            cells.append(("-" if c in losses and r[c] else "") + _whole(r[c]))
        cells.append(f"{r[cols[-1]]:,}")
        t.add_row(*cells)
    console().print(t)


def emit(frame: Frame, title: str, format: Format, out: Path | None, **print_options: Any) -> None:
    """``frame`` to ``out`` in ``format``, else to stdout (a terminal table, CSV or JSON)."""
    from ..errors import ConfigError

    if out is not None:
        if format is Format.table:
            raise ConfigError("--out needs --format csv, parquet or json")
        frame.write(out, format=format.value)
        console(stderr=True).print(f"wrote {len(frame):,} rows to {out}")
    elif format is Format.table:
        print_frame(frame, title=title, **print_options)
    else:
        import tempfile

        if format is Format.parquet:
            raise ConfigError("parquet needs --out FILE")
        with tempfile.TemporaryDirectory() as tmp:
            sys.stdout.write(frame.write(Path(tmp) / f"out.{format.value}", format=format.value).read_text("utf-8"))
