"""The joint softmax of the memory read, as a custom operator over several tensors at once.

softmax(scale * logits) over the candidates of all parts together, each part keeping its own
layout: (B, K, n) with the candidates along dim 1, or (B, n, K) along dim 2, n query positions
shared by all parts. Equal to a softmax of their concatenation, without concatenating: one
shared maximum and one shared denominator per query position. On CPU tensors the native kernel
runs (one pass per block of positions, in cache); elsewhere, or when the reference path is
chosen (ops/kernels.py), a handful of torch operations.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .kernels import kernel_mode, kernels_for, use_kernels
from .torch_floor import check_torch_version


def _check(parts: list[Tensor], dims: list[int]) -> None:
    if not parts or len(parts) != len(dims):
        raise ValueError(f"joint_softmax: {len(parts)} parts with {len(dims)} candidate dims")
    for part, dim in zip(parts, dims, strict=True):
        if part.dim() != 3 or dim not in (1, 2):
            raise ValueError(
                f"joint_softmax: parts must be 3-D with candidates on dim 1 or 2, got {tuple(part.shape)}"
            )
    positions = {(part.shape[0], part.shape[3 - dim]) for part, dim in zip(parts, dims, strict=True)}
    if len(positions) != 1:
        raise ValueError(f"joint_softmax: parts disagree on (B, n query positions): {sorted(positions)}")


def _reference(parts: list[Tensor], dims: list[int], scale: float) -> list[Tensor]:
    if scale <= 0:
        parts, scale = [part * scale for part in parts], 1.0
    peak = None
    for part, dim in zip(parts, dims, strict=True):
        part_peak = part.amax(dim)
        peak = part_peak if peak is None else torch.maximum(peak, part_peak)
    shift = -(peak * scale)
    exps = [
        torch.add(shift.unsqueeze(dim), part, alpha=scale).exp_()
        for part, dim in zip(parts, dims, strict=True)
    ]
    total = None
    for part, dim in zip(exps, dims, strict=True):
        part_total = part.sum(dim)
        total = part_total if total is None else total + part_total
    return [part.div_(total.unsqueeze(dim)) for part, dim in zip(exps, dims, strict=True)]


check_torch_version(torch.__version__)  # before the first operator registers


@torch.library.custom_op("mast_bench::joint_softmax", mutates_args=())
def joint_softmax(parts: list[Tensor], dims: list[int], scale: float) -> list[Tensor]:
    """softmax(scale * concatenated candidates) of each part, in the part's own layout."""
    _check(parts, dims)
    return _reference(parts, dims, scale)


@joint_softmax.register_fake
def _(parts, dims, scale):
    return [torch.empty_like(part, memory_format=torch.contiguous_format) for part in parts]


@joint_softmax.register_kernel("cpu")
def _(parts, dims, scale):
    _check(parts, dims)
    native = kernels_for(*parts)
    if native is None or scale <= 0:
        return _reference(parts, dims, scale)
    return native.joint_softmax(parts, dims, scale)


def _setup(ctx, inputs, output):
    _, dims, scale = inputs
    ctx.save_for_backward(*output)
    ctx.dims, ctx.scale = dims, scale
    ctx.kernels = kernel_mode()  # the backward runs with the forward's choice (maybe on another thread)


def _backward_reference(
    grads: list[Tensor], outputs: list[Tensor], dims: list[int], scale: float
) -> list[Tensor]:
    """d softmax: scale * y * (g - sum over all candidates of g * y), per query position."""
    dot = None
    for g, y, dim in zip(grads, outputs, dims, strict=True):
        part = (g * y).sum(dim)
        dot = part if dot is None else dot + part
    return [scale * y * (g - dot.unsqueeze(dim)) for g, y, dim in zip(grads, outputs, dims, strict=True)]


@torch.library.custom_op("mast_bench::joint_softmax_backward", mutates_args=())
def joint_softmax_backward(
    grads: list[Tensor], outputs: list[Tensor], dims: list[int], scale: float
) -> list[Tensor]:
    """Gradients of joint_softmax's inputs from those of its outputs (not itself differentiable)."""
    return _backward_reference(grads, outputs, dims, scale)


@joint_softmax_backward.register_fake
def _(grads, outputs, dims, scale):
    return [torch.empty_like(y, memory_format=torch.contiguous_format) for y in outputs]


@joint_softmax_backward.register_kernel("cpu")
def _(grads, outputs, dims, scale):
    native = kernels_for(*outputs, *grads)
    if native is None:
        return _backward_reference(grads, outputs, dims, scale)
    return native.joint_softmax_backward(grads, outputs, dims, scale)


def _backward(ctx, grads):
    outputs = list(ctx.saved_tensors)
    grads = [torch.zeros_like(y) if g is None else g for g, y in zip(grads, outputs, strict=True)]
    if torch.is_grad_enabled():  # create_graph: a differentiable backward
        return _backward_reference(grads, outputs, ctx.dims, ctx.scale), None, None
    with use_kernels(ctx.kernels):
        return joint_softmax_backward(grads, outputs, ctx.dims, ctx.scale), None, None


joint_softmax.register_autograd(_backward, setup_context=_setup)

# as torch.softmax: under autocast the softmax runs in float32
for _device in ("cpu", "cuda"):
    torch.library.register_autocast("mast_bench::joint_softmax", _device, torch.float32)
