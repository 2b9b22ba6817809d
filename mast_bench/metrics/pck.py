"""PCK of propagated keypoints, as the field scores JHMDB (TimeCycle -> UVC -> CRW's
code/eval/eval_pck.py; VFS's and Spa-then-Temp's jhmdb_dataset.py pck_evaluate compute the same).

- coordinates are 0-based pixels of the frame (the ground truth is ``pos_img - 1``);
- a predicted joint is visible unless its x is negative (a propagated heatmap with no mass gives -1);
- the scale of a frame is 0.6 x the diagonal of the box around its ground-truth joints that are
  predicted visible; a joint's distance is its error divided by that scale;
- every one of the 15 joints counts, the first frame (the given annotation) does not;
- PCK@a of a joint is the share of its scored (frame, video) distances <= a over all videos; the
  reported PCK@a is the mean over the 15 joints of those shares (not over all joints pooled).
VFS's code differs in two places, both noted and not followed: it scores the first frame too, and
calls a joint visible only when x > 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.jhmdb import JOINT_NAMES, JhmdbDataset
from ..data.keypoint_files import read_keypoints
from .names import JHMDB_METRICS, PCK_THRESHOLDS

BOX_FACTOR = 0.6  # eval_pck.py: now_boxes[k] = 0.6 * np.linalg.norm(...)
BOX_START = (1e6, -1.0)  # eval_pck.py: minx = miny = 1e6, maxx = maxy = -1


def _norm(offsets: np.ndarray) -> np.ndarray:
    """Euclidean length along the first axis, as np.linalg.norm of a 2-vector: sqrt(x*x + y*y)."""
    return np.sqrt(offsets[0] * offsets[0] + offsets[1] * offsets[1])


@dataclass(frozen=True)
class VideoDistances:
    """One video's normalised distances (J, T) and which of them are scored (visible, not frame 0)."""

    distances: np.ndarray
    scored: np.ndarray


def normalised_distances(predicted: np.ndarray, truth: np.ndarray) -> VideoDistances:
    """(2, J, T) predicted and ground-truth coordinates -> each joint's error / the frame's scale."""
    predicted, truth = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    if predicted.shape != truth.shape or predicted.ndim != 3 or predicted.shape[0] != 2:
        raise ValueError(
            f"predicted {predicted.shape} and ground truth {truth.shape} must be (2, J, T) alike"
        )
    visible = predicted[0] >= 0
    # eval_pck.py starts its box at min 1e6, max -1 and widens it by the visible joints
    low = np.minimum(np.where(visible, truth, BOX_START[0]).min(axis=1), BOX_START[0])  # (2, T)
    high = np.maximum(np.where(visible, truth, BOX_START[1]).max(axis=1), BOX_START[1])
    scale = BOX_FACTOR * _norm(high - low)
    error = _norm(predicted - truth)  # (J, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        distances = error / scale
    scored = visible.copy()
    scored[:, 0] = False  # the first frame is the input
    return VideoDistances(distances, scored)


def pck_per_joint(videos: Iterable[VideoDistances], threshold: float) -> np.ndarray:
    """(J,) share of each joint's scored distances <= ``threshold``, pooled over the videos (a NaN
    distance, from a scale of 0, counts as a miss as in the original)."""
    videos = list(videos)
    hits = sum((v.scored & (v.distances <= threshold)).sum(axis=1) for v in videos)
    counts = sum(v.scored.sum(axis=1) for v in videos)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(hits, np.float64) / counts


@dataclass(frozen=True)
class JhmdbScores:
    summary: pd.DataFrame  # one row: PCK@0.1, PCK@0.2 (means over the joints, in [0, 1]), videos
    per_joint: pd.DataFrame  # joint, PCK@0.1, PCK@0.2, scored
    per_video: pd.DataFrame  # video, joint, PCK@0.1, PCK@0.2, scored: the paired unit of reports

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.summary.iloc[0].items()}


def score_videos(pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> JhmdbScores:
    """``{video: (predicted, truth)}`` -> the summary, per joint and per (video, joint)."""
    distances = {name: normalised_distances(p, t) for name, (p, t) in pairs.items()}
    count = next(iter(distances.values())).scored.shape[0] if distances else len(JOINT_NAMES)
    names = JOINT_NAMES if count == len(JOINT_NAMES) else tuple(f"joint{j}" for j in range(count))
    per_joint: dict[str, object] = {"joint": list(names)}
    rows = [{"video": video, "joint": joint} for video in distances for joint in names]
    for metric, threshold in zip(JHMDB_METRICS, PCK_THRESHOLDS, strict=True):
        per_joint[metric] = pck_per_joint(distances.values(), threshold)
        per_video = [pck_per_joint([d], threshold) for d in distances.values()]
        for row, value in zip(rows, np.concatenate(per_video) if per_video else [], strict=True):
            row[metric] = float(value)
    scored = [d.scored.sum(axis=1) for d in distances.values()]
    per_joint["scored"] = np.sum(scored, axis=0) if scored else np.zeros(count, int)
    for row, value in zip(rows, np.concatenate(scored) if scored else [], strict=True):
        row["scored"] = int(value)
    summary = {m: float(np.mean(per_joint[m])) for m in JHMDB_METRICS}
    summary["videos"] = len(distances)
    return JhmdbScores(
        pd.DataFrame([summary]),
        pd.DataFrame(per_joint),
        pd.DataFrame(rows, columns=["video", "joint", *JHMDB_METRICS, "scored"]),
    )


def evaluate_jhmdb(root, predictions, split: str, videos: Iterable[str] | None = None) -> JhmdbScores:
    """PCK of the keypoint files in ``predictions`` (``<predictions>/<class>/<video>.npy``) against
    the joints of a JHMDB root, over the videos of ``split`` (or those named)."""
    dataset = JhmdbDataset(root, split)
    names = list(videos) if videos is not None else list(dataset.video_names())
    pairs = {}
    for name in names:
        video = dataset.sequence(name)
        truth = video.joints()[..., : video.num_frames]
        pairs[name] = (read_keypoints(predictions, name, truth.shape), truth)
    return score_videos(pairs)
