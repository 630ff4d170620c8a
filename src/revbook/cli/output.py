"""What the commands print: terminal tables, the headline, and a frame to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .options import Format, View

if TYPE_CHECKING:
    from ..frame import Frame
    from ..workspace import Workspace


def console(stderr: bool = False, *, width: int | None = None) -> Any:
    """A rich console on stdout (or stderr): the terminal's width (COLUMNS), 140 columns when the
    stream has no width, or ``width``."""
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # piped or captured output has no width: give tables room rather than truncating figures
    wide = width or (None if stream.isatty() or "COLUMNS" in os.environ else 140)
    return Console(stderr=stderr, highlight=False, width=wide)


def say(text: str, *, stderr: bool = False, style: str | None = None) -> None:
    """One line of text as it is: brackets in paths, settings and messages are never read as markup."""
    console(stderr=stderr).print(text, style=style, markup=False, highlight=False)


def command_name() -> str:
    """How the user runs revbook: ``revbook`` when that is on PATH, else the path of the running script
    (``.venv/bin/revbook`` after ``./dev demo`` in a fresh shell)."""
    import os
    import shutil

    script = Path(sys.argv[0])
    if script.stem != "revbook" or not script.is_file():
        return "revbook"
    found = shutil.which("revbook")
    if found and Path(found).resolve() == script.resolve():
        return "revbook"
    return shown_path(script) if os.sep in str(script) else str(script.resolve())


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else absolute."""
    path = path.absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


#: the columns a terminal table shows by default, most important first: the columns that do not fit the
#: terminal are left out from the end of this list (every column goes to csv, parquet and json, and to
#: the terminal with --wide); a table not named here shows every column
TERMINAL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "movements": (
        "period",
        "start_mrr",
        "end_mrr",
        "new_mrr",
        "churn_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "reactivation_mrr",
        "transfer_in_mrr",
        "transfer_out_mrr",
    ),
    "retention": (
        "period",
        "window_months",
        "nrr",
        "grr",
        "logo_retention",
        "start_accounts",
        "start_mrr",
        "movement_nrr",
        "quick_ratio",
    ),
    "mrr": ("period", "mrr", "arr", "accounts"),
    "accounts": ("period", "account_id", "mrr", "arr"),
    "revenue": ("period", "recognised_revenue"),
    "reconcile": ("period", "account_id", "difference", "subscriptions_mrr", "invoices_mrr"),
    "why_numbers_differ": ("period", "difference", "unexplained", "revbook_mrr", "invoiced", "timing", "one_time"),
    "why_numbers_differ_accounts": ("period", "account_id", "difference", "unexplained", "revbook_mrr", "invoiced"),
    "why_numbers_differ_total": ("period", "difference", "unexplained", "revbook_mrr", "total", "churn_timing"),
    "why_numbers_differ_total_accounts": ("period", "account_id", "churn_timing", "discounts", "fx"),
    "why_numbers_differ_crm": ("read_on", "difference", "unexplained", "revbook_arr", "crm_arr", "churned"),
    "why_numbers_differ_crm_accounts": ("read_on", "account_id", "difference", "unexplained", "revbook_arr", "crm_arr"),
    "cohorts": ("cohort", "months_since_start", "logo_retention", "nrr", "cohort_accounts", "active_accounts"),
    "ledger": ("account_id", "subscription_id", "mrr", "start_date", "end_date", "plan", "currency", "line_id"),
    "check": ("severity", "check", "rows", "message", "hint", "example"),
    "pareto": (
        "reason_label",
        "arr_lost",
        "share_arr",
        "events",
        "cum_share_arr",
        "churned_logos",
        "contractions",
        "owner_function",
        "rank_arr",
        "rank_count",
        "vital_few_arr",
        "vital_few_count",
    ),
    "upstream": (
        "reason",
        "feature",
        "gap",
        "n_left",
        "n_stayed",
        "left_mean",
        "stayed_mean",
        "status",
        "gap_low",
        "gap_high",
        "metric_owner",
    ),
    "signals": ("date", "account_id", "rule", "sentence", "polarity", "author"),
    "churn_reasons_classified": ("account_id", "date", "reason_label", "confidence", "comment", "evidence", "source"),
    "health": (
        "account_id",
        "score",
        "band",
        "arr",
        "drivers",
        "owner",
        "stage",
        "usage",
        "utilisation",
        "engagement",
        "support",
        "sentiment",
        "milestones",
    ),
    "rum_accounts": (
        "account_id",
        "stage",
        "arr",
        "health_band",
        "risk_band",
        "potential_band",
        "owner",
        "reason",
        "p_churn_or_contract",
        "expected_renewal_arr",
        "potential_arr",
        "health_score",
        "renewal_trend",
        "health_drivers",
    ),
    "rum": (
        "stage",
        "potential_band",
        "risk_band",
        "managed",
        "accounts",
        "arr",
        "arr_at_risk",
        "potential_arr",
        "expected_renewal_arr",
        "renewal_arr",
        "open_expansion_arr",
        "cancel_requested",
    ),
    "model_scores": ("account_id", "p_logistic", "p_boosting", "arr", "drivers"),
    "signal_lift": (
        "rule",
        "risk_lift",
        "expansion_lift",
        "notes",
        "risk_rate",
        "expansion_rate",
        "polarity",
        "base_risk_rate",
        "base_expansion_rate",
        "horizon_days",
    ),
}
#: headings that are not the column's name with its underscores as spaces
HEADINGS = {
    "window_months": "window",
    "logo_retention": "logo ret.",
    "movement_nrr": "mvmt NRR",
    "quick_ratio": "quick",
    "months_since_start": "month",
    "nrr": "NRR",
    "grr": "GRR",
    "arr": "ARR",
    "mrr": "MRR",
}
#: key columns a table never leaves out (with its first column and its slices)
KEYS = ("period", "cohort", "account_id")


