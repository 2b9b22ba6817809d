"""bilinear_window_gather equals the official deform_im2col and the textbook bilinear formula."""

from __future__ import annotations

import pytest
import torch
from support.ops_reference import loop_bilinear, official_deform_im2col

from mast_bench.ops import bilinear_window_gather, window_gather

F64 = torch.float64


def _image_and_offset(b, c, h, w, spread, seed=0):
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(b, c, h, w, generator=gen, dtype=F64)
    offset = torch.randn(b, h, w, 2, generator=gen, dtype=F64) * spread
    return image, offset


@pytest.mark.parametrize("radius", [0, 1, 2, 3])
@pytest.mark.parametrize("spread", [0.7, 4.0])
def test_equals_official_deform_im2col(radius, spread):
    # Large offsets push many windows partly or wholly outside the image (zero padding).
    image, offset = _image_and_offset(2, 3, 7, 10, spread, seed=radius)
    expected = official_deform_im2col(image, offset, 2 * radius + 1)
    torch.testing.assert_close(bilinear_window_gather(image, offset, radius), expected, rtol=0, atol=1e-12)


def test_equals_textbook_bilinear_at_every_candidate():
    image, offset = _image_and_offset(1, 2, 5, 6, 2.0, seed=7)
    radius, size = 1, 3
    out = bilinear_window_gather(image, offset, radius)
    for y in range(5):
        for x in range(6):
            for i in range(size):
                for j in range(size):
                    px = x + float(offset[0, y, x, 0]) + j - radius
                    py = y + float(offset[0, y, x, 1]) + i - radius
                    expected = loop_bilinear(image[0], px, py)
                    torch.testing.assert_close(out[0, :, i * size + j, y, x], expected, rtol=0, atol=1e-12)


def test_integer_offsets_are_plain_shifted_windows():
    # offset (+1, -2) everywhere: candidate (i, j) of (X, Y) is pixel (X + 1 + j - R, Y - 2 + i - R).
    image, _ = _image_and_offset(2, 2, 6, 7, 1.0, seed=8)
    offset = torch.zeros(2, 6, 7, 2, dtype=F64)
    offset[..., 0], offset[..., 1] = 1.0, -2.0
    # Zero-pad by 3: padded[Y+3, X+3] = image[Y, X], so the wanted sample image[Y-2+i-R, X+1+j-R]
    # is padded[(Y+1)+i-R, (X+4)+j-R]: a plain window around (X+4, Y+1) of the padded grid.
    padded = torch.nn.functional.pad(image, (3, 3, 3, 3))
    expected = window_gather(padded, 1)[:, :, :, 1 : 1 + 6, 4 : 4 + 7]
    torch.testing.assert_close(bilinear_window_gather(image, offset, 1), expected)


def test_zero_offset_equals_window_gather():
    image, _ = _image_and_offset(1, 3, 5, 8, 1.0, seed=9)
    zero = torch.zeros(1, 5, 8, 2, dtype=F64)
    torch.testing.assert_close(bilinear_window_gather(image, zero, 2), window_gather(image, 2))


def test_gradcheck_wrt_image_and_offset():
    image, _ = _image_and_offset(1, 2, 4, 5, 1.0, seed=10)
    # Fractions kept in [0.2, 0.8]: bilinear sampling is not differentiable where a sample crosses
    # a pixel line, so finite differences must not straddle one.
    gen = torch.Generator().manual_seed(11)
    offset = (
        torch.randint(-2, 3, (1, 4, 5, 2), generator=gen).to(F64)
        + 0.2
        + 0.6 * torch.rand(1, 4, 5, 2, generator=gen, dtype=F64)
    )
    image.requires_grad_(True)
    offset.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, o: bilinear_window_gather(x, o, 1), (image, offset))


def test_gradient_wrt_offset_matches_grid_sample():
    image, offset = _image_and_offset(1, 2, 5, 6, 1.5, seed=12)
    ours_offset = offset.clone().requires_grad_(True)
    theirs_offset = offset.clone().requires_grad_(True)
    weights = torch.randn(1, 2, 9, 5, 6, dtype=F64)
    (bilinear_window_gather(image, ours_offset, 1) * weights).sum().backward()
    (official_deform_im2col(image, theirs_offset, 3) * weights).sum().backward()
    torch.testing.assert_close(ours_offset.grad, theirs_offset.grad, rtol=1e-9, atol=1e-9)


def test_bad_offset_shape_is_refused():
    image, offset = _image_and_offset(1, 2, 4, 5, 1.0)
    with pytest.raises(ValueError, match="offset"):
        bilinear_window_gather(image, offset[..., :1], 1)
    with pytest.raises(ValueError, match="offset grid"):
        bilinear_window_gather(image, offset[:, :3], 1)
