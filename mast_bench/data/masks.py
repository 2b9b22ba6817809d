"""Predicted masks in the DAVIS results layout ``<root>/<seq>/<frame>.png`` (palette PNGs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .palette import read_label_map, write_label_map


def _frame_name(frame: int | str) -> str:
    if isinstance(frame, int):
        if frame < 0:
            raise DataError(f"frame index must be >= 0, got {frame}")
        return f"{frame:05d}"
    if not frame or "/" in frame or "\\" in frame:
        raise DataError(f"bad frame name {frame!r}")
    return frame


def _sequence_dir(root: Path, sequence: str) -> Path:
    if not sequence or "/" in sequence or "\\" in sequence or sequence in (".", ".."):
        raise DataError(f"bad sequence name {sequence!r}")
    return root / sequence


def result_path(root: str | Path, sequence: str, frame: int | str) -> Path:
    """Where the mask of ``frame`` (index -> 00000.png, or a name) of ``sequence`` lives."""
    return _sequence_dir(Path(root), sequence) / f"{_frame_name(frame)}.png"


class ResultsWriter:
    """Writes each mask atomically, so an interrupted run never leaves a half-written PNG."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sequence: str, frame: int | str) -> Path:
        return result_path(self.root, sequence, frame)

    def write(self, sequence: str, frame: int | str, labels: np.ndarray) -> Path:
        return write_label_map(self.path(sequence, frame), labels)

    def written_frames(self, sequence: str) -> tuple[str, ...]:
        folder = _sequence_dir(self.root, sequence)
        if not folder.is_dir():
            return ()
        return tuple(sorted(p.stem for p in folder.glob("*.png")))


def read_result(root: str | Path, sequence: str, frame: int | str) -> np.ndarray:
    """Read back one predicted mask as (H, W) uint8 ids."""
    return read_label_map(result_path(root, sequence, frame))
