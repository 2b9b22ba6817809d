"""Human-part propagation scores as the field computes them on VIP (TimeCycle -> UVC's eval_vip.py ->
CRW's code/eval/eval_vip.py; VFS's and Spa-then-Temp's vip_evaluate with mmaction's mean_iou agree):

- one confusion matrix over every scored pixel of every frame of every video (the first frame
  included: the trackers write the given annotation there), rows the ground truth, columns the
  prediction, 20 classes (0 background .. 19 left-shoe);
- ground-truth pixels outside the 20 classes (255) are not scored;
- IoU of a class = its diagonal / (its ground-truth pixels + its predicted pixels - the diagonal);
  a class absent from both is NaN and left out: mIoU is the mean of the others (np.nanmean).
A predicted id outside the classes (none of ours) counts against the ground truth's class and no
other; the originals have no such case (CRW's fast_hist would misplace it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.masks import mask_path
from ..data.palette import read_prediction
from ..data.vip import CLASS_NAMES, VipDataset
from .names import VIP_METRICS

CLASSES = len(CLASS_NAMES)


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """(classes, classes) pixel counts, rows ground truth, columns prediction; truth outside the
    classes is not scored."""
    truth, predicted = np.asarray(truth).ravel(), np.asarray(predicted).ravel()
    if truth.shape != predicted.shape:
        raise ValueError(f"ground truth {truth.shape} and prediction {predicted.shape} differ in size")
    keep = truth < classes
    other = np.minimum(predicted[keep].astype(np.int64), classes)  # column `classes`: no class
    counts = np.bincount(
        truth[keep].astype(np.int64) * (classes + 1) + other, minlength=classes * (classes + 1)
    )
    return counts.reshape(classes, classes + 1)[:, :classes]


def class_iou(matrix: np.ndarray, truth_pixels: np.ndarray | None = None) -> np.ndarray:
    """(classes,) IoU from a confusion matrix; NaN for a class absent from truth and prediction.
    ``truth_pixels``: each class's ground-truth pixels (default: the rows' sums, right whenever every
    prediction is a class)."""
    matrix = np.asarray(matrix, np.float64)
    truth = matrix.sum(axis=1) if truth_pixels is None else np.asarray(truth_pixels, np.float64)
    union = truth + matrix.sum(axis=0) - np.diag(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diag(matrix) / union


@dataclass(frozen=True)
class PartCounts:
    """A video's (or the set's) confusion and each class's ground-truth pixels."""

    matrix: np.ndarray
    truth: np.ndarray

    @classmethod
    def empty(cls, classes: int = CLASSES) -> PartCounts:
        return cls(np.zeros((classes, classes), np.int64), np.zeros(classes, np.int64))

    def __add__(self, other: PartCounts) -> PartCounts:
        return PartCounts(self.matrix + other.matrix, self.truth + other.truth)

    def iou(self) -> np.ndarray:
        return class_iou(self.matrix, self.truth)

    def mean_iou(self) -> float:
        """The mean over the classes present (NaN when none is)."""
        iou = self.iou()
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


def frame_counts(truth: np.ndarray, predicted: np.ndarray, classes: int = CLASSES) -> PartCounts:
    truth = np.asarray(truth)
    pixels = np.bincount(truth[truth < classes].ravel().astype(np.int64), minlength=classes)
    return PartCounts(confusion(truth, predicted, classes), pixels)


@dataclass(frozen=True)
class VipScores:
    summary: pd.DataFrame  # one row: mIoU (in [0, 1]), pixel_accuracy, videos, frames
    per_class: pd.DataFrame  # class, IoU, truth_pixels
    per_video: pd.DataFrame  # video, mIoU: the paired unit of reports

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.summary.iloc[0].items()}


def score_counts(videos: dict[str, PartCounts], frames: int) -> VipScores:
    """The scores of each video's counts and of their sum."""
    total = sum(videos.values(), PartCounts.empty())
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = float(np.trace(total.matrix) / total.truth.sum())
    summary = {VIP_METRICS[0]: total.mean_iou()}
    summary.update({"pixel_accuracy": accuracy, "videos": len(videos), "frames": frames})
    per_class = pd.DataFrame({"class": list(CLASS_NAMES), "IoU": total.iou(), "truth_pixels": total.truth})
    per_video = pd.DataFrame(
        [{"video": name, VIP_METRICS[0]: counts.mean_iou()} for name, counts in videos.items()],
        columns=["video", VIP_METRICS[0]],
    )
    return VipScores(pd.DataFrame([summary]), per_class, per_video)


def evaluate_vip(root, masks: str | Path, split: str, videos: Iterable[str] | None = None) -> VipScores:
    """mIoU of the masks ``<masks>/<video>/<frame>.png`` against a VIP root's part labels, every frame."""
    dataset = VipDataset(root)
    names = list(videos) if videos is not None else list(dataset.sequence_names(split))
    per_video, frames = {}, 0
    for name in names:
        sequence = dataset.sequence(name)
        counts = PartCounts.empty()
        for index, frame in enumerate(sequence.frame_names):
            truth = sequence.labels(index)
            predicted = read_prediction(mask_path(masks, name, frame), truth.shape, "every frame needs one")
            counts = counts + frame_counts(truth, predicted)
        per_video[name] = counts
        frames += sequence.num_frames
    return score_counts(per_video, frames)
