"""How well comments alone give the reason: per-reason precision and recall, cross-validated.

The keyword rules and the text model of :mod:`.churn_reasons` judge each comment with the picklist
ignored; no row is scored by a model that saw it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from ..frame import Frame
from .churn_reasons import _clean, _decide, _tax
from .taxonomy import UNKNOWN, Taxonomy, normalise, unmapped_code

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["reason_accuracy"]


def _source_tables(source: Store | Mapping[str, Any]) -> tuple[pa.Table, pa.Table | None]:
    if isinstance(source, Mapping):
        if "churn_reasons" not in source:
            raise ConfigError("reason_accuracy needs a 'churn_reasons' table", hint="pass {'churn_reasons': ...}")

        def arrow(t: Any) -> pa.Table:
            return t.to_arrow() if hasattr(t, "to_arrow") and not isinstance(t, pa.Table) else t

        labels = source.get("labels_churn_reasons")
        return arrow(source["churn_reasons"]), arrow(labels) if labels is not None else None
    return source.table("churn_reasons").to_arrow(), None


def _scores(truth: list[str], pred: list[str], classes: list[str]) -> list[dict[str, Any]]:
    t, p = np.asarray(truth, object), np.asarray(pred, object)
    rows = []
    for c in classes:
        tp = int(((t == c) & (p == c)).sum())
        support, predicted = int((t == c).sum()), int((p == c).sum())
        prec = tp / predicted if predicted else None
        rec = tp / support if support else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if support else None)
        rows.append(
            {"reason": c, "support": support, "predicted": predicted, "precision": prec, "recall": rec, "f1": f1}
        )
    scored = [r for r in rows if r["support"]]
    rows.append(
        {
            "reason": "(macro average)",
            "support": len(t),
            "predicted": len(p),
            "precision": float(np.mean([r["precision"] or 0.0 for r in scored])) if scored else None,
            "recall": float(np.mean([r["recall"] or 0.0 for r in scored])) if scored else None,
            "f1": float(np.mean([r["f1"] or 0.0 for r in scored])) if scored else None,
        }
    )
    acc = float((t == p).mean()) if len(t) else None
    rows.append(
        {"reason": "(accuracy)", "support": len(t), "predicted": len(p), "precision": acc, "recall": acc, "f1": acc}
    )
    return rows


def reason_accuracy(
    source: Store | Mapping[str, Any],
    *,
    labels: pa.Table | None = None,
    reasons: Taxonomy | Mapping[str, object] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> Frame:
    """Per-reason precision and recall (and macro F1) of classifying the *comment* alone.

    The truth is ``labels`` (``account_id, date, reason``: e.g. ``revbook.sample.labels()``'s
    ``labels_churn_reasons``, or a ``labels_churn_reasons`` entry of ``source``); without one, the
    rows' own ``primary_reason`` (so: how well comments reproduce the picklist; a value the taxonomy
    does not know counts as a reason of its own). Rows with a truth and a comment are split into
    ``folds`` seeded folds; each fold is classified by the keyword rules and by a model trained on
    the other folds only: no row is scored by a model that saw it.
    Columns: reason, support, predicted, precision, recall, f1; then ``(macro average)`` and
    ``(accuracy)`` rows. Also sets ``rule_share`` (rows decided by rules) in the frame's name.
    """
    tax = _tax(reasons)
    table, given = _source_tables(source)
    labels = labels if labels is not None else given
    aliases = tax.aliases()
    if labels is not None:
        lk = {
            (r["account_id"], r["date"]): r["reason"]
            for r in labels.select(["account_id", "date", "reason"]).to_pylist()
        }
        truth = [
            lk.get((a, d)) for a, d in zip(table["account_id"].to_pylist(), table["date"].to_pylist(), strict=True)
        ]
    else:
        # the picklist as the truth: a value the taxonomy does not know is a reason of its own
        truth = [
            None if not normalise(p) else aliases.get(normalise(p), unmapped_code(p))
            for p in table["primary_reason"].to_pylist()
        ]
        truth = [t if t != UNKNOWN else None for t in truth]
    comments = [_clean(c) for c in table["comment"].to_pylist()]
    rows = np.array([i for i in range(table.num_rows) if truth[i] and comments[i]], np.int64)
    if len(rows) < max(folds, 2) * 2:
        raise ConfigError(
            f"only {len(rows)} churn reasons have both a known reason and a comment: too few to measure accuracy",
            hint="load more churn_reasons, or pass labels=",
        )
    sub = table.take(pa.array(rows))
    sub_truth = [truth[i] for i in rows]
    fold = np.random.default_rng(seed).permutation(len(rows)) % folds
    pred: list[str] = [UNKNOWN] * len(rows)
    decided_by: list[str] = ["none"] * len(rows)
    for f in range(folds):
        out = _decide(sub, tax, None, train=fold != f, truth=sub_truth, use_primary=False)
        for i in np.flatnonzero(fold == f):
            pred[i], decided_by[i] = out["reason"][i], out["source"][i]
    seen = {str(t) for t in sub_truth} | set(pred)
    classes = [c for c in tax.codes if c in seen] + sorted(seen - set(tax.codes))
    result = pa.Table.from_pylist(_scores([str(t) for t in sub_truth], pred, classes))
    rule_share = float(np.mean([s == "rule" for s in decided_by]))
    frame = Frame(f"reason_accuracy ({folds}-fold, {len(rows)} comments, {rule_share:.0%} by rules)", result)
    return frame
