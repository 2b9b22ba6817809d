"""The C++ CPU kernels (the default on CPU tensors) equal the reference path of every operator.

Each operator is called twice, through the same custom operator: with the native kernels and under
``use_kernels("reference")``. Float64 tolerances come from the arithmetic: a sum of K products of
O(1) numbers accumulated in another order differs by at most about K * K * eps.
"""

from __future__ import annotations

import pytest
import torch

from mast_bench.ops import kernel_path, local_correlation, use_kernels
from mast_bench.ops.bilinear import integer_window
from mast_bench.ops.roi import roi_aggregate, roi_corr, roi_scatter
from mast_bench.ops.softmax import joint_softmax, joint_softmax_backward
from mast_bench.ops.window import pad_for_window, window_aggregate, window_corr, window_scatter

F64 = torch.float64
EPS = torch.finfo(F64).eps


@pytest.fixture(scope="module", autouse=True)
def native_kernels():
    if kernel_path("cpu") != "cpu-csrc":
        pytest.skip("the CPU kernels could not be built here (see the KernelFallbackWarning)")


def _both(op, *args):
    native = op(*args)
    with use_kernels("reference"):
        reference = op(*args)
    return native, reference


def _assert_sums_close(native, reference, terms: int):
    torch.testing.assert_close(native, reference, rtol=0, atol=terms * terms * EPS * 4)


