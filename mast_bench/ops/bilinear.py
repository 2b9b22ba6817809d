"""Bilinear window sampling around a per-pixel offset (MAST's ROI fine step).

The official ``deform_im2col`` builds P*P shifted copies of a sampling grid and
calls ``grid_sample`` (bilinear, zero padding, align_corners=True after the
normalisation by W-1, H-1) on P*P copies of the image. Every candidate of one
query pixel shares the same fractional part of its offset, so the P*P bilinear
samples are fixed 4-tap blends of one (P+1)x(P+1) *integer* window that starts
at ``floor(position + offset) - R``. We gather that integer window once
(zeros outside the image, exactly grid_sample's zero padding) and blend.

The same decomposition lets the memory read contract features and values over
the integer window (ops/roi.py) and move the blend onto the small logit/weight
tensors, never materialising the (B, C, P*P, H, W) bilinear columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .window import check_window, window_size


@dataclass(frozen=True)
class IntegerWindow:
    """Where each query pixel's (P+1)x(P+1) integer window starts, and the blend weights.

    base_y, base_x: (B, rows, W) long, the window's top-left key pixel (may lie outside the key).
    frac_x, frac_y: (B, rows*W) fractional offsets in [0, 1) (differentiable w.r.t. the offset).
    """

    base_y: Tensor
    base_x: Tensor
    frac_x: Tensor
    frac_y: Tensor
    radius: int

    @property
    def side(self) -> int:
        return window_size(self.radius) + 1

    def table_index(self, key_hw: tuple[int, int]) -> Tensor:
        """(B, rows*W, side^2) rows of ``channels_last_table``; out-of-image -> the zero row."""
        b, rows, width = self.base_y.shape
        height_k, width_k = key_hw
        steps = torch.arange(self.side, device=self.base_y.device)
        col = self.base_x.unsqueeze(-1).unsqueeze(-2) + steps.view(1, 1, 1, 1, -1)
        row = self.base_y.unsqueeze(-1).unsqueeze(-1) + steps.view(1, 1, 1, -1, 1)
        inside = (col >= 0) & (col < width_k) & (row >= 0) & (row < height_k)
        batch = torch.arange(b, device=col.device).view(b, 1, 1, 1, 1)
        flat = (batch * height_k + row) * width_k + col
        index = torch.where(inside, flat, torch.full_like(flat, b * height_k * width_k))
        return index.reshape(b, rows * width, self.side**2)


def _check_offset(x: Tensor, offset: Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"expected a (B,C,H,W) tensor, got {tuple(x.shape)}")
    b, _, h, w = x.shape
    if offset.dim() != 4 or offset.shape[0] != b or offset.shape[-1] != 2:
        raise ValueError(f"offset must be (B,h,w,2) as (x, y) with B={b}, got {tuple(offset.shape)}")


def integer_window(offset: Tensor, radius: int, row_start: int = 0) -> IntegerWindow:
    """Integer windows of query rows ``row_start .. row_start + offset.shape[1]``.

    ``offset`` is (B, rows, W, 2) in pixels (x, y).
    """
    b, rows, width, _ = offset.shape
    device = offset.device
    ys = torch.arange(row_start, row_start + rows, device=device, dtype=offset.dtype).view(1, rows, 1)
    xs = torch.arange(width, device=device, dtype=offset.dtype).view(1, 1, width)
    pos_x = xs + offset[..., 0]
    pos_y = ys + offset[..., 1]
    floor_x = torch.floor(pos_x.detach())
    floor_y = torch.floor(pos_y.detach())
    # The blend weights carry the gradient w.r.t. the offset (floor is piecewise constant).
    return IntegerWindow(
        base_y=floor_y.long() - radius,
        base_x=floor_x.long() - radius,
        frac_x=(pos_x - floor_x).reshape(b, rows * width),
        frac_y=(pos_y - floor_y).reshape(b, rows * width),
        radius=radius,
    )


def channels_last_table(x: Tensor) -> Tensor:
    """(B,C,H,W) -> (B*H*W + 1, C) rows of features, the last row zeros (out-of-image)."""
    b, c, h, w = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(b * h * w, c)
    return torch.cat([rows, rows.new_zeros(1, c)], dim=0)


def _blend_weights(win: IntegerWindow, like: Tensor) -> tuple[Tensor, Tensor]:
    extra = like.dim() - 4
    shape = win.frac_x.shape + (1, 1) + (1,) * extra
    return win.frac_x.view(shape).to(like.dtype), win.frac_y.view(shape).to(like.dtype)


def blend(window_values: Tensor, win: IntegerWindow) -> Tensor:
    """(B, n, S, S, ...) integer-window values -> (B, n, P, P, ...) bilinear samples.

    Two linear interpolations (along x, then y), each one fused operation.
    """
    ax, ay = _blend_weights(win, window_values)
    across = torch.lerp(window_values[:, :, :, :-1], window_values[:, :, :, 1:], ax)
    return torch.lerp(across[:, :, :-1], across[:, :, 1:], ay)


def spread(weights: Tensor, win: IntegerWindow) -> Tensor:
    """Transpose of ``blend``: (B, n, P, P) candidate weights -> (B, n, S, S) integer-window weights."""
    b, n, p, _ = weights.shape
    ax, ay = _blend_weights(win, weights)
    out = weights.new_zeros(b, n, p + 1, p + 1)
    for dy, wy in ((0, 1 - ay), (1, ay)):
        for dx, wx in ((0, 1 - ax), (1, ax)):
            out[:, :, dy : dy + p, dx : dx + p].addcmul_(weights, wy * wx)
    return out


def bilinear_window_gather(x: Tensor, offset: Tensor, radius: int) -> Tensor:
    """(B,C,H,W), offset (B,H,W,2) as (x,y) -> (B,C,P*P,H,W) bilinear samples.

    Candidate (i, j) of pixel (X, Y) samples x at (X + offset_x + j - R, Y + offset_y + i - R),
    zero outside the image: the official deform_im2col without its normalise/unnormalise round trip.
    """
    check_window(radius, 1)
    _check_offset(x, offset)
    b, c, h, w = x.shape
    if tuple(offset.shape[1:3]) != (h, w):
        raise ValueError(f"offset grid {tuple(offset.shape[1:3])} must match the image {h}x{w}")
    size = window_size(radius)
    win = integer_window(offset, radius)
    table = channels_last_table(x)
    window_values = table[win.table_index((h, w)).reshape(-1)].view(b, h * w, size + 1, size + 1, c)
    samples = blend(window_values, win)  # (B, n, P, P, C)
    return samples.permute(0, 4, 2, 3, 1).reshape(b, c, size * size, h, w)
