"""Mean / recall / decay: hand-computed values and the toolkit's binning, minus its uint8 overflow."""

from __future__ import annotations

import numpy as np
import pytest
from support.toolkit_oracle import toolkit_statistics

from mast_bench.metrics import db_statistics, decay_bin_edges


def test_hand_computed_statistics():
    values = np.array([1.0, 0.0, 1.0, 0.5])
    mean, recall, decay = db_statistics(values)
    assert mean == pytest.approx(0.625)
    assert recall == pytest.approx(0.5)  # 0.5 itself is not > 0.5
    # edges round(linspace(1, 4, 5) + 1e-10) - 1 = [0, 1, 2, 2, 3] (2.5 rounds up thanks to the 1e-10)
    np.testing.assert_array_equal(decay_bin_edges(4), [0, 1, 2, 2, 3])
    # first bin frames 0..1 -> 0.5, last bin frames 2..3 -> 0.75
    assert decay == pytest.approx(0.5 - 0.75)


def test_nan_frames_are_ignored_and_single_frame():
    assert db_statistics(np.array([np.nan, 1.0, 0.0]))[0] == pytest.approx(0.5)
    assert db_statistics(np.array([0.7])) == (0.7, 1.0, 0.0)


@pytest.mark.parametrize("n", list(range(1, 40)) + [77, 100, 254, 255])
def test_equals_toolkit_while_it_does_not_overflow(n):
    values = np.random.default_rng(n).random(n)
    assert db_statistics(values) == tuple(float(v) for v in toolkit_statistics(values))


def test_256_scored_frames_toolkit_gives_nan_decay():
    # with numpy 2 the toolkit's uint8 ``edge + 1`` wraps 255 -> 0: its last bin is empty, its decay NaN
    values = np.random.default_rng(0).random(256)
    assert np.isnan(toolkit_statistics(values)[2])
    edges = decay_bin_edges(256)
    assert db_statistics(values)[2] == pytest.approx(
        values[: edges[1] + 1].mean() - values[edges[3] :].mean()
    )


def test_long_sequences_do_not_wrap_around():
    n = 300  # a 302-frame sequence: the toolkit's uint8 edges wrap (299 -> 43)
    values = np.linspace(1.0, 0.0, n)
    edges = decay_bin_edges(n)
    np.testing.assert_array_equal(edges, [0, 75, 150, 224, 299])
    expected = values[0:76].mean() - values[224:300].mean()
    assert db_statistics(values)[2] == pytest.approx(expected)
    toolkit_decay = toolkit_statistics(values)[2]
    assert toolkit_decay != pytest.approx(expected)  # the documented difference
    assert toolkit_statistics(values, edge_dtype=np.int64)[2] == pytest.approx(expected)
