"""The coarse step of MAST's ROI localisation: soft-argmax of a dilated correlation."""

from __future__ import annotations

import torch
from torch import Tensor

from .window import check_pair, check_window, pad_for_window, window_corr, window_size


def soft_argmax_offset(
    query: Tensor, key: Tensor, radius: int, dilation: int, chunk_rows: int | None = None
) -> Tensor:
    """Expected displacement under softmax(dilated correlation): (B,H,W,2) as (x, y) in pixels.

    Unscaled logits and zero-valued out-of-image candidates, as the official coarse step.
    ``chunk_rows`` bounds the (B, P*P, rows, W) temporaries; None computes all rows at once.
    """
    check_window(radius, dilation)
    check_pair(query, key)
    b, _, h, w = query.shape
    size = window_size(radius)
    steps = (torch.arange(size, device=query.device, dtype=query.dtype) - radius) * dilation
    key_padded = pad_for_window(key, radius, dilation)
    rows = h if chunk_rows is None else max(1, int(chunk_rows))
    margin = 2 * radius * dilation
    parts = []
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        keys = key_padded[:, :, start : stop + margin]
        logits = window_corr(query[:, :, start:stop], keys, radius, dilation)
        prob = torch.softmax(logits, dim=1).view(b, size, size, stop - start, w)
        dx = torch.einsum("bijyx,j->byx", prob, steps)
        dy = torch.einsum("bijyx,i->byx", prob, steps)
        parts.append(torch.stack([dx, dy], dim=-1))
    return torch.cat(parts, dim=1)
