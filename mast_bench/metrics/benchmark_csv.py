"""A JHMDB or VIP evaluation as CSV files and a console table, as the DAVIS toolkit's are.

``<kind>-<split>-global.csv`` (one row: PCK@0.1 and PCK@0.2, or mIoU and pixel accuracy), and its
detail tables (JHMDB: per joint, per video and joint; VIP: per class, per video), written
atomically, always from the numbers just computed, with the toolkit's ``%.3f``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .part_iou import VipScores
from .pck import JhmdbScores
from .toolkit_csv import CSV_PATTERNS, write_table_csv

BENCHMARK_KINDS = ("jhmdb", "vip")  # what write_benchmark_csvs writes for


def benchmark_tables(scores: JhmdbScores | VipScores) -> dict[str, pd.DataFrame]:
    """The tables of an evaluation, by name: global first, then the details."""
    if isinstance(scores, JhmdbScores):
        return {"global": scores.summary, "per-joint": scores.per_joint, "per-video": scores.per_video}
    return {"global": scores.summary, "per-class": scores.per_class, "per-video": scores.per_video}


def score_csv_patterns(kind: str) -> tuple[str, ...]:
    """The names ``mast-bench evaluate`` gives the CSVs it writes into a ``kind`` masks folder, any
    split (a YouTube-VOS results folder gets none: the server scores it)."""
    if kind == "davis":
        return CSV_PATTERNS
    return (f"{kind}-*-*.csv",) if kind in BENCHMARK_KINDS else ()


def write_benchmark_csvs(scores: JhmdbScores | VipScores, results_dir: str | Path, kind: str, split: str):
    """Write (overwrite) every table as ``<results_dir>/<kind>-<split>-<table>.csv``; their paths."""
    paths = []
    for name, table in benchmark_tables(scores).items():
        path = Path(results_dir) / f"{kind}-{split}-{name}.csv"
        write_table_csv(table, path)
        paths.append(path)
    return paths


def format_benchmark_report(scores: JhmdbScores | VipScores, kind: str, split: str) -> str:
    """The global row and the first detail table, as the console shows them."""
    tables = benchmark_tables(scores)
    detail = next(name for name in tables if name != "global")
    return (
        f"--------------------------- {kind} {split}: global ---------------------------\n"
        f"{tables['global'].to_string(index=False)}\n"
        f"\n---------- {kind} {split}: {detail} ----------\n"
        f"{tables[detail].to_string(index=False)}\n"
    )