def heading(name: str) -> str:
    return HEADINGS.get(name, name.removesuffix("_mrr").replace("_accounts", " accts").replace("_", " "))


def print_frame(
    frame: Frame,
    *,
    title: str | None = None,
    view: View | None = None,
    limit: int = 200,
    latest: bool | None = None,
    order: str | None = None,
    dims: Sequence[str] = (),
    all_columns: bool = False,
    columns: Sequence[str] | None = None,
    ratios: Collection[str] = (),
    formats: Mapping[str, Callable[[Any, Mapping[str, Any]], str]] | None = None,
    numbers: Collection[str] = (),
    headings: Mapping[str, str] | None = None,
) -> None:
    """``frame`` as a terminal table that fits the terminal's width.

    Columns: ``view.columns``, or every column with ``view.wide``, else the frame's
    :data:`TERMINAL_COLUMNS` (or ``columns``, or every column with ``all_columns``) and the slices
    ``dims``, left out from the least important while they do not fit; a note names what is not shown.
    Rows: the first ``limit`` (``view.limit``, every row with ``view.all_rows``) in the frame's order
    (``order`` says which, e.g. "worst first"), or the latest ones for a time series (``latest``; by
    default when the frame has a ``period``). Values print as :func:`.layout.formatter` says
    (``ratios`` as percentages), or as ``formats`` says (a function of the value and its row, for the
    columns it names; ``numbers`` are the text columns that hold numbers, aligned right).
    """
    from ..errors import ConfigError
    from .layout import Column, fit, formatter, table, table_width, widths

    # a command without --columns, --wide, --limit and --all (check) says what is left out, not how to see it
    options = view is not None
    view = view or View()
    data = frame.to_arrow()
    available = data.column_names
    if view.columns is not None:
        if unknown := [c for c in view.columns if c not in available]:
            raise ConfigError(
                f"--columns: no column {', '.join(unknown)} in this table", hint=f"its columns: {', '.join(available)}"
            )
        names, priority = list(view.columns), list(view.columns)
    else:
        preferred = (
            None if all_columns or view.wide else TERMINAL_COLUMNS.get(frame.name) if columns is None else columns
        )
        priority = [*dims, *(preferred or available)]
        names = [c for c in available if c in priority]
        # slices right after the period, the rest in the table's order
        first = [n for n in names if n in ("period", "cohort")]
        names = (
            first
            + [n for n in dims if n in names and n not in first]
            + [n for n in names if n not in first and n not in dims]
        )
    fixed = view.columns is not None or view.wide
    total = data.num_rows
    count = total if view.all_rows else min(view.limit or limit, total)
    latest = "period" in available if latest is None else latest
    picked = data.slice(total - count, count) if latest else data.slice(0, count)
    required = {*KEYS, *dims, priority[0] if priority else ""}
    rows = picked.to_pylist()
    cols = []
    for name in names:
        values = [r[name] for r in rows]
        arrow_type = str(data.schema.field(name).type)
        if formats and name in formats:
            by_row = formats[name]
            cells = [by_row(r[name], r) for r in rows]
        else:
            fmt = formatter(name, arrow_type, values, ratios=ratios)
            cells = [fmt(v) for v in values]
        numeric = name in numbers or arrow_type.startswith(("decimal", "int", "uint", "double", "float"))
        cols.append(
            Column(
                name,
                (headings or {}).get(name) or heading(name),
                cells,
                numeric=numeric,
                required=fixed or name in required,
            )
        )
    out = console()
    width = out.width
    shown, dropped = fit(cols, priority, width)
    col_widths = widths(shown, width)
    needed = table_width(col_widths)
    if needed > width:  # wider than the terminal in any case (--wide, --columns): every column at its full width
        col_widths = [c.max_width for c in shown]
        needed = table_width(col_widths)
    if needed > width:
        out = console(width=needed)
    out.print(table(shown, col_widths, title=title))
    notes = []
    if count < total:
        which = "latest" if latest else "first"
        stated = f" ({order})" if order else ""
        more = ": --limit N, --all or --format csv --out FILE for more" if options else ""
        notes.append(f"showing the {which} {count:,} of {total:,} rows{stated}{more}")
    hidden = 0 if view.columns is not None else len(available) - len(names)
    if dropped or hidden:
        plural = "s" if hidden > 1 else ""
        if dropped:
            left_out = ", ".join(dropped) + (f" and {hidden} more" if hidden else "")
        else:
            left_out = f"{hidden} more column{plural}"
        where = f" at {width} columns" if dropped else ""
        see = ": --columns NAME,NAME to pick, --wide for all" if view.pick else ": --wide for all"
        notes.append(f"not shown{where}: {left_out}{see if options else ''}")
    if needed > width:
        notes.append(f"the table is {needed} columns wide, wider than the terminal's {width}: pipe it through less -S")
    for note in notes:
        say(note, style="dim")


