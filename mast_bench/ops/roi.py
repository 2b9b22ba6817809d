"""Contractions over per-pixel *integer* windows (the ROI fine step), as custom operators.

Each query pixel p of a band of rows owns a side x side window of key pixels
starting at (base_y[p], base_x[p]) (outside the key grid: zeros). Three ops:

- ``roi_corr``:      logits[b, p, k] = sum_c q[b,c,p] * key[b,c, window_p[k]]
- ``roi_aggregate``: out[b, c, p]    = sum_k w[b,p,k] * values[b,c, window_p[k]]
- ``roi_scatter``:   out[b, c, window_p[k]] += w[b,p,k] * g[b,c,p]

Gathering side^2 feature vectors per pixel is memory-bound and slow; instead a
tile of neighbouring query pixels is multiplied densely (one bmm) against the
bounding box of its windows -- neighbours look at overlapping places -- and the
needed entries are picked from the small product. Tiles whose box is too large
(diverging offsets) are split. That is the reference implementation; on CPU and
CUDA tensors the native kernels run instead (ops/kernels.py chooses). The three ops,
each other's gradients, are defined from one table (adjoint_ops.py); FLOP formulas
give the nominal work (2 * B * C * side^2 * pixels), independent of the tiling.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .adjoint_ops import AdjointFamily, OpSpec, define_family

TILE_COLUMNS = 16


@dataclass(frozen=True)
class _Tile:
    rows: slice  # query rows of the band
    cols: slice  # query columns
    box_rows: slice  # key rows of the bounding box
    box_cols: slice
    local: Tensor  # (B, n_tile, side^2) index into the box (box size = zero column)

    @property
    def box_size(self) -> int:
        return (self.box_rows.stop - self.box_rows.start) * (self.box_cols.stop - self.box_cols.start)


def _tiles(base_y: Tensor, base_x: Tensor, side: int, key_hw: tuple[int, int]) -> Iterator[_Tile]:
    """Tiles of query pixels with the key box their windows fall in (skipping all-outside tiles)."""
    height, width = key_hw
    _, rows, cols = base_y.shape
    max_box = 4 * side * side
    steps = torch.arange(side, device=base_y.device)
    pending = [(0, rows, c, min(cols, c + TILE_COLUMNS)) for c in range(0, cols, TILE_COLUMNS)]
    while pending:
        ra, rb, ca, cb = pending.pop()
        by, bx = base_y[:, ra:rb, ca:cb], base_x[:, ra:rb, ca:cb]
        extremes = torch.stack([by.min(), by.max(), bx.min(), bx.max()]).tolist()
        lo_y, hi_y, lo_x, hi_x = (int(v) for v in extremes)
        r0, r1 = max(0, lo_y), min(height, hi_y + side)
        c0, c1 = max(0, lo_x), min(width, hi_x + side)
        if r0 >= r1 or c0 >= c1:
            continue
        box = (r1 - r0) * (c1 - c0)
        if box > max_box and (cb - ca > 1 or rb - ra > 1):
            if cb - ca >= rb - ra:
                mid = (ca + cb) // 2
                pending += [(ra, rb, ca, mid), (ra, rb, mid, cb)]
            else:
                mid = (ra + rb) // 2
                pending += [(ra, mid, ca, cb), (mid, rb, ca, cb)]
            continue
        row = by.reshape(by.shape[0], -1, 1, 1) + steps.view(1, 1, side, 1)
        col = bx.reshape(bx.shape[0], -1, 1, 1) + steps.view(1, 1, 1, side)
        inside = (row >= r0) & (row < r1) & (col >= c0) & (col < c1)
        local = torch.where(inside, (row - r0) * (c1 - c0) + (col - c0), torch.full_like(row, box))
        yield _Tile(slice(ra, rb), slice(ca, cb), slice(r0, r1), slice(c0, c1), local.flatten(2))


def _dense_weights(weights_tile: Tensor, tile: _Tile) -> Tensor:
    """(B, n, side^2) window weights -> (B, n, box) weights on the tile's key box."""
    b, n, _ = weights_tile.shape
    dense = weights_tile.new_zeros(b, n, tile.box_size + 1)
    dense.scatter_add_(2, tile.local, weights_tile)
    return dense[..., :-1]


def _check(name: str, band: Tensor, base_y: Tensor, base_x: Tensor) -> None:
    if base_y.shape != base_x.shape or base_y.shape != (band.shape[0], *band.shape[-2:]):
        raise ValueError(
            f"{name}: window bases {tuple(base_y.shape)} do not match the band {tuple(band.shape)}"
        )


def _check_weights(name: str, weights: Tensor, base_y: Tensor, side: int) -> None:
    b, rows, cols = base_y.shape
    if weights.dim() != 3 or tuple(weights.shape) != (b, rows * cols, side * side):
        expected = (b, rows * cols, side * side)
        raise ValueError(f"{name}: weights {tuple(weights.shape)} must be (B, rows*W, side^2) = {expected}")


