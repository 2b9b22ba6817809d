"""Frame colour conversion: Lab as OpenCV computes it (the official loader), RGB, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mast_bench.errors import DataError
from mast_bench.model.colour import prepare_frame

# sRGB (D65) -> XYZ, the matrix and white point OpenCV documents for COLOR_BGR2Lab
SRGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
WHITE = np.array([0.950456, 1.0, 1.088754])

# OpenCV >= 4 evaluates float sRGB -> Lab through a trilinear lookup table, which stays below the
# closed formula where the cube root bends (e.g. grey 200: L 80.505 vs 80.604). Measured over all
# 16.7M 8-bit colours: max |difference| 3.79e-3 (L), 3.68e-3 (a), 2.63e-3 (b) after normalisation.
LUT_TOLERANCE = 4e-3


def lab_formula(rgb_uint8: np.ndarray) -> np.ndarray:
    """Normalised Lab from the CIE formula in float64 (the independent reference)."""
    x = rgb_uint8.astype(np.float64) / 255
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    xyz = linear @ SRGB_TO_XYZ.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lightness = np.where(xyz[..., 1] > 0.008856, 116 * f[..., 1] - 16, 903.3 * xyz[..., 1])
    lab = np.stack([lightness, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return (lab - [50, 0, 0]) / [50, 127, 127]


def _colour_grid(step: int) -> np.ndarray:
    levels = np.unique(np.r_[np.arange(0, 256, step), 255])
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(len(levels), -1, 3).astype(np.uint8)


def _check_against_formula(image: np.ndarray) -> None:
    ours = prepare_frame(image, "lab").numpy().transpose(1, 2, 0)
    error = np.abs(ours - lab_formula(image))
    assert error.max() < LUT_TOLERANCE, error.reshape(-1, 3).max(0)
    assert error.mean() < 1.5e-3


def test_lab_close_to_formula_on_a_colour_grid():
    _check_against_formula(_colour_grid(step=5))


@pytest.mark.slow
def test_lab_close_to_formula_on_all_8bit_colours():
    _check_against_formula(_colour_grid(step=1))


def test_lab_anchor_values():
    image = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], dtype=np.uint8)
    lab = prepare_frame(image, "lab").numpy()[:, 0]
    np.testing.assert_allclose(lab[:, 0], [-1, 0, 0], atol=1e-6)  # black: L=0
    np.testing.assert_allclose(lab[:, 1], [1, 0, 0], atol=1e-4)  # white: L=100, a=b=0
    # pure red: L 53.24, a 80.09, b 67.20 (textbook values), within the LUT tolerance
    np.testing.assert_allclose(lab[:, 2], [(53.24 - 50) / 50, 80.09 / 127, 67.20 / 127], atol=LUT_TOLERANCE)


def test_rgb_mode_maps_to_minus_one_one():
    gen = np.random.default_rng(0)
    image = gen.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    out = prepare_frame(image, "rgb")
    assert out.shape == (3, 5, 7) and out.dtype == torch.float32
    expected = (image.astype(np.float32) / 255 - 0.5) / 0.5
    np.testing.assert_allclose(out.numpy().transpose(1, 2, 0), expected, rtol=0, atol=1e-7)


def test_float_input_equals_uint8_input():
    image = np.random.default_rng(1).integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    as_float = image.astype(np.float32) / np.float32(255)
    for space in ("lab", "rgb"):
        assert torch.equal(prepare_frame(image, space), prepare_frame(as_float, space))


def test_bad_frames_are_user_errors():
    with pytest.raises(DataError, match=r"shape \(4, 6\)"):
        prepare_frame(np.zeros((4, 6), np.uint8), "lab")
    with pytest.raises(DataError, match="dtype"):
        prepare_frame(np.zeros((4, 6, 3), np.int32), "lab")
    with pytest.raises(DataError, match="colour space"):
        prepare_frame(np.zeros((4, 6, 3), np.uint8), "hsv")
