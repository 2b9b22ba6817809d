"""Semi-supervised propagation over a dataset's videos, with cost measurement.

One loop for every dataset kind and test-time protocol: a fresh propagation core per video, the
protocol's read policy, frames shrunk for the network when ``max_side`` says so and masks written at
the dataset's resolution. A DAVIS frame 0 mask is the given annotation (void set to background), as
in DAVIS results folders.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from . import profiling


def network_size(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """(H, W) of the network input: the frame size, shrunk so the longer side is <= max_side."""
    height, width = size
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_rgb(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frame.shape[:2] == size:
        return frame
    return np.asarray(Image.fromarray(frame).resize((size[1], size[0]), Image.BILINEAR))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if labels.shape == size:
        return labels
    return np.asarray(Image.fromarray(labels).resize((size[1], size[0]), Image.NEAREST))


@dataclass
class PropagationStats:
    sequences: list[str] = field(default_factory=list)
    frames: int = 0  # frames encoded (every frame of every sequence, frame 0 included)
    seconds: float = 0.0
    encoder: profiling.EncoderMeter = field(default_factory=profiling.EncoderMeter)
    memory: profiling.PeakMemory = field(default_factory=profiling.PeakMemory)
    frame_size: tuple[int, int] = (0, 0)  # network input size of the first sequence
    per_sequence_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoPlan:
    """One video as the propagation loop sees it (both dataset kinds).

    ``inputs()`` yields objects with ``index, name, rgb, new_labels, required`` (the new objects'
    label map of that frame at the dataset's size, or None); ``background`` names required frames
    before the first annotation (written empty); ``object_ids`` are declared up front (DAVIS:
    channel k is object k, as the official one-hot).
    """

    name: str
    size: tuple[int, int]
    frames: int
    inputs: Callable[[], Iterable[Any]]
    object_ids: tuple[int, ...] = ()
    background: tuple[str, ...] = ()


def propagate_videos(
    model: torch.nn.Module,
    videos: Sequence[VideoPlan],
    writer: Callable[[VideoPlan], Any],
    *,
    protocol=None,
    device: str | torch.device = "cpu",
    max_side: int | None = None,
    progress: bool = True,
    count_flops: bool = True,
) -> PropagationStats:
    """Propagate every video through a fresh :class:`InferenceCore`; ``writer(video)`` is a context
    manager with ``write(frame_name, labels)`` that publishes the video's masks when it exits cleanly.

    Frames may be shrunk for the network (``max_side``); masks are written at the dataset's size by
    upsampling the scores there before the argmax, with the new objects' annotation pasted.
    """
    from ..model.context import make_policy
    from ..protocols import get_protocol

    device = torch.device(device)
    policy = make_policy(protocol if protocol is not None else get_protocol("mast"), model)
    stats = PropagationStats()
    with (
        profiling.measure_peak_memory(device) as memory,
        profiling.meter_model(model, device, count_flops, reader=policy) as meter,
    ):
        for video in videos:
            with writer(video) as out:
                _propagate_video(model, policy, video, out, device, max_side, progress, stats)
            stats.sequences.append(video.name)
    stats.encoder = meter
    stats.memory = memory
    return stats


def _propagate_video(model, policy, video: VideoPlan, out, device, max_side, progress, stats) -> None:
    from tqdm import tqdm

    from ..model.inference import InferenceCore

    small = network_size(video.size, max_side)
    if not stats.frame_size[0]:
        stats.frame_size = small
    for name in video.background:
        out.write(name, np.zeros(video.size, np.uint8))
    core = InferenceCore(model, device=device, policy=policy, object_ids=video.object_ids)
    start = time.perf_counter()
    bar = tqdm(
        video.inputs(), total=video.frames, desc=video.name, unit="frame", disable=not progress, leave=False
    )
    for item in bar:
        new = None if item.new_labels is None else resize_labels(item.new_labels, small)
        step = core.step(resize_rgb(item.rgb, small), new)
        if item.required:
            labels = (
                step.labels if small == video.size else core.labels_at_size(step, video.size, item.new_labels)
            )
            out.write(item.name, labels.to(torch.uint8).cpu().numpy())
        stats.frames += 1
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - start
    stats.per_sequence_seconds[video.name] = elapsed
    stats.seconds += elapsed


class SequenceFolderWriter:
    """DAVIS results: <out>/<seq>/<frame>.png, written into a hidden staging folder named after its
    owner and renamed into place when the sequence is complete (a rerun resumes after it)."""

    def __init__(self, out_dir: Path, sequence: str) -> None:
        from ..locks import debris_name

        self.final = Path(out_dir) / sequence
        self.staged = Path(out_dir) / debris_name(f".{sequence}", ".partial")

    def __enter__(self) -> SequenceFolderWriter:
        from ..data import ResultsWriter

        self.staged.mkdir(parents=True)
        self._writer = ResultsWriter(self.staged.parent)
        return self

    def write(self, frame_name: str, labels: np.ndarray) -> None:
        self._writer.write(self.staged.name, frame_name, labels)

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            shutil.rmtree(self.staged, ignore_errors=True)
            return
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.staged, self.final)
