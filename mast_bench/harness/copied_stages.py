"""Which leading stages of a training run were copied from another run, not trained in it
(``stages-copied.json``).

``train --branch-from`` copies them, and so does the harness for the pairs stages that variants
differing only in the long-term read train alike (``shared_training.first_stages_once``). The
run's train.json marks each such stage with the run it came from (``results.COPIED_FROM``), so
neither the study preview nor a report counts its seconds twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_write_json
from .train_data import read_run_json

COPIED_NOTE = "stages-copied.json"


def note_copied(out_dir: Path, source: Path, stages: Sequence[str]) -> None:
    """Written before the copies (a run killed between them copies again, or trains them and says
    so, :func:`forget_copied`); ``stages``: those about to be copied, not those already there."""
    if not stages:
        return
    where = os.path.relpath(Path(source).resolve(), Path(out_dir).resolve().parent)
    _write(out_dir, {**copied_stages(out_dir), **dict.fromkeys(stages, where)})


def forget_copied(out_dir: Path, stage: str) -> None:
    """``stage`` trains in this run after all (a copy cut short, then a run without its source)."""
    copied = copied_stages(out_dir)
    if stage in copied:
        _write(out_dir, {name: source for name, source in copied.items() if name != stage})


def copied_stages(out_dir: Path) -> dict[str, str]:
    """Stage name -> the run it was copied from (relative to ``out_dir``'s parent)."""
    note = read_run_json(Path(out_dir) / COPIED_NOTE, "note of copied stages", "delete it to train them here")
    return {str(k): str(v) for k, v in note.items()} if isinstance(note, dict) else {}


def _write(out_dir: Path, copied: dict[str, str]) -> None:
    if copied:
        atomic_write_json(Path(out_dir) / COPIED_NOTE, copied)
    else:
        (Path(out_dir) / COPIED_NOTE).unlink(missing_ok=True)
