"""Windowed (local) correlation and its two companions, as custom operators.

Three primitives work on a query grid and a *zero-padded* key/value grid
(padded by ``radius * dilation`` on every side), so a chunk of query rows only
needs the matching rows of the padded tensor (its halo) and never a copy:

- ``window_corr``:      logits[b, i*P+j, y, x] = sum_c q[b,c,y,x] * kp[b,c, y+i*d, x+j*d]
- ``window_aggregate``: out[b, c, y, x]       = sum_ij w[b,ij,y,x] * vp[b,c, y+i*d, x+j*d]
- ``window_scatter``:   out[b, c, y+i*d, x+j*d] += w[b,ij,y,x] * g[b,c,y,x]   (padded output)

Each one's gradients are the other two, so the backward passes are exactly as
lean as the forward ones (no (B, C, P*P, H, W) unfold is ever materialised); the
three are defined from one table (adjoint_ops.py). On CPU and CUDA tensors the
native kernels run (ops/kernels.py chooses; csrc/ and triton_kernels.py); the
reference implementations here loop over the P*P offsets with shifted slices and
stay selectable as the exact yardstick.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .adjoint_ops import AdjointFamily, OpSpec, define_family


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


def _check_corr(query: Tensor, key_padded: Tensor, radius: int, dilation: int) -> None:
    _check_padded("window_corr", query, key_padded, radius, dilation)


def _check_aggregate(weights: Tensor, values_padded: Tensor, radius: int, dilation: int) -> None:
    _check_padded("window_aggregate", weights, values_padded, radius, dilation)


def _scatter_check(weights: Tensor, grid: Tensor, radius: int, dilation: int) -> None:
    _check_scatter(weights, grid)


def _fake_corr(query, key_padded, radius, dilation):
    size = window_size(radius)
    return query.new_empty(query.shape[0], size * size, query.shape[2], query.shape[3])


def _fake_aggregate(weights, values_padded, radius, dilation):
    b, _, h, w = weights.shape
    return weights.new_empty(b, values_padded.shape[1], h, w)


def _fake_scatter(weights, grid, radius, dilation):
    b, _, h, w = weights.shape
    margin = 2 * radius * dilation
    return grid.new_empty(b, grid.shape[1], h + margin, w + margin)


def _flops(channels_of: int):
    """2 * B * C * P^2 * h * w, C the channels of the ``channels_of``-th input (h, w: the first's grid)."""

    def formula(first_shape, second_shape, radius, dilation, *args, **kwargs) -> int:
        b, _, h, w = first_shape
        channels = (first_shape, second_shape)[channels_of][1]
        return 2 * b * channels * window_size(radius) ** 2 * h * w

    return formula


_GEOMETRY = "int radius, int dilation"
window_corr, window_aggregate, window_scatter = define_family(
    AdjointFamily(
        corr=OpSpec(
            "window_corr",
            f"(Tensor query, Tensor key_padded, {_GEOMETRY}) -> Tensor",
            _check_corr,
            _corr_reference,
            _fake_corr,
            _flops(0),
        ),
        aggregate=OpSpec(
            "window_aggregate",
            f"(Tensor weights, Tensor values_padded, {_GEOMETRY}) -> Tensor",
            _check_aggregate,
            _aggregate_reference,
            _fake_aggregate,
            _flops(1),
        ),
        scatter=OpSpec(
            "window_scatter",
            f"(Tensor weights, Tensor grid, {_GEOMETRY}) -> Tensor",
            _scatter_check,
            _scatter_reference,
            _fake_scatter,
            _flops(1),
        ),
        geometry=2,
        size=lambda tensor: (),  # the padded output's size follows from the grid and the window
    )
)


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
