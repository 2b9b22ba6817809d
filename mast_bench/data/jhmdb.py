"""JHMDB as the field's keypoint propagation benchmark reads it (CRW, UVC, VFS, Spa-then-Temp).

``<root>/Rename_Images/<class>/<video>/00001.png ...`` (``Frames/`` as mmaction renames it is read
too), ``<root>/joint_positions/<class>/<video>/joint_positions.mat`` (``pos_img``: (2, 15, frames),
x and y in 1-based MATLAB pixels) and the split list ``<root>/<split>_list.txt``: one video per line,
its ``joint_positions.mat`` and its frame folder in either order (Spa-then-Temp's val_list.txt puts
the .mat first, CRW's lists the frames first), each relative to the root, to the root's parent (the
``JHMDB/...`` prefix of Spa-then-Temp's list) or absolute. The field evaluates the 268 test videos of
split 1 (``val``: Spa-then-Temp data/data_info/val_list.txt holds 267 of them).

A video is propagated over min(frames, annotated frames) frames, as VFS truncates to the ground truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .images import frame_size, list_video_frames, read_rgb_sized
from .inputs import FrameInput

# JHMDB's 15 joints in pos_img order (CRW's vis_pose and VFS's draw the same skeleton over them)
JOINT_NAMES = (
    "neck",
    "belly",
    "face",
    "right-shoulder",
    "left-shoulder",
    "right-hip",
    "left-hip",
    "right-elbow",
    "left-elbow",
    "right-knee",
    "left-knee",
    "right-wrist",
    "left-wrist",
    "right-ankle",
    "left-ankle",
)
FRAME_FOLDERS = ("Rename_Images", "Frames")
JOINTS_FOLDER = "joint_positions"
JOINTS_FILE = "joint_positions.mat"
JOINTS_KEY = "pos_img"
LIST_SUFFIX = "_list.txt"


def read_joints(path: str | Path) -> np.ndarray:
    """(2, 15, T) float64 joint coordinates of a ``joint_positions.mat``, 0-based (``pos_img - 1``,
    the originals' "magic -1")."""
    from scipy.io import loadmat  # scipy only where a .mat file is read
    from scipy.io.matlab import MatReadError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: joint positions missing (expected a MATLAB file with {JOINTS_KEY!r})")
    try:
        contents = loadmat(str(path))
    except (OSError, ValueError, TypeError, NotImplementedError, MatReadError) as exc:
        raise DataError(f"{path}: unreadable MATLAB file ({exc})") from None
    joints = contents.get(JOINTS_KEY)
    if not isinstance(joints, np.ndarray) or joints.ndim != 3 or joints.shape[:2] != (2, len(JOINT_NAMES)):
        shape = getattr(joints, "shape", None)
        raise DataError(
            f"{path}: {JOINTS_KEY!r} must be a (2, {len(JOINT_NAMES)}, frames) array, got "
            + ("nothing" if joints is None else f"shape {shape}")
        )
    joints = joints.astype(np.float64)
    if joints.shape[2] == 0:
        raise DataError(f"{path}: {JOINTS_KEY!r} has no frame")
    if not np.isfinite(joints).all():
        _, joint, frame = (int(i) for i in np.argwhere(~np.isfinite(joints))[0])
        raise DataError(
            f"{path}: {JOINTS_KEY!r} has a non-finite coordinate ({JOINT_NAMES[joint]}, frame {frame + 1}); "
            "every joint of every frame needs one"
        )
    return joints - 1.0


def _frame_paths(folder: Path) -> list[Path]:
    """The frames 00001.png, 00002.png ... of a JHMDB video folder, consecutive from 1."""
    if not folder.is_dir():
        raise DataError(f"{folder}: frame folder missing")
    paths = list_video_frames(folder)
    if not paths:
        raise DataError(f"{folder}: no frames (expected 00001.png ...)")
    stems = [p.stem for p in paths]
    if all(s.isdigit() for s in stems):
        numbers = [int(s) for s in stems]
        for expected, (number, path) in enumerate(zip(numbers, paths, strict=True), start=1):
            if number != expected:
                missing = folder / f"{expected:0{len(stems[0])}d}{path.suffix}"
                raise DataError(f"{missing}: frame missing (frames are numbered from 1 without gaps)")
    return paths


@dataclass(frozen=True)
class JhmdbVideo:
    """One video: its frames and its joint positions (the ground truth of every frame)."""

    name: str  # <class>/<video>
    frame_paths: tuple[Path, ...]
    joints_path: Path
    size: tuple[int, int]
    annotated_frames: int

    @property
    def num_frames(self) -> int:
        """Frames propagated: those with both a frame file and joint positions."""
        return min(len(self.frame_paths), self.annotated_frames)

    @property
    def frame_names(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.frame_paths[: self.num_frames])

    @property
    def annotation_paths(self) -> tuple[Path, ...]:
        """The file the dataset's fingerprint covers beside the frames."""
        return (self.joints_path,)

    def joints(self) -> np.ndarray:
        """(2, 15, T) 0-based coordinates of every annotated frame."""
        return read_joints(self.joints_path)

    def propagation_inputs(self) -> Iterator[FrameInput]:
        """One :class:`FrameInput` per propagated frame: frame 0 carries the joints to propagate."""
        first = self.joints()[:, :, 0]
        for index, name in enumerate(self.frame_names):
            rgb = read_rgb_sized(self.frame_paths[index], self.size)
            yield FrameInput(index, name, rgb, None, joints=first if index == 0 else None)


def _resolve(root: Path, text: str, where: str) -> Path:
    """A list entry: absolute, relative to the root, or to the root's parent."""
    path = Path(text)
    for candidate in (path,) if path.is_absolute() else (root / path, root.parent / path):
        if candidate.exists():
            return candidate
    raise DataError(f"{where}: {text} not found (relative to {root}, its parent, or absolute)")


class JhmdbDataset:
    """A JHMDB root and one split list; ``JhmdbDataset(root, "val").sequence("catch/x_0").frames``."""

    def __init__(self, root: str | Path, split: str = "val") -> None:
        self.root = Path(root)
        self.split = split
        self.frames_dir = next((self.root / f for f in FRAME_FOLDERS if (self.root / f).is_dir()), None)
        if self.frames_dir is None or not (self.root / JOINTS_FOLDER).is_dir():
            raise DataError(
                f"{self.root}: not a JHMDB layout, missing {' or '.join(FRAME_FOLDERS)} or {JOINTS_FOLDER} "
                f"(expected Rename_Images/<class>/<video>/00001.png and "
                f"{JOINTS_FOLDER}/<class>/<video>/{JOINTS_FILE})"
            )
        self._entries: dict[str, tuple[Path, Path]] | None = None

    @property
    def list_path(self) -> Path:
        return self.root / f"{self.split}{LIST_SUFFIX}"

    def splits(self) -> tuple[str, ...]:
        return tuple(sorted(p.name.removesuffix(LIST_SUFFIX) for p in self.root.glob(f"*{LIST_SUFFIX}")))

    def entries(self) -> dict[str, tuple[Path, Path]]:
        """video name -> (frame folder, joint positions file), in list order."""
        if self._entries is None:
            self._entries = self._read_list()
        return self._entries

    def _read_list(self) -> dict[str, tuple[Path, Path]]:
        path = self.list_path
        if not path.is_file():
            available = ", ".join(self.splits()) or "none"
            raise DataError(
                f"{path}: split list missing (available splits: {available}); one video per line: "
                f"its {JOINTS_FILE} and its frame folder"
            )
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: unreadable split list ({exc})") from None
        entries: dict[str, tuple[Path, Path]] = {}
        for number, line in enumerate(lines, start=1):
            words = line.split()
            if not words:
                continue
            where = f"{path}:{number}"
            mats = [w for w in words if w.endswith(".mat")]
            if len(words) != 2 or len(mats) != 1:
                raise DataError(
                    f"{where}: expected two paths, a {JOINTS_FILE} and a frame folder, got {line!r}"
                )
            folder = next(w for w in words if w not in mats)
            frames, joints = _resolve(self.root, folder, where), _resolve(self.root, mats[0], where)
            entries.setdefault(f"{frames.parent.name}/{frames.name}", (frames, joints))
        if not entries:
            raise DataError(f"{path}: empty split list (expected one video per line)")
        return entries

    def video_names(self) -> tuple[str, ...]:
        return tuple(self.entries())

    def sequence(self, name: str) -> JhmdbVideo:
        """The video ``name`` (``<class>/<video>``) of the split: its layout checked from headers and
        its joint positions read."""
        entries = self.entries()
        if name not in entries:
            raise DataError(f"{self.list_path}: no video {name!r} in split {self.split!r}")
        folder, joints_path = entries[name]
        paths = _frame_paths(folder)
        annotated = read_joints(joints_path).shape[2]
        size = frame_size(paths[0])
        return JhmdbVideo(name, tuple(paths), joints_path, size, annotated)

    def videos(self) -> Iterator[JhmdbVideo]:
        for name in self.video_names():
            yield self.sequence(name)
