"""The small text model behind churn-reason classification: TF-IDF + logistic regression.

An estimator in the scikit-learn style (options in ``__init__``, ``fit`` returns ``self``, learned
attributes end in ``_``). scikit-learn is imported inside ``fit``, so importing revbook stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["ReasonModel"]


def _one_thread() -> Any:
    """BLAS on one thread: the problem is tiny, and threads fight on a busy machine (10x slower)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


class ReasonModel:
    """Classify short free-text comments into reason codes.

    Features are word uni- and bi-grams plus character 3-5-grams inside words (so "expensve" and
    "exepnsive" still look like "expensive"); the classifier is a multinomial logistic regression.
    ``explain`` names the words that pushed each prediction (word features only: readable).
    """

    def __init__(
        self,
        *,
        C: float = 8.0,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (3, 5),
        min_df: int = 1,
        max_iter: int = 2000,
        class_weight: str | None = "balanced",
    ) -> None:
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_iter = max_iter
        self.class_weight = class_weight

    def __repr__(self) -> str:
        return f"ReasonModel(C={self.C}, word_ngrams={self.word_ngrams}, char_ngrams={self.char_ngrams})"

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        words = self.words_.transform(texts)
        if self.chars_ is None:
            return words
        return sparse.hstack([words, self.chars_.transform(texts)]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> ReasonModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = [t or "" for t in texts]
        if len(texts) != len(labels):
            raise ConfigError("texts and labels must have the same length", value=(len(texts), len(labels)))
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ConfigError(
                "the reason model needs comments of at least two reasons to learn from",
                hint="record primary_reason on more rows, or correct a few with correct_reason()",
            )
        self.words_ = TfidfVectorizer(ngram_range=self.word_ngrams, min_df=self.min_df, sublinear_tf=True)
        self.words_.fit(texts)
        self.chars_ = None
        if self.char_ngrams is not None:
            self.chars_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=self.char_ngrams, min_df=self.min_df, sublinear_tf=True
            )
            self.chars_.fit(texts)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=self.class_weight)
        with _one_thread():
            self.model_.fit(self._features(texts), list(labels))
        self.classes_ = np.asarray(self.model_.classes_)
        self.n_word_features_ = len(self.words_.vocabulary_)
        self.vocabulary_ = np.asarray(self.words_.get_feature_names_out())
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        with _one_thread():
            return np.asarray(self.model_.predict_proba(self._features([t or "" for t in texts])))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(axis=1)])

    def explain(self, texts: Sequence[str], predicted: Sequence[str], *, k: int = 3) -> list[list[str]]:
        """For each text, up to ``k`` words (or bigrams) that pushed it most towards ``predicted``."""
        x = self.words_.transform([t or "" for t in texts]).tocsr()
        coef = self.model_.coef_[:, : self.n_word_features_]
        index = {c: i for i, c in enumerate(self.classes_)}
        out: list[list[str]] = []
        for row, label in zip(range(x.shape[0]), predicted, strict=True):
            lo, hi = x.indptr[row], x.indptr[row + 1]
            cols, vals = x.indices[lo:hi], x.data[lo:hi]
            ci = index[label] if coef.shape[0] > 1 else 0
            sign = 1.0 if coef.shape[0] > 1 or label == self.classes_[1] else -1.0
            contrib = sign * coef[ci, cols] * vals
            order = np.argsort(-contrib)[:k]
            out.append([str(self.vocabulary_[cols[j]]) for j in order if contrib[j] > 0])
        return out
