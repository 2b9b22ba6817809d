"""Windowed (local) correlation and its two companions, as custom operators.

Three primitives work on a query grid and a *zero-padded* key/value grid
(padded by ``radius * dilation`` on every side), so a chunk of query rows only
needs the matching rows of the padded tensor (its halo) and never a copy:

- ``window_corr``:      logits[b, i*P+j, y, x] = sum_c q[b,c,y,x] * kp[b,c, y+i*d, x+j*d]
- ``window_aggregate``: out[b, c, y, x]       = sum_ij w[b,ij,y,x] * vp[b,c, y+i*d, x+j*d]
- ``window_scatter``:   out[b, c, y+i*d, x+j*d] += w[b,ij,y,x] * g[b,c,y,x]   (padded output)

Each one's gradients are the other two, so the backward passes are exactly as
lean as the forward ones (no (B, C, P*P, H, W) unfold is ever materialised).
On CPU and CUDA tensors the native kernels run (ops/kernels.py chooses; csrc/ and
triton_kernels.py); the reference implementations here loop over the P*P offsets
with shifted slices and stay selectable as the exact yardstick.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.flop_counter import register_flop_formula

from .kernels import kernel_mode, kernels_for, use_kernels


def window_size(radius: int) -> int:
    """P = 2R+1, the side of the candidate window."""
    return 2 * radius + 1


def check_window(radius: int, dilation: int) -> None:
    if not isinstance(radius, int) or radius < 0:
        raise ValueError(f"radius must be an int >= 0, got {radius!r}")
    if not isinstance(dilation, int) or dilation < 1:
        raise ValueError(f"dilation must be an int >= 1, got {dilation!r}")


def pad_for_window(x: Tensor, radius: int, dilation: int = 1) -> Tensor:
    """Zero-pad the last two dims by radius*dilation: out-of-image candidates read 0."""
    margin = radius * dilation
    return F.pad(x, (margin, margin, margin, margin))


def _check_padded(name: str, inner: Tensor, padded: Tensor, radius: int, dilation: int) -> None:
    margin = 2 * radius * dilation
    h, w = inner.shape[-2:]
    if (
        padded.dim() != 4
        or padded.shape[0] != inner.shape[0]
        or tuple(padded.shape[-2:])
        != (
            h + margin,
            w + margin,
        )
    ):
        raise ValueError(
            f"{name}: padded tensor of shape {tuple(padded.shape)} does not match a grid of "
            f"{h}x{w} padded by {margin // 2} (batch {inner.shape[0]})"
        )


def _corr_reference(query: Tensor, key_padded: Tensor, radius: int, dilation: int) -> Tensor:
    b, _, h, w = query.shape
    size = window_size(radius)
    # Channels-last makes each offset a contiguous dot product over C (in the promoted dtype).
    dtype = torch.promote_types(query.dtype, key_padded.dtype)
    q = query.permute(0, 2, 3, 1).to(dtype).contiguous()
    k = key_padded.permute(0, 2, 3, 1).to(dtype).contiguous()
    out = query.new_empty(b, size * size, h, w)
    for i in range(size):
        rows = k[:, i * dilation : i * dilation + h]
        for j in range(size):
            out[:, i * size + j] = torch.linalg.vecdot(q, rows[:, :, j * dilation : j * dilation + w])
    return out


def _aggregate_reference(weights: Tensor, values_padded: Tensor, radius: int, dilation: int) -> Tensor:
    b, _, h, w = weights.shape
    size = window_size(radius)
    out = weights.new_zeros(b, values_padded.shape[1], h, w)
    for i in range(size):
        for j in range(size):
            shifted = values_padded[:, :, i * dilation : i * dilation + h, j * dilation : j * dilation + w]
            out.addcmul_(weights[:, i * size + j].unsqueeze(1), shifted)
    return out


def _scatter_reference(weights: Tensor, grid: Tensor, radius: int, dilation: int) -> Tensor:
    b, _, h, w = weights.shape
    size = window_size(radius)
    margin = 2 * radius * dilation
    out = grid.new_zeros(b, grid.shape[1], h + margin, w + margin)
    for i in range(size):
        for j in range(size):
            target = out[:, :, i * dilation : i * dilation + h, j * dilation : j * dilation + w]
            target.addcmul_(weights[:, i * size + j].unsqueeze(1), grid)
    return out


def _check_scatter(weights: Tensor, grid: Tensor) -> None:
    b, _, h, w = weights.shape
    if grid.dim() != 4 or grid.shape[0] != b or tuple(grid.shape[-2:]) != (h, w):
        raise ValueError(
            f"window_scatter: grid of shape {tuple(grid.shape)} does not match weights (B={b}, _, {h}, {w})"
        )


def _corr(query: Tensor, key_padded: Tensor, radius: int, dilation: int) -> Tensor:
    _check_padded("window_corr", query, key_padded, radius, dilation)
    native = kernels_for(query, key_padded)
    if native is None:
        return _corr_reference(query, key_padded, radius, dilation)
    return native.window_corr(query, key_padded, radius, dilation)


def _aggregate(weights: Tensor, values_padded: Tensor, radius: int, dilation: int) -> Tensor:
    _check_padded("window_aggregate", weights, values_padded, radius, dilation)
    native = kernels_for(weights, values_padded)
    if native is None:
        return _aggregate_reference(weights, values_padded, radius, dilation)
    return native.window_aggregate(weights, values_padded, radius, dilation)


def _scatter(weights: Tensor, grid: Tensor, radius: int, dilation: int) -> Tensor:
    _check_scatter(weights, grid)
    native = kernels_for(weights, grid)
    if native is None:
        return _scatter_reference(weights, grid, radius, dilation)
    return native.window_scatter(weights, grid, radius, dilation)


@torch.library.custom_op("mast_bench::window_corr", mutates_args=())
def window_corr(query: Tensor, key_padded: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,C,h,w) x (B,C,h+2Rd,w+2Rd) -> (B,P*P,h,w) dot products over channels."""
    _check_padded("window_corr", query, key_padded, radius, dilation)
    return _corr_reference(query, key_padded, radius, dilation)


