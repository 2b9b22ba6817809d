"""Naive, obviously-correct references for the ops tests (explicit loops, official-style code)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def loop_correlation(query, key, radius, dilation=1):
    """out[b, i*P+j, y, x] = sum_c q[b,c,y,x] * k[b,c,y+(i-R)d, x+(j-R)d], 0 outside: explicit loops."""
    b, _, h, w = query.shape
    size = 2 * radius + 1
    out = torch.zeros(b, size * size, h, w, dtype=query.dtype)
    for n in range(b):
        for i in range(size):
            for j in range(size):
                for y in range(h):
                    for x in range(w):
                        yy, xx = y + (i - radius) * dilation, x + (j - radius) * dilation
                        if 0 <= yy < h and 0 <= xx < w:
                            out[n, i * size + j, y, x] = torch.dot(query[n, :, y, x], key[n, :, yy, xx])
    return out


def loop_window_gather(values, radius, dilation=1):
    b, c, h, w = values.shape
    size = 2 * radius + 1
    out = torch.zeros(b, c, size * size, h, w, dtype=values.dtype)
    for i in range(size):
        for j in range(size):
            for y in range(h):
                for x in range(w):
                    yy, xx = y + (i - radius) * dilation, x + (j - radius) * dilation
                    if 0 <= yy < h and 0 <= xx < w:
                        out[:, :, i * size + j, y, x] = values[:, :, yy, xx]
    return out


def unfold_correlation(query, key, radius, dilation=1):
    """The 'unfold' formulation (materialises (B,C,P*P,H,W)); fine at test sizes."""
    b, c, h, w = query.shape
    size = 2 * radius + 1
    cols = F.unfold(key, size, dilation=dilation, padding=radius * dilation).view(b, c, size * size, h, w)
    return (query.unsqueeze(2) * cols).sum(1)


def official_deform_im2col(im, offset, kernel_size):
    """MAST's models/deform_im2col_util.py semantics, rewritten: P*P grids, one grid_sample.

    Returns (B, C, P*P, H, W) (the official (B, C*N, H*W) reshaped as the colorizer does).
    """
    b, c, h, w = im.shape
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    grid = torch.stack([xs, ys], dim=-1).to(im.dtype).unsqueeze(0).expand(b, h, w, 2)
    n = kernel_size * kernel_size
    grids = torch.zeros(b * n, h, w, 2, dtype=im.dtype)
    for dy in range(kernel_size):
        for dx in range(kernel_size):
            shift = torch.tensor([dx - kernel_size // 2, dy - kernel_size // 2], dtype=im.dtype)
            grids[(dy * kernel_size + dx) * b : (dy * kernel_size + dx + 1) * b] = grid + offset + shift
    normalised = torch.zeros_like(grids)
    normalised[..., 0] = grids[..., 0] / (w - 1) * 2 - 1
    normalised[..., 1] = grids[..., 1] / (h - 1) * 2 - 1
    out = F.grid_sample(
        im.repeat(n, 1, 1, 1), normalised, mode="bilinear", padding_mode="zeros", align_corners=True
    )
    return out.reshape(n, b, c, h * w).permute(1, 2, 0, 3).reshape(b, c, n, h, w)


def loop_bilinear(x, px, py):
    """Bilinear sample of x (C,H,W) at one point, zero outside: the textbook 4-corner formula."""
    c, h, w = x.shape
    x0, y0 = int(torch.floor(torch.as_tensor(px))), int(torch.floor(torch.as_tensor(py)))
    ax, ay = float(px) - x0, float(py) - y0
    out = torch.zeros(c, dtype=x.dtype)
    for yy, wy in ((y0, 1 - ay), (y0 + 1, ay)):
        for xx, wx in ((x0, 1 - ax), (x0 + 1, ax)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * x[:, yy, xx]
    return out


def official_memory_read(query, entries, scale=1.0):
    """Colorizer.forward, rewritten: logits of every entry concatenated, one softmax, weighted values."""
    b, _, h, w = query.shape
    logits, columns = [], []
    for entry in entries:
        if entry.kind == "full":
            logits.append(torch.einsum("bcn,bcm->bmn", query.flatten(2), entry.key.flatten(2)))
            columns.append(entry.value.flatten(2).unsqueeze(-1).expand(-1, -1, -1, h * w))
        elif entry.offset is None:
            logits.append(unfold_correlation(query, entry.key, entry.radius, entry.dilation).flatten(2))
            size = 2 * entry.radius + 1
            cols = F.unfold(entry.value, size, dilation=entry.dilation, padding=entry.radius * entry.dilation)
            columns.append(cols.view(b, entry.value.shape[1], size * size, h * w))
        else:
            size = 2 * entry.radius + 1
            key_cols = official_deform_im2col(entry.key, entry.offset, size)
            logits.append((query.unsqueeze(2) * key_cols).sum(1).flatten(2))
            value_offset = entry.offset if entry.value_offset is None else entry.value_offset
            columns.append(official_deform_im2col(entry.value, value_offset, size).flatten(3))
    weights = torch.softmax(torch.cat(logits, dim=1) * scale, dim=1).unsqueeze(1)
    return (weights * torch.cat(columns, dim=2)).sum(2).view(b, -1, h, w)
