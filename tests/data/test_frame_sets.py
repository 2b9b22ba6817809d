"""Frame sets of the memory stages: references at the right distances, shared by a batch, pure in
(seed, iteration), weighted by clip, and the test-time schedule."""

from __future__ import annotations

import numpy as np
import pytest

from mast_bench.data.frame_sets import FrameSetLayout, FrameSetSampler
from mast_bench.errors import DataError


class Lengths:
    """A clip source that only knows its clips' lengths."""

    def __init__(self, *lengths: int) -> None:
        self.lengths = lengths

    @property
    def clip_names(self) -> tuple[str, ...]:
        return tuple(f"c{i}" for i in range(len(self.lengths)))

    def num_frames(self, clip: int) -> int:
        return self.lengths[clip]


def test_free_layout_short_and_long_term_distances_shared_by_the_batch():
    layout = FrameSetLayout(short_term=(1, 3, 5), long_term=2, long_term_range=(16, 45))
    sampler = FrameSetSampler(Lengths(100, 60, 30), layout, batch_size=8, seed=4)
    for iteration in range(20):
        distances, chosen = sampler.plan(iteration)
        longs = [d for d in distances if d > 5]
        assert distances[-3:] == (5, 3, 1) and len(longs) == 2 and all(16 <= d <= 45 for d in longs)
        assert list(distances) == sorted(distances, reverse=True)
        for clip, target in chosen:
            assert distances[0] <= target < sampler.lengths[clip]  # every reference inside the clip
    assert sampler.plan(7) == FrameSetSampler(Lengths(100, 60, 30), layout, 8, seed=4).plan(7)
    assert sampler.plan(7) != sampler.plan(8)


def test_clip_weights_decide_how_often_a_clip_is_drawn():
    layout = FrameSetLayout(short_term=(1, 2))
    never = FrameSetSampler(Lengths(50, 50), layout, batch_size=16, weights=[1.0, 0.0])
    assert {clip for i in range(10) for clip, _ in never.plan(i)[1]} == {0}
    uneven = FrameSetSampler(Lengths(50, 50), layout, batch_size=16, weights=[1.0, 0.25])
    drawn = np.array([clip for i in range(200) for clip, _ in uneven.plan(i)[1]])
    assert 0.15 < drawn.mean() < 0.25  # 0.25 / 1.25 = 0.2


def test_the_schedule_layout_reads_frames_0_and_5_and_the_last_frames():
    layout = FrameSetLayout(short_term=(1, 3, 5), anchors=(0, 5), target_range=(20, 40))
    sampler = FrameSetSampler(Lengths(30, 80), layout, batch_size=4, seed=1)
    for iteration in range(10):
        distances, chosen = sampler.plan(iteration)
        (target,) = {t for _, t in chosen}  # one target frame for the whole batch
        assert 20 <= target <= 40
        assert sorted(target - d for d in distances) == [0, 5, target - 5, target - 3, target - 1]
        assert all(sampler.lengths[c] > target for c, _ in chosen)


def test_clips_too_short_are_named_and_none_long_enough_is_an_error():
    layout = FrameSetLayout(short_term=(1,), long_term=1, long_term_range=(16, 20))
    sampler = FrameSetSampler(Lengths(40, 10, 16), layout, batch_size=2)
    assert sampler.too_short() == ["c1", "c2"]
    with pytest.raises(DataError, match="no clip is long enough .* 16 frames back, the longest clip has 12"):
        FrameSetSampler(Lengths(12, 8), layout, batch_size=2)