@window_corr.register_fake
def _(query, key_padded, radius, dilation):
    size = window_size(radius)
    return query.new_empty(query.shape[0], size * size, query.shape[2], query.shape[3])


@torch.library.custom_op("mast_bench::window_aggregate", mutates_args=())
def window_aggregate(weights: Tensor, values_padded: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,P*P,h,w) weights x (B,C,h+2Rd,w+2Rd) values -> (B,C,h,w) weighted window sums."""
    _check_padded("window_aggregate", weights, values_padded, radius, dilation)
    return _aggregate_reference(weights, values_padded, radius, dilation)


@window_aggregate.register_fake
def _(weights, values_padded, radius, dilation):
    b, _, h, w = weights.shape
    return weights.new_empty(b, values_padded.shape[1], h, w)


@torch.library.custom_op("mast_bench::window_scatter", mutates_args=())
def window_scatter(weights: Tensor, grid: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,P*P,h,w) weights x (B,C,h,w) -> (B,C,h+2Rd,w+2Rd): transpose of window_aggregate."""
    _check_scatter(weights, grid)
    return _scatter_reference(weights, grid, radius, dilation)


@window_scatter.register_fake
def _(weights, grid, radius, dilation):
    b, _, h, w = weights.shape
    margin = 2 * radius * dilation
    return grid.new_empty(b, grid.shape[1], h + margin, w + margin)


# --- native kernels on CPU and CUDA tensors (the reference where they cannot run) --------------

for _op, _impl in ((window_corr, _corr), (window_aggregate, _aggregate), (window_scatter, _scatter)):
    _op.register_kernel("cpu")(_impl)
    _op.register_kernel("cuda")(_impl)


# --- autograd: each primitive's gradients are the other two --------------------------------------
# The backward runs with the forward's kernel choice (it may run on another thread).


def _setup(ctx, inputs, output):
    first, second, radius, dilation = inputs
    ctx.save_for_backward(first, second)
    ctx.radius, ctx.dilation = radius, dilation
    ctx.kernels = kernel_mode()


