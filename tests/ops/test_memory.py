"""memory_read equals the official concatenate-softmax-sum for every mix of entries."""

from __future__ import annotations

import math

import pytest
import torch
from support.ops_reference import official_memory_read

from mast_bench.ops import MemoryEntry, memory_read

F64 = torch.float64
B, C, H, W, CV = 2, 4, 9, 11, 3


def _rand(*shape, gen):
    return torch.randn(*shape, generator=gen, dtype=F64)


def _mixed_entries(seed=0):
    gen = torch.Generator().manual_seed(seed)
    query = _rand(B, C, H, W, gen=gen)
    entries = [
        MemoryEntry(_rand(B, C, H, W, gen=gen), _rand(B, CV, H, W, gen=gen), "window", radius=2),
        MemoryEntry(_rand(B, C, H, W, gen=gen), _rand(B, CV, H, W, gen=gen), "window", radius=1, dilation=3),
        MemoryEntry(
            _rand(B, C, H, W, gen=gen),
            _rand(B, CV, H, W, gen=gen),
            "window",
            radius=2,
            offset=_rand(B, H, W, 2, gen=gen) * 3,
        ),
        MemoryEntry(
            _rand(B, C, H, W, gen=gen),
            _rand(B, CV, H, W, gen=gen),
            "window",
            radius=2,
            offset=_rand(B, H, W, 2, gen=gen) * 3,
            value_offset=_rand(B, H, W, 2, gen=gen) * 2,
        ),
        MemoryEntry(_rand(B, C, 5, 6, gen=gen), _rand(B, CV, 5, 6, gen=gen), "full"),
    ]
    return query, entries


