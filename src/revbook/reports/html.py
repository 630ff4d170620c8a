"""The one-file HTML report: headline, trends, waterfall, retention by segment and CSM, cohorts, data quality.

Everything is inline (the vendored Vega JavaScript, the stylesheet, the chart specs and their data),
so the file opens offline, can be mailed, and prints to PDF cleanly. Its figures are the library's
(``ws.headline()``, ``ws.mrr()``, ``ws.movements()``, ``ws.retention()``, ``ws.cohorts()``,
``ws.check()``, ``insights.pareto()`` when churn reasons are loaded), laid out by the same chart specs
as the dashboard (:mod:`revbook.reports.charts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import definitions
from . import charts, impact_charts

if TYPE_CHECKING:
    import jinja2

    from ..workspace import Workspace

__all__ = ["last_complete", "write_report"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent.parent / "web" / "static"
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
MOVEMENT_MONTHS = 12


def _inline_script(text: str) -> str:
    # a script element ends at the first "</script": keep any inside the code from closing it
    return text.replace("</script", "<\\/script")


def _by_slice(rows: list[dict[str, Any]], dim: str, end: dt.date) -> list[dict[str, Any]]:
    """One row per slice value with its 1, 3 and 12-month windows ending at ``end``."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        if r["period_end"] != end or r.get("nrr") is None:
            continue
        label = (r.get("owner_name") or r[dim]) if dim == "owner" else r[dim]
        entry = out.setdefault(r[dim], {"label": charts.shown_value(label), "windows": {}})
        entry["windows"][r["window_months"]] = r
    return sorted(out.values(), key=lambda e: -float(e["windows"].get(12, {}).get("start_mrr") or 0))


def last_complete(rows: Sequence[Mapping[str, Any]], *, grain: str, fiscal_start: int) -> Mapping[str, Any] | None:
    """The last row of a period not cut short by the as-of date (``metrics.book.is_partial``), or the
    last row when every period is partial: the default period of a waterfall."""
    from ..metrics.book import is_partial

    complete = [r for r in rows if not is_partial(r["period_end"], grain=grain, fiscal_start=fiscal_start)]
    return complete[-1] if complete else (rows[-1] if rows else None)


def _labelled(rows: list[dict[str, Any]], grain: str, fiscal_start: int) -> list[dict[str, Any]]:
    """Rows with their ``period_label`` ("2026-11 to date" for a partial period)."""
    from ..metrics.book import period_label

    for r in rows:
        r["period_label"] = period_label(r["period"], r["period_end"], grain=grain, fiscal_start=fiscal_start)
    return rows


def report_context(ws: Workspace) -> dict[str, Any]:
    """The figures and chart specs of the report, every one read from the library."""
    from ..quality import headline_findings

    currency = ws.config.reporting_currency
    fiscal = ws.config.fiscal_year_start_month
    head = ws.headline()
    mrr = _labelled(ws.mrr().to_pylist(), "month", fiscal)
    movements = _labelled(ws.movements().to_pylist(), "month", fiscal)
    retention = _labelled(ws.retention(window=(1, 3, 12)).to_pylist(), "month", fiscal)
    by_segment = ws.retention(by="segment").to_pylist()
    by_owner = ws.retention(by="owner").to_pylist()
    cohorts = ws.cohorts().to_pylist()
    end = mrr[-1]["period_end"] if mrr else head["as_of"]
    # the waterfall of the last complete month (an as-of date inside a month makes its last period partial)
    last_full = last_complete(movements, grain="month", fiscal_start=fiscal)
    findings = ws.check().to_pylist()
    segment_rows = _by_slice(by_segment, "segment", end)
    specs: dict[str, dict[str, Any]] = {
        "arr": charts.arr_trend(mrr, currency=currency),
        "retention": charts.retention_trend([r for r in retention if r["window_months"] == 12], window=12),
        "movements": charts.movement_bars(movements[-24:], currency=currency),
        "segment": charts.retention_by_slice(
            [dict(s["windows"][12], slice_label=s["label"]) for s in segment_rows if 12 in s["windows"]],
            dim="segment",
            label=lambda r: r["slice_label"],
            window=12,
        ),
        "cohorts": charts.cohort_heatmaps(cohorts),
    }
    if last_full:
        specs["waterfall"] = charts.waterfall(last_full, currency=currency)
    impact = impact_context(ws)
    specs["attribution"] = impact_charts.attribution_bars(
        impact["classes"], currency=currency, title="Expansion ARR by source, trailing 12 months"
    )
    if impact["csm"]:
        specs["csm_impact"] = impact_charts.impact_intervals(
            impact["csm"], title="NRR against what each book's risk predicted"
        )
    renewals = renewals_context(ws)
    reconciliation = reconcile_context(ws)
    churn = churn_context(ws)
    if churn:
        specs["pareto_count"] = charts.pareto(churn["rows"], measure="count", currency=currency)
        specs["pareto_arr"] = charts.pareto(churn["rows"], measure="arr", currency=currency)
    from ..metrics.benchmarks import headline_benchmarks

    return {
        "impact": impact,
        "renewals": renewals,
        "reconciliation": reconciliation,
        "churn": churn,
        "head": head,
        "bench": headline_benchmarks(ws, head),
        "currency": currency,
        "movements": movements[-MOVEMENT_MONTHS:],
        "last_full": last_full,
        "segments": segment_rows,
        "owners": _by_slice(by_owner, "owner", end),
        "findings": findings,
        "headline_findings": headline_findings(findings),
        "as_of_period": mrr[-1] if mrr else None,
        "specs": specs,
        "windows": (1, 3, 12),
        "generated": dt.datetime.now().replace(microsecond=0),
        "workspace": ws.path.name,
    }


