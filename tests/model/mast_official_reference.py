"""Naive reference: the official Colorizer math (zlai0/MAST models/colorizer.py and
deform_im2col_util.py) re-written plainly, independent of mast_bench.ops.

Loops over window displacements instead of calling unfold/correlation kernels, so it shares no
code path with the implementation under test. Small inputs only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def correlation(f1: torch.Tensor, f2: torch.Tensor, radius: int, dilation: int = 1) -> torch.Tensor:
    """(b, P*P, h, w): out[:, i*P+j, y, x] = <f1[:, :, y, x], f2[:, :, y+(i-R)d, x+(j-R)d]>, 0 outside."""
    b, c, h, w = f1.shape
    size = 2 * radius + 1
    pad = radius * dilation
    padded = F.pad(f2, (pad, pad, pad, pad))
    out = torch.zeros(b, size * size, h, w, dtype=f1.dtype)
    for i in range(size):
        for j in range(size):
            shifted = padded[:, :, i * dilation : i * dilation + h, j * dilation : j * dilation + w]
            out[:, i * size + j] = (f1 * shifted).sum(1)
    return out


def window_values(values: torch.Tensor, radius: int) -> torch.Tensor:
    """(b, Cv, P*P, h, w) values of the window around each position, 0 outside."""
    b, c, h, w = values.shape
    size = 2 * radius + 1
    padded = F.pad(values, (radius, radius, radius, radius))
    return torch.stack([padded[:, :, i : i + h, j : j + w] for i in range(size) for j in range(size)], dim=2)


def deform_window(image: torch.Tensor, offset: torch.Tensor, radius: int) -> torch.Tensor:
    """(b, C, P*P, h, w): bilinear samples at (x + off_x + dx, y + off_y + dy), as the official
    deform_im2col: pixel grid normalised by (w-1, h-1), grid_sample(align_corners=True), zeros."""
    b, c, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    base = torch.stack([xs, ys], dim=-1).to(image.dtype)[None].expand(b, h, w, 2)
    samples = []
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            grid = base + offset + torch.tensor([dx, dy], dtype=image.dtype)
            norm = torch.stack([grid[..., 0] / (w - 1) * 2 - 1, grid[..., 1] / (h - 1) * 2 - 1], dim=-1)
            samples.append(
                F.grid_sample(image, norm, mode="bilinear", padding_mode="zeros", align_corners=True)
            )
    return torch.stack(samples, dim=2)


def coarse_offset(
    feat_t: torch.Tensor, feat_r: torch.Tensor, dilation: int, radius: int = 12
) -> torch.Tensor:
    b, _, h, w = feat_t.shape
    size = 2 * radius + 1
    prob = F.softmax(correlation(feat_t, feat_r, radius, dilation), dim=1).view(b, size, size, h, w)
    offsets = torch.zeros(b, h, w, 2, dtype=feat_t.dtype)
    for i in range(size):
        for j in range(size):
            offsets[..., 0] += prob[:, i, j] * (j - radius)
            offsets[..., 1] += prob[:, i, j] * (i - radius)
    return offsets * dilation


def official_colorizer(
    feats_r: list[torch.Tensor],
    feat_t: torch.Tensor,
    values_r: list[torch.Tensor],
    ref_index: list[int],
    current: int,
    radius: int,
    *,
    offset_bug: bool = True,
    long_term_gap: int = 15,
    coarse_radius: int = 12,
) -> torch.Tensor:
    """The official forward; ``values_r`` are already at stride 4 (b, Cv, h, w).
    ``offset_bug=False`` gathers each long-term reference's values with its own offset."""
    long_refs = [k for k, r in enumerate(ref_index) if current - r > long_term_gap]
    logits, values = [], []
    offsets = []
    for k in long_refs:  # the official code assumes long-term references come first
        dilation = min(4, (current - ref_index[k]) // long_term_gap + 1)
        offset = coarse_offset(feat_t, feats_r[k], dilation, coarse_radius)
        offsets.append(offset)
        logits.append((feat_t.unsqueeze(2) * deform_window(feats_r[k], offset, radius)).sum(1))
    for k in range(len(long_refs), len(feats_r)):
        logits.append(correlation(feat_t, feats_r[k], radius))
    for n, k in enumerate(long_refs):
        values.append(deform_window(values_r[k], offsets[-1] if offset_bug else offsets[n], radius))
    for k in range(len(long_refs), len(feats_r)):
        values.append(window_values(values_r[k], radius))
    weights = F.softmax(torch.cat(logits, 1), dim=1)
    return (weights.unsqueeze(1) * torch.cat(values, 2)).sum(2)
