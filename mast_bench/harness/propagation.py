"""Semi-supervised propagation over a DAVIS-layout dataset, with cost measurement.

Frames may be shrunk for the network (``max_side``, a smoke protocol); the
masks are still written at the dataset's resolution by upsampling the
network's stride-4 scores (bilinear) to the original frame size before the
argmax. Frame 0's mask is the given annotation (void set to background), as
in DAVIS results folders.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import DataError
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


def check_output_folder(out_dir: Path, sequences: Sequence[str], force: bool) -> None:
    """Refuse a folder that already holds something, unless ``force`` (then our sequences are cleared)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir}: output path exists and is not a folder")
    if not out_dir.is_dir():
        return
    present = sorted(p.name for p in out_dir.iterdir())
    if present and not force:
        shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
        raise DataError(
            f"{out_dir}: output folder already holds results ({shown}); choose another --out or --force"
        )
    for name in sequences:
        shutil.rmtree(out_dir / name, ignore_errors=True)


def propagate_dataset(
    model: torch.nn.Module,
    dataset,
    sequences: Sequence[str],
    out_dir: str | Path,
    device: str | torch.device = "cpu",
    max_side: int | None = None,
    progress: bool = True,
    count_flops: bool = True,
    max_frames: int | None = None,
) -> PropagationStats:
    """Propagate every sequence's first annotation and write <out_dir>/<seq>/<frame>.png.

    ``max_frames`` stops each sequence after that many frames (benchmarks on a budget).
    """
    from tqdm import tqdm

    from ..data import ResultsWriter
    from ..model.propagate import propagate_steps, upsample_argmax

    device = torch.device(device)
    writer = ResultsWriter(out_dir)
    stats = PropagationStats()
    # Opening every sequence first checks the layout and the first frames before any work is done.
    videos = [dataset.sequence(name) for name in sequences]
    object_ids = {video.name: video.object_ids() for video in videos}
    with (
        profiling.measure_peak_memory(device) as memory,
        profiling.meter_model(model, device, count_flops) as meter,
    ):
        for video in videos:
            full = video.size
            small = network_size(full, max_side)
            if not stats.frame_size[0]:
                stats.frame_size = small
            first = video.first_labels()
            ids = object_ids[video.name]
            writer.write(
                video.name, video.frame_names[0], np.where(np.isin(first, ids), first, 0).astype(np.uint8)
            )
            count = video.num_frames if max_frames is None else min(video.num_frames, max_frames)
            frames = (resize_rgb(video.frame(i), small) for i in range(count))
            steps = propagate_steps(model, frames, resize_labels(first, small), device=device, object_ids=ids)
            start = time.perf_counter()
            for step in tqdm(
                steps,
                total=count - 1,
                desc=video.name,
                unit="frame",
                disable=not progress,
                dynamic_ncols=True,
                leave=False,
            ):
                labels = step.labels if small == full else upsample_argmax(step.scores, full)
                writer.write(video.name, video.frame_names[step.target], labels.to(torch.uint8).cpu().numpy())
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            elapsed = time.perf_counter() - start
            stats.per_sequence_seconds[video.name] = elapsed
            stats.seconds += elapsed
            stats.frames += count
            stats.sequences.append(video.name)
    stats.encoder = meter
    stats.memory = memory
    return stats
