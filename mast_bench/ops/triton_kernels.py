"""Triton kernels of the memory operators (the CUDA implementation of mast_bench::window_* / roi_*).

Same semantics as the reference implementations (ops/window.py, ops/roi.py). Every program
computes a tile of outputs and writes each element once: the adjoints (scatters) are computed in
gather form, so there are no atomics and results are deterministic. Products are accumulated in
float32 (float64 for float64 inputs) with plain multiply-adds, never TF32. Tensor strides are
passed, so any memory layout is read in place. ``tl.arange`` lengths are powers of two and every
load is masked. On CPU tensors the launchers run under Triton's interpreter (TRITON_INTERPRET=1,
set before this module is imported), which the tests use.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor


def _pow2(n: int) -> int:
    return triton.next_power_of_2(max(1, int(n)))


def _accumulator(*tensors: Tensor):
    return tl.float64 if any(t.dtype == torch.float64 for t in tensors) else tl.float32


def _blocks(device: torch.device, channels: int, width: int) -> tuple[int, int]:
    """(channel block, pixel block): small tiles on a GPU, few large programs in the interpreter
    (each interpreted loop iteration costs about the same whatever its size)."""
    if device.type == "cuda":
        return 8, 32
    return min(_pow2(channels), 64), min(_pow2(width), 64)


# --- window operators -----------------------------------------------------------------------------


@triton.jit
def _window_corr_kernel(
    q, k, out, C, H, W, P, D,
    sqb, sqc, sqy, sqx, skb, skc, sky, skx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_X: tl.constexpr,
):  # fmt: skip
    y = tl.program_id(1)
    b = (tl.program_id(2) // P).to(tl.int64)
    i = tl.program_id(2) % P
    xs = tl.program_id(0) * BLOCK_X + tl.arange(0, BLOCK_X)
    js = tl.arange(0, BLOCK_J)
    cs = tl.arange(0, BLOCK_C)
    tile_ok = (js[:, None] < P) & (xs[None, :] < W)
    kx = xs[None, :] + js[:, None] * D
    acc = tl.zeros((BLOCK_J, BLOCK_X), dtype=ACC)
    for c0 in range(0, C, BLOCK_C):
        c = c0 + cs
        c_ok = c < C
        qv = tl.load(
            q + b * sqb + c[:, None] * sqc + y * sqy + xs[None, :] * sqx,
            mask=c_ok[:, None] & (xs[None, :] < W),
            other=0.0,
        )
        kv = tl.load(
            k + b * skb + c[:, None, None] * skc + (y + i * D) * sky + kx[None, :, :] * skx,
            mask=c_ok[:, None, None] & tile_ok[None, :, :],
            other=0.0,
        )
        acc += tl.sum(qv[:, None, :].to(ACC) * kv.to(ACC), axis=0)
    offs = ((b * P * P + i * P + js[:, None]) * H + y) * W + xs[None, :]
    tl.store(out + offs, acc.to(out.dtype.element_ty), mask=tile_ok)


def window_corr(query: Tensor, key_padded: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,C,h,w) x zero-padded (B,C,h+2Rd,w+2Rd) -> (B,P*P,h,w)."""
    b, c, h, w = query.shape
    p = 2 * radius + 1
    out = query.new_empty(b, p * p, h, w)
    if out.numel() == 0:
        return out
    block_c, block_x = _blocks(query.device, c, w)
    grid = (triton.cdiv(w, block_x), h, b * p)
    _window_corr_kernel[grid](
        query, key_padded, out, c, h, w, p, dilation, *query.stride(), *key_padded.stride(),
        ACC=_accumulator(query, key_padded), BLOCK_C=block_c, BLOCK_J=_pow2(p), BLOCK_X=block_x,
    )  # fmt: skip
    return out