def _corr_backward(ctx, grad):
    query, key_padded = ctx.saved_tensors
    r, d = ctx.radius, ctx.dilation
    with use_kernels(ctx.kernels):
        grad_query = window_aggregate(grad, key_padded, r, d) if ctx.needs_input_grad[0] else None
        grad_key = window_scatter(grad, query, r, d) if ctx.needs_input_grad[1] else None
    return grad_query, grad_key, None, None


def _aggregate_backward(ctx, grad):
    weights, values_padded = ctx.saved_tensors
    r, d = ctx.radius, ctx.dilation
    with use_kernels(ctx.kernels):
        grad_weights = window_corr(grad, values_padded, r, d) if ctx.needs_input_grad[0] else None
        grad_values = window_scatter(weights, grad, r, d) if ctx.needs_input_grad[1] else None
    return grad_weights, grad_values, None, None


def _scatter_backward(ctx, grad):
    weights, grid = ctx.saved_tensors
    r, d = ctx.radius, ctx.dilation
    with use_kernels(ctx.kernels):
        grad_weights = window_corr(grid, grad, r, d) if ctx.needs_input_grad[0] else None
        grad_grid = window_aggregate(weights, grad, r, d) if ctx.needs_input_grad[1] else None
    return grad_weights, grad_grid, None, None


window_corr.register_autograd(_corr_backward, setup_context=_setup)
window_aggregate.register_autograd(_aggregate_backward, setup_context=_setup)
window_scatter.register_autograd(_scatter_backward, setup_context=_setup)


# --- FLOP formulas: 2 FLOPs per multiply-add -----------------------------------------------------


@register_flop_formula(torch.ops.mast_bench.window_corr)
def _corr_flops(query_shape, key_shape, radius, dilation, *args, **kwargs) -> int:
    b, c, h, w = query_shape
    return 2 * b * c * window_size(radius) ** 2 * h * w


@register_flop_formula(torch.ops.mast_bench.window_aggregate)
def _aggregate_flops(weights_shape, values_shape, radius, dilation, *args, **kwargs) -> int:
    b, _, h, w = weights_shape
    return 2 * b * values_shape[1] * window_size(radius) ** 2 * h * w


@register_flop_formula(torch.ops.mast_bench.window_scatter)
def _scatter_flops(weights_shape, grid_shape, radius, dilation, *args, **kwargs) -> int:
    b, _, h, w = weights_shape
    return 2 * b * grid_shape[1] * window_size(radius) ** 2 * h * w


# --- public functions on unpadded grids ---------------------------------------------------------


def check_pair(query: Tensor, key: Tensor) -> None:
    if query.dim() != 4 or key.dim() != 4:
        raise ValueError(f"expected (B,C,H,W) tensors, got {tuple(query.shape)} and {tuple(key.shape)}")
    if query.shape != key.shape:
        raise ValueError(f"query {tuple(query.shape)} and key {tuple(key.shape)} must have the same shape")


def local_correlation(query: Tensor, key: Tensor, radius: int, dilation: int = 1) -> Tensor:
    """(B,C,H,W) x (B,C,H,W) -> (B,P*P,H,W), 0 for out-of-image candidates (row-major like unfold)."""
    check_window(radius, dilation)
    check_pair(query, key)
    return window_corr(query, pad_for_window(key, radius, dilation), radius, dilation)


def window_gather(values: Tensor, radius: int, dilation: int = 1) -> Tensor:
    """(B,Cv,H,W) -> (B,Cv,P*P,H,W): the candidates' values, 0 outside (exactly F.unfold)."""
    check_window(radius, dilation)
    if values.dim() != 4:
        raise ValueError(f"values must be (B,Cv,H,W), got {tuple(values.shape)}")
    b, c, h, w = values.shape
    size = window_size(radius)
    cols = F.unfold(values, kernel_size=size, dilation=dilation, padding=radius * dilation)
    return cols.view(b, c, size * size, h, w)


def window_read(weights: Tensor, values: Tensor, radius: int, dilation: int = 1) -> Tensor:
    """sum over the window of weights * candidate values: (B,P*P,H,W) x (B,Cv,H,W) -> (B,Cv,H,W)."""
    check_window(radius, dilation)
    return window_aggregate(weights, pad_for_window(values, radius, dilation), radius, dilation)
