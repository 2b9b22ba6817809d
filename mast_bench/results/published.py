"""Published numbers of MAST and the trackers its paper compares with (percent).

From Lai, Lu, Xie, "MAST: A Memory-Augmented Self-Supervised Tracker", CVPR 2020 (tables of
DAVIS-2017 val and YouTube-VOS 2018 val), and CRW's, VFS's and Spa-then-Temp's numbers on DAVIS,
JHMDB and VIP, each row naming its source. Data only: studies name a table by its key, reports
set measured rows beside it.
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


# MAST trained on YouTube-VOS, DAVIS-2017 val: shown in more than one table
MAST_YTVOS_DAVIS2017_VAL = {
    "J&F-Mean": 65.5,
    "J-Mean": 63.3,
    "J-Recall": 73.2,
    "F-Mean": 67.6,
    "F-Recall": 77.7,
}

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
                {"J&F-Mean": 63.7, "J-Mean": 61.2, "J-Recall": 73.2, "F-Mean": 66.3, "F-Recall": 78.3},
            ),
            PublishedRow("CorrFlow", "(see paper)", {"J&F-Mean": 50.3}),
            PublishedRow("UVC", "(see paper)", {"J&F-Mean": 59.5}),
            PublishedRow("CycleTime", "(see paper)", {"J&F-Mean": 48.7}),
            PublishedRow("Video colorization (Vondrick)", "(see paper)", {"J&F-Mean": 34.0}),
        ),
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

# YouTube-VOS 2018 val, MAST: seen/unseen J and F; overall = their mean; the generalisation gap is
# (J_seen + F_seen) / 2 - (J_unseen + F_unseen) / 2 = 64.4 - 64.0 = 0.4
MAST_YOUTUBE_VOS_2018_VAL = {
    "overall": 64.2,
    "J_seen": 63.9,
    "F_seen": 64.9,
    "J_unseen": 60.3,
    "F_unseen": 67.7,
    "gap": 0.4,
}
PUBLISHED["youtube-vos-2018-val"] = PublishedTable(
    title="YouTube-VOS 2018 val, semi-supervised",
    evaluation="YouTube-VOS 2018 valid (474 videos), scored by the evaluation server",
    rows=(PublishedRow("MAST", "YouTube-VOS", MAST_YOUTUBE_VOS_2018_VAL, variant="mast"),),
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
