"""How fast a training stage steps on this machine (the training benchmark's measurement).

A sample is one target with its references. The frames are prepared before the clock starts, so
the figure is the step itself (encoder forward and backward, memory read, optimiser), not data
loading; on CUDA the clock waits for the device.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from .batches import FrameTensors, plan_source
from .presets import Preset, TrainStage
from .training import _new_model, _Run, _Stage, _step

SPEED_SIZE = (256, 256)
SPEED_BATCH = 12


def speed_stage(stage: TrainStage, device: torch.device) -> TrainStage:
    """``stage`` at the benchmark's size and batch, with the device's fast path."""
    cuda = device.type == "cuda"
    return dataclasses.replace(
        stage,
        frame_size=SPEED_SIZE,
        batch_size=SPEED_BATCH,
        mixed_precision=cuda,
        channels_last=cuda,
        cache_frames=True,
        lr_milestones=(),
    )


def stage_speed(variant, stage, clips, device, iterations: int, warmup: int = 1) -> dict:
    """Seconds per step and samples/s of ``stage`` (steps only; frames prepared beforehand)."""
    preset = Preset("speed", (stage,))
    model = _new_model(variant, preset, None, device)
    if stage.channels_last:
        model = model.to(memory_format=torch.channels_last)
    run = _Run(model, torch.optim.Adam(model.parameters(), lr=stage.lr), {})
    where = _Stage(0, stage, Path("."), 0, 0)
    plans = plan_source(clips, stage, 0)
    frames = FrameTensors(clips, stage, variant.colour_space, device)
    frames.preload([ref for i in range(warmup + iterations) for refs in plans(i).frames for ref in refs])
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for i in range(warmup):
        _step(run, model, where, plans, frames, i, 0, 1)
    sync()
    start = time.perf_counter()
    for i in range(warmup, warmup + iterations):
        _step(run, model, where, plans, frames, i, 0, 1)
    sync()
    seconds = (time.perf_counter() - start) / iterations
    return {
        "stage": stage.name,
        "sampling": stage.sampling,
        "references": stage.references,
        "frame_size": list(stage.frame_size),
        "batch_size": stage.batch_size,
        "mixed_precision": stage.mixed_precision,
        "seconds_per_step": seconds,
        "samples_per_s": stage.batch_size / seconds,
        "frames_encoded_per_s": stage.batch_size * (stage.references + 1) / seconds,
        "iterations_timed": iterations,
    }