def print_headline(ws: Workspace) -> None:
    """The headline figures, each with its definition."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..definitions import HEADLINE, TERMS
    from .layout import percent, plain

    h = ws.headline()
    t = Table(title=f"Headline as of {h['as_of']}", box=box.SIMPLE_HEAD, show_header=False)
    t.add_column("measure")
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("definition", style="dim")
    cur = h["currency"]
    quick = h["quick_ratio_12m"]
    values = {
        "arr": f"{plain(h['arr'])} {cur}",
        "mrr": f"{plain(h['mrr'])} {cur}",
        "accounts": f"{h['accounts']:,}",
        "nrr": percent(h["nrr_12m"]),
        "grr": percent(h["grr_12m"]),
        "logo_retention": percent(h["logo_retention_12m"]),
        "quick_ratio": "–" if quick is None else f"{quick:.2f}",
        "gross_revenue_churn": percent(h["gross_revenue_churn_12m"]),
    }
    for key in HEADLINE:
        t.add_row(Text(TERMS[key].headline_label), Text(values[key]), Text(TERMS[key].headline_text))
    console().print(t)
    print_benchmarks(ws, h)
    print_headline_findings(ws)


def print_benchmarks(ws: Workspace, head: dict[str, Any]) -> None:
    """NRR, GRR and gross revenue churn beside their bands and the published median of the book's ACV
    band (``metrics.benchmarks``); nothing when ``[benchmarks] show`` is false."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..definitions import TERMS
    from ..metrics.benchmarks import headline_benchmarks

    found = headline_benchmarks(ws, head)
    if not found.rows:
        return
    t = Table(
        title="Beside the benchmarks",
        caption=f"{found.basis}; sources: docs/benchmarks.md",
        box=box.SIMPLE_HEAD,
        title_style="bold",
    )
    t.add_column("figure")
    t.add_column("band")
    t.add_column("published median", style="dim")
    for row in found.rows:
        b = row.band
        band = f"{b.name}: {b.threshold}" + (f" ({b.conversion})" if b.conversion else "")
        t.add_row(Text(TERMS[row.metric].headline_label), Text(band), Text(row.median_text))
    console().print(t)


