"""Masks for an evaluation set: every video through a fresh propagation core, with cost measurement.

One loop for every dataset kind and test-time protocol: the split (data floor) hands out its videos
and each video's writer; this loop drives them, downwards only. The propagation core owns the
network's input size (``max_side``, through the protocol's resize route) and gives labels at the
dataset's size. A frame where objects start gets their annotation (DAVIS frame 0: the given
annotation, void set to background, as in DAVIS results folders). A keypoint split (JHMDB) goes
through the keypoint core instead, which writes each frame's joints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.inputs import VideoInput
from ..data.splits import EvaluationSplit
from ..model import create_model
from ..model.context import make_policy
from ..model.inference import InferenceCore
from ..model.keypoint_core import KeypointCore
from ..model.precision import fp32_precision
from ..progress import progress_bar
from ..protocols import ProtocolConfig
from ..threads import worker_environment
from . import profiling
from .intra_op import intra_op_threads
from .job import Job
from .worker import run_in_fresh_process


@dataclass
class SegmentationStats:
    sequences: list[str] = field(default_factory=list)
    frames: int = 0  # frames encoded (every frame of every sequence, frame 0 included)
    seconds: float = 0.0
    encoder: profiling.EncoderMeter = field(default_factory=profiling.EncoderMeter)
    memory: profiling.PeakMemory = field(default_factory=profiling.PeakMemory)
    frame_size: tuple[int, int] = (0, 0)  # network input size of the first sequence
    per_sequence_seconds: dict[str, float] = field(default_factory=dict)


def segment_split(
    model: torch.nn.Module,
    split: EvaluationSplit,
    out_dir: Path,
    protocol: ProtocolConfig,
    *,
    device: str | torch.device = "cpu",
    max_side: int | None = None,
    progress: bool = True,
    skip: tuple[str, ...] = (),
    count_flops: bool = True,
    published: Callable[[str], None] | None = None,
) -> SegmentationStats:
    """Masks of every video of ``split`` not in ``skip`` into ``out_dir`` (each published whole, then
    passed to ``published``)."""
    device = torch.device(device)
    policy = make_policy(protocol, model)
    stats = SegmentationStats()
    with (
        fp32_precision("ieee"),  # CUDA labels as on the CPU (cuDNN would round to TF32)
        profiling.measure_peak_memory(device) as memory,
        profiling.meter_model(model, device, count_flops, reader=policy) as meter,
    ):
        for video in split.videos(skip):
            with split.mask_writer(Path(out_dir), video) as out:
                if split.task == "keypoints":
                    core = KeypointCore(
                        model, device=device, policy=policy, max_side=max_side, route=protocol.route
                    )
                else:
                    core = InferenceCore(
                        model,
                        device=device,
                        policy=policy,
                        object_ids=video.object_ids,
                        max_side=max_side,
                        route=protocol.route,
                    )
                _segment_video(core, video, out, progress, stats, meter)
            stats.sequences.append(video.name)
            if published is not None:
                published(video.name)
    stats.encoder = meter
    stats.memory = memory
    return stats


def _prediction(core: InferenceCore | KeypointCore, item) -> np.ndarray:
    """What a frame's writer gets: its label map, or its joints."""
    if isinstance(core, KeypointCore):
        return core.step(item.rgb, item.joints).joints
    return core.step(item.rgb, item.annotation, item.new_ids).labels.to(torch.uint8).cpu().numpy()


def _segment_video(
    core: InferenceCore | KeypointCore,
    video: VideoInput,
    out,
    progress: bool,
    stats: SegmentationStats,
    meter: profiling.EncoderMeter,
) -> None:
    """Its seconds leave out the meter's FLOP-counting calls: they are not the tracker's time."""
    for name in video.background:
        out.write(name, np.zeros(video.size, np.uint8))
    counting_before = meter.counting_seconds
    start = time.perf_counter()
    bar = progress_bar(video.inputs(), total=video.frames, desc=video.name, unit="frame", enabled=progress)
    for item in bar:
        prediction = _prediction(core, item)
        if item.required:
            out.write(item.name, prediction)
        stats.frames += 1
    if core.device.type == "cuda":
        torch.cuda.synchronize(core.device)
    elapsed = time.perf_counter() - start - (meter.counting_seconds - counting_before)
    bar.close()
    if not stats.frame_size[0]:
        stats.frame_size = core.input_size
    stats.per_sequence_seconds[video.name] = elapsed
    stats.seconds += elapsed


@dataclass(frozen=True)
class PropagationTask:
    """What the (isolated) worker needs: configs and paths, never registry names."""

    job: Job
    data: EvaluationSplit
    weights: str | None
    out_dir: str
    threads: int


def run_propagation(task: PropagationTask):
    """Runs in the (isolated) worker: build the model, propagate, measure."""
    job = task.job
    with intra_op_threads(task.threads):
        seed = job.preset.seed if job.random_init else None
        model = create_model(job.variant, task.weights, device=job.device, seed=seed)
        stats = segment_split(
            model,
            task.data,
            Path(task.out_dir),
            job.protocol,
            device=job.device,
            max_side=job.evaluation_max_side(),
            progress=job.progress,
        )
    return stats, profiling.parameter_count(model)


def run_isolated(task: PropagationTask):
    """A fresh process per propagation, so its peak memory is its own."""
    return run_in_fresh_process(run_propagation, task, env=worker_environment(task.threads))
