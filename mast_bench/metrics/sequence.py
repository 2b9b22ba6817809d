"""Score one sequence: read its annotations and predictions, check them, J and F per object and frame.

Kept free of pandas so that the worker processes evaluating sequences in parallel start quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.davis import count_objects
from ..data.palette import read_label_map, read_prediction
from ..errors import DataError
from ..label_ids import VOID_LABEL
from .davis_files import SequenceFiles
from .frames import score_frame
from .measures import boundary_radius, disk


@dataclass(frozen=True)
class SequenceScores:
    """Per-frame J and F of one sequence: arrays (n_objects, n_scored_frames); frames are indices 1..N-2."""

    name: str
    frames: np.ndarray
    j: np.ndarray
    f: np.ndarray

    @property
    def n_objects(self) -> int:
        return self.j.shape[0]


def score_sequence(files: SequenceFiles, ignore_void: bool = False) -> SequenceScores:
    """Read one sequence's annotations and predictions and score frames 1..N-2 (the toolkit's frames)."""
    first = read_label_map(files.annotations[0], allow_grey=True, role="annotation")
    n_objects = count_objects(first)
    shape = first.shape
    kernel = disk(boundary_radius(shape))
    scored = range(1, len(files.annotations) - 1)
    j = np.empty((n_objects, len(scored)), dtype=np.float64)
    f = np.empty_like(j)
    for column, index in enumerate(scored):
        annotation_path = files.annotations[index]
        annotation = read_label_map(annotation_path, allow_grey=True, role="annotation")
        if annotation.shape != shape:
            raise DataError(
                f"{annotation_path}: annotation is {annotation.shape[1]}x{annotation.shape[0]}, "
                f"expected {shape[1]}x{shape[0]} like {files.annotations[0].name}"
            )
        result_path = files.result_path(annotation_path.stem)
        needed = (
            f"every annotated frame except the first and the last needs <results>/{files.name}/<frame id>.png"
        )
        prediction = read_prediction(result_path, shape, needed)
        top = int(prediction.max())
        if top > n_objects:
            raise DataError(
                f"{result_path}: predicted mask contains id {top} but sequence {files.name!r} has "
                f"{n_objects} object(s) (ids 1..{n_objects} of its first annotation frame)"
            )
        void = annotation == VOID_LABEL if ignore_void else None
        j[:, column], f[:, column] = score_frame(annotation, prediction, n_objects, kernel, void)
    return SequenceScores(files.name, np.arange(1, len(files.annotations) - 1), j, f)
