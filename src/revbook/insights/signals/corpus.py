"""Labelled notes: reading them (the cs-notes format: one row per note, its labels in a column), the
fixed development / held-out split, per-family accuracy at the note level, and training the model.

The split is by account, so no account has notes on both sides: an account is held out when the
first 8 hex digits of sha256("cs-notes-4:" + account_id), read as a number, are < 35 mod 100.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from ...errors import SourceError
from ...frame import Frame
from .model import SignalModel
from .rules import CORPUS_LABELS, SignalRule, signal_rules
from .scan import find_signals

__all__ = [
    "HELD_OUT_PERCENT",
    "SPLIT_SALT",
    "accuracy_table",
    "held_out",
    "note_accuracy",
    "read_labelled_notes",
    "split_notes",
    "train_signal_model",
]

SPLIT_SALT = "cs-notes-4"
HELD_OUT_PERCENT = 35
_COLUMNS = ("note_id", "account_id", "date", "author", "source", "text", "labels", "hard_negative", "imitates")


def held_out(account_id: str) -> bool:
    """Whether the account's notes are in the held-out part (see the module's docstring)."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{account_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < HELD_OUT_PERCENT


def _rules_of(value: str, where: str, known: set[str]) -> list[str]:
    out = []
    for raw in re.split(r"[;,|]", value or ""):
        label = raw.strip().lower()
        if not label:
            continue
        rule = CORPUS_LABELS.get(label, label)
        if rule not in known:
            raise SourceError(
                f"unknown signal label '{raw.strip()}'",
                file=where,
                hint=f"use a rule name ({', '.join(sorted(known))}) or a cs-notes label",
            )
        out.append(rule)
    return sorted(set(out))


def _imitated(why: str) -> list[str]:
    """The labels a hard negative imitates: the cs-notes `why` starts with 'Not <label>[ / <label>]:'."""
    head = why.split(":", 1)[0] if why.lower().startswith("not ") else ""
    return sorted({CORPUS_LABELS.get(w, w) for w in re.findall(r"[a-z_]+", head.lower()) if w in CORPUS_LABELS})


