"""The "cpp" backend: csrc/window_ops.cpp (OpenMP CPU kernels), built on first use with
torch.utils.cpp_extension.load (JIT; needs a C++ compiler and ninja).

Only the local correlation (forward and backward) goes through it; results equal the torch
path. It runs on CPU tensors only.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor

from .window import check_pair, check_window, pad_for_window

SOURCE = Path(__file__).resolve().parent / "csrc" / "window_ops.cpp"


@functools.cache
def load_extension() -> ModuleType:
    """Compile (once per machine, cached by torch) and import the kernels."""
    from torch.utils.cpp_extension import load

    if not SOURCE.is_file():
        raise FileNotFoundError(f"C++ source {SOURCE} is missing")
    return load(
        name="mast_bench_window_ops",
        sources=[str(SOURCE)],
        extra_cflags=["-O3", "-fopenmp"],
        extra_ldflags=["-fopenmp"],
        verbose=False,
    )


def _channels_last(x: Tensor) -> Tensor:
    return x.permute(0, 2, 3, 1).contiguous()


class _CppCorrelation(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query: Tensor, key: Tensor, radius: int, dilation: int) -> Tensor:
        ext = load_extension()
        q = _channels_last(query)
        kp = _channels_last(pad_for_window(key, radius, dilation))
        ctx.save_for_backward(q, kp)
        ctx.radius, ctx.dilation = radius, dilation
        return ext.corr_forward(q, kp, radius, dilation)

    @staticmethod
    def backward(ctx, grad: Tensor):
        ext = load_extension()
        q, kp = ctx.saved_tensors
        r, d = ctx.radius, ctx.dilation
        grad = grad.contiguous()
        grad_query = grad_key = None
        if ctx.needs_input_grad[0]:
            grad_query = ext.aggregate(grad, kp, r, d).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            margin = r * d
            padded = ext.scatter(grad, q, r, d)
            h, w = q.shape[1], q.shape[2]
            grad_key = padded[:, margin : margin + h, margin : margin + w].permute(0, 3, 1, 2)
        return grad_query, grad_key, None, None


def cpp_local_correlation(query: Tensor, key: Tensor, radius: int, dilation: int = 1) -> Tensor:
    """local_correlation through the C++ kernels (CPU tensors)."""
    check_window(radius, dilation)
    check_pair(query, key)
    if query.device.type != "cpu":
        raise ValueError(f"the 'cpp' backend runs on CPU tensors only, got {query.device}")
    return _CppCorrelation.apply(query, key, radius, dilation)
