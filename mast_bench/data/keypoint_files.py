"""Propagated keypoints on disk: ``<out>/<class>/<video>.npy``, one (2, J, T) float64 array per video
(x, y in 0-based pixels of the frame; -1 where a joint's heatmap had no mass), the layout of CRW's
``<vid>.dat`` files. Each file is written whole and atomically when its video is complete, so a rerun
resumes after the videos already there.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import TracebackType

import numpy as np

from ..atomic import atomic_write_bytes
from ..errors import DataError
from .plain_names import is_plain_name


def keypoints_path(out_dir: str | Path, video: str) -> Path:
    """Where the keypoints of ``video`` (``<class>/<video>``) live."""
    parts = video.split("/")
    if not all(is_plain_name(p) for p in parts):
        raise DataError(f"bad video name {video!r}")
    return Path(out_dir).joinpath(*parts[:-1], f"{parts[-1]}.npy")


def read_keypoints(out_dir: str | Path, video: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The (2, J, T) keypoints of ``video``; ``shape``: what the ground truth needs."""
    path = keypoints_path(out_dir, video)
    if not path.is_file():
        raise DataError(f"{path}: predicted keypoints missing (expected a (2, J, T) .npy array)")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable keypoints ({exc})") from None
    if array.ndim != 3 or array.shape[0] != 2 or (shape is not None and array.shape != tuple(shape)):
        expected = tuple(shape) if shape is not None else "(2, J, T)"
        raise DataError(f"{path}: keypoints of shape {array.shape}, expected {expected}")
    return array.astype(np.float64, copy=False)


class KeypointWriter:
    """``with KeypointWriter(out, video) as out: out.write(frame, joints)``: the video's file appears
    whole on a clean exit, and not at all on an error."""

    def __init__(self, out_dir: str | Path, video: str) -> None:
        self.path = keypoints_path(out_dir, video)
        self._frames: list[np.ndarray] = []

    def __enter__(self) -> KeypointWriter:
        return self

    def write(self, frame_name: str, joints: np.ndarray) -> None:
        joints = np.asarray(joints, np.float64)
        if joints.ndim != 2 or joints.shape[0] != 2:
            raise DataError(f"keypoints of frame {frame_name}: expected (2, J), got {joints.shape}")
        self._frames.append(joints)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None or not self._frames:
            return
        buffer = io.BytesIO()
        np.save(buffer, np.stack(self._frames, axis=-1), allow_pickle=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, buffer.getvalue())