def read_labelled_notes(path: str | Path, *, rules: Iterable[str] | None = None) -> pa.Table:
    """A CSV of labelled notes as a table of note_id, account_id, date, author, source, text,
    labels (list of rule names), hard_negative, imitates (the rules a hard negative looks like).

    Columns read: account_id, date, text, labels (``;``-separated rule names or cs-notes labels,
    empty for none); optional note_id, author, source, hard_negative (true/false), why.
    """
    import datetime as dt

    p = Path(path)
    known = set(rules) if rules is not None else {r.name for r in signal_rules()}
    if not p.exists():
        raise SourceError(
            "labelled notes not found", file=str(p), hint="pass a CSV with account_id, date, text, labels"
        )
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"account_id", "date", "text", "labels"} - set(reader.fieldnames or ())
        if missing:
            raise SourceError(f"labelled notes lack column(s): {', '.join(sorted(missing))}", file=str(p))
        rows: list[dict[str, Any]] = []
        for i, r in enumerate(reader, start=2):
            where = f"{p} row {i}"
            try:
                day = dt.date.fromisoformat(r["date"].strip())
            except ValueError:
                raise SourceError(
                    "date is not a date like 2025-01-31", file=str(p), row=i, column="date", value=r["date"]
                ) from None
            hard = (r.get("hard_negative") or "").strip().lower() in ("true", "1", "yes")
            rows.append(
                {
                    "note_id": r.get("note_id") or f"row{i}",
                    "account_id": r["account_id"],
                    "date": day,
                    "author": r.get("author") or None,
                    "source": r.get("source") or None,
                    "text": r["text"],
                    "labels": _rules_of(r["labels"], where, known),
                    "hard_negative": hard,
                    "imitates": _imitated(r.get("why") or "") if hard else [],
                }
            )
    schema = pa.schema(
        [
            ("note_id", pa.string()),
            ("account_id", pa.string()),
            ("date", pa.date32()),
            ("author", pa.string()),
            ("source", pa.string()),
            ("text", pa.string()),
            ("labels", pa.list_(pa.string())),
            ("hard_negative", pa.bool_()),
            ("imitates", pa.list_(pa.string())),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def split_notes(notes: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(development part, held-out part) of labelled notes, by account (:func:`held_out`)."""
    mask = pa.array([held_out(a) for a in notes.column("account_id").to_pylist()], pa.bool_())
    import pyarrow.compute as pc

    return notes.filter(pc.invert(mask)), notes.filter(mask)


def _fired(notes: pa.Table, rules: tuple[SignalRule, ...], model: Any, scope: bool = True) -> list[set[str]]:
    hits = find_signals(notes.select(["account_id", "date", "author", "source", "text"]), rules=rules, model=model,
                        scope=scope)  # fmt: skip
    fired: list[set[str]] = [set() for _ in range(notes.num_rows)]
    for row, rule in zip(hits.to_arrow().column("note_row").to_pylist(), hits.to_arrow().column("rule").to_pylist(),
                         strict=True):  # fmt: skip
        fired[row - 1].add(rule)
    return fired


def note_accuracy(
    notes: pa.Table,
    *,
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
    model: SignalModel | str | Path | bool | None = None,
) -> Frame:
    """Per family, at the note level (a note fires a family when any of its sentences does):
    rule, positives, fired, true_positives, precision, recall, f1, hard_negatives (the hard
    negatives that imitate it), hard_negative_fires; a final ``(all)`` row (micro averages) whose
    hard_negative_fires counts hard negatives firing any family they do not carry, and
    hard_negative_fire_rate = that share. ``notes`` as :func:`read_labelled_notes` returns it.
    """
    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    fired = _fired(notes, rule_set, model)
    truth = [set(x) for x in notes.column("labels").to_pylist()]
    hard = notes.column("hard_negative").to_pylist()
    imitates = [set(x) for x in notes.column("imitates").to_pylist()]
    rows = []
    for r in rule_set:
        pos = sum(r.name in t for t in truth)
        fire = sum(r.name in f for f in fired)
        tp = sum(r.name in f and r.name in t for f, t in zip(fired, truth, strict=True))
        hn = sum(h and r.name in m for h, m in zip(hard, imitates, strict=True))
        hnf = sum(h and r.name in m and r.name in f and r.name not in t
                  for h, m, f, t in zip(hard, imitates, fired, truth, strict=True))  # fmt: skip
        rows.append(_row(r.name, pos, fire, tp, hn, hnf))
    measured = [row for row in rows if row["positives"] > 0]
    hard_total = sum(hard)
    hard_fires = sum(h and bool(f - t) for h, f, t in zip(hard, fired, truth, strict=True))
    total = _row(
        "(all)",
        sum(r["positives"] for r in measured),
        sum(r["fired"] for r in measured),
        sum(r["true_positives"] for r in measured),
        hard_total,
        hard_fires,
    )
    table = pa.Table.from_pylist([*rows, total])
    return Frame("signal_note_accuracy", table)


def _row(rule: str, pos: int, fire: int, tp: int, hn: int, hnf: int) -> dict[str, Any]:
    return {
        "rule": rule,
        "positives": pos,
        "fired": fire,
        "true_positives": tp,
        "precision": tp / fire if fire else None,
        "recall": tp / pos if pos else None,
        "f1": 2 * tp / (fire + pos) if fire + pos else None,
        "hard_negatives": hn,
        "hard_negative_fires": hnf,
        "hard_negative_fire_rate": hnf / hn if hn else None,
    }


def train_signal_model(
    notes: pa.Table,
    *,
    rules: Mapping[str, object] | tuple[SignalRule, ...] | None = None,
    C: float = 1.0,
    min_count: int = 2,
    folds: int = 5,
) -> SignalModel:
    """A :class:`SignalModel` fitted on labelled notes (:func:`read_labelled_notes`): every rule
    hit is a candidate (in scope or not, with the scope's verdict as a term), a signal when its
    note carries its family; each family's threshold is chosen by cross-validation grouped by
    account, with the rules and scope in front."""
    rule_set = rules if isinstance(rules, tuple) else signal_rules(rules)
    hits = find_signals(
        notes.select(["account_id", "date", "author", "source", "text"]), rules=rule_set, model=False, scope=False
    ).to_arrow()
    truth = {i + 1: set(x) for i, x in enumerate(notes.column("labels").to_pylist())}
    rows = hits.to_pylist()
    candidates = [(h["rule"], h["sentence"], h["phrase"], h["out_of_scope"]) for h in rows]
    y = [h["rule"] in truth[h["note_row"]] for h in rows]
    return SignalModel(C=C, min_count=min_count, folds=folds).fit(
        candidates,
        y,
        notes=[h["note_row"] for h in rows],
        groups=[h["account_id"] for h in rows],
        truth=truth,
    )


def accuracy_table(frame: Frame, *, labels: Mapping[str, str] | None = None) -> str:
    """The per-family figures as a Markdown table (the one docs/churn-reasons.md keeps)."""
    names = {v: k for k, v in (labels or CORPUS_LABELS).items()}
    lines = [
        "| rule | corpus label | positives | fired | precision | recall | F1 | hard negatives | fired on them |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    for r in frame.to_arrow().to_pylist():
        share = "" if r["rule"] != "(all)" or not r["hard_negatives"] else f" ({r['hard_negative_fire_rate']:.1%})"
        lines.append(
            f"| {r['rule']} | {names.get(r['rule'], '')} | {r['positives']} | {r['fired']} | {f(r['precision'])} | "
            f"{f(r['recall'])} | {f(r['f1'])} | {r['hard_negatives']} | {r['hard_negative_fires']}{share} |"
        )
    return "\n".join(lines)
