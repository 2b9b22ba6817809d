"""Semi-supervised propagation of a first-frame annotation through a video (the official test loop).

Unlike the official loop, which re-encodes every reference at every step (6 encoder passes per
frame), each frame is encoded once; its features and stride-4 one-hot values are kept only while
the schedule can still pick it as a reference, so memory is bounded for any video length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError
from .colour import prepare_frame
from .mast import MAST, STRIDE
from .schedule import reference_indices, still_needed


def label_channels(first_labels: np.ndarray, object_ids: Sequence[int] | None) -> tuple[np.ndarray, int]:
    """Labels with ids outside ``object_ids`` (e.g. void 255) set to background, and the one-hot
    channel count (max id + 1; channel k is object id k, so argmax needs no id table)."""
    labels = np.asarray(first_labels)
    if labels.ndim != 2:
        raise DataError(f"first-frame labels must be (H, W), got shape {labels.shape}")
    if object_ids is None:
        object_ids = sorted(int(i) for i in np.unique(labels) if 0 < i < 255)
    ids = sorted({int(i) for i in object_ids if int(i) != 0})
    if any(not 0 < i < 255 for i in ids):
        raise DataError(f"object ids must be in 1..254, got {ids}")
    kept = np.where(np.isin(labels, ids), labels, 0).astype(np.int64)
    return kept, (max(ids) if ids else 0) + 1


def one_hot_at_stride(labels: torch.Tensor, channels: int) -> torch.Tensor:
    """(H,W) integer labels -> (1,channels,ceil(H/4),ceil(W/4)) one-hot of the top-left pixel of
    each 4x4 cell, as the official ``labels[:, :, ::4, ::4]``."""
    sampled = labels[::STRIDE, ::STRIDE].long()
    return F.one_hot(sampled, channels).permute(2, 0, 1).unsqueeze(0).float()


def upsample_argmax(prediction: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Stride-4 scores -> (H,W) labels: bilinear (align_corners=False) to the frame size, argmax."""
    scores = F.interpolate(prediction, size, mode="bilinear", align_corners=False)
    return scores.argmax(dim=1)[0]


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
    cfg = model.config
    labels, channels = label_channels(first_labels, object_ids)
    size = labels.shape
    model.eval()
    features: dict[int, torch.Tensor] = {}
    values: dict[int, torch.Tensor] = {}

    def encode(index: int, frame: np.ndarray) -> torch.Tensor:
        if np.shape(frame)[:2] != size:
            raise DataError(f"frame {index} has size {np.shape(frame)[:2]}, the first labels {size}")
        return model.encode(prepare_frame(frame, cfg.colour_space)[None].to(device))

    with torch.inference_mode():
        frame_iter = iter(frames)
        try:
            first = next(frame_iter)
        except StopIteration:
            return
        features[0] = encode(0, first)
        values[0] = one_hot_at_stride(torch.from_numpy(labels).to(device), channels)
        for target, frame in enumerate(frame_iter, start=1):
            query = encode(target, frame)
            refs = reference_indices(target, cfg.schedule)
            ref_feats, ref_values = [features[r] for r in refs], [values[r] for r in refs]
            prediction = model.read(query, ref_feats, ref_values, refs, target)
            predicted = upsample_argmax(prediction, size)
            features[target] = query
            values[target] = one_hot_at_stride(predicted, channels)
            for index in [i for i in features if not still_needed(i, target + 1, cfg.schedule)]:
                del features[index], values[index]
            yield PropagationStep(target, refs, prediction, predicted)
