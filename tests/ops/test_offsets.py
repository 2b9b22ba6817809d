"""soft_argmax_offset: the coarse ROI step, against a direct softmax-expectation."""

from __future__ import annotations

import pytest
import torch
from support.ops_reference import loop_correlation

from mast_bench.ops import soft_argmax_offset

F64 = torch.float64


def _naive_offset(query, key, radius, dilation):
    size = 2 * radius + 1
    prob = torch.softmax(loop_correlation(query, key, radius, dilation), dim=1)
    b, _, h, w = query.shape
    out = torch.zeros(b, h, w, 2, dtype=query.dtype)
    for i in range(size):
        for j in range(size):
            out[..., 0] += prob[:, i * size + j] * (j - radius) * dilation
            out[..., 1] += prob[:, i * size + j] * (i - radius) * dilation
    return out


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_matches_the_softmax_expectation(dilation):
    gen = torch.Generator().manual_seed(dilation)
    query = torch.randn(2, 3, 5, 7, generator=gen, dtype=F64)
    key = torch.randn(2, 3, 5, 7, generator=gen, dtype=F64)
    expected = _naive_offset(query, key, 2, dilation)
    torch.testing.assert_close(soft_argmax_offset(query, key, 2, dilation), expected)
    torch.testing.assert_close(soft_argmax_offset(query, key, 2, dilation, chunk_rows=2), expected)


def test_a_shifted_sharp_key_gives_the_shift():
    # key(y, x) = query(y - 2, x + 4) with very distinctive features: the best match of query pixel
    # (X, Y) sits at (X - 4, Y + 2), i.e. offset (-4, +2), on the dilation-2 grid.
    gen = torch.Generator().manual_seed(0)
    query = torch.randn(1, 32, 12, 16, generator=gen, dtype=F64) * 6
    key = torch.zeros_like(query)
    key[:, :, 2:, : 16 - 4] = query[:, :, :-2, 4:]
    offset = soft_argmax_offset(query, key, 3, 2)
    inner = offset[0, 0:8, 4:12]  # pixels whose match lies inside the key
    torch.testing.assert_close(inner[..., 0], torch.full_like(inner[..., 0], -4.0), atol=1e-6, rtol=0)
    torch.testing.assert_close(inner[..., 1], torch.full_like(inner[..., 1], 2.0), atol=1e-6, rtol=0)
