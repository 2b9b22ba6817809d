"""The keypoint and part benchmarks in reports: JHMDB (PCK) and VIP (mIoU) beside DAVIS (J&F).

- one table of features x protocol x benchmark: a row per (features, protocol), each benchmark's
  headline metrics as columns, every number x100 from the rows' records;
- each benchmark's detail: PCK@0.1 per joint (JHMDB), IoU per part class (VIP);
- the published numbers of MAST, CRW, VFS and Spa-then-Temp on the three benchmarks beside the
  measured rows, labelled as published (each row its source) and, unless measured as the papers
  measured, "NOT comparable".
"""

from __future__ import annotations

import math

import pandas as pd

from ..metrics.names import DAVIS_SUMMARY, HEADERS
from ..results.published import BENCHMARK_COLUMNS, PUBLISHED
from .collect import Entry, as_number
from .tables import Table

KIND_NAMES = {"davis": "DAVIS", "youtube-vos": "YouTube-VOS", "jhmdb": "JHMDB", "vip": "VIP"}
COLUMNS = {  # what the cross-benchmark table shows of each kind
    "davis": DAVIS_SUMMARY,
    "youtube-vos": ("overall",),
    "jhmdb": ("PCK@0.1", "PCK@0.2"),
    "vip": ("mIoU",),
}
DETAILS = {"jhmdb": ("per_joint", "joint", "PCK@0.1"), "vip": ("per_class", "class", "IoU")}


def column_name(kind: str, metric: str) -> str:
    return f"{KIND_NAMES[kind]} {HEADERS.get(metric, metric)}"


def _value(entry: Entry | None, metric: str) -> float:
    return math.nan if entry is None else as_number(entry.record.metrics.get("global", {}).get(metric)) * 100


def benchmark_frame(by_kind: dict[str, list[Entry]], factors: dict[str, dict[str, str]]) -> pd.DataFrame:
    """A row per study row (features, protocol), each benchmark's metrics x100 as columns."""
    labels = list(dict.fromkeys(e.label for entries in by_kind.values() for e in entries))
    rows = []
    for label in labels:
        factor = factors.get(label, {"variant": label, "protocol": ""})
        row = {"Features": factor["variant"], "Protocol": factor["protocol"]}
        for kind, entries in by_kind.items():
            entry = next((e for e in entries if e.label == label), None)
            row.update({column_name(kind, m): _value(entry, m) for m in COLUMNS[kind]})
        rows.append(row)
    return pd.DataFrame(rows)


def benchmark_table(by_kind: dict[str, list[Entry]], factors: dict, caption: str) -> Table:
    frame = benchmark_frame(by_kind, factors)
    metrics = [c for c in frame.columns if c not in ("Features", "Protocol")]
    return Table(
        "benchmarks",
        caption,
        frame,
        decimals={c: 1 for c in metrics},
        better={c: "higher" for c in metrics},
    )


def detail_table(kind: str, entries: list[Entry], caption: str) -> Table:
    """PCK@0.1 per joint (JHMDB) or IoU per part class (VIP) x100, a row per entry."""
    block, key, metric = DETAILS[kind]
    rows = []
    for entry in entries:
        row = {"Row": entry.label}
        for item in entry.record.metrics.get(block, []):
            value = item.get(metric)
            row[str(item[key])] = value * 100 if isinstance(value, (int, float)) else math.nan
        rows.append(row)
    frame = pd.DataFrame(rows)
    return Table(f"{block}", caption, frame, decimals={c: 1 for c in frame.columns if c != "Row"})


def benchmark_paper_table(measured: pd.DataFrame, preset: str, comparable: bool, caption: str) -> Table:
    """The published rows of the three benchmarks, then the measured rows, labelled as what they are."""
    published = PUBLISHED["benchmarks"]
    columns = [c for c in measured.columns if c not in ("Features", "Protocol")]
    rows = []
    for row in published.rows:
        entry = {"Method": row.method, "Source": f"published: {row.source or published.source}"}
        entry["Trained on"] = row.training_data
        for column in columns:
            metric = _metric_of(column)
            entry[column] = row.values.get(metric, math.nan) if metric in BENCHMARK_COLUMNS else math.nan
        rows.append(entry)
    label = f"measured ({preset} preset)" + ("" if comparable else ", NOT comparable to the papers")
    for data in measured.to_dict("records"):
        entry = {
            "Method": f"{data['Features']}@{data['Protocol']}",
            "Source": label,
            "Trained on": "as recorded",
        }
        entry.update({c: data[c] for c in columns})
        rows.append(entry)
    return Table("paper_benchmarks", caption, pd.DataFrame(rows), decimals={c: 1 for c in columns})


def _metric_of(column: str) -> str:
    """The metric a column of :func:`benchmark_frame` shows."""
    names = {column_name(kind, metric): metric for kind, metrics in COLUMNS.items() for metric in metrics}
    return names[column]
