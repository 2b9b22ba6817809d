"""A phone video marked as filmed sideways decodes upright, and the same, with PyAV and with OpenCV (the
GPU machine has no PyAV): a training set built on either machine holds the same frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mast_bench.data.video as video_module
from mast_bench.data.video import VideoFileClips, decode_video

from .videos import SIZE, rotate_mp4, write_video

FRAMES = 6


def _frame(t: int) -> np.ndarray:
    """An asymmetric ramp (every turn looks different) that brightens with ``t``."""
    y, x = np.mgrid[: SIZE[0], : SIZE[1]]
    return np.stack([x * 4, y * 5, np.full_like(x, 30 * t)], axis=-1).clip(0, 255).astype(np.uint8)


@pytest.fixture
def upright(tmp_path: Path) -> list[np.ndarray]:
    return list(decode_video(write_video(tmp_path / "upright.mp4", FRAMES, _frame)))


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_rotated_video_decodes_upright_with_either_decoder(degrees, upright, tmp_path, monkeypatch):
    path = rotate_mp4(write_video(tmp_path / "phone.mp4", FRAMES, _frame), degrees)
    turned = [np.rot90(frame, -degrees // 90) for frame in upright]  # clockwise, as the matrix says
    with_pyav = list(decode_video(path))
    with_frames_by_index = VideoFileClips([path]).read_frames(0, [4, 1])
    monkeypatch.setattr(video_module, "av", None)
    with_opencv = list(decode_video(path))
    assert len(with_pyav) == len(with_opencv) == FRAMES
    for t in range(FRAMES):
        assert with_pyav[t].shape == with_opencv[t].shape == turned[t].shape
        assert np.abs(with_pyav[t].astype(int) - with_opencv[t]).mean() < 1
        assert np.abs(with_pyav[t].astype(int) - turned[t]).mean() < 1
    np.testing.assert_array_equal(with_frames_by_index[0], with_pyav[4])
    np.testing.assert_array_equal(with_frames_by_index[1], with_pyav[1])