def _rand(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


WINDOWS = [(0, 1), (1, 1), (2, 2), (3, 1), (1, 3), (2, 4)]
GRIDS = [(2, 3, 5, 7), (1, 17, 9, 13), (3, 1, 4, 11), (1, 256, 3, 5)]


@pytest.mark.parametrize("radius,dilation", WINDOWS)
@pytest.mark.parametrize("b,c,h,w", GRIDS, ids=["odd", "17ch", "1ch-b3", "256ch"])
def test_window_ops_equal_reference(radius, dilation, b, c, h, w):
    # the windows reach past every border (zero padding), dilation up to 4
    size = 2 * radius + 1
    query, key = _rand(b, c, h, w, seed=1), _rand(b, c, h, w, seed=2)
    key_padded = pad_for_window(key, radius, dilation)
    _assert_sums_close(*_both(window_corr, query, key_padded, radius, dilation), c)
    weights = _rand(b, size * size, h, w, seed=3)
    _assert_sums_close(*_both(window_aggregate, weights, key_padded, radius, dilation), size * size)
    _assert_sums_close(*_both(window_scatter, weights, query, radius, dilation), size * size)


def test_window_ops_read_strided_inputs_in_place():
    # a band of rows (memory_read's halo slices) and channels-last tensors give the same numbers
    radius, dilation = 2, 1
    query, key = _rand(1, 6, 12, 9, seed=4), _rand(1, 6, 12, 9, seed=5)
    key_padded = pad_for_window(key, radius, dilation)
    band, halo = query[:, :, 3:7], key_padded[:, :, 3 : 7 + 4]
    torch.testing.assert_close(
        window_corr(band, halo, radius, dilation),
        window_corr(band.contiguous(), halo.contiguous(), radius, dilation),
        rtol=0,
        atol=0,
    )
    channels_last = query.contiguous(memory_format=torch.channels_last)
    weights = _rand(1, 25, 12, 9, seed=6)
    torch.testing.assert_close(
        window_scatter(weights, channels_last, radius, dilation),
        window_scatter(weights, query, radius, dilation),
        rtol=0,
        atol=0,
    )


def test_window_ops_in_float32_match_float64_at_a_realistic_size():
    query, key = (
        _rand(2, 64, 12, 21, seed=7, dtype=torch.float32),
        _rand(2, 64, 12, 21, seed=8, dtype=torch.float32),
    )
    expected = local_correlation(query.double(), key.double(), 6, 2)
    torch.testing.assert_close(local_correlation(query, key, 6, 2).double(), expected, rtol=1e-5, atol=1e-4)


def _roi_case(radius, spread, b=2, c=5, h=7, w=9, cv=3, seed=0):
    query, key = _rand(b, c, h, w, seed=seed), _rand(b, c, h, w, seed=seed + 1)
    values = _rand(b, cv, h, w, seed=seed + 2)
    offset = _rand(b, h, w, 2, seed=seed + 3) * spread
    return query, key, values, integer_window(offset, radius)


# spread 30 scatters windows partly and wholly off the grid; radius 16 spans two 32-column chunks
@pytest.mark.parametrize("radius,spread", [(0, 0.5), (1, 2.0), (2, 30.0), (5, 3.0), (16, 4.0)])
@pytest.mark.parametrize("c,cv", [(1, 1), (9, 7), (64, 12)])
def test_roi_ops_equal_reference(radius, spread, c, cv):
    query, key, values, win = _roi_case(radius, spread, c=c, cv=cv, seed=radius)
    b, _, h, w = query.shape
    side = win.side
    bases = (win.base_y, win.base_x, side)
    _assert_sums_close(*_both(roi_corr, query, key, *bases), c)
    weights = _rand(b, h * w, side * side, seed=11)
    _assert_sums_close(*_both(roi_aggregate, weights, values, *bases), side * side)
    grid = _rand(b, cv, h, w, seed=12)
    _assert_sums_close(*_both(roi_scatter, weights, grid, *bases, h, w), side * side)


def test_roi_windows_wholly_outside_read_zeros():
    query, key, values, _ = _roi_case(1, 1.0)
    b, _, h, w = query.shape
    far = integer_window(torch.full((b, h, w, 2), 100.0, dtype=F64), 1)
    logits = roi_corr(query, key, far.base_y, far.base_x, far.side)
    assert logits.shape == (b, h * w, 16) and not logits.any()
    weights = _rand(b, h * w, 16, seed=13)
    assert not roi_aggregate(weights, values, far.base_y, far.base_x, far.side).any()
    assert not roi_scatter(weights, values, far.base_y, far.base_x, far.side, h, w).any()


def test_roi_aggregate_reads_channels_last_values():
    query, key, values, win = _roi_case(2, 3.0, cv=10)
    weights = _rand(2, 63, win.side**2, seed=14)
    plain = roi_aggregate(weights, values, win.base_y, win.base_x, win.side)
    cl = roi_aggregate(
        weights, values.contiguous(memory_format=torch.channels_last), win.base_y, win.base_x, win.side
    )
    torch.testing.assert_close(cl, plain, rtol=0, atol=0)


@pytest.mark.parametrize("scale", [1.0, 0.125])
def test_joint_softmax_equals_a_softmax_of_the_concatenation(scale):
    first, last = _rand(2, 9, 13, seed=15) * 3, _rand(2, 13, 20, seed=16) * 3
    first[0, :, 4] = float("-inf")  # masked candidates of one entry at one position
    first[0, 2, 4] = 1.0
    native = joint_softmax([first, last], [1, 2], scale)
    joined = torch.cat([first, last.transpose(1, 2)], dim=1)
    expected = torch.softmax(joined * scale, dim=1)
    torch.testing.assert_close(native[0], expected[:, :9], rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(native[1], expected[:, 9:].transpose(1, 2), rtol=1e-13, atol=1e-15)
    assert native[0][0, :, 4].count_nonzero() == 1


def test_joint_softmax_float32_exp_is_accurate():
    # the kernel's vectorised exp: within a few float32 ulp of float64 softmax
    first, last = _rand(1, 300, 70, seed=17) * 4, _rand(1, 70, 41, seed=18) * 4
    native = joint_softmax([first.float(), last.float()], [1, 2], 0.5)
    exact = joint_softmax([first, last], [1, 2], 0.5)
    for got, want in zip(native, exact, strict=True):
        torch.testing.assert_close(got.double(), want, rtol=4e-6, atol=1e-9)


# --- gradients and operator registration, with the kernels active ---------------------------------


def test_gradcheck_window_ops_through_the_kernels():
    query, key = _rand(2, 2, 3, 4, seed=19), _rand(2, 2, 3, 4, seed=20)
    key_padded = pad_for_window(key, 1, 2).requires_grad_(True)
    query.requires_grad_(True)
    weights = _rand(2, 9, 3, 4, seed=21).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: window_corr(q, k, 1, 2), (query, key_padded))
    assert torch.autograd.gradcheck(lambda wt, k: window_aggregate(wt, k, 1, 2), (weights, key_padded))
    assert torch.autograd.gradcheck(lambda wt, q: window_scatter(wt, q, 1, 2), (weights, query))
    assert torch.autograd.gradgradcheck(
        lambda q, k: local_correlation(q, k, 1, 1), (query, key.requires_grad_(True))
    )


def test_gradcheck_roi_ops_through_the_kernels():
    query, key, values, win = _roi_case(1, 1.5, b=1, c=2, h=3, w=4, cv=2, seed=22)
    bases = (win.base_y, win.base_x, win.side)
    query.requires_grad_(True)
    key.requires_grad_(True)
    values.requires_grad_(True)
    weights = _rand(1, 12, win.side**2, seed=23).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: roi_corr(q, k, *bases), (query, key))
    assert torch.autograd.gradcheck(lambda wt, v: roi_aggregate(wt, v, *bases), (weights, values))
    assert torch.autograd.gradcheck(lambda wt, g: roi_scatter(wt, g, *bases, 3, 4), (weights, query))


