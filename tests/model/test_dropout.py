from __future__ import annotations

import pytest
import torch

from mast_bench.errors import ConfigError
from mast_bench.model.dropout import choose_dropped_channel, drop_channel


def test_lab_never_drops_lightness_and_uses_both_chroma_channels():
    gen = torch.Generator().manual_seed(0)
    picks = [choose_dropped_channel("lab", gen) for _ in range(200)]
    assert set(picks) == {1, 2}
    assert 60 < picks.count(1) < 140


def test_rgb_may_drop_any_channel():
    gen = torch.Generator().manual_seed(0)
    assert {choose_dropped_channel("rgb", gen) for _ in range(100)} == {0, 1, 2}


def test_same_generator_state_same_choice():
    first = [choose_dropped_channel("lab", torch.Generator().manual_seed(7)) for _ in range(3)]
    assert len(set(first)) == 1


def test_drop_channel_zeroes_and_rescales_every_frame_out_of_place():
    frames = [torch.full((2, 3, 2, 2), 2.0), torch.arange(24.0).view(2, 3, 2, 2)]
    originals = [f.clone() for f in frames]
    dropped = drop_channel(frames, 2)
    for before, after, original in zip(frames, dropped, originals, strict=True):
        assert torch.equal(before, original)  # inputs untouched
        assert torch.equal(after[:, 2], torch.zeros_like(after[:, 2]))
        assert torch.equal(after[:, :2], original[:, :2] * 1.5)


def test_unknown_colour_space():
    with pytest.raises(ConfigError, match="hsv"):
        choose_dropped_channel("hsv")
