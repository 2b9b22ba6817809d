"""Scores of a masks folder as a record's ``metrics`` block: the metrics floor, by the split's kind.

DAVIS: the official toolkit's numbers (global, per sequence, per object, per frame); YouTube-VOS:
J and F per object by seen/unseen category, scored locally where full annotations exist; JHMDB:
PCK@0.1 and @0.2 (global, per joint, per video and joint); VIP: mIoU (global, per class, per video).
For JHMDB and VIP, ``per_object`` holds the paired unit reports resample: (video, joint) and video.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..data.splits import DavisSplit, EvaluationSplit, JhmdbSplit, VipSplit
from ..errors import DataError
from ..metrics.evaluation import evaluate_semisupervised
from ..metrics.part_iou import evaluate_vip
from ..metrics.pck import evaluate_jhmdb
from ..metrics.youtube import evaluate_youtube


def table_rows(table) -> list[dict[str, Any]]:
    """pandas rows as plain JSON-ready dicts (numpy scalars become Python numbers, NaN null)."""
    rows = table.to_dict(orient="records")
    return [{str(k): _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def score_split(split: EvaluationSplit, masks_dir: Path) -> dict[str, Any]:
    """The ``metrics`` block of the masks in ``masks_dir`` (written by the split's own writers)."""
    if isinstance(split, DavisSplit):
        return _davis(split, masks_dir)
    if isinstance(split, JhmdbSplit):
        return _jhmdb(split, masks_dir)
    if isinstance(split, VipSplit):
        return _vip(split, masks_dir)
    return _youtube(split, masks_dir)


def _jhmdb(split: JhmdbSplit, masks_dir: Path) -> dict[str, Any]:
    scores = evaluate_jhmdb(split.root, masks_dir, split.split, split.sequences)
    units = [
        {**row, "sequence": row["video"], "object": row["joint"]} for row in table_rows(scores.per_video)
    ]
    return _benchmark_block(split.kind, scores.summary, {"per_joint": scores.per_joint}, units)


def _vip(split: VipSplit, masks_dir: Path) -> dict[str, Any]:
    scores = evaluate_vip(split.root, masks_dir, split.split, split.sequences)
    units = [{**row, "sequence": row["video"], "object": "parts"} for row in table_rows(scores.per_video)]
    return _benchmark_block(split.kind, scores.summary, {"per_class": scores.per_class}, units)


def _benchmark_block(kind: str, summary, details: dict[str, Any], units: list[dict]) -> dict[str, Any]:
    """A keypoint or part benchmark's metrics block: its global row, its detail table, and the
    paired units (``per_object``) the report resamples; no per-frame block."""
    detail = {name: table_rows(frame) for name, frame in details.items()}
    return {"kind": kind, "global": table_rows(summary)[0], **detail, "per_object": units, "per_frame": []}


def _davis(split: DavisSplit, masks_dir: Path) -> dict[str, Any]:
    scores = evaluate_semisupervised(
        split.root, masks_dir, split.split, list(split.sequences), n_jobs=1, resolution=split.resolution
    )
    return {
        "kind": split.kind,
        "global": table_rows(scores.global_table)[0],
        "per_sequence": table_rows(scores.per_sequence),
        "per_object": table_rows(scores.per_object),
        "per_frame": table_rows(scores.per_frame),
    }


def require_scorable(split: EvaluationSplit) -> None:
    """Refuse a split the metrics cannot score, naming why, before any propagation (``run`` and
    ``ablate`` score every job; ``propagate`` writes masks without scores)."""
    reason = split.unscorable_reason()
    if reason is not None:
        raise DataError(f"{reason}; `mast-bench propagate` writes the masks without scoring them")


def _youtube(split, masks_dir: Path) -> dict[str, Any]:
    require_scorable(split)
    scores = evaluate_youtube(split.dataset().root, Path(masks_dir), split.seen_categories(), split.sequences)
    per_object = [
        {**row, "sequence": row["video"], "J-Mean": row["J"], "F-Mean": row["F"]}
        for row in table_rows(scores.per_object)
    ]
    per_frame = [{**row, "sequence": row["video"]} for row in table_rows(scores.per_frame)]
    return {
        "kind": split.kind,
        "global": table_rows(scores.summary)[0],
        "per_object": per_object,
        "per_frame": per_frame,
    }
