"""Published numbers of MAST and the trackers its paper compares with (percent).

From Lai, Lu, Xie, "MAST: A Memory-Augmented Self-Supervised Tracker", CVPR 2020 (tables of
DAVIS-2017 val and YouTube-VOS 2018 val). Data only: studies name a table by its key, reports
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


@dataclass(frozen=True)
class PublishedTable:
    title: str
    evaluation: str
    rows: tuple[PublishedRow, ...]
    source: str = PAPER
    kind: str = "davis"  # the dataset kind whose records it sits beside


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
