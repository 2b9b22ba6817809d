"""Three custom operators that are each other's adjoints, defined from one table.

A window read and an ROI read both come as ``corr`` (logits of a query against gathered keys),
``aggregate`` (weights times gathered values) and ``scatter`` (the transpose of ``aggregate``), each
``op(first, second, *geometry)``. Their gradients are the other two::

    corr(a, b):      da = aggregate(grad, b)   db = scatter(grad, a, *size(b))
    aggregate(w, v): dw = corr(grad, v)        dv = scatter(w, grad, *size(v))
    scatter(w, g):   dw = corr(g, grad)        dg = aggregate(w, grad)

so the backward passes are exactly as lean as the forward ones. Each operator is a
``torch.library`` custom op whose default implementation is the pure-PyTorch reference; on CPU and
CUDA tensors the native kernels (ops/kernels.py chooses) run instead, the reference where they
cannot; a fake implementation gives the output's shape and a formula its FLOPs (2 per multiply-add).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.flop_counter import register_flop_formula

from .kernels import kernel_mode, kernels_for, use_kernels
from .torch_floor import check_torch_version

ROLES = ("corr", "aggregate", "scatter")


@dataclass(frozen=True)
class OpSpec:
    """One operator of a family: ``mast_bench::<name>``, its schema, checks and implementations."""

    name: str  # also the native kernels' function name
    schema: str
    check: Callable[..., None]  # raises ValueError on inputs that do not fit together
    reference: Callable[..., Tensor]
    fake: Callable[..., Tensor]  # an empty output of the right shape
    flops: Callable[..., int]  # from the inputs' shapes (and the plain arguments)


@dataclass(frozen=True)
class AdjointFamily:
    """``corr``, ``aggregate`` and ``scatter`` of one read; ``geometry``: how many arguments follow
    the two tensors in all three (scatter's output size comes after them); ``size(t)``: the extra
    arguments scatter needs to produce a gradient shaped like ``t``."""

    corr: OpSpec
    aggregate: OpSpec
    scatter: OpSpec
    geometry: int
    size: Callable[[Tensor], tuple]


def define_family(family: AdjointFamily) -> tuple:
    """The three registered operators (corr, aggregate, scatter), with kernels, fakes, autograd, FLOPs."""
    ops = {role: _define(getattr(family, role)) for role in ROLES}
    corr, aggregate, scatter = (ops[role] for role in ROLES)

    def setup(ctx, inputs, output):
        first, second, *geometry = inputs[: 2 + family.geometry]
        ctx.save_for_backward(first, second, *(g for g in geometry if isinstance(g, Tensor)))
        ctx.plain = [None if isinstance(g, Tensor) else g for g in geometry]
        ctx.kernels = kernel_mode()  # the backward runs with the forward's choice (maybe on another thread)
        ctx.extra = len(inputs) - 2 - family.geometry

    def unpack(ctx):
        first, second, *tensors = ctx.saved_tensors
        saved = iter(tensors)
        return first, second, [next(saved) if g is None else g for g in ctx.plain]

    # role -> (gradient of the first input, gradient of the second), from (first, second, grad, geometry)
    rules = {
        "corr": (
            lambda a, b, grad, geo: aggregate(grad, b, *geo),
            lambda a, b, grad, geo: scatter(grad, a, *geo, *family.size(b)),
        ),
        "aggregate": (
            lambda w, v, grad, geo: corr(grad, v, *geo),
            lambda w, v, grad, geo: scatter(w, grad, *geo, *family.size(v)),
        ),
        "scatter": (
            lambda w, g, grad, geo: corr(g, grad, *geo),
            lambda w, g, grad, geo: aggregate(w, grad, *geo),
        ),
    }

    def backward_of(role: str):
        def backward(ctx, grad):
            first, second, geo = unpack(ctx)
            with use_kernels(ctx.kernels):
                grads = [
                    rule(first, second, grad, geo) if needed else None
                    for rule, needed in zip(rules[role], ctx.needs_input_grad[:2], strict=True)
                ]
            return (*grads, *([None] * (len(ctx.plain) + ctx.extra)))

        return backward

    for role, op in ops.items():
        op.register_autograd(backward_of(role), setup_context=setup)
    return corr, aggregate, scatter


def _define(spec: OpSpec):
    def reference(*args):
        spec.check(*args)
        return spec.reference(*args)

    def native_or_reference(*args):
        spec.check(*args)
        native = kernels_for(args[0], args[1])
        return spec.reference(*args) if native is None else getattr(native, spec.name)(*args)

    check_torch_version(torch.__version__)
    op = torch.library.custom_op(f"mast_bench::{spec.name}", reference, mutates_args=(), schema=spec.schema)
    op.register_fake(spec.fake)
    op.register_kernel("cpu")(native_or_reference)
    op.register_kernel("cuda")(native_or_reference)
    register_flop_formula(getattr(torch.ops.mast_bench, spec.name))(spec.flops)
    return op
