"""The coarse step of MAST's ROI localisation: soft-argmax of a dilated correlation."""

from __future__ import annotations

import torch
from torch import Tensor

from .softmax import joint_softmax
from .window import check_pair, check_window, pad_for_window, window_corr, window_size

# Logits per band (elements): 2 Mi floats = 8 MiB, small enough to stay in cache between passes.
BAND_ELEMENTS = 2 * 1024 * 1024


def _displacements(radius: int, dilation: int, like: Tensor) -> Tensor:
    """(2, P*P): the x and the y displacement of every candidate (row-major i*P + j)."""
    size = window_size(radius)
    steps = (torch.arange(size, device=like.device, dtype=like.dtype) - radius) * dilation
    return torch.stack([steps.repeat(size), steps.repeat_interleave(size)])


def soft_argmax_offset(
    query: Tensor, key: Tensor, radius: int, dilation: int, chunk_rows: int | None = None
) -> Tensor:
    """Expected displacement under softmax(dilated correlation): (B,H,W,2) as (x, y) in pixels.

    Unscaled logits and zero-valued out-of-image candidates, as the official coarse step.
    The expectation over the candidates is one small matmul. ``chunk_rows`` bounds the
    (B, P*P, rows, W) temporaries (None: a band of about BAND_ELEMENTS logits); the result
    does not depend on it beyond rounding.
    """
    check_window(radius, dilation)
    check_pair(query, key)
    b, _, h, w = query.shape
    size = window_size(radius)
    displacements = _displacements(radius, dilation, query)
    key_padded = pad_for_window(key, radius, dilation)
    rows = max(1, int(chunk_rows)) if chunk_rows is not None else max(1, BAND_ELEMENTS // (size * size * w))
    margin = 2 * radius * dilation
    parts = []
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        keys = key_padded[:, :, start : stop + margin]
        logits = window_corr(query[:, :, start:stop], keys, radius, dilation).view(b, size * size, -1)
        (prob,) = joint_softmax([logits], [1], 1.0)
        offset = torch.matmul(displacements, prob)  # (B, 2, rows*W)
        parts.append(offset.view(b, 2, stop - start, w).permute(0, 2, 3, 1))
    return torch.cat(parts, dim=1)
