"""BatchNorm statistics re-estimated over many training batches ("precise BN", as fvcore's
``update_bn_stats``), for weights whose running statistics are a short moving average.

MAST encodes every frame of a step in its own call (as the official code), and each call moves a
BatchNorm layer's running mean and variance by its momentum (0.1): at the end of a memory-stage step
(six frames) the statistics remember about the last two steps. Evaluation uses them, so the J&F of a
stage's final weights depends on its last few batches. Here the running statistics are reset and
replaced by the plain mean of the batch statistics of the encoder calls of ``iterations`` training
steps (the stage's own sampling and channel dropout, another seed stream; no memory read, no
gradient); the weights are untouched.

The replay answers the other question, what put a stage's statistics where they ended: the running
statistics reset, the stage's last steps' encoder calls run again from its own batch stream with the
layers' own momentum, and each step's batch, dropped channel and stem variance kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..model.dropout import choose_dropped_channel, drop_channel
from .batches import BatchPlan, FrameTensors, plan_source
from .presets import TrainStage
from .streams import iteration_generator

# a seed stream apart from any stage's (stage seeds are small integers or derived from them)
PRECISE_BN_SEED_OFFSET = 7_000_003
_VARIANCE = ".running_var"


def batchnorm_layers(model: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def dropped_channel(model, generator: torch.Generator) -> int | None:
    """The channel a training step drops from every input (drawn first from the step's stream, as
    ``reconstruction_loss`` draws it), or None for a variant without channel dropout."""
    if not model.config.channel_dropout:
        return None
    return choose_dropped_channel(model.config.colour_space, generator)


def encoder_inputs(model, frames: list[torch.Tensor], channel: int | None) -> list[torch.Tensor]:
    """The frames as a training step hands them to the encoder (``channel`` dropped where the
    variant drops one); the memory read after the encoder does not touch BatchNorm."""
    return frames if channel is None else drop_channel(frames, channel)


def stage_steps(
    model, clips, stage: TrainStage, seed: int, iterations: Iterable[int], device, iteration_offset: int = 0
) -> Iterator[tuple[int, BatchPlan, int | None, list[torch.Tensor]]]:
    """(iteration, plan, dropped channel, encoder inputs) of each of ``iterations`` as training draws
    them with ``seed``: the batch from the stage's plan, the channel from the iteration's stream
    (``iteration_offset`` + iteration: a stage's stream counts the iterations of the stages before it)."""
    plans = plan_source(clips, stage, seed)
    frames = FrameTensors(clips, stage, model.config.colour_space, device)
    for i in iterations:
        plan = plans(i, 0, 1)
        channel = dropped_channel(model, iteration_generator(seed, iteration_offset + i))
        yield i, plan, channel, encoder_inputs(model, [frames.batch(refs) for refs in plan.frames], channel)


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
    stream = seed + PRECISE_BN_SEED_OFFSET
    try:
        for i, _plan, _channel, inputs in stage_steps(model, clips, stage, stream, range(iterations), device):
            for frame in inputs:
                model.encode(frame)  # BatchNorm sees what a training step's encoder calls see
            if on_step is not None:
                on_step(i + 1)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    model.eval()
    return len(layers)


@dataclass(frozen=True)
class ReplayedStep:
    """What the first BatchNorm layer (the stem's) saw in one replayed training step."""

    iteration: int  # of the stage, 0-based
    dropped_channel: int | None
    clips: tuple[str, ...]  # each sample's clip (the target frame's)
    variances: torch.Tensor  # (encoder calls, channels): each call's batch variance, as the running update
    sample_variances: torch.Tensor  # (encoder calls, samples, channels): each frame's own, over its pixels


def check_replayable(model) -> None:
    """ConfigError for a variant whose training keeps BatchNorm frozen: its statistics are the
    loaded ones, which no step moved."""
    if model.config.train_batchnorm == "frozen":
        raise ConfigError(
            f"variant {model.config.name!r} keeps BatchNorm frozen in training (train_batchnorm = "
            "'frozen'): no step moved its statistics, there is nothing to replay"
        )


@torch.no_grad()
def replay_batchnorm_statistics(
    model: torch.nn.Module,
    clips,
    stage: TrainStage,
    seed: int,
    iterations: range,
    device: torch.device,
    iteration_offset: int = 0,
) -> list[ReplayedStep]:
    """Reset the running statistics and replay the encoder calls of ``iterations`` of the stage's own
    batch stream (``seed`` and ``iteration_offset`` as the stage trained) with the layers' own momentum;
    the weights are untouched. With the weights those steps trained (or, for the last few steps of a
    slow learning rate, the stage's final ones) the statistics become those the stage ended with, and
    each step says what its batch put into them."""
    check_replayable(model)
    layers = batchnorm_layers(model)
    if not layers:
        return []
    for layer in layers:
        layer.reset_running_stats()
    model.train()
    seen: list[torch.Tensor] = []
    hook = layers[0].register_forward_pre_hook(
        lambda _layer, args: seen.append(args[0].detach().float().cpu())
    )
    names = clips.clip_names
    steps = []
    try:
        for i, plan, channel, inputs in stage_steps(
            model, clips, stage, seed, iterations, device, iteration_offset
        ):
            seen.clear()
            for frame in inputs:
                model.encode(frame)
            samples = tuple(names[clip] for clip, _frame in plan.frames[-1])
            batch = torch.stack([x.var(dim=(0, 2, 3)) for x in seen])  # unbiased, as the running update
            steps.append(
                ReplayedStep(i, channel, samples, batch, torch.stack([x.var(dim=(2, 3)) for x in seen]))
            )
    finally:
        hook.remove()
    model.eval()
    return steps


def step_weights(calls_per_step: Sequence[int], momentum: float) -> tuple[list[float], float]:
    """The weight each step's encoder calls carry in running statistics updated with ``momentum`` after
    the last step, and the weight left on the statistics before the first (they sum to 1)."""
    weights, left = [], 1.0
    for calls in reversed(calls_per_step):
        kept = (1.0 - momentum) ** calls
        weights.append(left * (1.0 - kept))
        left *= kept
    return weights[::-1], left


def statistics_shift(state: dict, against: dict) -> list[dict]:
    """Per BatchNorm layer both state dicts hold (keyed by ``<layer>.running_var``, module order): over
    its channels, the median and extreme ratios of running variances (state / against) and the shift
    of running means in units of ``against``'s standard deviation."""
    rows = []
    for key in (k for k in state if k.endswith(_VARIANCE) and k in against):
        layer = key[: -len(_VARIANCE)]
        variance, reference = state[key].double(), against[key].double()
        mean, reference_mean = (
            state[f"{layer}.running_mean"].double(),
            against[f"{layer}.running_mean"].double(),
        )
        ratio, shift = variance / reference, (mean - reference_mean).abs() / reference.sqrt()
        rows.append(
            {
                "layer": layer,
                "channels": int(ratio.numel()),
                "variance_ratio_median": round(float(ratio.median()), 3),
                "variance_ratio_min": round(float(ratio.min()), 3),
                "variance_ratio_max": round(float(ratio.max()), 3),
                "mean_shift_sd_median": round(float(shift.median()), 3),
                "mean_shift_sd_max": round(float(shift.max()), 3),
            }
        )
    return rows
