"""Predicted masks in the DAVIS layout ``<root>/<seq>/<frame>.png`` (palette PNGs).

Every mask is written atomically, and a whole sequence is published at once: :class:`SequenceMasks`
writes into a hidden staging folder named after its owner (host, PID) and renames it into place
when the sequence is complete, so an interrupted run leaves complete sequences only and a rerun
resumes after them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

import numpy as np

from ..errors import DataError
from ..locks import debris_name
from .palette import label_pngs, read_label_map, write_label_map
from .plain_names import plain_name


def _frame_name(frame: int | str) -> str:
    if isinstance(frame, int):
        if frame < 0:
            raise DataError(f"frame index must be >= 0, got {frame}")
        return f"{frame:05d}"
    if not frame or "/" in frame or "\\" in frame:
        raise DataError(f"bad frame name {frame!r}")
    return frame


def _sequence_dir(root: Path, sequence: str) -> Path:
    return root / plain_name(sequence, "sequence")


def mask_path(root: str | Path, sequence: str, frame: int | str) -> Path:
    """Where the mask of ``frame`` (index -> 00000.png, or a name) of ``sequence`` lives."""
    return _sequence_dir(Path(root), sequence) / f"{_frame_name(frame)}.png"


class MaskWriter:
    """Writes each mask atomically, so an interrupted run never leaves a half-written PNG."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sequence: str, frame: int | str) -> Path:
        return mask_path(self.root, sequence, frame)

    def write(self, sequence: str, frame: int | str, labels: np.ndarray) -> Path:
        return write_label_map(self.path(sequence, frame), labels)

    def written_frames(self, sequence: str) -> tuple[str, ...]:
        folder = _sequence_dir(self.root, sequence)
        if not folder.is_dir():
            return ()
        return tuple(p.stem for p in label_pngs(folder))


def read_mask(root: str | Path, sequence: str, frame: int | str) -> np.ndarray:
    """Read back one predicted mask as (H, W) uint8 ids."""
    return read_label_map(mask_path(root, sequence, frame), role="predicted mask")


class SequenceMasks:
    """``with SequenceMasks(out, seq) as out: out.write(frame, labels)``: <out>/<seq>/ appears whole
    on a clean exit (replacing an older copy), and not at all on an error."""

    def __init__(self, out_dir: str | Path, sequence: str) -> None:
        self.final = _sequence_dir(Path(out_dir), sequence)
        self.staged = Path(out_dir) / debris_name(f".{sequence}", ".partial")

    def __enter__(self) -> SequenceMasks:
        self.staged.mkdir(parents=True)
        self._writer = MaskWriter(self.staged.parent)
        return self

    def write(self, frame_name: str, labels: np.ndarray) -> Path:
        return self._writer.write(self.staged.name, frame_name, labels)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            shutil.rmtree(self.staged, ignore_errors=True)
            return
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.staged, self.final)