def renewals_context(ws: Workspace) -> dict[str, Any]:
    """The renewals section (``revbook.rum.renewals``, docs/renewals.md): the book of the next 180
    days summed by bucket, and the renewal rate of the last eight quarters of due date."""
    from ..errors import RevbookError
    from ..rum.renewals import bucket_edges, summary_of

    try:
        summary = summary_of(ws.renewals(), bucket_edges(ws.config.renewals.buckets, 180)).to_pylist()
        rates = ws.renewal_rate(by="due_quarter").to_pylist()[-8:]
    except RevbookError as exc:  # e.g. no subscriptions with a renewal: the section says why
        return {"summary": [], "rates": [], "problem": str(exc)}
    return {"summary": summary, "rates": rates, "problem": None, "grace": ws.config.catalogue.renewal_grace_days}


def reconcile_context(ws: Workspace) -> dict[str, Any]:
    """The reconciliation section (``revbook.metrics.reconcile``, docs/reconciliation.md): revbook's MRR
    against the amount invoiced in the last six months, the difference split by cause; with the CRM's
    ARR field read, revbook's ARR against it on the last six read days."""
    from ..errors import RevbookError
    from ..metrics.reconcile import CAUSES, CRM_CAUSES

    try:
        crm = ws.why_numbers_differ(against="crm").to_pylist()[-6:]
    except RevbookError:  # no CRM ARR read: no such table
        crm = []
    out: dict[str, Any] = {"crm": crm, "crm_causes": CRM_CAUSES, "causes": CAUSES}
    try:
        months = ws.why_numbers_differ().to_pylist()[-6:]
    except RevbookError as exc:  # e.g. no invoices: the section says why
        return out | {"months": [], "problem": str(exc)}
    return out | {"months": months, "problem": None}


def impact_context(ws: Workspace) -> dict[str, Any]:
    """The section of who moved the number (``revbook.impact``): the book's concentration and its
    alerts, and expansion by source with NRR without product-driven expansion, overall and per CSM."""
    from ..errors import RevbookError
    from ..impact.attribution_summary import by_class
    from ..impact.concentration import alerts
    from ..impact.csm import by_rank, method_text

    total = ws.attribution_summary(window=12).to_pylist()[0]
    per_csm = ws.attribution_summary(window=12, by="csm").to_pylist()
    classes = by_class(total)
    concentration = ws.concentration()
    book = concentration.to_pylist()
    csm_problem: str | None = None
    try:
        csm = by_rank(ws.csm_impact().to_pylist())
    except RevbookError as exc:  # too little history for a window: the section says why
        csm, csm_problem = [], str(exc)
    return {
        "csm": csm,
        "csm_problem": csm_problem,
        "method": method_text(ws.config.csm_impact),
        "book_change": ws.book_change().to_pylist(),
        "attribution": total,
        "classes": classes,
        "per_csm": sorted(per_csm, key=lambda r: -(r["gross_expansion_arr"] or 0)),
        "concentration": book[0] if book else None,
        "alerts": alerts(ws, frame=concentration),  # on the figures above, not computed again
    }


def churn_context(ws: Workspace) -> dict[str, Any] | None:
    """The churn-reasons section (``insights.pareto`` over all history), or None when none are loaded."""
    if not ws.row_counts().get("churn_reasons"):
        return None
    from ..insights import pareto

    rows = pareto(ws, reasons=ws.config.churn_reasons).to_arrow().to_pylist()
    if not rows:
        return None
    return {
        "rows": sorted(rows, key=lambda r: r["rank_arr"]),
        "top_count": min(rows, key=lambda r: r["rank_count"]),
        "top_arr": min(rows, key=lambda r: r["rank_arr"]),
        "events": sum(r["events"] for r in rows),
        "arr_lost": sum((r["arr_lost"] or 0) for r in rows),
        "unmatched": sum(r["unmatched"] for r in rows),
        "vital_count": [r for r in sorted(rows, key=lambda r: r["rank_count"]) if r["vital_few_count"]],
        "vital_arr": [r for r in sorted(rows, key=lambda r: r["rank_arr"]) if r["vital_few_arr"]],
    }


def environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    """The Jinja2 environment of the report and the dashboard: escaping on, the shared number filters."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        money=charts.money,
        money_compact=charts.money_compact,
        pct=charts.pct,
        shown=charts.shown_value,
        rule_label=charts.rule_label,
        spec=lambda s: Markup(charts.spec_json(s)),  # safe: spec_json escapes <, > and &
    )
    from .. import benchmarks

    env.globals.update(
        GLOSSARY=definitions.glossary(definitions.GLOSSARY),
        BENCH_RULES=benchmarks.rules(),
        BENCH_MEDIANS=benchmarks.medians(),
        BENCH_METRICS=benchmarks.BENCHMARK_METRICS,
        BENCH_BELOW=benchmarks.BELOW,
    )
    return env


def render_report(ws: Workspace) -> str:
    import jinja2
    from markupsafe import Markup

    env = environment(jinja2.FileSystemLoader(TEMPLATES))
    css = (STATIC / "revbook.css").read_text(encoding="utf-8")
    scripts = [(STATIC / "vendor" / name).read_text(encoding="utf-8") for name in VENDOR]
    scripts.append((STATIC / "revbook.js").read_text(encoding="utf-8"))
    return env.get_template("report.html").render(
        css=Markup(css.replace("</style", "<\\/style")),
        scripts=[Markup(_inline_script(s)) for s in scripts],
        **report_context(ws),
    )


def write_report(ws: Workspace, path: str | Path) -> Path:
    """Write the report of ``ws`` as one self-contained HTML file; return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(ws), encoding="utf-8")
    return path
