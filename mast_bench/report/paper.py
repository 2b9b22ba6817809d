"""Published numbers (MAST_SPEC.md "Published numbers") and the table that sets measured ones beside them.

A measured number is only *compared* (difference column) when it was measured
the way the paper measured it: the paper preset on DAVIS-2017 val. Anything
else is still shown, but labelled with what it is and without a difference,
so a smoke run can never pass for a reproduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .tables import Table

PAPER = "Lai, Lu, Xie, MAST: A Memory-Augmented Self-Supervised Tracker, CVPR 2020"
METRICS = ("J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall")
HEADERS = {"J&F-Mean": "J&F", "J-Mean": "J", "J-Recall": "J-recall", "F-Mean": "F", "F-Recall": "F-recall"}


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


# MAST trained on YouTube-VOS, DAVIS-2017 val (MAST_SPEC.md): shown in more than one table
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


DAVIS2017_VAL_SEQUENCES = 30


def is_paper_comparable(preset: str, datasets: list[tuple[str, str, int]]) -> bool:
    """The paper preset on the whole DAVIS-2017 val set: (name, split, sequence count) of every record's data.

    The embedded default and any subset (fewer than the 30 val sequences) are never comparable.
    """
    return (
        preset == "paper"
        and bool(datasets)
        and all(
            name != "embedded-default" and split == "val" and count == DAVIS2017_VAL_SEQUENCES
            for name, split, count in datasets
        )
    )


def measured_label(preset: str, training: str, evaluation: str) -> str:
    return f"measured: {preset} preset; training: {training}; evaluation: {evaluation}"


def paper_table(
    key: str, summary: pd.DataFrame, preset: str, training: str, evaluation: str, comparable: bool
) -> Table:
    """Published rows, then measured rows (percent), with the difference to the matching published row
    only when ``comparable``; otherwise the header says why there is none."""
    published = PUBLISHED[key]
    label = measured_label(preset, training, evaluation)
    if comparable:
        caption = f"{published.title}: published ({published.source}) vs {label}"
    else:
        caption = (
            f"{published.title}: published ({published.source}) beside {label} "
            "-- NOT comparable to the paper; differences withheld"
        )
    rows = []
    for row in published.rows:
        entry = {"Method": row.method, "Source": f"published, trained on {row.training_data}", "Record": ""}
        entry.update({HEADERS[m]: row.values.get(m, math.nan) for m in METRICS})
        rows.append(entry)
    by_variant = {row.variant: row for row in published.rows if row.variant}
    for data in summary.to_dict("records"):
        entry = {
            "Method": str(data["label"]),
            "Source": f"measured ({preset} preset)",
            "Record": str(data["key"]),
        }
        entry.update({HEADERS[m]: float(data[m]) * 100 for m in METRICS})
        if comparable:
            match = by_variant.get(str(data["variant"]))
            for metric in ("J&F-Mean", "J-Mean", "F-Mean"):
                published_value = match.values.get(metric, math.nan) if match is not None else math.nan
                entry[f"Δ{HEADERS[metric]} vs published"] = entry[HEADERS[metric]] - published_value
        rows.append(entry)
    frame = pd.DataFrame(rows)
    decimals = {HEADERS[m]: 1 for m in METRICS}
    decimals.update({f"Δ{HEADERS[m]} vs published": 1 for m in ("J&F-Mean", "J-Mean", "F-Mean")})
    return Table(f"paper_{key}", caption, frame, decimals=decimals, short={"Record": 12})
