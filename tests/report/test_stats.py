"""Bootstrap intervals and paired tests against naive re-computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from mast_bench.report.stats import bootstrap_ci, paired_comparison, wilcoxon_signed_rank


def naive_bootstrap(values, resamples, seed, level=0.95):
    """One resample at a time, with the percentile method spelled out."""
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(resamples):
        picks = [values[int(i)] for i in rng.integers(0, len(values), size=len(values))]
        means.append(sum(picks) / len(picks))
    tail = (1 - level) / 2
    return np.quantile(np.array(means), tail), np.quantile(np.array(means), 1 - tail)


def test_bootstrap_ci_matches_a_naive_bootstrap_with_the_same_seed():
    values = [0.61, 0.72, 0.55, 0.80, 0.67, 0.49, 0.90, 0.73]
    interval = bootstrap_ci(np.array(values), resamples=500, seed=7)
    low, high = naive_bootstrap(values, 500, 7)
    assert interval.estimate == pytest.approx(sum(values) / len(values), abs=1e-15)
    assert interval.low == pytest.approx(low, abs=1e-12)
    assert interval.high == pytest.approx(high, abs=1e-12)
    assert interval.low < interval.estimate < interval.high
    assert interval.n == 8


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap_roughly():
    values = np.random.default_rng(3).normal(0.6, 0.1, 40)
    interval = bootstrap_ci(values, resamples=4000, seed=0)
    ref = scipy_stats.bootstrap((values,), np.mean, n_resamples=4000, method="percentile", random_state=1)
    assert interval.low == pytest.approx(ref.confidence_interval.low, abs=0.01)
    assert interval.high == pytest.approx(ref.confidence_interval.high, abs=0.01)


def test_bootstrap_of_a_constant_sample_is_a_point_and_empty_is_nan():
    interval = bootstrap_ci(np.full(5, 0.25))
    assert (interval.estimate, interval.low, interval.high) == (0.25, 0.25, 0.25)
    empty = bootstrap_ci(np.array([np.nan]))
    assert empty.n == 0 and math.isnan(empty.estimate)


def test_paired_comparison_uses_scipy_wilcoxon_and_a_paired_bootstrap():
    rng = np.random.default_rng(11)
    reference = rng.uniform(0.4, 0.9, 15)
    variant = reference + rng.normal(0.03, 0.02, 15)
    result = paired_comparison(variant, reference, resamples=800, seed=5)
    expected = scipy_stats.wilcoxon(variant, reference)
    assert result.wilcoxon_p == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.wilcoxon_statistic == pytest.approx(expected.statistic)
    low, high = naive_bootstrap(list(variant - reference), 800, 5)
    assert (result.low, result.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert result.mean_difference == pytest.approx(np.mean(variant - reference))
    assert result.n_pairs == 15


def test_wilcoxon_is_undefined_without_any_difference():
    assert all(math.isnan(v) for v in wilcoxon_signed_rank(np.zeros(6)))
    with pytest.raises(ValueError, match="shape"):
        paired_comparison(np.zeros(3), np.zeros(4))
