"""The toolkit's two CSV files and its console table, byte for byte.

``global_results-<split>.csv`` and ``per-sequence_results-<split>.csv`` are written by pandas with
``index=False, float_format="%.3f"`` as evaluation_method.py does, but atomically and always from the
numbers just computed (the toolkit silently reuses CSVs left by an earlier run).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import atomic_write

if TYPE_CHECKING:  # annotations only: YouTube-VOS and benchmark CSVs need no DAVIS scoring stack
    from .evaluation import DavisScores

FLOAT_FORMAT = "%.3f"


CSV_PATTERNS = ("global_results-*.csv", "per-sequence_results-*.csv")  # csv_paths' names, any split


def csv_paths(results_dir: str | Path, split: str) -> tuple[Path, Path]:
    results_dir = Path(results_dir)
    return results_dir / f"global_results-{split}.csv", results_dir / f"per-sequence_results-{split}.csv"


def write_csvs(
    evaluation: DavisScores, results_dir: str | Path, split: str | None = None
) -> tuple[Path, Path]:
    """Write (overwrite) both toolkit CSVs into ``results_dir``; returns their paths."""
    global_path, per_sequence_path = csv_paths(results_dir, split or evaluation.split)
    for table, path in ((evaluation.global_table, global_path), (evaluation.per_sequence, per_sequence_path)):
        write_table_csv(table, path)
    return global_path, per_sequence_path


def write_table_csv(table, path: Path) -> None:
    """One table as the toolkit writes it (``index=False``, ``%.3f``), atomically."""
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, float_format=FLOAT_FORMAT))


def format_report(evaluation: DavisScores, split: str | None = None) -> str:
    """The two tables as evaluation_method.py prints them after a fresh evaluation."""
    split = split or evaluation.split
    return (
        f"--------------------------- Global results for {split} ---------------------------\n"
        f"{evaluation.global_table.to_string(index=False)}\n"
        f"\n---------- Per sequence results for {split} ----------\n"
        f"{evaluation.per_sequence.to_string(index=False)}\n"
    )