def print_headline_findings(ws: Workspace) -> None:
    """The data-quality findings that change the headline figures, under them (``quality.headline_findings``)."""
    from ..quality import headline_findings

    found = headline_findings(ws.check().to_pylist())
    if not found:
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    n = len(found)
    t = Table(
        title=f"{n} data-quality finding{'s' if n > 1 else ''} change{'' if n > 1 else 's'} these figures",
        caption="`revbook check` lists each with an example and what to do",
        box=box.SIMPLE_HEAD,
        show_header=False,
        title_style="yellow",
    )
    t.add_column("check", no_wrap=True)
    t.add_column("rows", justify="right", no_wrap=True)
    t.add_column("effect", style="dim")
    for f in found:
        t.add_row(Text(str(f["check"])), Text(f"{f['rows']:,} {f['table']} rows"), Text(str(f["effect"])))
    console().print(t)


def print_movements(ws: Workspace, months: int = 12) -> None:
    """The last ``months`` monthly movements in whole units, the columns that fit the terminal."""
    from ..definitions import MOVEMENTS
    from .layout import Column, fit, table, whole, widths

    rows = ws.movements().to_pylist()[-months:]
    cur = ws.config.reporting_currency
    churned = MOVEMENTS["churn"].counted
    names = ("period", "start_mrr", *(f"{k}_mrr" for k in MOVEMENTS), "end_mrr", f"{churned}_accounts")
    heads = ("period", "start", *(m.short for m in MOVEMENTS.values()), "end", churned)
    losses = {f"{k}_mrr" for k, m in MOVEMENTS.items() if m.sign < 0}
    from ..metrics.book import period_label

    fiscal = ws.config.fiscal_year_start_month
    labels = [period_label(r["period"], r["period_end"], grain="month", fiscal_start=fiscal) for r in rows]
    cols = [Column("period", "period", labels, required=True)]
    for name, head in zip(names[1:-1], heads[1:-1], strict=True):
        cells = [("-" if name in losses and r[name] else "") + whole(r[name]) for r in rows]
        cols.append(Column(name, head, cells, numeric=True))
    cols.append(Column(names[-1], heads[-1], [f"{r[names[-1]]:,}" for r in rows], numeric=True))
    priority = ("period", "start_mrr", "end_mrr", "new_mrr", "churn_mrr", "expansion_mrr", "contraction_mrr")
    out = console()
    shown, dropped = fit(cols, priority, out.width)
    title = f"MRR movements, last {len(rows)} months ({cur}, whole units; exact in the files)"
    out.print(table(shown, widths(shown, out.width), title=title))
    if dropped:
        say(
            f"no room at {out.width} columns for {', '.join(dropped)}: {command_name()} metrics movements --wide"
            " shows every column",
            style="dim",
        )


def emit(frame: Frame, title: str, format: Format, out: Path | None, **print_options: Any) -> None:
    """``frame`` to ``out`` in ``format``, else to stdout (a terminal table, CSV or JSON); ``print_options``
    go to :func:`print_frame` (``view``: the --columns, --wide, --limit and --all of the command)."""
    from ..errors import ConfigError

    if out is not None:
        if format is Format.table:
            raise ConfigError("--out needs --format csv, parquet or json")
        frame.write(out, format=format.value)
        say(f"wrote {len(frame):,} rows to {out}", stderr=True)
    elif format is Format.table:
        print_frame(frame, title=title, **print_options)
    else:
        import tempfile

        if format is Format.parquet:
            raise ConfigError("parquet needs --out FILE")
        with tempfile.TemporaryDirectory() as tmp:
            sys.stdout.write(frame.write(Path(tmp) / f"out.{format.value}", format=format.value).read_text("utf-8"))
