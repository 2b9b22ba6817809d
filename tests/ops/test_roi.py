"""Integer-window (ROI) operators: tiled matmuls equal a plain per-pixel gather."""

from __future__ import annotations

import pytest
import torch
from support.ops_reference import official_memory_read

from mast_bench.ops import MemoryEntry, memory_read
from mast_bench.ops.bilinear import channels_last_table, integer_window
from mast_bench.ops.roi import roi_aggregate, roi_corr, roi_scatter

F64 = torch.float64


def _setup(radius, spread, seed=0, b=2, c=3, h=7, w=9, cv=2):
    gen = torch.Generator().manual_seed(seed)
    query = torch.randn(b, c, h, w, generator=gen, dtype=F64)
    key = torch.randn(b, c, h, w, generator=gen, dtype=F64)
    values = torch.randn(b, cv, h, w, generator=gen, dtype=F64)
    offset = torch.randn(b, h, w, 2, generator=gen, dtype=F64) * spread
    return query, key, values, integer_window(offset, radius)


def _gathered(x, win):
    """(B, n, side^2, C): each pixel's integer window by direct indexing (zeros outside)."""
    b, c, h, w = x.shape
    index = win.table_index((h, w))
    return channels_last_table(x)[index.reshape(-1)].view(b, index.shape[1], index.shape[2], c)


# spread 30 scatters windows across (and off) the frame so tiles are split down to single pixels
@pytest.mark.parametrize("radius,spread", [(0, 0.5), (1, 2.0), (2, 30.0), (3, 1.0)])
def test_roi_ops_equal_per_pixel_gather(radius, spread):
    query, key, values, win = _setup(radius, spread, seed=radius)
    b, c, h, w = query.shape
    side = win.side
    windows = _gathered(key, win)
    expected_logits = torch.einsum("bnkc,bcn->bnk", windows, query.flatten(2))
    logits = roi_corr(query, key, win.base_y, win.base_x, side)
    torch.testing.assert_close(logits, expected_logits, rtol=0, atol=1e-12)

    weights = torch.randn(b, h * w, side * side, dtype=F64)
    expected_values = torch.einsum("bnk,bnkc->bcn", weights, _gathered(values, win)).view(b, -1, h, w)
    aggregated = roi_aggregate(weights, values, win.base_y, win.base_x, side)
    torch.testing.assert_close(aggregated, expected_values, rtol=0, atol=1e-12)

    # scatter is the adjoint of aggregate: <aggregate(w, v), g> == <v, scatter(w, g)>
    grid = torch.randn(b, 2, h, w, dtype=F64)
    left = (aggregated * grid).sum()
    right = (values * roi_scatter(weights, grid, win.base_y, win.base_x, side, h, w)).sum()
    torch.testing.assert_close(left, right)


def test_widely_spread_offsets_in_memory_read_equal_official():
    gen = torch.Generator().manual_seed(3)
    query = torch.randn(1, 3, 8, 10, generator=gen, dtype=F64)
    key, value = (
        torch.randn(1, 3, 8, 10, generator=gen, dtype=F64),
        torch.randn(1, 2, 8, 10, generator=gen, dtype=F64),
    )
    offset = torch.randn(1, 8, 10, 2, generator=gen, dtype=F64) * 12
    entries = [MemoryEntry(key, value, "window", 1, offset=offset), MemoryEntry(key, value, "window", 1)]
    torch.testing.assert_close(
        memory_read(query, entries), official_memory_read(query, entries), rtol=0, atol=1e-12
    )


def test_roi_ops_gradcheck_and_opcheck():
    query, key, values, win = _setup(1, 1.5, seed=9, b=1, c=2, h=3, w=4)
    query.requires_grad_(True)
    key.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda q, k: roi_corr(q, k, win.base_y, win.base_x, win.side), (query, key)
    )
    weights = torch.randn(1, 12, win.side**2, dtype=F64, requires_grad=True)
    values.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda wt, v: roi_aggregate(wt, v, win.base_y, win.base_x, win.side), (weights, values)
    )
    torch.library.opcheck(roi_corr, (query, key, win.base_y, win.base_x, win.side))
    torch.library.opcheck(roi_scatter, (weights, query, win.base_y, win.base_x, win.side, 3, 4))
