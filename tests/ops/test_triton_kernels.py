"""The Triton kernels (the default on CUDA tensors) equal the reference path of every operator.

On a machine with CUDA they run on the GPU, through the custom operators too; elsewhere the
launchers are called on CPU tensors under Triton's interpreter (tests/conftest.py sets
TRITON_INTERPRET=1 before triton is imported). Interpreted programs are slow, so the sizes are small.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from packaging.version import Version

from mast_bench.ops import MemoryEntry, memory_read, use_kernels
from mast_bench.ops.bilinear import integer_window
from mast_bench.ops.roi import roi_aggregate, roi_corr, roi_scatter
from mast_bench.ops.window import pad_for_window, window_aggregate, window_corr, window_scatter

triton = pytest.importorskip("triton", reason="triton is not installed (the 'triton' extra)")

CUDA = torch.cuda.is_available()
if not CUDA and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no CUDA device and TRITON_INTERPRET is not 1", allow_module_level=True)
if not CUDA and Version(triton.__version__) < Version("3.7") and Version(np.__version__) >= Version("2.4"):
    # the interpreter of Triton 3.6 and earlier turns a runtime loop bound into a Python int with int()
    # of a one-element array, which NumPy 2.4 made a TypeError; the compiled kernels are unaffected
    # (measured with torch 2.11: triton 3.6 fails here, 3.7.1 and 3.8.0 pass, 3.6 passes on NumPy 2.3)
    pytest.skip(
        f"Triton {triton.__version__}'s interpreter cannot run on NumPy {np.__version__} (int() of a "
        "one-element array); install numpy<2.4 or triton>=3.7 to run these kernels on CPU",
        allow_module_level=True,
    )

from mast_bench.ops import triton_kernels as tk  # noqa: E402  (after the interpreter choice)

DEVICE = torch.device("cuda" if CUDA else "cpu")
F64 = torch.float64
EPS = torch.finfo(F64).eps


def _rand(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(DEVICE)


def _reference(op, *args):
    with use_kernels("reference"):
        return op(*[a.cpu() if isinstance(a, torch.Tensor) else a for a in args])


def _assert_sums_close(result, expected, terms: int):
    torch.testing.assert_close(result.cpu(), expected, rtol=0, atol=terms * terms * EPS * 4)


@pytest.mark.parametrize(
    "b,c,h,w,radius,dilation", [(2, 3, 5, 7, 2, 1), (1, 5, 4, 6, 1, 3), (1, 1, 3, 4, 0, 1)]
)
def test_window_kernels_equal_reference(b, c, h, w, radius, dilation):
    size = 2 * radius + 1
    query, key = _rand(b, c, h, w, seed=1), _rand(b, c, h, w, seed=2)
    key_padded = pad_for_window(key, radius, dilation)
    weights = _rand(b, size * size, h, w, seed=3)
    _assert_sums_close(
        tk.window_corr(query, key_padded, radius, dilation),
        _reference(window_corr, query, key_padded, radius, dilation),
        c,
    )
    _assert_sums_close(
        tk.window_aggregate(weights, key_padded, radius, dilation),
        _reference(window_aggregate, weights, key_padded, radius, dilation),
        size * size,
    )
    _assert_sums_close(
        tk.window_scatter(weights, query, radius, dilation),
        _reference(window_scatter, weights, query, radius, dilation),
        size * size,
    )


# spread 8 puts windows partly and wholly outside the 4x5 grid
@pytest.mark.parametrize("radius,spread,c,cv", [(1, 1.5, 3, 2), (1, 8.0, 4, 3), (0, 0.5, 2, 1)])
def test_roi_kernels_equal_reference(radius, spread, c, cv):
    b, h, w = 2, 4, 5
    query, key, values = _rand(b, c, h, w, seed=4), _rand(b, c, h, w, seed=5), _rand(b, cv, h, w, seed=6)
    win = integer_window(_rand(b, h, w, 2, seed=7) * spread, radius)
    side = win.side
    bases = (win.base_y, win.base_x, side)
    weights = _rand(b, h * w, side * side, seed=8)
    grid = _rand(b, cv, h, w, seed=9)
    _assert_sums_close(tk.roi_corr(query, key, *bases), _reference(roi_corr, query, key, *bases), c)
    _assert_sums_close(
        tk.roi_aggregate(weights, values, *bases),
        _reference(roi_aggregate, weights, values, *bases),
        side * side,
    )
    _assert_sums_close(
        tk.roi_scatter(weights, grid, *bases, h, w),
        _reference(roi_scatter, weights, grid, *bases, h, w),
        side * side,
    )


def test_float32_inputs_accumulate_without_tf32():
    query, key = (
        _rand(1, 32, 4, 6, seed=10, dtype=torch.float32),
        _rand(1, 32, 4, 6, seed=11, dtype=torch.float32),
    )
    key_padded = pad_for_window(key, 1, 1)
    expected = _reference(window_corr, query.double(), key_padded.double(), 1, 1)
    # TF32 (10-bit mantissa) would miss this by ~1e-3; fp32 accumulation is within ~1e-5
    torch.testing.assert_close(
        tk.window_corr(query, key_padded, 1, 1).double().cpu(), expected, rtol=1e-5, atol=1e-5
    )


def test_kernels_are_deterministic():
    query, key = (
        _rand(1, 3, 4, 5, seed=12, dtype=torch.float32),
        _rand(1, 3, 4, 5, seed=13, dtype=torch.float32),
    )
    win = integer_window(_rand(1, 4, 5, 2, seed=14, dtype=torch.float32) * 2, 1)
    weights = _rand(1, 20, 16, seed=15, dtype=torch.float32)
    runs = [tk.roi_scatter(weights, query, win.base_y, win.base_x, win.side, 4, 5) for _ in range(2)]
    assert torch.equal(*runs)
    runs = [tk.window_scatter(_rand(1, 9, 4, 5, seed=16, dtype=torch.float32), key, 1, 2) for _ in range(2)]
    assert torch.equal(*runs)


def test_row_buckets_order_pixels_by_window_row():
    base_y = torch.tensor([[[3, -9, 0], [2, 0, 40]]], device=DEVICE)
    order, starts = tk.row_buckets(base_y, side=2, height=4)
    # clamped keys + side: [5, 0, 2, 4, 2, 6] -> stable order by key
    assert order.cpu().tolist() == [[1, 2, 4, 3, 0, 5]]
    assert starts.cpu().tolist() == [[0, 1, 1, 3, 3, 4, 5, 6]]


# --- on a GPU: the registered CUDA kernels behind the custom operators -----------------------------

gpu = pytest.mark.skipif(not CUDA, reason="needs a CUDA device (the interpreter tests above ran on CPU)")


@gpu
def test_cuda_operators_run_triton_and_pass_opcheck_and_gradcheck():
    from mast_bench.ops import kernel_path

    assert kernel_path("cuda") == "cuda-triton"
    query = _rand(1, 2, 3, 4, seed=17).requires_grad_(True)
    key_padded = pad_for_window(_rand(1, 2, 3, 4, seed=18), 1, 2).requires_grad_(True)
    weights = _rand(1, 9, 3, 4, seed=19).requires_grad_(True)
    torch.library.opcheck(window_corr, (query, key_padded, 1, 2))
    torch.library.opcheck(window_aggregate, (weights, key_padded, 1, 2))
    torch.library.opcheck(window_scatter, (weights, query, 1, 2))
    assert torch.autograd.gradcheck(lambda q, k: window_corr(q, k, 1, 2), (query, key_padded))
    win = integer_window(_rand(1, 3, 4, 2, seed=20) * 1.5, 1)
    bases = (win.base_y, win.base_x, win.side)
    roi_weights = _rand(1, 12, win.side**2, seed=21).requires_grad_(True)
    key = _rand(1, 2, 3, 4, seed=22).requires_grad_(True)
    torch.library.opcheck(roi_corr, (query, key, *bases))
    torch.library.opcheck(roi_aggregate, (roi_weights, key, *bases))
    torch.library.opcheck(roi_scatter, (roi_weights, query, *bases, 3, 4))
    assert torch.autograd.gradcheck(lambda wt, k: roi_aggregate(wt, k, *bases), (roi_weights, key))


@gpu
def test_cuda_memory_read_equals_the_cpu_read():
    query = _rand(1, 16, 20, 24, seed=23, dtype=torch.float32)
    keys = [_rand(1, 16, 20, 24, seed=24 + n, dtype=torch.float32) for n in range(3)]
    values = [_rand(1, 4, 20, 24, seed=30 + n, dtype=torch.float32) for n in range(3)]
    offset = _rand(1, 20, 24, 2, seed=40, dtype=torch.float32) * 3
    entries = [
        MemoryEntry(keys[0], values[0], "window", 4),
        MemoryEntry(keys[1], values[1], "window", 2, dilation=2),
        MemoryEntry(keys[2], values[2], "window", 3, offset=offset),
    ]
    gpu_out = memory_read(query, entries, scale=0.25)
    cpu_entries = [
        MemoryEntry(
            e.key.cpu(),
            e.value.cpu(),
            e.kind,
            e.radius,
            e.dilation,
            None if e.offset is None else e.offset.cpu(),
        )
        for e in entries
    ]
    torch.testing.assert_close(
        gpu_out.cpu(), memory_read(query.cpu(), cpu_entries, scale=0.25), rtol=1e-5, atol=1e-6
    )
