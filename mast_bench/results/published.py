"""Published numbers of MAST and the trackers its paper compares with (percent).

From Lai, Lu, Xie, "MAST: A Memory-Augmented Self-Supervised Tracker", CVPR 2020 (Table 1, DAVIS-2017
val, and Table 8, YouTube-VOS 2018 val, as printed in the paper and in zlai0/MAST figures/), and
CRW's, VFS's and Spa-then-Temp's numbers on DAVIS, JHMDB and VIP, each row naming its source. Data
only: studies name a table by its key, reports set measured rows beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER = "Lai, Lu, Xie, MAST: A Memory-Augmented Self-Supervised Tracker, CVPR 2020"


@dataclass(frozen=True)
class PublishedRow:
    method: str
    training_data: str
    values: dict[str, float]  # percent; absent metrics were not published
    variant: str | None = None  # the registered variant that measures the same thing
    source: str | None = None  # where this row's numbers come from (None: the table's source)


@dataclass(frozen=True)
class PublishedTable:
    title: str
    evaluation: str
    rows: tuple[PublishedRow, ...]
    source: str = PAPER
    kind: str = "davis"  # the dataset kind whose records it sits beside ("benchmarks": several)


def _davis(jf: float, j: float, j_recall: float, f: float, f_recall: float) -> dict[str, float]:
    """A row of the paper's Table 1 (DAVIS-2017 val), in its column order."""
    return {"J&F-Mean": jf, "J-Mean": j, "J-Recall": j_recall, "F-Mean": f, "F-Recall": f_recall}


# MAST trained on YouTube-VOS, DAVIS-2017 val: shown in more than one table
MAST_YTVOS_DAVIS2017_VAL = _davis(65.5, 63.3, 73.2, 67.6, 77.7)

PUBLISHED: dict[str, PublishedTable] = {
    "davis2017-val": PublishedTable(
        title="DAVIS-2017 val, semi-supervised (self-supervised trackers)",
        evaluation="DAVIS-2017 val (30 sequences, 61 objects), full 480p",
        rows=(
            PublishedRow(
                "MAST",
                "YouTube-VOS",
                MAST_YTVOS_DAVIS2017_VAL,
                variant="mast",
            ),
            PublishedRow(
                "MAST",
                "OxUvA",
                _davis(63.7, 61.2, 73.2, 66.3, 78.3),
            ),
            PublishedRow("CorrFlow (ResNet-18)", "OxUvA", _davis(50.3, 48.4, 53.2, 52.2, 56.0)),
            PublishedRow("UVC (ResNet-18)", "Kinetics", _davis(59.5, 57.7, 68.3, 61.3, 69.8)),
            # as printed; unlike the others, these two rows' J&F is not the mean of their J and F
            PublishedRow("CycleTime (ResNet-50)", "VLOG", _davis(48.7, 46.4, 50.0, 50.0, 48.0)),
            PublishedRow(
                "Video colorization (Vondrick et al., ResNet-18)",
                "Kinetics",
                _davis(34.0, 34.6, 34.1, 32.7, 26.8),
            ),
        ),
        source=f"{PAPER}, Table 1 (self-supervised rows)",
    ),
    "davis2017-val-memory": PublishedTable(
        title="DAVIS-2017 val, MAST memory ablation",
        evaluation="DAVIS-2017 val (30 sequences, 61 objects), full 480p",
        rows=(
            PublishedRow(
                "MAST (official reference schedule)",
                "YouTube-VOS",
                MAST_YTVOS_DAVIS2017_VAL,
                variant="mast",
            ),
            PublishedRow(
                "MAST, previous frame only",
                "YouTube-VOS",
                {"J-Mean": 57.3, "F-Mean": 61.8},
                variant="mast-previous",
            ),
        ),
    ),
}


def _youtube(overall: float, j_seen: float, f_seen: float, j_unseen: float, f_unseen: float, gap: float):
    """A row of the paper's Table 8 (YouTube-VOS 2018 val), in its column order: overall = the mean
    of the four, gap = (J_seen + F_seen) / 2 - (J_unseen + F_unseen) / 2."""
    return {
        "overall": overall,
        "J_seen": j_seen,
        "F_seen": f_seen,
        "J_unseen": j_unseen,
        "F_unseen": f_unseen,
        "gap": gap,
    }


