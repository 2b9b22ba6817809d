"""Which clips a training run read, kept beside its checkpoints (``train-data.json``).

A stage checkpoint's identity holds the variant and the stages, not the frames: without this record
a run resumed (or branched) on another ``--data`` would quietly mix two trainings under one folder.
The record names each clip with its frame count and a training set's clip weights, a cheap check
that catches another folder or another cut of the footage (not an edited frame: the result records
fingerprint frame contents).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..errors import CheckpointError

DATA_RECORD = "train-data.json"


def clips_summary(clips) -> dict[str, Any]:
    """``clips`` (a ClipSource) as the record stores it."""
    weights = getattr(clips, "weights", None)
    return {
        "clips": [[name, int(clips.num_frames(i))] for i, name in enumerate(clips.clip_names)],
        "weights": None if weights is None else [float(w) for w in weights],
    }


def read_run_json(path: Path, what: str, remedy: str) -> Any | None:
    """A JSON file of a run folder; None where there is none; an unreadable one stops the run in one
    line naming it, ``what`` it is and the ``remedy``."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable {what} ({exc}); {remedy}") from None


def read_data_record(run_dir: Path) -> dict[str, Any] | None:
    return read_run_json(Path(run_dir) / DATA_RECORD, "training-data record", "delete it to rewrite it")


def _difference(recorded: dict[str, Any], summary: dict[str, Any]) -> str | None:
    if recorded == summary:
        return None
    before, now = recorded.get("clips") or [], summary["clips"]
    if [c[0] for c in before] != [c[0] for c in now]:
        return f"{len(before)} clips ({_first_names(before)}) there, {len(now)} ({_first_names(now)}) here"
    if before != now:
        return "the same clips with other frame counts"
    return "the same clips with other clip weights"


def _first_names(clips: list) -> str:
    names = [str(c[0]) for c in clips[:2]]
    return ", ".join(names) + (", ..." if len(clips) > 2 else "")


RESUME_REMEDY = "use another run folder, or the data it was trained on"


def check_data_record(run_dir: Path, summary: dict[str, Any], what: str) -> None:
    """Refuse when ``run_dir`` recorded other training data than ``summary``; ``what`` says why it
    matters (resume, branch)."""
    recorded = read_data_record(run_dir)
    difference = None if recorded is None else _difference(recorded, summary)
    if difference is not None:
        raise CheckpointError(
            f"{Path(run_dir) / DATA_RECORD}: this run trained on other data ({difference}); {what}"
        )


def keep_data_record(run_dir: Path, summary: dict[str, Any], trained: bool) -> None:
    """Check the run's record against ``summary``, or write it where there is none yet. Before any
    checkpoint (``trained`` False: a run that failed before its first) the record is rewritten: no
    weight has seen the data it names."""
    if trained:
        check_data_record(run_dir, summary, RESUME_REMEDY)
    if not trained or read_data_record(run_dir) is None:
        atomic_write_json(Path(run_dir) / DATA_RECORD, summary)
