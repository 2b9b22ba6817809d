"""Which dataset layout a folder holds, decided in one place: DAVIS-2017, YouTube-VOS, JHMDB or VIP.

DAVIS-2017 has ``ImageSets/2017/``; a YouTube-VOS root has ``<split>/meta.json`` (a split folder
itself has ``JPEGImages/`` and ``Annotations/`` beside its own ``meta.json``); JHMDB has
``joint_positions/``; VIP has ``Images/`` and ``Annotations/Category_ids/`` (or ``Category_ids/``).
Every reader, the pre-flight check and the evaluation sets ask here, so a folder of another kind is
named as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..errors import DataError

DatasetKind = Literal["davis", "youtube-vos", "jhmdb", "vip"]
DATASET_KINDS: tuple[str, ...] = ("davis", "youtube-vos", "jhmdb", "vip")
YOUTUBE_SPLITS = ("train", "valid", "test")
WHAT = {  # how each layout shows itself, for the message that names it
    "davis": "a DAVIS-2017 layout (ImageSets/2017 inside)",
    "youtube-vos": "a YouTube-VOS layout (<split>/meta.json inside)",
    "jhmdb": "a JHMDB layout (joint_positions inside)",
    "vip": "a VIP layout (Images and Annotations/Category_ids inside)",
}


def detect_kind(root: str | Path) -> DatasetKind | None:
    """The layout of ``root``, or None when it is none of them (the readers then say what is missing)."""
    root = Path(root)
    if (root / "ImageSets" / "2017").is_dir():
        return "davis"
    if any((root / split / "meta.json").is_file() for split in YOUTUBE_SPLITS):
        return "youtube-vos"
    if (root / "meta.json").is_file() and (root / "JPEGImages").is_dir():
        return "youtube-vos"
    if (root / "joint_positions").is_dir():
        return "jhmdb"
    annotations = (root / "Annotations" / "Category_ids").is_dir() or (root / "Category_ids").is_dir()
    if (root / "Images").is_dir() and annotations:
        return "vip"
    return None


def require_kind(root: str | Path, kind: str) -> None:
    """DataError when ``root`` holds another kind's layout, naming the flag that reads it."""
    if kind not in DATASET_KINDS:
        raise DataError(f"unknown dataset kind {kind!r}; expected one of {', '.join(DATASET_KINDS)}")
    found = detect_kind(root)
    if found is None or found == kind:
        return
    raise DataError(f"{root}: {WHAT[found]}; use --dataset {found}")
