"""Candidate selection in the joint softmax: excluded outside candidates, disk windows, top-k.

An independent loop over query pixels and candidates (no ops code) is the reference.
"""

from __future__ import annotations

import math

import pytest
import torch

from mast_bench.ops import MemoryEntry, memory_read

B, C, H, W, CV, R = 1, 3, 5, 6, 2, 2


def _naive(query, full, window, disk, top_k, temperature):
    out = torch.zeros(B, CV, H, W, dtype=query.dtype)
    for y in range(H):
        for x in range(W):
            logits, values = [], []
            for yy in range(H):  # the full entry: every key position
                for xx in range(W):
                    logits.append(query[0, :, y, x] @ full[0][0, :, yy, xx] / temperature)
                    values.append(full[1][0, :, yy, xx])
            for di in range(-R, R + 1):  # the window entry: real positions inside the disk only
                for dj in range(-R, R + 1):
                    yy, xx = y + di, x + dj
                    inside = 0 <= yy < H and 0 <= xx < W
                    if not inside or (disk is not None and math.hypot(di, dj) >= disk):
                        continue
                    logits.append(query[0, :, y, x] @ window[0][0, :, yy, xx] / temperature)
                    values.append(window[1][0, :, yy, xx])
            logit, value = torch.stack(logits), torch.stack(values)
            if top_k is not None:
                best = torch.topk(logit, top_k).indices
                logit, value = logit[best], value[best]
            out[0, :, y, x] = (torch.softmax(logit, 0)[:, None] * value).sum(0)
    return out


@pytest.mark.parametrize(
    "disk,top_k,temperature", [(None, None, 0.5), (2.5, None, 1.0), (2.0, 4, 0.07), (None, 3, 0.1)]
)
def test_selection_matches_a_plain_loop(disk, top_k, temperature):
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    query = rand(B, C, H, W)
    full, window = (rand(B, C, H, W), rand(B, CV, H, W)), (rand(B, C, H, W), rand(B, CV, H, W))
    entries = [
        MemoryEntry(*full, "full", outside="excluded"),
        MemoryEntry(*window, "window", R, outside="excluded", disk_radius=disk),
    ]
    ours = memory_read(query, entries, scale=1 / temperature, top_k=top_k, chunk_rows=2)
    expected = _naive(query, full, window, disk, top_k, temperature)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)


def test_zero_outside_is_the_mast_default_and_differs_from_excluded():
    gen = torch.Generator().manual_seed(1)
    query, key, value = (torch.randn(1, C, H, W, generator=gen) for _ in range(3))
    zero = memory_read(query, [MemoryEntry(key, value, "window", R)])
    excluded = memory_read(query, [MemoryEntry(key, value, "window", R, outside="excluded")])
    inner = (slice(None), slice(None), slice(R, H - R), slice(R, W - R))
    torch.testing.assert_close(zero[inner], excluded[inner])  # no candidate outside: same
    assert not torch.allclose(zero, excluded)  # at the border the zero-logit candidates matter


def test_bad_selection_arguments_are_refused():
    x = torch.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="top_k"):
        memory_read(x, [MemoryEntry(x, x, "window", 1)], top_k=0)
    with pytest.raises(ValueError, match="outside"):
        memory_read(x, [MemoryEntry(x, x, "window", 1, outside="reflect")])
    roi = MemoryEntry(x, x, "window", 1, offset=torch.zeros(1, 4, 4, 2), outside="excluded")
    with pytest.raises(ValueError, match="ROI"):
        memory_read(x, [roi])
