"""Which dataset layout a folder holds, decided in one place: DAVIS-2017 or YouTube-VOS.

DAVIS-2017 has ``ImageSets/2017/``; a YouTube-VOS root has ``<split>/meta.json`` (a split folder
itself has ``JPEGImages/`` and ``Annotations/`` beside its own ``meta.json``). Every reader, the
pre-flight check and the evaluation sets ask here, so a folder of the other kind is named as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..errors import DataError

DatasetKind = Literal["davis", "youtube-vos"]
DATASET_KINDS: tuple[str, ...] = ("davis", "youtube-vos")
YOUTUBE_SPLITS = ("train", "valid", "test")


def detect_kind(root: str | Path) -> DatasetKind | None:
    """The layout of ``root``, or None when it is neither (the readers then say what is missing)."""
    root = Path(root)
    if (root / "ImageSets" / "2017").is_dir():
        return "davis"
    if any((root / split / "meta.json").is_file() for split in YOUTUBE_SPLITS):
        return "youtube-vos"
    if (root / "meta.json").is_file() and (root / "JPEGImages").is_dir():
        return "youtube-vos"
    return None


def require_kind(root: str | Path, kind: str) -> None:
    """DataError when ``root`` holds the other kind's layout, naming the flag that reads it."""
    if kind not in DATASET_KINDS:
        raise DataError(f"unknown dataset kind {kind!r}; expected {' or '.join(DATASET_KINDS)}")
    found = detect_kind(root)
    if found is None or found == kind:
        return
    if found == "youtube-vos":
        raise DataError(f"{root}: a YouTube-VOS layout (<split>/meta.json inside); use --dataset youtube-vos")
    raise DataError(f"{root}: a DAVIS-2017 layout (ImageSets/2017 inside); use --dataset davis")
