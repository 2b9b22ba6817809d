"""DAVIS semi-supervised evaluation with the davis2017-evaluation toolkit's numbers, parallel over sequences.

Toolkit semantics reproduced (see docs in tests/support/toolkit_oracle.py for the straight port):
- objects are ids 1..max id of the FIRST annotation frame (void 255 read as background);
- frames 1..N-2 are scored; each object gets J and F per frame, then mean/recall/decay (statistics.py);
- void: the toolkit turns 255 into background when it reads the annotations, so a predicted pixel on a void
  region counts as a false positive. ``ignore_void=True`` removes void pixels from both masks instead
  (the metric functions' intended use; not the toolkit's numbers);
- the global row is the plain mean over all objects of all sequences, J&F = (J-Mean + F-Mean) / 2.
Where we differ on purpose (all errors instead of the toolkit's silent ``sys.exit()`` with status 0):
a prediction id above the number of objects is an error naming the file; a prediction that never shows
one of the objects is scored (J = F = 0 where the object is annotated) instead of aborting the run;
decay bins do not overflow for long sequences.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .davis_files import SequenceFiles, resolve_sequences
from .names import DAVIS_TOOLKIT_COLUMNS, OBJECT_METRICS
from .sequence import SequenceScores, score_sequence
from .statistics import db_statistics

GLOBAL_COLUMNS = DAVIS_TOOLKIT_COLUMNS
PER_SEQUENCE_COLUMNS = ("Sequence", "J-Mean", "F-Mean")
PER_OBJECT_COLUMNS = ("sequence", "object", *OBJECT_METRICS)
PER_FRAME_COLUMNS = ("sequence", "object", "frame", "J", "F")


@dataclass(frozen=True)
class DavisScores:
    """Toolkit tables (``global_table``, ``per_sequence``) plus per-object and per-frame tables (reports)."""

    split: str
    global_table: pd.DataFrame
    per_sequence: pd.DataFrame
    per_object: pd.DataFrame
    per_frame: pd.DataFrame

    def global_metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.global_table.iloc[0].items()}


def _score_all(files: list[SequenceFiles], ignore_void: bool, n_jobs: int) -> list[SequenceScores]:
    """Every sequence's scores, in list order. ``n_jobs`` threads: PNG decoding (Pillow) and the
    boundary dilations (OpenCV) release the GIL, and threads cost nothing to start, where a pool of
    processes spent longer starting than a DAVIS-sized evaluation takes."""
    if n_jobs == 1 or len(files) == 1:
        return [score_sequence(f, ignore_void) for f in files]
    # longest sequences first so that the threads finish together; results are put back in list order
    order = sorted(range(len(files)), key=lambda i: -len(files[i].annotations))
    with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="mast-bench-score") as pool:
        done = list(pool.map(lambda i: score_sequence(files[i], ignore_void), order))
    by_index = dict(zip(order, done, strict=True))
    return [by_index[i] for i in range(len(files))]


def tables_from_scores(scores: list[SequenceScores], split: str = "val") -> DavisScores:
    """Aggregate per-frame scores exactly as the toolkit does (object order = sequence order, then id)."""
    object_rows, frame_parts = [], []
    for seq in scores:
        for index in range(seq.n_objects):
            jm, jr, jd = db_statistics(seq.j[index])
            fm, fr, fd = db_statistics(seq.f[index])
            object_rows.append((seq.name, index + 1, jm, jr, jd, fm, fr, fd))
            frame_parts.append(
                pd.DataFrame(
                    {
                        "sequence": seq.name,
                        "object": index + 1,
                        "frame": seq.frames,
                        "J": seq.j[index],
                        "F": seq.f[index],
                    }
                )
            )
    if not object_rows:
        raise DataError("no object to score: every evaluated sequence has an empty first annotation frame")
    per_object = pd.DataFrame(object_rows, columns=list(PER_OBJECT_COLUMNS))
    # np.mean over Python lists in object order: the toolkit's summation order, so the same last bit
    jm, jr, jd, fm, fr, fd = (np.mean(list(per_object[c])) for c in GLOBAL_COLUMNS[1:])
    global_row = np.array([(jm + fm) / 2.0, jm, jr, jd, fm, fr, fd]).reshape(1, -1)
    global_table = pd.DataFrame(data=global_row, columns=list(GLOBAL_COLUMNS))
    per_sequence = pd.DataFrame(
        data=list(
            zip(
                [f"{s}_{o}" for s, o in zip(per_object["sequence"], per_object["object"], strict=True)],
                list(per_object["J-Mean"]),
                list(per_object["F-Mean"]),
                strict=True,
            )
        ),
        columns=list(PER_SEQUENCE_COLUMNS),
    )
    per_frame = pd.concat(frame_parts, ignore_index=True)
    return DavisScores(split, global_table, per_sequence, per_object, per_frame)


def evaluate_semisupervised(
    davis_root: str | Path,
    results_dir: str | Path,
    split: str = "val",
    sequences: list[str] | tuple[str, ...] | None = None,
    n_jobs: int = 2,
    resolution: str = "480p",
    ignore_void: bool = False,
) -> DavisScores:
    """Score ``<results_dir>/<seq>/<frame>.png`` against DAVIS annotations as the toolkit does."""
    if n_jobs < 1:
        raise ConfigError(f"n_jobs must be at least 1, got {n_jobs}")
    files = resolve_sequences(davis_root, results_dir, split, sequences, resolution)
    return tables_from_scores(_score_all(files, ignore_void, n_jobs), split)
