"""YouTube-VOS-style scores where ground truth exists: J and F per object, seen/unseen, overall and gap.

Ground truth: a YouTube-style split folder, ``<gt>/Annotations/<video>/<frame>.png`` on every sparse
frame (a held-out part of ``train``, or any folder annotated that way) and ``<gt>/meta.json``
(``videos.<video>.objects.<id>.category`` and ``.frames``; an object's first annotation is the first
annotation PNG, from the first of its frames on, that shows it, as the propagation starts it:
``data.youtube_vos.settled_starts``).
Predictions: ``<results>/<video>/<frame>.png`` or a submission's
``<results>/Annotations/<video>/<frame>.png``.

Rules (the evaluation server's code is not public; its documented protocol is DAVIS's J and F,
averaged per object, then over the seen and over the unseen objects, overall = mean of the four):
- an object is scored on every annotated frame AFTER its first annotation (that frame is the input);
- the last frame is scored: DAVIS drops it only for compatibility with DAVIS-2016 methods that
  produced no last mask, while YouTube-VOS asks for every frame from the object's first appearance
  to the end of the video;
- frames where the object is absent from the ground truth (it left, or is hidden) are scored like any
  other: J = F = 1 when the prediction shows no pixel of it either, 0 when it does. So a tracker is
  penalised for a ghost that outlives the object, as the DAVIS toolkit's per-frame measures do;
- an object annotated only on the last frame, or shown by no annotation, has nothing to score: its
  row holds NaN and it is left out of the means;
- seen = the object's category is among the categories of the training meta.json; a group without
  objects gives NaN, and so do overall and the gap then.
J and F of a frame come from :func:`mast_bench.metrics.frames.score_frame` (the DAVIS toolkit's
measures, boundary tolerance ceil(0.008 x diagonal)).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.palette import label_pngs, read_label_map, read_prediction
from ..data.youtube_vos import categories_of, frame_order, meta_objects, read_meta, settled_starts
from ..errors import DataError
from .frames import score_frame
from .measures import boundary_radius, disk
from .names import YOUTUBE_COUNTS, YOUTUBE_METRICS
from .toolkit_csv import write_table_csv

SUMMARY_COLUMNS = (*YOUTUBE_METRICS, *YOUTUBE_COUNTS)
PER_OBJECT_COLUMNS = ("video", "object", "category", "seen", "J", "F", "frames")
PER_FRAME_COLUMNS = ("video", "object", "frame", "J", "F")


@dataclass(frozen=True)
class ObjectTrack:
    object_id: int
    category: str | None
    first_frame: str


@dataclass(frozen=True)
class YouTubeScores:
    summary: pd.DataFrame  # one row, SUMMARY_COLUMNS
    per_object: pd.DataFrame  # PER_OBJECT_COLUMNS
    per_frame: pd.DataFrame  # PER_FRAME_COLUMNS

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.summary.iloc[0].items()}


def _tracks(video: str, entry: object, meta_path: Path) -> list[ObjectTrack]:
    objects = meta_objects(video, entry, meta_path)
    if not objects:
        raise DataError(f"{meta_path}: videos.{video}.objects missing or empty")
    return [ObjectTrack(i, category, first) for i, (first, _, category) in sorted(objects.items())]


def _results_root(results: Path) -> Path:
    return results / "Annotations" if (results / "Annotations").is_dir() else results


def score_video(
    video: str, tracks: list[ObjectTrack], gt_dir: Path, results_dir: Path
) -> tuple[list[tuple], list[tuple]]:
    """(per-object rows without 'seen', per-frame rows) of one video."""
    annotations = sorted(label_pngs(gt_dir), key=lambda p: frame_order(p.stem))
    position = {p.stem: i for i, p in enumerate(annotations)}
    for track in tracks:
        if track.first_frame not in position:
            raise DataError(
                f"{gt_dir / track.first_frame}.png: first annotation of object {track.object_id} missing"
            )
    # the ground truth the start rule read, scored below without a second read
    read: dict[str, np.ndarray] = {}

    @functools.cache
    def shown(frame: str) -> set[int]:
        read[frame] = _truth(annotations[position[frame]])
        return set(np.unique(read[frame]).tolist())

    starts, _ = settled_starts({t.object_id: t.first_frame for t in tracks}, list(position), shown)
    never = len(annotations)  # an object no annotation shows is never scored
    first = [never if starts[t.object_id] is None else position[starts[t.object_id]] for t in tracks]
    lookup = np.zeros(256, np.uint8)  # object ids -> 1..K, the indices score_frame scores
    lookup[[t.object_id for t in tracks]] = np.arange(1, len(tracks) + 1)
    scores: list[list[tuple[str, float, float]]] = [[] for _ in tracks]
    for index, path in enumerate(annotations):
        truth = read.pop(path.stem) if path.stem in read else _truth(path)
        scored = [k for k, start in enumerate(first) if index > start]
        if not scored:
            continue
        needed = "every annotated frame after an object's first needs one"
        predicted = read_prediction(results_dir / video / f"{path.stem}.png", truth.shape, needed)
        kernel = disk(boundary_radius(truth.shape))
        j, f = score_frame(lookup[truth], lookup[predicted], len(tracks), kernel)
        for k in scored:
            scores[k].append((path.stem, float(j[k]), float(f[k])))
    objects, frames = [], []
    for track, rows in zip(tracks, scores, strict=True):
        j_mean = float(np.mean([r[1] for r in rows])) if rows else float("nan")
        f_mean = float(np.mean([r[2] for r in rows])) if rows else float("nan")
        objects.append((video, track.object_id, track.category, j_mean, f_mean, len(rows)))
        frames += [(video, track.object_id, name, j, f) for name, j, f in rows]
    return objects, frames


def _truth(path: Path) -> np.ndarray:
    return read_label_map(path, allow_grey=True, role="annotation")


def _group_mean(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.mean()) if len(values) else float("nan")


def summarise(per_object: pd.DataFrame) -> pd.DataFrame:
    """The one-row summary: J/F means over the seen and over the unseen objects, overall, gap."""
    seen, unseen = per_object[per_object["seen"]], per_object[~per_object["seen"]]
    j_seen, f_seen = _group_mean(seen["J"]), _group_mean(seen["F"])
    j_unseen, f_unseen = _group_mean(unseen["J"]), _group_mean(unseen["F"])
    overall = (j_seen + f_seen + j_unseen + f_unseen) / 4
    gap = (j_seen + f_seen) / 2 - (j_unseen + f_unseen) / 2
    counts = [int(seen["J"].notna().sum()), int(unseen["J"].notna().sum())]
    row = [overall, j_seen, f_seen, j_unseen, f_unseen, gap, *counts]
    return pd.DataFrame([row], columns=list(SUMMARY_COLUMNS))


def evaluate_youtube(
    gt_root: str | Path,
    results: str | Path,
    seen_categories: Iterable[str] | str | Path,
    videos: Iterable[str] | None = None,
) -> YouTubeScores:
    """Score ``results`` against the YouTube-style ground truth ``gt_root`` (see the module rules).

    ``seen_categories``: the training categories, or the path of the training meta.json.
    """
    gt_root, results = Path(gt_root), Path(results)
    meta_path = gt_root / "meta.json"
    meta = read_meta(meta_path)
    if not results.is_dir():
        raise DataError(f"{results}: results folder not found (expected <results>/<video>/<frame>.png)")
    if isinstance(seen_categories, (str, Path)):
        seen_categories = categories_of(seen_categories)
    seen = frozenset(seen_categories)
    names = sorted(meta) if videos is None else list(dict.fromkeys(videos))
    unknown = [n for n in names if n not in meta]
    if unknown:
        raise DataError(f"{meta_path}: video {unknown[0]!r} not listed")
    object_rows, frame_rows = [], []
    for name in names:
        gt_dir = gt_root / "Annotations" / name
        if not gt_dir.is_dir():
            raise DataError(f"{gt_dir}: annotation folder of video {name!r} not found")
        tracks = _tracks(name, meta[name], meta_path)
        objects, frames = score_video(name, tracks, gt_dir, _results_root(results))
        object_rows += objects
        frame_rows += frames
    columns = [c for c in PER_OBJECT_COLUMNS if c != "seen"]
    per_object = pd.DataFrame(object_rows, columns=columns)
    per_object.insert(3, "seen", per_object["category"].isin(seen))
    per_frame = pd.DataFrame(frame_rows, columns=list(PER_FRAME_COLUMNS))
    return YouTubeScores(summarise(per_object), per_object, per_frame)


def youtube_csv_paths(out_dir: str | Path, split: str) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    return out_dir / f"youtube_summary-{split}.csv", out_dir / f"youtube_per-object-{split}.csv"


def write_youtube_csvs(evaluation: YouTubeScores, out_dir: str | Path, split: str) -> tuple[Path, Path]:
    """The summary and the per-object table as CSVs, written as the DAVIS toolkit's are."""
    summary_path, per_object_path = youtube_csv_paths(out_dir, split)
    for table, path in ((evaluation.summary, summary_path), (evaluation.per_object, per_object_path)):
        write_table_csv(table, path)
    return summary_path, per_object_path
