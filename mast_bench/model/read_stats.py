"""How peaked a windowed read is: its softmax weights and the number of candidates they spread over.

A softmax over raw dot products only picks a match when the logits of one query differ by more than
about one; features that were never trained to be comparable (random init, Lab pixels scaled to
[-1, 1]) give a nearly uniform read, which averages the labels of the whole window. These numbers
say which of the two a set of weights does (benchmarks/read_sharpness.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..ops.window import local_correlation, window_gather


def read_weights(query: Tensor, key: Tensor, radius: int, scale: float) -> Tensor:
    """(B,C,H,W) x (B,C,H,W) -> (B,P*P,H,W): softmax over each query's in-image candidates of
    ``scale`` times the dot products (out-of-image candidates weigh 0)."""
    logits = local_correlation(query, key, radius) * scale
    inside = in_image(key, radius)
    return logits.masked_fill(~inside, float("-inf")).softmax(dim=1)


def in_image(key: Tensor, radius: int) -> Tensor:
    """(B,C,H,W) -> (B,P*P,H,W) bool: which of each query's window candidates lie in the image."""
    return window_gather(torch.ones_like(key[:, :1]), radius)[:, 0] > 0


def effective_candidates(weights: Tensor) -> Tensor:
    """(B,P*P,H,W) -> (B,H,W): exp of each query's entropy, i.e. how many equally weighted
    candidates would give it (1: one match; the window's in-image count: uniform)."""
    logs = weights.clamp_min(torch.finfo(weights.dtype).tiny).log()
    return torch.exp(-(weights * logs).sum(dim=1))
