"""`revbook churn`, `signals` and `reasons`: why customers leave, and what the notes say before they do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import HelpGroup, RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LimitOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
    read_labels,
    split_slices,
)
from .output import console, emit, print_frame, say

if TYPE_CHECKING:
    from ..config import Config
    from ..frame import Frame
    from ..store import Store

reasons_app = typer.Typer(
    cls=HelpGroup, help="Churn reasons: classify the free text, correct a reason, measure accuracy."
)
app.add_typer(reasons_app, name="reasons")


def _print_unmapped(ws: Store, cfg: Config, format: Format, out: Path | None) -> None:
    """The picklist values the taxonomy does not know (kept as reasons of their own), if any."""
    from ..insights import unmapped_reasons

    unmapped = unmapped_reasons(ws, reasons=cfg.churn_reasons)
    if not len(unmapped):
        return
    if format is Format.table and out is None:
        lines = [
            "unmapped picklist values, each kept as a reason of its own; to map one, add its lines to"
            " revbook.toml (the aliases into its table if it is already there) under the reason it belongs to:"
        ]
        for r in unmapped.to_pylist():
            others = [s for s in r["spellings"].split(" | ") if s != r["label"]]
            also = f"; also spelt {', '.join(repr(s) for s in others)}" if others else ""
            hint = f"; its own text reads as {r['suggested']}" if r["suggested"] else ""
            lines.append(f"  {r['label']!r} ({r['rows']:,} rows{also}{hint})")
            lines += [f"      {line}" for line in r["config"].splitlines()]
        console().print("\n".join(lines), markup=False, highlight=False)  # the config's [...] is text
    else:
        labels = ", ".join(f"'{v}'" for v in unmapped.to_arrow()["label"].to_pylist())
        n = len(unmapped)
        console(stderr=True).print(
            f"{n} picklist {'value is' if n == 1 else 'values are'} not in the taxonomy and "
            f"{'stays a reason' if n == 1 else 'stay reasons'} of {'its' if n == 1 else 'their'} own: {labels}; "
            "`revbook reasons classify` prints the config that maps each",
            markup=False,
            highlight=False,
        )


@app.command(cls=RevbookCommand)
def churn(
    by: Annotated[str | None, typer.Option(help="slice(s): period, segment, owner, team, cohort, ...")] = None,
    grain: Annotated[str, typer.Option(help="period length for --by period")] = "quarter",
    from_: Annotated[str | None, typer.Option("--from", help="first reason date (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option(help="last reason date (YYYY-MM-DD)")] = None,
    top: Annotated[int, typer.Option(help="reasons in the upstream table")] = 5,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Why customers leave: reasons ranked by logos and by ARR lost (Pareto), and what preceded them."""
    from ..insights import pareto, upstream

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        ranked = pareto(ws, by=by, grain=grain, start=from_, end=to, reasons=cfg.churn_reasons)
        view = View.of(columns, wide, limit, all_)
        emit(
            ranked, "churn reasons, largest ARR lost first", format, out, view=view, dims=split_slices(by), latest=False
        )
        _print_unmapped(ws, cfg, format, out)
        if format is Format.table and out is None:
            print_frame(
                upstream(ws, top=top, reasons=cfg.churn_reasons),
                title="upstream: accounts that left for each reason against accounts that stayed",
                view=View(wide=wide, pick=False),
            )


