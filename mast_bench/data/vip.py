"""VIP (Video Instance-level Parsing, VIP_Fine) as the field's human-part propagation benchmark reads it.

``<root>/Images/<video>/<frame>.jpg``, ``<root>/Annotations/Category_ids/<video>/<frame>.png`` (the
official VIP_Fine layout; a ``Category_ids/`` folder at the root, as CRW's eval_vip.py points at,
is read too): 8-bit grey or palette PNGs whose pixel values are the 20 part classes (0 background ..
19 left-shoe; 255 not scored), one per image, and the split list ``<root>/lists/<split>_videos.txt``
(``val_videos.txt``; one video per line, the last path component is its name, as UVC reads it).
VIP_Fine holds only its annotated frames, a few seconds apart, numbered by their place in the video:
the propagation runs over them in order. The parts of the first frame are the labels propagated,
exactly like DAVIS objects (channel k is class k).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..label_ids import VOID_LABEL
from .davis import VideoSequence, load_sequence
from .plain_names import plain_name

CLASS_NAMES = (
    "background",
    "hat",
    "hair",
    "sun-glasses",
    "upper-clothes",
    "dress",
    "coat",
    "socks",
    "pants",
    "gloves",
    "scarf",
    "skirt",
    "torso-skin",
    "face",
    "right-arm",
    "left-arm",
    "right-leg",
    "left-leg",
    "right-shoe",
    "left-shoe",
)
ANNOTATION_FOLDERS = (Path("Annotations") / "Category_ids", Path("Category_ids"))
LIST_FOLDER = "lists"
LIST_SUFFIX = "_videos.txt"


class VipDataset:
    """A VIP_Fine root; ``VipDataset(root).sequence("videos1").frames()``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.frames_dir = self.root / "Images"
        folders = [self.root / f for f in ANNOTATION_FOLDERS]
        self.annotations_dir = next((f for f in folders if f.is_dir()), folders[0])
        if not self.frames_dir.is_dir() or not self.annotations_dir.is_dir():
            raise DataError(
                f"{self.root}: not a VIP layout, missing Images or Annotations/Category_ids (expected "
                f"Images/<video>/<frame>.jpg, Annotations/Category_ids/<video>/<frame>.png, "
                f"{LIST_FOLDER}/val{LIST_SUFFIX})"
            )

    def list_path(self, split: str) -> Path:
        return self.root / LIST_FOLDER / f"{split}{LIST_SUFFIX}"

    def splits(self) -> tuple[str, ...]:
        folder = self.root / LIST_FOLDER
        return tuple(sorted(p.name.removesuffix(LIST_SUFFIX) for p in folder.glob(f"*{LIST_SUFFIX}")))

    def sequence_names(self, split: str = "val") -> tuple[str, ...]:
        path = self.list_path(split)
        if not path.is_file():
            available = ", ".join(self.splits()) or "none"
            raise DataError(f"{path}: split list missing (available splits: {available}; one video per line)")
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: unreadable split list ({exc})") from None
        names = tuple(dict.fromkeys(Path(line.strip()).name for line in lines if line.strip()))
        if not names:
            raise DataError(f"{path}: empty split list (expected one video per line)")
        return names

    def sequence(self, name: str) -> VideoSequence:
        plain_name(name, "video", self.root)
        return load_sequence(
            name, self.frames_dir / name, self.annotations_dir / name, allow_grey=True, consecutive=False
        )

    def sequences(self, split: str = "val") -> Iterator[VideoSequence]:
        for name in self.sequence_names(split):
            yield self.sequence(name)


def check_part_classes(labels: np.ndarray, path: Path) -> None:
    """Part labels hold the 20 classes or 255 (not scored): another id would be propagated as a part
    and written into the masks, while the originals' scoring leaves it out of the ground truth."""
    stray = np.unique(labels[(labels >= len(CLASS_NAMES)) & (labels != VOID_LABEL)])
    if stray.size:
        raise DataError(
            f"{path}: part class {int(stray[0])}, expected 0..{len(CLASS_NAMES) - 1} (or {VOID_LABEL}, "
            "not scored)"
        )
