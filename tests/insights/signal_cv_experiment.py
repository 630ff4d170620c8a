"""The experiment of docs/churn-reasons.md "Making the rules generalise": a TF-IDF classifier per
family (word 1-2-grams and character 3-5-grams, logistic regression, balanced classes) scored by
grouped 5-fold cross-validation by account INSIDE the cs-notes development part, alone and
combined with the rules (the classifier as a veto on the rules' hits, or adding hits of its own).

``python tests/insights/signal_cv_experiment.py`` prints the development-part figures (about 4
minutes on one core); ``--held-out`` then scores the candidates, trained on the whole development
part, on the held-out part once (nothing is chosen by that run: nothing beat the rules and none
was shipped).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pyarrow as pa
from signal_corpus import parts

from revbook.insights.signals.corpus import _fired
from revbook.insights.signals.rules import signal_rules

RULES = signal_rules()
FAMILIES = [r.name for r in RULES]


def _arrays(t: pa.Table) -> tuple[list[str], list[set[str]], list[bool], list[str]]:
    return (
        t.column("text").to_pylist(),
        [set(x) for x in t.column("labels").to_pylist()],
        t.column("hard_negative").to_pylist(),
        t.column("account_id").to_pylist(),
    )


def score(pred: list[set[str]], truth: list[set[str]], hard: list[bool]) -> dict[str, Any]:
    """Micro F1, precision, recall, the share of hard negatives firing a family they do not carry,
    and F1 per family (note level, as corpus.note_accuracy counts them)."""
    tp = fire = pos = 0
    per = {}
    for f in FAMILIES:
        p = np.array([f in x for x in pred])
        t = np.array([f in x for x in truth])
        per[f] = 2 * (p & t).sum() / (p.sum() + t.sum()) if p.sum() + t.sum() else float("nan")
        tp, fire, pos = tp + (p & t).sum(), fire + p.sum(), pos + t.sum()
    hnf = sum(h and bool(p - t) for h, p, t in zip(hard, pred, truth, strict=True))
    return {"f1": 2 * tp / (fire + pos), "precision": tp / fire, "recall": tp / pos,
            "hard_fire_rate": hnf / sum(hard), "per_family": per}  # fmt: skip


def fit_predict(train: list[str], labels: list[set[str]], test: list[str], c: float) -> dict[str, np.ndarray]:
    """Each family's probability on ``test`` from a classifier trained on ``train``."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)
    x_train = hstack([words.fit_transform(train), chars.fit_transform(train)]).tocsr()
    x_test = hstack([words.transform(test), chars.transform(test)]).tocsr()
    out = {}
    for f in FAMILIES:
        y = np.array([f in t for t in labels])
        if y.sum() < 2:
            out[f] = np.zeros(len(test))
            continue
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x_train, y)
        out[f] = model.predict_proba(x_test)[:, 1]
    return out


def _line(name: str, s: dict[str, Any]) -> str:
    return (f"{name:32s} F1={s['f1']:.3f} P={s['precision']:.3f} R={s['recall']:.3f} "
            f"hard negatives firing={s['hard_fire_rate']:.3f}")  # fmt: skip


def main(held_out: bool) -> None:
    from sklearn.model_selection import GroupKFold

    dev, held = parts()
    text, truth, hard, groups = _arrays(dev)
    rules = _fired(dev, RULES, None)
    print(_line("rules (written on this part)", score(rules, truth, hard)))
    for c in (1.0, 4.0, 16.0):
        probs = {f: np.zeros(len(text)) for f in FAMILIES}
        for tr, te in GroupKFold(n_splits=5).split(text, groups=groups):
            p = fit_predict([text[i] for i in tr], [truth[i] for i in tr], [text[i] for i in te], c)
            for f in FAMILIES:
                probs[f][te] = p[f]
        for thr in (0.3, 0.5):
            clf = [{f for f in FAMILIES if probs[f][i] >= thr} for i in range(len(text))]
            veto = [{f for f in rules[i] if probs[f][i] >= thr / 2} for i in range(len(text))]
            union = [rules[i] | clf[i] for i in range(len(text))]
            for name, pred in (("classifier", clf), ("rules, classifier veto", veto), ("rules or classifier", union)):
                print(_line(f"C={c:g} thr={thr:g} {name}", score(pred, truth, hard)))
    if not held_out:
        return
    htext, htruth, hhard, _ = _arrays(held)
    hrules = _fired(held, RULES, None)
    print(_line("HELD-OUT rules (as shipped)", score(hrules, htruth, hhard)))
    p1 = fit_predict(text, truth, htext, 1.0)
    p16 = fit_predict(text, truth, htext, 16.0)
    n = len(htext)
    candidates = {
        "HELD-OUT classifier C=1 thr=0.3": [{f for f in FAMILIES if p1[f][i] >= 0.3} for i in range(n)],
        "HELD-OUT rules, veto C=1 <0.15": [{f for f in hrules[i] if p1[f][i] >= 0.15} for i in range(n)],
        "HELD-OUT rules or C=16 thr=0.5": [hrules[i] | {f for f in FAMILIES if p16[f][i] >= 0.5} for i in range(n)],
    }
    for name, pred in candidates.items():
        s = score(pred, htruth, hhard)
        print(_line(name, s), " ".join(f"{k}={v:.2f}" for k, v in s["per_family"].items()))


if __name__ == "__main__":
    main("--held-out" in sys.argv)
