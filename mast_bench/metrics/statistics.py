"""Mean, recall and decay of a per-frame measure, as the davis2017-evaluation toolkit computes them.

The values passed in are the scored frames only (the first and last frames already left out).
Decay compares the first and the last of four overlapping bins whose edges are
``round(linspace(1, n, 5) + 1e-10) - 1`` and whose ends are inclusive.

One deliberate difference: the toolkit stores those edges as uint8. With numpy 2, ``edge + 1`` for the
last edge (255) wraps to 0 once there are 256 scored frames (a 258-frame sequence), which empties the last
bin and makes the decay NaN; from 257 scored frames on the edges themselves wrap modulo 256 and the decay
compares the wrong frames. We keep the edges as int64: the toolkit's number for every sequence short enough
for the toolkit to be right, the intended number for longer ones.
"""

from __future__ import annotations

import warnings

import numpy as np

RECALL_THRESHOLD = 0.5
N_DECAY_BINS = 4


def decay_bin_edges(n_frames: int) -> np.ndarray:
    """The 5 inclusive bin edges (frame indices) the toolkit uses for the decay, without uint8 overflow."""
    edges = np.round(np.linspace(1, n_frames, N_DECAY_BINS + 1) + 1e-10) - 1
    return edges.astype(np.int64)


def db_statistics(per_frame_values: np.ndarray) -> tuple[float, float, float]:
    """(mean, recall, decay) of the scored frames' values; NaN frames are ignored as by ``np.nanmean``."""
    values = np.asarray(per_frame_values, dtype=np.float64)
    edges = decay_bin_edges(len(values))
    bins = [values[edges[i] : edges[i + 1] + 1] for i in range(N_DECAY_BINS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(values)
        recall = np.nanmean(values > RECALL_THRESHOLD)
        decay = np.nanmean(bins[0]) - np.nanmean(bins[-1])
    return float(mean), float(recall), float(decay)
