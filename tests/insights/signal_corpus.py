"""The cs-notes corpus as the signal tests use it: its development and held-out parts, the shipped
model rebuilt from the development part, and the held-out figures docs/churn-reasons.md keeps.

Run as a script to rewrite the shipped model and print the held-out table:
``python tests/insights/signal_corpus.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa

from revbook.insights.signals import corpus
from revbook.insights.signals.model import DEFAULT_MODEL_FILE, SignalModel

HERE = Path(__file__).resolve().parent
#: the labelled corpus beside this repository (its README: ../shared/datasets/cs-notes/README.md)
CORPUS = HERE.parents[2] / "shared" / "datasets" / "cs-notes" / "notes.csv"
SHIPPED = Path(corpus.__file__).resolve().parent / DEFAULT_MODEL_FILE
DOC = HERE.parents[1] / "docs" / "churn-reasons.md"
#: the markers around the held-out table in docs/churn-reasons.md
BEGIN, END = "<!-- held-out table: begin -->", "<!-- held-out table: end -->"


def parts() -> tuple[pa.Table, pa.Table]:
    """(development, held-out) notes of the corpus."""
    return corpus.split_notes(corpus.read_labelled_notes(CORPUS))


def build_model() -> SignalModel:
    """The shipped model: trained on the development part only, with the default options."""
    dev, _ = parts()
    return corpus.train_signal_model(dev)


def held_out_table(model: SignalModel | bool | None = None) -> str:
    """The held-out figures (the shipped model unless ``model``) as the docs' Markdown table."""
    _, held = parts()
    return corpus.accuracy_table(corpus.note_accuracy(held, model=model))


def documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


if __name__ == "__main__":
    build_model().save(SHIPPED)
    print(f"wrote {SHIPPED.name}", file=sys.stderr)
    if "--held-out" in sys.argv:
        print(held_out_table())