def _corr_reference(query: Tensor, key: Tensor, base_y: Tensor, base_x: Tensor, side: int) -> Tensor:
    b, c, rows, cols = query.shape
    dtype = torch.promote_types(query.dtype, key.dtype)
    out = query.new_zeros(b, rows, cols, side * side)
    for tile in _tiles(base_y, base_x, side, tuple(key.shape[-2:])):
        q = query[:, :, tile.rows, tile.cols].reshape(b, c, -1).to(dtype)
        box = key[:, :, tile.box_rows, tile.box_cols].reshape(b, c, -1).to(dtype)
        product = F.pad(torch.bmm(q.transpose(1, 2), box), (0, 1))
        picked = product.gather(2, tile.local)
        out[:, tile.rows, tile.cols] = picked.view(b, tile.rows.stop - tile.rows.start, -1, side * side)
    return out.view(b, rows * cols, side * side)


def _aggregate_reference(
    weights: Tensor, values: Tensor, base_y: Tensor, base_x: Tensor, side: int
) -> Tensor:
    b, rows, cols = base_y.shape
    cv = values.shape[1]
    dtype = torch.promote_types(weights.dtype, values.dtype)
    per_pixel = weights.view(b, rows, cols, side * side)
    out = values.new_zeros(b, cv, rows, cols)
    for tile in _tiles(base_y, base_x, side, tuple(values.shape[-2:])):
        dense = _dense_weights(per_pixel[:, tile.rows, tile.cols].reshape(b, -1, side * side), tile)
        box = values[:, :, tile.box_rows, tile.box_cols].reshape(b, cv, -1)
        result = torch.bmm(box.to(dtype), dense.to(dtype).transpose(1, 2))
        out[:, :, tile.rows, tile.cols] = result.view(b, cv, tile.rows.stop - tile.rows.start, -1)
    return out


def _scatter_reference(
    weights: Tensor, grid: Tensor, base_y: Tensor, base_x: Tensor, side: int, height: int, width: int
) -> Tensor:
    b, c, rows, cols = grid.shape
    dtype = torch.promote_types(weights.dtype, grid.dtype)
    per_pixel = weights.view(b, rows, cols, side * side)
    out = grid.new_zeros(b, c, height, width)
    for tile in _tiles(base_y, base_x, side, (height, width)):
        dense = _dense_weights(per_pixel[:, tile.rows, tile.cols].reshape(b, -1, side * side), tile)
        g = grid[:, :, tile.rows, tile.cols].reshape(b, c, -1)
        box_h = tile.box_rows.stop - tile.box_rows.start
        out[:, :, tile.box_rows, tile.box_cols] += torch.bmm(g.to(dtype), dense.to(dtype)).view(
            b, c, box_h, -1
        )
    return out


def _check_corr(query: Tensor, key: Tensor, base_y: Tensor, base_x: Tensor, side: int) -> None:
    _check("roi_corr", query, base_y, base_x)


def _check_aggregate(weights: Tensor, values: Tensor, base_y: Tensor, base_x: Tensor, side: int) -> None:
    _check_weights("roi_aggregate", weights, base_y, side)


def _check_scatter(weights: Tensor, grid: Tensor, base_y: Tensor, base_x: Tensor, side: int, *size) -> None:
    _check("roi_scatter", grid, base_y, base_x)
    _check_weights("roi_scatter", weights, base_y, side)


def _fake_corr(query, key, base_y, base_x, side):
    return query.new_empty(query.shape[0], query.shape[2] * query.shape[3], side * side)


def _fake_aggregate(weights, values, base_y, base_x, side):
    b, rows, cols = base_y.shape
    return values.new_empty(b, values.shape[1], rows, cols)


def _fake_scatter(weights, grid, base_y, base_x, side, height, width):
    return grid.new_empty(grid.shape[0], grid.shape[1], height, width)


def _flops(first_shape, second_shape, base_y_shape, base_x_shape, side, *args, **kwargs) -> int:
    """2 * B * C * side^2 * pixels: C the channels of the read (the 4-D input's, the values' for
    aggregate), pixels those of the band."""
    b, rows, cols = base_y_shape
    channels = (first_shape if len(first_shape) == 4 else second_shape)[1]
    return 2 * b * channels * side * side * rows * cols


_GEOMETRY = "Tensor base_y, Tensor base_x, int side"
roi_corr, roi_aggregate, roi_scatter = define_family(
    AdjointFamily(
        corr=OpSpec(
            "roi_corr",
            f"(Tensor query, Tensor key, {_GEOMETRY}) -> Tensor",
            _check_corr,
            _corr_reference,
            _fake_corr,
            _flops,
        ),
        aggregate=OpSpec(
            "roi_aggregate",
            f"(Tensor weights, Tensor values, {_GEOMETRY}) -> Tensor",
            _check_aggregate,
            _aggregate_reference,
            _fake_aggregate,
            _flops,
        ),
        scatter=OpSpec(
            "roi_scatter",
            f"(Tensor weights, Tensor grid, {_GEOMETRY}, int height, int width) -> Tensor",
            _check_scatter,
            _scatter_reference,
            _fake_scatter,
            _flops,
        ),
        geometry=3,
        size=lambda tensor: (tensor.shape[-2], tensor.shape[-1]),  # the gradient's key grid
    )
)
