"""The classifier over the rules: it reads each candidate the rules found in scope (a family, the
sentence, the phrase that fired) and gives it a confidence that the note carries that signal. The
rules stay the explanation (which phrase fired, in which sentence); a candidate is a signal only
when its confidence reaches its family's threshold.

One logistic regression serves every family: its terms are the sentence's words and word pairs
(``w:``, ``b:``), the same words tied to the family (``<family>|w:``), the phrase's words
(``<family>|p:``), the family itself (``rule:<family>``) and the scope's verdict (``scope:in`` or the
check it fails), so what marks a look-alike in one
family ("their customers", "in the news", "is over") is learnt from all of them, while each family
keeps its own words. Terms are binary; training (scikit-learn, L1-penalised, liblinear, fixed
``random_state``) keeps few of them, so a fitted model is a small JSON document (terms and weights,
no pickle) and scoring needs no scikit-learn: confidence = 1 / (1 + exp(-(intercept + the weights
of the terms present))).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ...errors import ConfigError

__all__ = ["DEFAULT_MODEL_FILE", "Candidate", "SignalModel", "candidate_terms", "default_model"]

#: the shipped model, rebuilt from the development split of the cs-notes corpus (see docs/churn-reasons.md)
DEFAULT_MODEL_FILE = "model.json"
FORMAT = "revbook-signal-model/2"

#: the F1 a threshold must add over the rules alone (out of fold) before the model may block a hit
MARGIN = 0.02
_WORD = re.compile(r"[a-z0-9][a-z0-9'&]*")
#: a candidate: (rule, sentence, phrase, the scope check it fails or None)
Candidate = tuple[str, str, str, str | None]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def candidate_terms(rule: str, sentence: str, phrase: str, out_of_scope: str | None = None) -> set[str]:
    """The binary terms of a candidate (see the module's docstring)."""
    words = _words(sentence)
    terms = {"rule:" + rule, "scope:" + (out_of_scope or "in")}
    terms.update("w:" + w for w in words)
    terms.update(f"{rule}|w:{w}" for w in words)
    terms.update("b:" + a + " " + b for a, b in itertools.pairwise(words))
    terms.update(f"{rule}|p:{w}" for w in _words(phrase))
    return terms


@dataclass
class SignalModel:
    """The candidate classifier (scikit-learn style: options in ``__init__``, :meth:`fit` returns
    self, learned values end in ``_``).

    ``C``: inverse regularisation strength; ``min_count``: a term must be in at least that many
    training candidates; ``folds``: cross-validation folds (by group, e.g. account) that choose each
    family's threshold: the one maximising that family's F1 at the note level, and 0 (the model
    scores but never blocks) unless blocking beats the rules alone by ``MARGIN`` (0.02) in F1
    out of fold (0.5 for every family when ``folds`` < 2 or no groups are given).
    """

    C: float = 1.0
    min_count: int = 2
    folds: int = 5
    intercept_: float = 0.0
    weights_: dict[str, float] = field(default_factory=dict)
    threshold_: dict[str, float] = field(default_factory=dict)
    trained_on_: int = 0

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted(self.threshold_))

    def confidence(self, rule: str, sentence: str, phrase: str, out_of_scope: str | None = None) -> float | None:
        """P(the candidate is a signal), or None for a family the model was not trained on."""
        if rule not in self.threshold_:
            return None
        w = self.weights_
        # in sorted order: a sum over a set follows string hashing, which changes per process, and
        # the confidence would differ in its last digit between runs
        terms = sorted(candidate_terms(rule, sentence, phrase, out_of_scope))
        z = self.intercept_ + sum(w[t] for t in terms if t in w)
        return 1.0 / (1.0 + math.exp(-max(min(z, 700.0), -700.0)))

    def fit(
        self,
        candidates: Sequence[Candidate],
        y: Sequence[bool],
        *,
        notes: Sequence[Any] | None = None,
        groups: Sequence[Any] | None = None,
        truth: Mapping[Any, set[str]] | None = None,
    ) -> SignalModel:
        """Learn from candidates and whether each is a signal (its note carries its family).

        ``notes`` (each candidate's note key), ``groups`` (each candidate's group, e.g. account)
        and ``truth`` (note key -> its families, every labelled note) let the thresholds be chosen
        by grouped cross-validation at the note level; without them each threshold is 0.5.
        """
        import numpy as np

        if len(candidates) != len(y):
            raise ConfigError("candidates and labels differ in length", value=(len(candidates), len(y)))
        if len(candidates) < 10 or len(set(y)) < 2:
            raise ConfigError(
                "too few labelled candidates to train the signal model",
                value=len(candidates),
                hint="label more notes: the model needs at least 10 rule hits, some true and some not",
            )
        terms = [candidate_terms(*c) for c in candidates]
        X, vocab = _matrix(terms, self.min_count)
        yy = np.array(y, dtype=int)
        self.intercept_, self.weights_ = _fit_one(X, yy, vocab, self.C)
        families = sorted({c[0] for c in candidates})
        self.threshold_ = {f: 0.5 for f in families}
        if notes is not None and groups is not None and truth is not None and self.folds > 1:
            oof = _out_of_fold(X, yy, vocab, self.C, list(groups), self.folds)
            for f in families:
                self.threshold_[f] = _best_threshold(f, candidates, oof, list(notes), truth)
        self.trained_on_ = len(candidates)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "options": {"C": self.C, "min_count": self.min_count, "folds": self.folds},
            "trained_on": self.trained_on_,
            "intercept": round(self.intercept_, 6),
            "thresholds": {f: round(t, 4) for f, t in sorted(self.threshold_.items())},
            "weights": {t: round(v, 6) for t, v in sorted(self.weights_.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "signal model") -> SignalModel:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise ConfigError(f"{source} is not a revbook signal model", value=got, hint=f"expected format {FORMAT}")
        opts = data.get("options", {})
        model = cls(
            C=float(opts.get("C", 1.0)), min_count=int(opts.get("min_count", 2)), folds=int(opts.get("folds", 5))
        )
        model.intercept_ = float(data["intercept"])
        model.threshold_ = {str(f): float(t) for f, t in data["thresholds"].items()}
        model.weights_ = {str(t): float(v) for t, v in data["weights"].items()}
        model.trained_on_ = int(data.get("trained_on", 0))
        return model

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> SignalModel:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read the signal model {p} ({exc})", hint="write one with SignalModel.save"
            ) from None
        return cls.from_dict(data, source=str(p))


