"""Every metric's name, in one place: what scoring writes, what a study may ask for, what reports show.

Plain tuples and dicts (no numpy, no pandas), so the study loader, the reports and the commands
read them without the scoring stack.
"""

from __future__ import annotations

from typing import Literal

# DAVIS: the toolkit's global CSV columns in its own order, and the order studies and reports use
DAVIS_TOOLKIT_COLUMNS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
DAVIS_METRICS = ("J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay")
DavisMetric = Literal[DAVIS_METRICS]  # what a study's `metrics` may list
DAVIS_SUMMARY = ("J&F-Mean", "J-Mean", "F-Mean")  # what summaries and side-by-side tables show
OBJECT_METRICS = ("J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")  # per object
# YouTube-VOS (scored locally, seen = categories of the training meta.json): overall = mean of the four
YOUTUBE_METRICS = ("overall", "J_seen", "F_seen", "J_unseen", "F_unseen", "gap")
YOUTUBE_COUNTS = ("objects_seen", "objects_unseen")
# JHMDB keypoints (metrics/pck.py): PCK at 0.1 and 0.2 of the pose scale, means over the 15 joints
PCK_THRESHOLDS = (0.1, 0.2)
JHMDB_METRICS = ("PCK@0.1", "PCK@0.2")
# VIP human parts (metrics/part_iou.py): mean IoU over the 20 classes
VIP_METRICS = ("mIoU",)
BENCHMARK_METRICS = {"jhmdb": JHMDB_METRICS, "vip": VIP_METRICS}
HEADLINE = {"davis": "J&F-Mean", "youtube-vos": "overall", "jhmdb": "PCK@0.1", "vip": "mIoU"}
LOWER_IS_BETTER = frozenset({"J-Decay", "F-Decay", "gap"})
HEADERS = {  # how tables and summaries head each metric
    "J&F-Mean": "J&F",
    "J-Mean": "J",
    "J-Recall": "J-recall",
    "F-Mean": "F",
    "F-Recall": "F-recall",
    "J-Decay": "J-decay",
    "F-Decay": "F-decay",
    "overall": "Overall",
    "J_seen": "J seen",
    "F_seen": "F seen",
    "J_unseen": "J unseen",
    "F_unseen": "F unseen",
    "gap": "Gap (seen - unseen)",
    "PCK@0.1": "PCK@0.1",
    "PCK@0.2": "PCK@0.2",
    "mIoU": "mIoU",
}
