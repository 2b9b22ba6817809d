"""Uncertainty of a benchmark number: bootstrap intervals over objects and paired tests.

DAVIS J&F is a mean over objects, so the object is the unit of resampling.
Two variants run on the same objects are compared object by object (paired by
(sequence, object)): the paired test removes the between-object spread that
dwarfs most ablation effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedComparison:
    n_pairs: int
    mean_difference: float
    low: float
    high: float
    wilcoxon_statistic: float
    wilcoxon_p: float


def bootstrap_means(
    values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Means of ``resamples`` resamples (with replacement) of ``values``; one draw of shape (resamples, n)."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, values.size, size=(resamples, values.size))
    return values[index].mean(axis=1)


def bootstrap_ci(
    values: np.ndarray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Interval:
    """Percentile bootstrap interval of the mean; NaN interval for an empty sample."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    means = bootstrap_means(values, resamples, seed)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(values.mean()), float(low), float(high), int(values.size))


def block_bootstrap_ci(
    series: list[np.ndarray],
    block: int = 10,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Interval:
    """Interval of the mean of per-frame values whose neighbours are alike (a tracker's score at
    frame t is close to its score at t+1): each series (one object's frames, in order) is cut into
    blocks of ``block`` frames and whole blocks are resampled, so the interval is not narrowed by
    counting near-copies as independent draws."""
    blocks = [s[i : i + block] for s in series for i in range(0, len(s), block)]
    blocks = [b[~np.isnan(b)] for b in blocks]
    blocks = [b for b in blocks if b.size]
    if not blocks:
        return Interval(math.nan, math.nan, math.nan, 0)
    sums = np.array([b.sum() for b in blocks])
    sizes = np.array([b.size for b in blocks])
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(blocks), size=(resamples, len(blocks)))
    means = sums[index].sum(axis=1) / sizes[index].sum(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(sums.sum() / sizes.sum()), float(low), float(high), int(sizes.sum()))


def wilcoxon_signed_rank(differences: np.ndarray) -> tuple[float, float]:
    """scipy's two-sided Wilcoxon signed-rank test; (nan, nan) when undefined (no non-zero difference)."""
    differences = np.asarray(differences, dtype=np.float64)
    if differences.size == 0 or not np.any(differences != 0):
        return math.nan, math.nan
    result = _scipy_stats.wilcoxon(differences)
    return float(result.statistic), float(result.pvalue)


def paired_comparison(
    variant: np.ndarray,
    reference: np.ndarray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> PairedComparison:
    """Variant minus reference over aligned pairs: bootstrap CI of the mean difference and Wilcoxon p."""
    variant = np.asarray(variant, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if variant.shape != reference.shape:
        raise ValueError(f"paired samples differ in shape: {variant.shape} vs {reference.shape}")
    differences = variant - reference
    differences = differences[~np.isnan(differences)]
    interval = bootstrap_ci(differences, resamples, seed, level)
    statistic, p = wilcoxon_signed_rank(differences)
    return PairedComparison(interval.n, interval.estimate, interval.low, interval.high, statistic, p)


def interval_verdict(low: float, high: float) -> str:
    """What an interval of a difference says: above 0, below 0, not clear of it, or exactly 0."""
    if low == high == 0:
        return "identical (every object-frame equal)"
    if low > 0:
        return "better (interval above 0)"
    if high < 0:
        return "worse (interval below 0)"
    return "not clear of 0"