# YouTube-VOS 2018 val, MAST: gap 64.4 - 64.0 = 0.4
MAST_YOUTUBE_VOS_2018_VAL = _youtube(64.2, 63.9, 64.9, 60.3, 67.7, 0.4)
PUBLISHED["youtube-vos-2018-val"] = PublishedTable(
    title="YouTube-VOS 2018 val, semi-supervised (self-supervised trackers)",
    evaluation="YouTube-VOS 2018 valid (474 videos), scored by the evaluation server",
    rows=(
        PublishedRow("MAST", "YouTube-VOS", MAST_YOUTUBE_VOS_2018_VAL, variant="mast"),
        PublishedRow("CorrFlow", "OxUvA", _youtube(46.6, 50.6, 46.6, 43.8, 45.6, 3.9)),
        PublishedRow(
            "Video colorization (reimplemented by MAST's authors)",
            "(not stated)",
            _youtube(38.9, 43.1, 38.6, 36.6, 37.4, 3.9),
        ),
    ),
    source=f"{PAPER}, Table 8 (self-supervised rows)",
    kind="youtube-vos",
)

# JHMDB (PCK) and VIP (mIoU) beside DAVIS-2017 val: the field's three label-propagation benchmarks.
# Only numbers read from a source named in the row are given; a metric left out is one we could not
# read here (a paper table we had no copy of), never a zero. MAST never reported JHMDB or VIP.
CRW_PAPER = "Jabri, Owens, Efros, Space-Time Correspondence as a Contrastive Random Walk, NeurIPS 2020"
CRW_SOURCE = (
    f"{CRW_PAPER}: J and JHMDB PCK@0.1 as the Papers with Code listing of the paper gives them (64.8, "
    "59.3), J&F as reproduction reports quote it (67.6); F, VIP and PCK@0.2 not read here"
)
VFS_SOURCE = (
    "Xu, Wang, Rethinking Self-supervised Correspondence Learning (VFS), ICCV 2021: official repository "
    "README model zoo, ResNet-18 (its reproduction, 'slightly higher than reported in the paper')"
)
SPA_THEN_TEMP_SOURCE = (
    "Li, Liu, Spatial-then-Temporal Self-Supervised Learning for Video Correspondence, CVPR 2023: official "
    "repository README model zoo, ResNet-18 stride 8 (rerun; 'may be slightly different from the paper')"
)
CRW_VALUES = {"J&F-Mean": 67.6, "J-Mean": 64.8, "PCK@0.1": 59.3}
VFS_R18_VALUES = {"J&F-Mean": 66.7, "J-Mean": 64.0, "F-Mean": 69.5}
SPA_THEN_TEMP_R18_VALUES = {"J&F-Mean": 70.7, "PCK@0.1": 63.5, "PCK@0.2": 83.1, "mIoU": 40.9}


def _benchmark_rows(metrics: tuple[str, ...]) -> tuple[PublishedRow, ...]:
    """The four trackers' rows restricted to ``metrics`` (a row with none of them is left out)."""
    rows = (
        PublishedRow("MAST", "YouTube-VOS", MAST_YTVOS_DAVIS2017_VAL, variant="mast", source=PAPER),
        PublishedRow("CRW", "Kinetics", CRW_VALUES, source=CRW_SOURCE),
        PublishedRow("VFS (ResNet-18)", "Kinetics", VFS_R18_VALUES, source=VFS_SOURCE),
        PublishedRow("Spa-then-Temp (ResNet-18, stride 8)", "ImageNet + YouTube-VOS",
                     SPA_THEN_TEMP_R18_VALUES, source=SPA_THEN_TEMP_SOURCE),
    )  # fmt: skip
    kept = []
    for row in rows:
        values = {m: v for m, v in row.values.items() if m in metrics}
        if values:
            kept.append(PublishedRow(row.method, row.training_data, values, row.variant, row.source))
    return tuple(kept)


BENCHMARK_COLUMNS = ("J&F-Mean", "J-Mean", "F-Mean", "PCK@0.1", "PCK@0.2", "mIoU")
PUBLISHED["benchmarks"] = PublishedTable(
    title="DAVIS-2017 val, JHMDB (split 1 test) and VIP (val): label propagation, self-supervised trackers",
    evaluation="DAVIS-2017 val at 480p; JHMDB at 320x320 (PCK); VIP at 560x560 (mIoU over 20 classes)",
    rows=_benchmark_rows(BENCHMARK_COLUMNS),
    source="the sources of each row",
    kind="benchmarks",
)
PUBLISHED["jhmdb"] = PublishedTable(
    title="JHMDB split 1 test, keypoint propagation (PCK)",
    evaluation="JHMDB at 320x320, 15 joints, PCK at 0.1 and 0.2 of 0.6 x the pose box diagonal",
    rows=_benchmark_rows(("PCK@0.1", "PCK@0.2")),
    source="the sources of each row",
    kind="jhmdb",
)
PUBLISHED["vip"] = PublishedTable(
    title="VIP val, human part propagation (mIoU)",
    evaluation="VIP_Fine val at 560x560, mIoU over the 20 classes",
    rows=_benchmark_rows(("mIoU",)),
    source="the sources of each row",
    kind="vip",
)
