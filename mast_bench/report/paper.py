"""The table that sets measured numbers beside the published ones (results.published).

A measured number is only *compared* (difference column) when it was measured
the way the paper measured it: the paper preset on DAVIS-2017 val. Anything
else is still shown, but labelled with what it is and without a difference,
so a smoke run can never pass for a reproduction.
"""

from __future__ import annotations

import math

import pandas as pd

from ..metrics.names import DAVIS_METRICS, DAVIS_SUMMARY, HEADERS, JHMDB_METRICS, VIP_METRICS, YOUTUBE_METRICS
from ..results.published import PUBLISHED
from .tables import Table

METRICS = {
    "davis": DAVIS_METRICS[:5],
    "youtube-vos": YOUTUBE_METRICS,
    "jhmdb": JHMDB_METRICS,
    "vip": VIP_METRICS,
}
COMPARED = {
    "davis": DAVIS_SUMMARY,
    "youtube-vos": ("overall", "gap"),
    "jhmdb": JHMDB_METRICS,
    "vip": VIP_METRICS,
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


def is_benchmark_comparable(preset: str, names: list[str]) -> bool:
    """JHMDB and VIP: the paper preset on data given by the user (never an embedded set); whether the
    root holds the whole test split is the user's to know (the field's lists differ by a video)."""
    return preset == "paper" and bool(names) and not any(name.startswith("embedded") for name in names)


def measured_label(preset: str, training: str, evaluation: str) -> str:
    return f"measured: {preset} preset; training: {training}; evaluation: {evaluation}"


def paper_table(
    key: str, summary: pd.DataFrame, preset: str, training: str, evaluation: str, comparable: bool
) -> Table:
    """Published rows, then measured rows (percent), with the difference to the matching published row
    only when ``comparable``; otherwise the header says why there is none."""
    published = PUBLISHED[key]
    metrics, compared = METRICS[published.kind], COMPARED[published.kind]
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
        source = f"published, trained on {row.training_data}"
        entry = {
            "Method": row.method,
            "Source": source + (f" ({row.source})" if row.source else ""),
            "Record": "",
        }
        entry.update({HEADERS[m]: row.values.get(m, math.nan) for m in metrics})
        rows.append(entry)
    by_variant = {row.variant: row for row in published.rows if row.variant}
    for data in summary.to_dict("records"):
        entry = {
            "Method": str(data["label"]),
            "Source": f"measured ({preset} preset)",
            "Record": str(data["key"]),
        }
        entry.update({HEADERS[m]: float(data[m]) * 100 for m in metrics})
        if comparable:
            match = by_variant.get(str(data["variant"]))
            for metric in compared:
                published_value = match.values.get(metric, math.nan) if match is not None else math.nan
                entry[f"Δ{HEADERS[metric]} vs published"] = entry[HEADERS[metric]] - published_value
        rows.append(entry)
    frame = pd.DataFrame(rows)
    decimals = {HEADERS[m]: 1 for m in metrics}
    decimals.update({f"Δ{HEADERS[m]} vs published": 1 for m in compared})
    return Table(f"paper_{key}", caption, frame, decimals=decimals, short={"Record": 12})
