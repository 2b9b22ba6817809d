"""BatchNorm statistics re-estimated over many training batches ("precise BN", as fvcore's
``update_bn_stats``), for weights whose running statistics are a short moving average.

MAST encodes every frame of a step in its own call (as the official code), and each call moves a
BatchNorm layer's running mean and variance by its momentum (0.1): at the end of a memory-stage step
(six frames) the statistics remember about the last two steps. Evaluation uses them, so the J&F of a
stage's final weights depends on its last few batches. Here the running statistics are reset and
replaced by the plain mean of the batch statistics of the encoder calls of ``iterations`` training
steps (the stage's own sampling and channel dropout, another seed stream; no memory read, no
gradient); the weights are untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..model.dropout import choose_dropped_channel, drop_channel
from .batches import FrameTensors, plan_source
from .presets import TrainStage
from .streams import iteration_generator

# a seed stream apart from any stage's (stage seeds are small integers or derived from them)
PRECISE_BN_SEED_OFFSET = 7_000_003


def batchnorm_layers(model: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def encoder_inputs(model, frames: list[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """The frames as a training step hands them to the encoder (one channel dropped where the
    variant drops one); the memory read after the encoder does not touch BatchNorm."""
    if not model.config.channel_dropout:
        return frames
    return drop_channel(frames, choose_dropped_channel(model.config.colour_space, generator))


@torch.no_grad()
def recompute_batchnorm_statistics(
    model: torch.nn.Module,
    clips,
    stage: TrainStage,
    seed: int,
    iterations: int,
    device: torch.device,
    on_step: Callable[[int], None] | None = None,
) -> int:
    """Replace every BatchNorm layer's running statistics by their mean over the encoder calls of
    ``iterations`` steps of ``stage`` on ``clips``; returns the number of layers updated."""
    layers = batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average over every call
    model.train()
    plans = plan_source(clips, stage, seed + PRECISE_BN_SEED_OFFSET)
    frames = FrameTensors(clips, stage, model.config.colour_space, device)
    try:
        for i in range(iterations):
            plan = plans(i, 0, 1)
            generator = iteration_generator(seed + PRECISE_BN_SEED_OFFSET, i)
            for frame in encoder_inputs(model, [frames.batch(refs) for refs in plan.frames], generator):
                model.encode(frame)  # BatchNorm sees what a training step's encoder calls see
            if on_step is not None:
                on_step(i + 1)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    model.eval()
    return len(layers)