def test_gradcheck_joint_softmax():
    first, last = _rand(1, 5, 6, seed=24).requires_grad_(True), _rand(1, 6, 4, seed=25).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: tuple(joint_softmax([a, b], [1, 2], 0.7)), (first, last))
    assert torch.autograd.gradgradcheck(lambda a, b: tuple(joint_softmax([a, b], [1, 2], 0.7)), (first, last))


def test_every_operator_passes_opcheck():
    # schema, fake tensors, autograd registration and dispatch checked by torch itself
    query, key = _rand(1, 2, 3, 4, seed=26).requires_grad_(True), _rand(1, 2, 3, 4, seed=27)
    key_padded = pad_for_window(key, 1, 2).requires_grad_(True)
    weights = _rand(1, 9, 3, 4, seed=28).requires_grad_(True)
    torch.library.opcheck(window_corr, (query, key_padded, 1, 2))
    torch.library.opcheck(window_aggregate, (weights, key_padded, 1, 2))
    torch.library.opcheck(window_scatter, (weights, query, 1, 2))
    _, roi_key, values, win = _roi_case(1, 1.5, b=1, c=2, h=3, w=4, cv=2, seed=29)
    bases = (win.base_y, win.base_x, win.side)
    roi_weights = _rand(1, 12, win.side**2, seed=30).requires_grad_(True)
    torch.library.opcheck(roi_corr, (query, roi_key.requires_grad_(True), *bases))
    torch.library.opcheck(roi_aggregate, (roi_weights, values.requires_grad_(True), *bases))
    torch.library.opcheck(roi_scatter, (roi_weights, query, *bases, 3, 4))
    parts = [_rand(1, 5, 6, seed=31).requires_grad_(True), _rand(1, 6, 4, seed=32).requires_grad_(True)]
    torch.library.opcheck(joint_softmax, (parts, [1, 2], 0.5))
    outputs = [part.detach() for part in joint_softmax(parts, [1, 2], 0.5)]
    grads = [_rand(1, 5, 6, seed=40), _rand(1, 6, 4, seed=41)]
    torch.library.opcheck(joint_softmax_backward, (grads, outputs, [1, 2], 0.5))


def test_compiled_graph_calls_the_same_kernels():
    query, key = _rand(1, 4, 6, 7, seed=33), _rand(1, 4, 6, 7, seed=34)

    def correlate(q, k):
        return local_correlation(q, k, 2, 1).sum(1)

    compiled = torch.compile(correlate, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(query, key), correlate(query, key), rtol=0, atol=0)


# --- determinism: every output element is written by one thread, in a fixed order -----------------


def _every_op(dtype):
    query, key = _rand(2, 16, 16, 21, seed=35, dtype=dtype), _rand(2, 16, 16, 21, seed=36, dtype=dtype)
    key_padded = pad_for_window(key, 3, 1)
    weights = _rand(2, 49, 16, 21, seed=37, dtype=dtype)
    win = integer_window(_rand(2, 16, 21, 2, seed=38, dtype=dtype) * 4, 3)
    roi_weights = _rand(2, 16 * 21, win.side**2, seed=39, dtype=dtype)
    bases = (win.base_y, win.base_x, win.side)
    return [
        window_corr(query, key_padded, 3, 1),
        window_aggregate(weights, key_padded, 3, 1),
        window_scatter(weights, query, 3, 1),
        roi_corr(query, key, *bases),
        roi_aggregate(roi_weights, key, *bases),
        roi_scatter(roi_weights, query, *bases, 16, 21),
        *joint_softmax([weights.flatten(2), roi_weights], [1, 2], 0.3),
    ]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_results_do_not_depend_on_the_thread_count(dtype):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _every_op(dtype)
        torch.set_num_threads(2)
        two = _every_op(dtype)
    finally:
        torch.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        assert torch.equal(a, b)
