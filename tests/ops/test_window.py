"""local_correlation / window_gather / window_read against explicit loops, plus gradients."""

from __future__ import annotations

import pytest
import torch
from support.ops_reference import loop_correlation, loop_window_gather, unfold_correlation

from mast_bench.ops import local_correlation, window_gather, window_read
from mast_bench.ops.window import pad_for_window, window_aggregate, window_corr, window_scatter

F64 = torch.float64


def _pair(b, c, h, w, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, h, w, generator=gen, dtype=F64), torch.randn(
        b, c, h, w, generator=gen, dtype=F64
    )


@pytest.mark.parametrize("dilation", [1, 2, 3, 4])
@pytest.mark.parametrize("radius", [0, 1, 2])
def test_local_correlation_equals_explicit_loops(radius, dilation):
    query, key = _pair(2, 3, 5, 7)  # odd, non-square, batch 2; the window reaches past every border
    expected = loop_correlation(query, key, radius, dilation)
    torch.testing.assert_close(local_correlation(query, key, radius, dilation), expected, rtol=0, atol=1e-12)


def test_local_correlation_candidate_order_is_row_major():
    # A key that is zero except one pixel: only the candidate pointing at it is non-zero.
    query = torch.ones(1, 1, 5, 5, dtype=F64)
    key = torch.zeros(1, 1, 5, 5, dtype=F64)
    key[0, 0, 1, 4] = 3.0  # seen from the centre (2, 2): row offset -1 (i=R-1=1), column offset +2 (j=R+2=4)
    out = local_correlation(query, key, radius=2)
    assert out[0, 1 * 5 + 4, 2, 2] == 3.0
    assert out[0, :, 2, 2].count_nonzero() == 1


def test_local_correlation_float32_matches_unfold_at_a_realistic_size():
    gen = torch.Generator().manual_seed(1)
    query, key = torch.randn(2, 32, 12, 20, generator=gen), torch.randn(2, 32, 12, 20, generator=gen)
    expected = unfold_correlation(query.double(), key.double(), 6, 2).float()
    torch.testing.assert_close(local_correlation(query, key, 6, 2), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dilation", [1, 2, 3, 4])
def test_window_gather_equals_explicit_loops(dilation):
    values, _ = _pair(2, 2, 6, 5, seed=2)
    torch.testing.assert_close(window_gather(values, 2, dilation), loop_window_gather(values, 2, dilation))


@pytest.mark.parametrize("dilation", [1, 3])
def test_window_read_is_weighted_sum_of_gathered_values(dilation):
    values, _ = _pair(2, 3, 7, 6, seed=3)
    weights = torch.randn(2, 25, 7, 6, dtype=F64)
    expected = (weights.unsqueeze(1) * loop_window_gather(values, 2, dilation)).sum(2)
    torch.testing.assert_close(window_read(weights, values, 2, dilation), expected, rtol=0, atol=1e-12)


def test_window_scatter_is_the_transpose_of_window_aggregate():
    # <aggregate(w, vp), g> == <vp, scatter(w, g)> for every vp, g: the adjoint identity.
    weights = torch.randn(2, 9, 4, 5, dtype=F64)
    values_padded = torch.randn(2, 3, 8, 9, dtype=F64)
    grid = torch.randn(2, 3, 4, 5, dtype=F64)
    left = (window_aggregate(weights, values_padded, 1, 2) * grid).sum()
    right = (values_padded * window_scatter(weights, grid, 1, 2)).sum()
    torch.testing.assert_close(left, right)


@pytest.mark.parametrize("radius,dilation", [(1, 1), (2, 2), (1, 4)])
def test_gradcheck_local_correlation(radius, dilation):
    query, key = _pair(2, 2, 3, 4, seed=4)
    query.requires_grad_(True)
    key.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: local_correlation(q, k, radius, dilation), (query, key))


def test_gradgradcheck_local_correlation():
    query, key = _pair(1, 2, 3, 4, seed=4)
    query.requires_grad_(True)
    key.requires_grad_(True)
    assert torch.autograd.gradgradcheck(lambda q, k: local_correlation(q, k, 1, 2), (query, key))


def test_gradcheck_window_gather_and_window_read():
    values, _ = _pair(1, 2, 3, 4, seed=5)
    values.requires_grad_(True)
    weights = torch.randn(1, 9, 3, 4, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: window_gather(v, 1, 2), (values,))
    assert torch.autograd.gradcheck(lambda w, v: window_read(w, v, 1, 2), (weights, values))
    assert torch.autograd.gradgradcheck(lambda w, v: window_read(w, v, 1, 2), (weights, values))


def test_custom_ops_pass_opcheck():
    # Schema, fake (meta) kernels and autograd registration checked by torch itself.
    query, key = _pair(1, 2, 3, 4, seed=6)
    key_padded = pad_for_window(key, 1, 2)
    weights = torch.randn(1, 9, 3, 4, dtype=F64, requires_grad=True)
    query.requires_grad_(True)
    key_padded = key_padded.detach().requires_grad_(True)
    torch.library.opcheck(window_corr, (query, key_padded, 1, 2))
    torch.library.opcheck(window_aggregate, (weights, key_padded, 1, 2))
    torch.library.opcheck(window_scatter, (weights, query, 1, 2))


def test_bad_arguments_are_refused_with_clear_messages():
    query, key = _pair(1, 2, 3, 4)
    with pytest.raises(ValueError, match="same shape"):
        local_correlation(query, key[:, :, :2], 1)
    with pytest.raises(ValueError, match="radius"):
        local_correlation(query, key, -1)
    with pytest.raises(ValueError, match="dilation"):
        local_correlation(query, key, 1, 0)
    with pytest.raises(ValueError, match="padded"):
        window_corr(query, key, 1, 1)
