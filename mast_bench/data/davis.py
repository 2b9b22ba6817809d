"""DAVIS-2017 semi-supervised layout reader.

``<root>/JPEGImages/<res>/<seq>/00000.jpg``, ``<root>/Annotations/<res>/<seq>/00000.png`` (palette PNG,
pixel = object id, 0 background, 255 void), ``<root>/ImageSets/2017/<split>.txt``.
The whole layout is checked from file headers when a sequence is opened, so a broken dataset fails
before hours of propagation; pixels are decoded only when a frame is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..label_ids import VOID_LABEL
from .images import common_size, list_video_frames, read_rgb_sized
from .inputs import FrameInput
from .palette import label_pngs, read_label_map
from .plain_names import plain_name

RESOLUTIONS = ("480p", "Full-Resolution")
MIN_SCORED_FRAMES = 3  # the toolkit scores neither the first frame nor the last


def count_objects(first_annotation: np.ndarray) -> int:
    """The DAVIS toolkit's object count: the largest id of the first annotation, void read as background."""
    ids = first_annotation[first_annotation != VOID_LABEL]
    return int(ids.max()) if ids.size else 0


@dataclass(frozen=True)
class VideoSequence:
    """One video: frame files, its annotation files (all frames, or only the first for test-dev)."""

    name: str
    frame_paths: tuple[Path, ...]
    annotation_paths: tuple[Path, ...]
    size: tuple[int, int]
    allow_grey: bool = False

    @property
    def num_frames(self) -> int:
        return len(self.frame_paths)

    @property
    def frame_names(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.frame_paths)

    @property
    def fully_annotated(self) -> bool:
        return len(self.annotation_paths) == len(self.frame_paths)

    def unscorable_reason(self, annotations_dir: Path) -> str | None:
        """Why the toolkit cannot score this sequence (None: it can)."""
        where = annotations_dir / self.name
        if not self.fully_annotated:
            return (
                f"{where}: {len(self.annotation_paths)} of {self.num_frames} frames annotated, and scoring "
                "needs them all (a DAVIS test-dev split?)"
            )
        if self.num_frames < MIN_SCORED_FRAMES:
            return (
                f"{where}: {self.num_frames} frame(s), and scoring needs at least {MIN_SCORED_FRAMES} (the "
                "first and the last frame are not scored)"
            )
        return None

    def frame(self, index: int) -> np.ndarray:
        """RGB uint8 (H, W, 3) of frame ``index``."""
        path = self.frame_paths[self._check_index(index)]
        return read_rgb_sized(path, self.size)

    def frames(self) -> Iterator[np.ndarray]:
        """Frames one at a time: only the frame being consumed is in memory."""
        for index in range(self.num_frames):
            yield self.frame(index)

    def labels(self, index: int) -> np.ndarray:
        """Annotation of frame ``index`` as (H, W) uint8 ids (255 = void)."""
        self._check_index(index)
        if index >= len(self.annotation_paths):
            raise DataError(
                f"sequence {self.name}: frame {self.frame_names[index]} has no annotation "
                f"(only {len(self.annotation_paths)} annotated frame(s))"
            )
        path = self.annotation_paths[index]
        labels = read_label_map(path, allow_grey=self.allow_grey, role="annotation")
        if labels.shape != self.size:
            raise DataError(f"{path}: annotation size {labels.shape}, expected the frame size {self.size}")
        return labels

    def first_labels(self) -> np.ndarray:
        return self.labels(0)

    def object_ids(self, first: np.ndarray | None = None) -> tuple[int, ...]:
        """Ids 1..max of the first annotation (void excluded), as the DAVIS toolkit counts objects."""
        top = count_objects(self.first_labels() if first is None else first)
        if top == 0:
            raise DataError(f"{self.annotation_paths[0]}: first-frame annotation has no object (all 0/255)")
        return tuple(range(1, top + 1))

    def propagation_inputs(self) -> Iterator[FrameInput]:
        """One :class:`FrameInput` per frame, decoded lazily: frame 0 starts objects 1..max id."""
        first = self.first_labels()
        ids = self.object_ids(first)
        for index, name in enumerate(self.frame_names):
            annotation, new_ids = (first, ids) if index == 0 else (None, ())
            yield FrameInput(index, name, self.frame(index), annotation, new_ids)

    def _check_index(self, index: int) -> int:
        if not 0 <= index < self.num_frames:
            raise IndexError(f"sequence {self.name}: frame index {index} outside 0..{self.num_frames - 1}")
        return index


def _check_consecutive(frame_paths: list[Path], folder: Path) -> None:
    stems = [p.stem for p in frame_paths]
    if not all(s.isdigit() for s in stems):
        return
    numbers = [int(s) for s in stems]
    width = len(stems[0])
    present = set(numbers)
    for number in range(numbers[0], numbers[-1] + 1):
        if number not in present:
            missing = folder / f"{number:0{width}d}{frame_paths[0].suffix}"
            raise DataError(
                f"{missing}: frame missing (DAVIS numbers a sequence's frames with no gap: "
                f"{stems[0]}..{stems[-1]} are all expected; a gap would shift every later frame's time)"
            )
    if numbers[0] != 0:
        raise DataError(
            f"{folder / ('0' * width + frame_paths[0].suffix)}: frame missing (DAVIS numbers a sequence's "
            f"frames from 0; this one starts at {stems[0]})"
        )


