"""Semi-supervised propagation of a first-frame annotation through a video (the official test loop).

Unlike the official loop, which re-encodes every reference at every step (6 encoder passes per
frame), each frame is encoded once; its features and stride-4 one-hot values are kept only while
the schedule can still pick it as a reference, so memory is bounded for any video length.
Both functions drive :class:`~mast_bench.model.inference.InferenceCore` with the single annotated
frame 0 and channel k = object id k, the official one-hot layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from ..label_ids import MAX_OBJECT_ID
from .inference import InferenceCore
from .labels import keep_objects
from .mast import MAST


def label_channels(first_labels: np.ndarray, object_ids: Sequence[int] | None) -> tuple[np.ndarray, int]:
    """Labels with ids outside ``object_ids`` (e.g. void 255) set to background, and the one-hot
    channel count (max id + 1; channel k is object id k, so argmax needs no id table)."""
    labels = np.asarray(first_labels)
    if labels.ndim != 2:
        raise DataError(f"first-frame labels must be (H, W), got shape {labels.shape}")
    if object_ids is None:
        object_ids = sorted(int(i) for i in np.unique(labels) if 0 < i <= MAX_OBJECT_ID)
    ids = sorted({int(i) for i in object_ids if int(i) != 0})
    if any(not 0 < i <= MAX_OBJECT_ID for i in ids):
        raise DataError(f"object ids must be in 1..{MAX_OBJECT_ID}, got {ids}")
    return keep_objects(labels, ids).astype(np.int64), (max(ids) if ids else 0) + 1


@dataclass(frozen=True)
class PropagationStep:
    target: int
    references: list[int]
    scores: torch.Tensor  # (1, channels, ceil(H/4), ceil(W/4)): the read before upsampling
    labels: torch.Tensor  # (H, W) int64


def propagate_video(
    model: MAST,
    frames: Iterable[np.ndarray],
    first_labels: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    object_ids: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Yield uint8 (H,W) label maps for frames 1..N-1 of ``frames`` (RGB uint8 (H,W,3)).

    Predictions are fed back as the values of later references, as in the official loop.
    Puts the model in eval mode (BatchNorm running statistics, test radius).
    """
    for step in propagate_steps(model, frames, first_labels, device=device, object_ids=object_ids):
        yield step.labels.to(torch.uint8).cpu().numpy()


def propagate_steps(
    model: MAST,
    frames: Iterable[np.ndarray],
    first_labels: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    object_ids: Sequence[int] | None = None,
) -> Iterator[PropagationStep]:
    """:func:`propagate_video` with the raw scores and reference lists (for tests and profiling)."""
    labels, channels = label_channels(first_labels, object_ids)
    core = InferenceCore(model, device=device, object_ids=range(1, channels))
    frame_iter = iter(frames)
    first = next(frame_iter, None)
    if first is None:
        return
    core.step(first, labels)
    for frame in frame_iter:
        step = core.step(frame)
        yield PropagationStep(step.target, step.references, step.scores, step.labels)