def default_model() -> SignalModel:
    """The shipped model (``model.json`` beside this module)."""
    text = resources.files(__package__).joinpath(DEFAULT_MODEL_FILE).read_text(encoding="utf-8")
    return SignalModel.from_dict(json.loads(text), source=DEFAULT_MODEL_FILE)


def _matrix(terms: list[set[str]], min_count: int) -> tuple[Any, list[str]]:
    import numpy as np
    from scipy.sparse import csr_matrix

    counts: dict[str, int] = {}
    for ts in terms:
        for t in ts:
            counts[t] = counts.get(t, 0) + 1
    vocab = sorted(t for t, c in counts.items() if c >= min_count)
    index = {t: i for i, t in enumerate(vocab)}
    rows, cols = [], []
    for r, ts in enumerate(terms):
        for c in sorted(index[t] for t in ts if t in index):
            rows.append(r)
            cols.append(c)
    data = np.ones(len(rows), dtype=float)
    return csr_matrix((data, (rows, cols)), shape=(len(terms), len(vocab))), vocab


def _fit_one(X: Any, y: Any, vocab: list[str], C: float) -> tuple[float, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(
        l1_ratio=1.0, C=C, solver="liblinear", class_weight="balanced", random_state=0, max_iter=1000, tol=1e-6
    )
    lr.fit(X, y)
    coef = lr.coef_[0]
    weights = {vocab[i]: float(coef[i]) for i in coef.nonzero()[0] if abs(coef[i]) >= 1e-6}
    return float(lr.intercept_[0]), weights


def _out_of_fold(X: Any, y: Any, vocab: list[str], C: float, groups: list[Any], folds: int) -> Any:
    import hashlib

    import numpy as np

    fold = np.array([int(hashlib.sha256(str(g).encode()).hexdigest()[:8], 16) % folds for g in groups])
    oof = np.full(len(y), 0.5)
    for k in range(folds):
        train, test = fold != k, fold == k
        if not test.any() or len(set(y[train].tolist())) < 2:
            continue
        b, w = _fit_one(X[train], y[train], vocab, C)
        coef = np.array([w.get(t, 0.0) for t in vocab])
        z = X[test] @ coef + b
        oof[test] = 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
    return oof


def _best_threshold(
    family: str, candidates: Sequence[Candidate], oof: Any, notes: list[Any], truth: Mapping[Any, set[str]]
) -> float:
    """The threshold maximising the family's note-level F1 over out-of-fold confidences; 0 (the
    model never blocks) unless a threshold beats the rules alone by :data:`MARGIN` in F1."""
    best_conf: dict[Any, float] = {}
    for c, conf, note in zip(candidates, oof, notes, strict=True):
        if c[0] == family and c[3] is None:  # only candidates in scope can fire
            best_conf[note] = max(best_conf.get(note, 0.0), float(conf))
    positives = sum(family in t for t in truth.values())
    best, best_f1 = 0.0, -1.0
    for t in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        fired = [n for n, c in best_conf.items() if c >= t]
        tp = sum(family in truth.get(n, set()) for n in fired)
        f1 = 2 * tp / max(len(fired) + positives, 1)
        if f1 > best_f1 + (MARGIN if t > 0 else 0.0) + 1e-9:
            best, best_f1 = t, f1
    return best