def load_sequence(
    name: str, frame_dir: Path, annotation_dir: Path, *, allow_grey: bool = False, consecutive: bool = True
) -> VideoSequence:
    """Check one sequence folder pair and build its :class:`VideoSequence` (headers only).
    ``consecutive``: numbered frames must run 0, 1, 2 ... (DAVIS; VIP numbers its sparse frames)."""
    if not frame_dir.is_dir():
        raise DataError(f"{frame_dir}: frame folder of sequence {name!r} missing")
    frame_paths = list_video_frames(frame_dir)
    if not frame_paths:
        raise DataError(f"{frame_dir}: no frames (expected 00000.jpg ...)")
    if consecutive:
        _check_consecutive(frame_paths, frame_dir)
    if not annotation_dir.is_dir():
        raise DataError(f"{annotation_dir}: annotation folder of sequence {name!r} missing")
    annotations = {p.stem: p for p in label_pngs(annotation_dir)}
    frame_stems = [p.stem for p in frame_paths]
    orphans = sorted(set(annotations) - set(frame_stems))
    if orphans:
        raise DataError(f"{annotations[orphans[0]]}: annotation without a frame {frame_dir / orphans[0]}.*")
    if frame_stems[0] not in annotations:
        raise DataError(f"{annotation_dir / (frame_stems[0] + '.png')}: first-frame annotation missing")
    if len(annotations) not in (1, len(frame_paths)):
        missing = next(s for s in frame_stems if s not in annotations)
        raise DataError(
            f"{annotation_dir / (missing + '.png')}: annotation missing; {len(annotations)} annotations for "
            f"{len(frame_paths)} frames in {frame_dir} (expected one per frame, or only the first frame)"
        )
    annotation_paths = [annotations[s] for s in frame_stems if s in annotations]
    size = common_size(frame_paths, annotation_paths)
    return VideoSequence(name, tuple(frame_paths), tuple(annotation_paths), size, allow_grey)


def read_sequence_list(root: str | Path, split: str) -> tuple[str, ...]:
    """The names in ``<root>/ImageSets/2017/<split>.txt``, in file order, blank lines and repeats
    dropped (what both the reader and the toolkit-identical scoring read)."""
    folder = Path(root) / "ImageSets" / "2017"
    path = folder / f"{split}.txt"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in folder.glob("*.txt"))) or "none"
        raise DataError(f"{path}: split list missing (available splits: {available})")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable split list ({exc})") from None
    names = tuple(dict.fromkeys(line.strip() for line in lines if line.strip()))
    if not names:
        raise DataError(f"{path}: empty sequence list (expected one sequence name per line)")
    return names


class DavisDataset:
    """A DAVIS-2017 root; ``DavisDataset(root).sequence("bmx-trees").frames()``."""

    def __init__(self, root: str | Path, resolution: str = "480p", *, allow_grey: bool = False) -> None:
        self.root = Path(root)
        if resolution not in RESOLUTIONS:
            raise DataError(f"DAVIS resolution {resolution!r} unknown; expected one of {RESOLUTIONS}")
        self.resolution = resolution
        self.allow_grey = allow_grey
        required = [self.frames_dir, self.annotations_dir, self.imagesets_dir]
        missing = [str(p.relative_to(self.root)) for p in required if not p.is_dir()]
        if missing:
            raise DataError(
                f"{self.root}: not a DAVIS-2017 layout, missing {', '.join(missing)} "
                f"(expected JPEGImages/{resolution}, Annotations/{resolution}, ImageSets/2017)"
            )

    @property
    def frames_dir(self) -> Path:
        return self.root / "JPEGImages" / self.resolution

    @property
    def annotations_dir(self) -> Path:
        return self.root / "Annotations" / self.resolution

    @property
    def imagesets_dir(self) -> Path:
        return self.root / "ImageSets" / "2017"

    def splits(self) -> tuple[str, ...]:
        return tuple(sorted(p.stem for p in self.imagesets_dir.glob("*.txt")))

    def sequence_names(self, split: str = "val") -> tuple[str, ...]:
        return read_sequence_list(self.root, split)

    def sequence(self, name: str) -> VideoSequence:
        plain_name(name, "sequence", self.root)
        return load_sequence(
            name, self.frames_dir / name, self.annotations_dir / name, allow_grey=self.allow_grey
        )

    def sequences(self, split: str = "val") -> Iterator[VideoSequence]:
        for name in self.sequence_names(split):
            yield self.sequence(name)

    def fully_annotated_sequences(self, split: str, purpose: str) -> list[VideoSequence]:
        """Every sequence of ``split``, refusing (before any work) one annotated only on some frames
        (test-dev): ``purpose`` says what needs every frame's annotation."""
        sequences = list(self.sequences(split))
        for sequence in sequences:
            if not sequence.fully_annotated:
                raise DataError(
                    f"{self.annotations_dir / sequence.name}: {len(sequence.annotation_paths)} "
                    f"annotation(s) for {sequence.num_frames} frames; {purpose} needs every frame's"
                )
        return sequences