@triton.jit
def _window_aggregate_kernel(
    wt, v, out, C, H, W, P, D, NCB,
    swb, swk, swy, swx, svb, svc, svy, svx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_X: tl.constexpr,
):  # fmt: skip
    y = tl.program_id(1)
    b = (tl.program_id(2) // NCB).to(tl.int64)
    c = (tl.program_id(2) % NCB) * BLOCK_C + tl.arange(0, BLOCK_C)
    xs = tl.program_id(0) * BLOCK_X + tl.arange(0, BLOCK_X)
    js = tl.arange(0, BLOCK_J)
    c_ok = c < C
    tile_ok = (js[:, None] < P) & (xs[None, :] < W)
    vx = xs[None, :] + js[:, None] * D
    acc = tl.zeros((BLOCK_C, BLOCK_X), dtype=ACC)
    for i in range(0, P):
        wv = tl.load(
            wt + b * swb + (i * P + js[:, None]) * swk + y * swy + xs[None, :] * swx, mask=tile_ok, other=0.0
        )
        vv = tl.load(
            v + b * svb + c[:, None, None] * svc + (y + i * D) * svy + vx[None, :, :] * svx,
            mask=c_ok[:, None, None] & tile_ok[None, :, :],
            other=0.0,
        )
        acc += tl.sum(wv[None, :, :].to(ACC) * vv.to(ACC), axis=1)
    offs = ((b * C + c[:, None]) * H + y) * W + xs[None, :]
    tl.store(out + offs, acc.to(out.dtype.element_ty), mask=c_ok[:, None] & (xs[None, :] < W))


def window_aggregate(weights: Tensor, values_padded: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,P*P,h,w) weights x zero-padded (B,C,h+2Rd,w+2Rd) values -> (B,C,h,w)."""
    b, _, h, w = weights.shape
    c = values_padded.shape[1]
    p = 2 * radius + 1
    out = weights.new_empty(b, c, h, w)
    if out.numel() == 0:
        return out
    block_c, block_x = _blocks(weights.device, c, w)
    ncb = triton.cdiv(c, block_c)
    grid = (triton.cdiv(w, block_x), h, b * ncb)
    _window_aggregate_kernel[grid](
        weights, values_padded, out, c, h, w, p, dilation, ncb, *weights.stride(), *values_padded.stride(),
        ACC=_accumulator(weights, values_padded), BLOCK_C=block_c, BLOCK_J=_pow2(p), BLOCK_X=block_x,
    )  # fmt: skip
    return out


@triton.jit
def _window_scatter_kernel(
    wt, g, out, C, H, W, P, D, M, NCB,
    swb, swk, swy, swx, sgb, sgc, sgy, sgx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_X: tl.constexpr,
):  # fmt: skip
    # out[b, c, Y, X] = sum_ij w[b, ij, Y - i*D, X - j*D] * g[b, c, Y - i*D, X - j*D] (gather form)
    Y = tl.program_id(1)
    b = (tl.program_id(2) // NCB).to(tl.int64)
    c = (tl.program_id(2) % NCB) * BLOCK_C + tl.arange(0, BLOCK_C)
    xs = tl.program_id(0) * BLOCK_X + tl.arange(0, BLOCK_X)
    js = tl.arange(0, BLOCK_J)
    c_ok = c < C
    x_ok = xs < W + 2 * M
    acc = tl.zeros((BLOCK_C, BLOCK_X), dtype=ACC)
    for i in range(0, P):
        y = Y - i * D
        x = xs[None, :] - js[:, None] * D
        rows = y + 0 * x  # the row as a block: the interpreter mis-types scalar & block masks
        ok = (x >= 0) & (x < W) & (js[:, None] < P) & x_ok[None, :] & (rows >= 0) & (rows < H)
        wv = tl.load(wt + b * swb + (i * P + js[:, None]) * swk + y * swy + x * swx, mask=ok, other=0.0)
        gv = tl.load(
            g + b * sgb + c[:, None, None] * sgc + y * sgy + x[None, :, :] * sgx,
            mask=c_ok[:, None, None] & ok[None, :, :],
            other=0.0,
        )
        acc += tl.sum(wv[None, :, :].to(ACC) * gv.to(ACC), axis=1)
    offs = ((b * C + c[:, None]) * (H + 2 * M) + Y) * (W + 2 * M) + xs[None, :]
    tl.store(out + offs, acc.to(out.dtype.element_ty), mask=c_ok[:, None] & x_ok[None, :])


def window_scatter(weights: Tensor, grid_values: Tensor, radius: int, dilation: int) -> Tensor:
    """(B,P*P,h,w) weights x (B,C,h,w) -> (B,C,h+2Rd,w+2Rd): transpose of window_aggregate."""
    b, _, h, w = weights.shape
    c = grid_values.shape[1]
    p, m = 2 * radius + 1, radius * dilation
    out = grid_values.new_empty(b, c, h + 2 * m, w + 2 * m)
    if out.numel() == 0:
        return out
    block_c, block_x = _blocks(weights.device, c, w + 2 * m)
    ncb = triton.cdiv(c, block_c)
    grid = (triton.cdiv(w + 2 * m, block_x), h + 2 * m, b * ncb)
    _window_scatter_kernel[grid](
        weights, grid_values, out, c, h, w, p, dilation, m, ncb, *weights.stride(), *grid_values.stride(),
        ACC=_accumulator(weights, grid_values), BLOCK_C=block_c, BLOCK_J=_pow2(p), BLOCK_X=block_x,
    )  # fmt: skip
    return out


# --- ROI (per-pixel integer window) operators ------------------------------------------------------


@triton.jit
def _roi_corr_kernel(
    q, key, base_y, base_x, out, C, WQ, H, WK, S, N,
    sqb, sqc, sqy, sqx, skb, skc, sky, skx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_S: tl.constexpr,
):  # fmt: skip
    # one window row ky of BLOCK_P query pixels: out[b, p, ky*S + kx]
    ky = tl.program_id(1)
    b = tl.program_id(2).to(tl.int64)
    p = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    kx = tl.arange(0, BLOCK_S)
    cs = tl.arange(0, BLOCK_C)
    p_ok = p < N
    by = tl.load(base_y + b * N + p, mask=p_ok, other=0)
    bx = tl.load(base_x + b * N + p, mask=p_ok, other=0)
    yq, xq = p // WQ, p % WQ
    row = by + ky
    col = bx[:, None] + kx[None, :]
    ok = (
        p_ok[:, None] & (kx[None, :] < S) & (row[:, None] >= 0) & (row[:, None] < H) & (col >= 0) & (col < WK)
    )
    acc = tl.zeros((BLOCK_P, BLOCK_S), dtype=ACC)
    for c0 in range(0, C, BLOCK_C):
        c = c0 + cs
        c_ok = c < C
        qv = tl.load(
            q + b * sqb + c[:, None] * sqc + yq[None, :] * sqy + xq[None, :] * sqx,
            mask=c_ok[:, None] & p_ok[None, :],
            other=0.0,
        )
        kv = tl.load(
            key + b * skb + c[:, None, None] * skc + row[None, :, None] * sky + col[None, :, :] * skx,
            mask=c_ok[:, None, None] & ok[None, :, :],
            other=0.0,
        )
        acc += tl.sum(qv[:, :, None].to(ACC) * kv.to(ACC), axis=0)
    offs = (b * N + p[:, None]) * S * S + ky * S + kx[None, :]
    tl.store(out + offs, acc.to(out.dtype.element_ty), mask=p_ok[:, None] & (kx[None, :] < S))


def roi_corr(query: Tensor, key: Tensor, base_y: Tensor, base_x: Tensor, side: int) -> Tensor:
    """(B,C,r,W) band x (B,C,H,Wk) key -> (B, r*W, side^2) integer-window logits."""
    b, c, rows, cols = query.shape
    n = rows * cols
    out = query.new_empty(b, n, side * side)
    if out.numel() == 0:
        return out
    block_c, block_p = _blocks(query.device, c, n)
    grid = (triton.cdiv(n, block_p), side, b)
    _roi_corr_kernel[grid](
        query, key, base_y.contiguous(), base_x.contiguous(), out, c, cols, key.shape[2], key.shape[3],
        side, n, *query.stride(), *key.stride(),
        ACC=_accumulator(query, key), BLOCK_C=block_c, BLOCK_P=block_p, BLOCK_S=_pow2(side),
    )  # fmt: skip
    return out


@triton.jit
def _roi_aggregate_kernel(
    wt, v, base_y, base_x, out, C, H, WK, S, N, NCB,
    svb, svc, svy, svx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_S: tl.constexpr,
):  # fmt: skip
    b = (tl.program_id(1) // NCB).to(tl.int64)
    c = (tl.program_id(1) % NCB) * BLOCK_C + tl.arange(0, BLOCK_C)
    p = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    kx = tl.arange(0, BLOCK_S)
    c_ok, p_ok = c < C, p < N
    by = tl.load(base_y + b * N + p, mask=p_ok, other=0)
    bx = tl.load(base_x + b * N + p, mask=p_ok, other=0)
    col = bx[:, None] + kx[None, :]
    col_ok = p_ok[:, None] & (kx[None, :] < S) & (col >= 0) & (col < WK)
    acc = tl.zeros((BLOCK_C, BLOCK_P), dtype=ACC)
    for ky in range(0, S):
        row = by + ky
        ok = col_ok & (row[:, None] >= 0) & (row[:, None] < H)
        wv = tl.load(
            wt + (b * N + p[:, None]) * S * S + ky * S + kx[None, :],
            mask=p_ok[:, None] & (kx[None, :] < S),
            other=0.0,
        )
        vv = tl.load(
            v + b * svb + c[:, None, None] * svc + row[None, :, None] * svy + col[None, :, :] * svx,
            mask=c_ok[:, None, None] & ok[None, :, :],
            other=0.0,
        )
        acc += tl.sum(wv[None, :, :].to(ACC) * vv.to(ACC), axis=2)
    tl.store(
        out + (b * C + c[:, None]) * N + p[None, :],
        acc.to(out.dtype.element_ty),
        mask=c_ok[:, None] & p_ok[None, :],
    )


def roi_aggregate(weights: Tensor, values: Tensor, base_y: Tensor, base_x: Tensor, side: int) -> Tensor:
    """(B, r*W, side^2) weights x (B,Cv,H,Wk) values -> (B,Cv,r,W)."""
    b, rows, cols = base_y.shape
    c, n = values.shape[1], rows * cols
    out = values.new_empty(b, c, rows, cols)
    if out.numel() == 0:
        return out
    block_c, block_p = _blocks(values.device, c, n)
    ncb = triton.cdiv(c, block_c)
    grid = (triton.cdiv(n, block_p), b * ncb)
    _roi_aggregate_kernel[grid](
        weights.contiguous(), values, base_y.contiguous(), base_x.contiguous(), out, c, values.shape[2],
        values.shape[3], side, n, ncb, *values.stride(),
        ACC=_accumulator(weights, values), BLOCK_C=block_c, BLOCK_P=block_p, BLOCK_S=_pow2(side),
    )  # fmt: skip
    return out


@triton.jit
def _roi_scatter_kernel(
    wt, g, base_y, base_x, order, starts, out, C, WQ, HEIGHT, WIDTH, S, N, NB, NCB,
    sgb, sgc, sgy, sgx,
    ACC: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_X: tl.constexpr,
):  # fmt: skip
    # out[b, c, Y, X] = sum over pixels p whose window covers (Y, X) of w[b, p, k] * g[b, c, p]:
    # the pixels with base_y in [Y - S + 1, Y] are one range of the order sorted by base_y.
    Y = tl.program_id(1)
    b = (tl.program_id(2) // NCB).to(tl.int64)
    c = (tl.program_id(2) % NCB) * BLOCK_C + tl.arange(0, BLOCK_C)
    xs = tl.program_id(0) * BLOCK_X + tl.arange(0, BLOCK_X)
    c_ok, x_ok = c < C, xs < WIDTH
    first = tl.load(starts + b * (NB + 1) + Y + 1)
    last = tl.load(starts + b * (NB + 1) + tl.minimum(Y + S + 1, NB))
    acc = tl.zeros((BLOCK_C, BLOCK_X), dtype=ACC)
    for s in range(first, last):
        pix = tl.load(order + b * N + s)
        ky = Y - tl.load(base_y + b * N + pix)
        kx = xs - tl.load(base_x + b * N + pix)
        ok = x_ok & (kx >= 0) & (kx < S)
        wv = tl.load(wt + (b * N + pix) * S * S + ky * S + kx, mask=ok, other=0.0)
        gv = tl.load(g + b * sgb + c * sgc + (pix // WQ) * sgy + (pix % WQ) * sgx, mask=c_ok, other=0.0)
        acc += gv[:, None].to(ACC) * wv[None, :].to(ACC)
    offs = ((b * C + c[:, None]) * HEIGHT + Y) * WIDTH + xs[None, :]
    tl.store(out + offs, acc.to(out.dtype.element_ty), mask=c_ok[:, None] & x_ok[None, :])


def row_buckets(base_y: Tensor, side: int, height: int) -> tuple[Tensor, Tensor]:
    """Pixels of each batch element in stable order of base_y (clamped to [-side, height]: rows
    outside never meet the grid), and (B, height + side + 2) where each base_y value starts."""
    b = base_y.shape[0]
    key = base_y.reshape(b, -1).clamp(-side, height) + side
    sorted_key, order = torch.sort(key, dim=1, stable=True)
    bounds = torch.arange(height + side + 2, device=base_y.device, dtype=key.dtype).expand(b, -1).contiguous()
    starts = torch.searchsorted(sorted_key.contiguous(), bounds)
    return order.contiguous(), starts.contiguous()


def roi_scatter(
    weights: Tensor, grid_values: Tensor, base_y: Tensor, base_x: Tensor, side: int, height: int, width: int
) -> Tensor:
    """(B, r*W, side^2) weights x (B,C,r,W) -> (B,C,height,width): transpose of roi_aggregate."""
    b, c, rows, cols = grid_values.shape
    n = rows * cols
    out = grid_values.new_empty(b, c, height, width)
    if out.numel() == 0:
        return out
    if n == 0:
        return out.zero_()
    order, starts = row_buckets(base_y, side, height)
    block_c, block_x = _blocks(grid_values.device, c, width)
    ncb = triton.cdiv(c, block_c)
    grid = (triton.cdiv(width, block_x), height, b * ncb)
    _roi_scatter_kernel[grid](
        weights.contiguous(), grid_values, base_y.contiguous(), base_x.contiguous(), order, starts, out, c,
        cols, height, width, side, n, height + side + 1, ncb, *grid_values.stride(),
        ACC=_accumulator(weights, grid_values), BLOCK_C=block_c, BLOCK_X=block_x,
    )  # fmt: skip
    return out
