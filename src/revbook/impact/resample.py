"""The bootstrap over accounts, in one place: risk-adjusted CSM impact (:mod:`.csm_model`) and the
verified impact statements (:mod:`.statements`) both resample a book's accounts with replacement and
recompute a ratio of sums over each draw.

- :func:`generator`: the seeded generator of one book (the same draws whichever other books are
  computed, so a CSM's interval does not move when another CSM's data changes);
- :func:`picks`: ``draws`` resamples of ``n`` accounts (indices);
- :func:`ratio_draws`: 100 x sum(num) / sum(den) over each resample (NaN where the sum of ``den`` is 0);
- :func:`interval`: the central ``confidence`` interval of the finite draws (NaN, NaN when none).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["generator", "interval", "picks", "ratio_draws"]


def generator(seed: int, *keys: str) -> np.random.Generator:
    """The generator of the book named by ``keys`` (an owner id, a metric): seeded by ``seed`` and a
    CRC-32 of each key."""
    return np.random.default_rng([seed, *(zlib.crc32(k.encode("utf-8")) for k in keys)])


def picks(rng: np.random.Generator, n: int, draws: int) -> np.ndarray:
    """``draws`` x ``n`` account indices drawn with replacement."""
    return rng.integers(0, n, size=(draws, n))


def ratio_draws(num: np.ndarray, den: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """100 x sum(num) / sum(den) over each row of ``pick``; NaN where the draw's ``den`` sums to 0."""
    total = den[pick].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = 100 * num[pick].sum(axis=1) / total
    return np.where(np.isfinite(values), values, np.nan)


def interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval (percentiles) of the finite ``values``."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    lo, hi = (1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100
    return float(np.percentile(finite, lo)), float(np.percentile(finite, hi))