@reasons_app.command("classify", cls=RevbookCommand)
def reasons_classify(
    eval_: Annotated[bool, typer.Option("--eval", help="print per-reason precision and recall instead")] = False,
    labels: Annotated[
        Path | None, typer.Option(help="labelled set (account_id, date, reason) for --eval; default the picklist")
    ] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Each churn reason with its class, confidence and the words that decided it (or --eval)."""
    from ..insights import classify_reasons, reason_accuracy

    cfg = load_config(config, workspace, None)
    view = View.of(columns, wide, limit, all_)
    with open_workspace(cfg, read_only=True) as ws:
        if eval_:
            frame = reason_accuracy(ws, labels=read_labels(labels), reasons=cfg.churn_reasons)
            emit(
                frame,
                "churn-reason classification: cross-validated precision and recall",
                format,
                out,
                view=view,
                all_columns=True,
            )
        else:
            classified = classify_reasons(ws, reasons=cfg.churn_reasons)
            # in date order: the terminal shows the latest reasons
            emit(classified, "churn reasons, classified, by date", format, out, view=view, latest=True, order="by date")
            _print_unmapped(ws, cfg, format, out)


@reasons_app.command("correct", cls=RevbookCommand)
def reasons_correct(
    account_id: Annotated[str, typer.Argument(help="the account")],
    date: Annotated[str, typer.Argument(help="the reason's date (YYYY-MM-DD)")],
    reason: Annotated[str, typer.Argument(help="the right reason (a taxonomy code or label)")],
    by: Annotated[str, typer.Option("--by", help="who corrects it")] = ...,  # type: ignore[assignment]
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Store a manual correction of a churn reason; it wins over the rules and the model."""
    from ..insights import correct_reason

    cfg = load_config(config, workspace, None)
    with open_workspace(cfg) as ws:
        correct_reason(ws, account_id, date, reason, by=by, reasons=cfg.churn_reasons)
    say(f"{account_id} on {date}: reason set to {reason} by {by}")


@app.command(cls=RevbookCommand)
def signals(
    since: Annotated[str | None, typer.Option(help="notes dated on or after (YYYY-MM-DD)")] = None,
    owner: Annotated[str | None, typer.Option(help="only this CSM's book (owner id) on the as-of date")] = None,
    eval_: Annotated[
        bool, typer.Option("--eval", help="print each family's precision, recall, F1 and hard negatives firing")
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="labelled set for --eval: hits (account_id, date, author, rule, kind) or labelled notes "
            "(account_id, date, text, labels[, hard_negative])"
        ),
    ] = None,
    lift: Annotated[bool, typer.Option("--lift", help="print each signal's lift on churn and expansion")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Trigger phrases in notes, calls and emails, newest first (or --eval, --lift)."""
    from ..errors import ConfigError
    from ..frame import Frame
    from ..insights import find_signals, signal_accuracy, signal_lift
    from ..metrics.owners import for_owner

    cfg = load_config(config, workspace, as_of)
    view = View.of(columns, wide, limit, all_)
    if eval_ and labels is not None and labels.suffix.lower() == ".csv" and _is_labelled_notes(labels):
        from ..insights.signals.corpus import note_accuracy, read_labelled_notes

        frame = note_accuracy(read_labelled_notes(labels), rules=cfg.signals)
        emit(
            frame, f"signals on the labelled notes: {_hard_negatives(frame)}", format, out, view=view, all_columns=True
        )
        return
    with open_workspace(cfg, read_only=True) as ws:
        if eval_:
            labelled = read_labels(labels)
            if labelled is None:
                raise ConfigError("--eval needs --labels FILE", hint="the demo writes data/labels_signals.parquet")
            frame = signal_accuracy(ws, labelled, rules=cfg.signals)
            emit(frame, f"signal rules: {_hard_negatives(frame)}", format, out, view=view, all_columns=True)
            return
        if lift:
            emit(signal_lift(ws, rules=cfg.signals), "signal lift", format, out, view=view, all_columns=True)
            return
        found = find_signals(ws, since=since, before=cfg.snapshot_date() + dt.timedelta(days=1), rules=cfg.signals)
        table = for_owner(found, owner, store=ws, on=cfg.snapshot_date()).to_arrow()
        table = table.sort_by([("date", "descending"), ("account_id", "ascending")])
        emit(Frame("signals", table), "signals, newest first", format, out, view=view, limit=100, order="newest first")


def _is_labelled_notes(path: Path) -> bool:
    """Whether a CSV holds labelled notes (text and labels columns) rather than labelled hits."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    return {"text", "labels"} <= {h.strip() for h in header}


def _hard_negatives(frame: Frame) -> str:
    """The title's summary: micro F1 and the share of hard negatives that fire."""
    total = next(r for r in frame.to_arrow().to_pylist() if r["rule"] == "(all)")
    f1 = "-" if total["f1"] is None else f"{total['f1']:.3f}"
    fired = total["hard_negative_fires"]
    share = f" ({fired / total['hard_negatives']:.1%})" if total["hard_negatives"] else ""
    hard = f"hard negatives firing {fired} of {total['hard_negatives']}{share}"
    return f"precision, recall and F1 per family (all: F1 {f1}); {hard}"