@pytest.mark.parametrize(
    "pick",
    [[0], [2], [4], [0, 1], [2, 3], [0, 2, 4], [0, 1, 2, 3, 4]],
    ids=["window", "roi", "full", "two-windows", "two-rois", "window-roi-full", "all"],
)
def test_equals_official_computation(pick):
    query, entries = _mixed_entries()
    chosen = [entries[n] for n in pick]
    expected = official_memory_read(query, chosen)
    torch.testing.assert_close(memory_read(query, chosen), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("chunk_rows", [1, 2, 4, 5, 9, 100])
def test_chunking_does_not_change_the_result(chunk_rows):
    query, entries = _mixed_entries(seed=1)
    whole = memory_read(query, entries, chunk_rows=H)
    torch.testing.assert_close(memory_read(query, entries, chunk_rows=chunk_rows), whole, rtol=0, atol=1e-14)


def test_a_tiny_budget_splits_rows_and_roi_pixels_without_changing_the_result():
    query, entries = _mixed_entries(seed=2)
    expected = official_memory_read(query, entries)
    torch.testing.assert_close(memory_read(query, entries, budget_elements=10), expected, rtol=0, atol=1e-12)


def test_scale_multiplies_the_logits():
    query, entries = _mixed_entries(seed=3)
    scale = 1 / math.sqrt(C)
    expected = official_memory_read(query, entries, scale=scale)
    torch.testing.assert_close(memory_read(query, entries, scale=scale), expected, rtol=0, atol=1e-12)
    # and equals reading with a query scaled by the same factor (logits are linear in the query)
    torch.testing.assert_close(memory_read(query * scale, entries), expected, rtol=0, atol=1e-12)


def test_roi_window_covering_exactly_the_frame_equals_full_memory():
    # A P x P frame and, for every pixel, the offset that centres its P x P window on the frame's
    # centre: each pixel's bilinear window then samples every key pixel exactly once, at integer
    # positions (no interpolation) and never outside (no zero candidates). Softmax and the weighted
    # sum do not depend on the order of candidates, so ROI must equal full memory.
    radius, size = 2, 5
    gen = torch.Generator().manual_seed(4)
    query, key, value = (
        _rand(1, 3, size, size, gen=gen),
        _rand(1, 3, size, size, gen=gen),
        _rand(1, 2, size, size, gen=gen),
    )
    ys, xs = torch.meshgrid(torch.arange(size, dtype=F64), torch.arange(size, dtype=F64), indexing="ij")
    offset = torch.stack([radius - xs, radius - ys], dim=-1).unsqueeze(0)
    roi = memory_read(query, [MemoryEntry(key, value, "window", radius, offset=offset)])
    full = memory_read(query, [MemoryEntry(key, value, "full")])
    torch.testing.assert_close(roi, full, rtol=0, atol=1e-12)


def test_plain_window_covering_the_frame_equals_full_memory_plus_zero_candidates():
    # With offset 0 and R >= frame size, a window holds every key pixel plus out-of-image
    # candidates with logit 0 and value 0 (official semantics): same as full memory with
    # (P*P - H*W) extra exp(0) terms in the softmax denominator.
    gen = torch.Generator().manual_seed(5)
    query, key, value = _rand(1, 3, 3, 4, gen=gen), _rand(1, 3, 3, 4, gen=gen), _rand(1, 2, 3, 4, gen=gen)
    radius = 4
    window = memory_read(query, [MemoryEntry(key, value, "window", radius)])
    logits = torch.einsum("cn,cm->nm", query[0].flatten(1), key[0].flatten(1))  # (query, key) pixels
    extra = (2 * radius + 1) ** 2 - 12
    denominator = logits.exp().sum(1, keepdim=True) + extra
    expected = ((logits.exp() / denominator) @ value[0].flatten(1).T).T.reshape(1, 2, 3, 4)
    torch.testing.assert_close(window, expected, rtol=0, atol=1e-12)


def test_value_offset_only_moves_where_values_are_read():
    query, entries = _mixed_entries(seed=6)
    roi = entries[2]
    moved = MemoryEntry(
        roi.key, roi.value, "window", roi.radius, offset=roi.offset, value_offset=roi.offset + 1.5
    )
    # explicit value_offset == offset is the default
    same = MemoryEntry(roi.key, roi.value, "window", roi.radius, offset=roi.offset, value_offset=roi.offset)
    torch.testing.assert_close(memory_read(query, [entries[0], same]), memory_read(query, [entries[0], roi]))
    # weights still come from `offset`: the official computation with values gathered at value_offset
    expected = official_memory_read(query, [entries[0], moved])
    result = memory_read(query, [entries[0], moved])
    torch.testing.assert_close(result, expected, rtol=0, atol=1e-12)
    assert not torch.allclose(result, memory_read(query, [entries[0], roi]))
    # with zero values in the ROI entry, value_offset cannot matter at all: the weights are unchanged
    silent = MemoryEntry(roi.key, torch.zeros_like(roi.value), "window", roi.radius, offset=roi.offset)
    silent_moved = MemoryEntry(
        roi.key,
        torch.zeros_like(roi.value),
        "window",
        roi.radius,
        offset=roi.offset,
        value_offset=roi.offset + 1.5,
    )
    torch.testing.assert_close(
        memory_read(query, [entries[0], silent]), memory_read(query, [entries[0], silent_moved])
    )


def test_gradcheck_wrt_query_and_keys():
    gen = torch.Generator().manual_seed(7)
    b, c, h, w = 1, 2, 3, 4
    query = _rand(b, c, h, w, gen=gen).requires_grad_(True)
    key_window = _rand(b, c, h, w, gen=gen).requires_grad_(True)
    key_roi = _rand(b, c, h, w, gen=gen).requires_grad_(True)
    key_full = _rand(b, c, 2, 2, gen=gen).requires_grad_(True)
    value_window = _rand(b, 1, h, w, gen=gen).requires_grad_(True)
    values = [_rand(b, 1, h, w, gen=gen), _rand(b, 1, 2, 2, gen=gen)]
    offset = torch.full((b, h, w, 2), 0.4, dtype=F64) + torch.arange(w, dtype=F64).view(1, 1, w, 1) * 0.1

    def read(q, kw, kr, kf, vw):
        entries = [
            MemoryEntry(kw, vw, "window", 1, dilation=2),
            MemoryEntry(kr, values[0], "window", 1, offset=offset),
            MemoryEntry(kf, values[1], "full"),
        ]
        return memory_read(q, entries, scale=0.7, chunk_rows=2)

    assert torch.autograd.gradcheck(read, (query, key_window, key_roi, key_full, value_window))


def test_training_shaped_gradient_equals_official_autograd():
    # kind "window", radius 6, one colour channel: the training path, smaller frame and batch.
    gen = torch.Generator().manual_seed(8)
    query = _rand(2, 8, 12, 10, gen=gen).requires_grad_(True)
    key = _rand(2, 8, 12, 10, gen=gen).requires_grad_(True)
    value = _rand(2, 1, 12, 10, gen=gen)
    target = _rand(2, 1, 12, 10, gen=gen)
    ours = memory_read(query, [MemoryEntry(key, value, "window", 6)])
    (ours - target).square().sum().backward()
    grads = query.grad.clone(), key.grad.clone()
    query.grad = key.grad = None
    theirs = official_memory_read(query, [MemoryEntry(key, value, "window", 6)])
    (theirs - target).square().sum().backward()
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    torch.testing.assert_close(grads[0], query.grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(grads[1], key.grad, rtol=0, atol=1e-10)


def test_bad_entries_are_refused_naming_the_entry():
    query, entries = _mixed_entries()
    with pytest.raises(ValueError, match="at least one"):
        memory_read(query, [])
    with pytest.raises(ValueError, match="entry 0.*kind"):
        memory_read(query, [MemoryEntry(entries[0].key, entries[0].value, "roi", 2)])
    with pytest.raises(ValueError, match="entry 1.*key grid"):
        memory_read(query, [entries[0], MemoryEntry(entries[4].key, entries[4].value, "window", 1)])
    with pytest.raises(ValueError, match="same channel count"):
        memory_read(query, [entries[0], MemoryEntry(entries[1].key, entries[1].value[:, :1], "window", 1)])
    with pytest.raises(ValueError, match="dilation 1"):
        memory_read(
            query, [MemoryEntry(entries[2].key, entries[2].value, "window", 2, 2, offset=entries[2].offset)]
        )
    with pytest.raises(ValueError, match="chunk_rows"):
        memory_read(query, entries, chunk_rows=0)
