"""YouTube-VOS 2018/2019 (``train``, ``valid``, ``test``) as a propagation input.

Layout (both versions)::

    <root>/<split>/JPEGImages/<video>/00000.jpg 00005.jpg ...   every 5th frame of the 30 fps video
    <root>/<split>/Annotations/<video>/00000.png ...            palette PNGs, pixel = object id
    <root>/<split>/meta.json        {"videos": {video: {"objects": {"1": {"category": c, "frames": [..]}}}}}
    <root>/all_frames/<split>_all_frames/JPEGImages/<video>/00000.jpg 00001.jpg ...   optional
    (or <root>/<split>_all_frames/JPEGImages/...)

Unlike DAVIS, objects may first appear after the first frame, ids need not be contiguous, and in
``valid``/``test`` a video has annotation PNGs only where objects first appear, each holding those
objects; meta.json lists per object its category and the frames it is scored on, from its first
appearance. ``train`` is annotated on every sparse frame (meta.json: the frames where it appears).
With an all-frames folder the video is propagated through every frame while only the sparse frames
(those of ``<split>/JPEGImages``) are required in the submission. Everything is checked from meta.json,
file headers and the first-appearance PNGs when a video is opened, before any propagation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..label_ids import MAX_OBJECT_ID
from .detect import YOUTUBE_SPLITS
from .images import common_size, list_video_frames, read_rgb_sized
from .inputs import FrameInput
from .palette import label_pngs, read_label_map
from .plain_names import plain_name

SPLITS = YOUTUBE_SPLITS


@dataclass(frozen=True)
class ObjectInfo:
    object_id: int
    first_frame: int  # index into YouTubeVOSVideo.frame_paths
    category: str | None = None


@dataclass(frozen=True)
class YouTubeVOSVideo:
    """One video: the frames propagated through, the sparse frames the submission needs, the objects."""

    name: str
    frame_paths: tuple[Path, ...]
    required: tuple[str, ...]
    annotation_paths: dict[str, Path]
    objects: tuple[ObjectInfo, ...]
    size: tuple[int, int]
    notes: tuple[str, ...] = ()  # objects meta.json lists from a frame that does not show them
    listed_start: int | None = None  # the first frame meta.json lists an object at (None: first_index)

    @property
    def num_frames(self) -> int:
        return len(self.frame_paths)

    @property
    def frame_names(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.frame_paths)

    @property
    def first_index(self) -> int:
        """Propagation starts at the first annotated frame: before it there is nothing to propagate."""
        return min(o.first_frame for o in self.objects)

    def object_ids(self) -> tuple[int, ...]:
        return tuple(sorted(o.object_id for o in self.objects))

    def categories(self) -> dict[int, str | None]:
        return {o.object_id: o.category for o in self.objects}

    def propagation_indices(self) -> range:
        """From the first annotated frame to the last required one: an all-frames folder's frames
        after it are never written (they only cost time, and counted in the frames per second)."""
        return range(self.first_index, max(self.required_indices()) + 1)

    def required_indices(self) -> tuple[int, ...]:
        index = {name: i for i, name in enumerate(self.frame_names)}
        return tuple(index[name] for name in self.required)

    def required_before_start(self) -> tuple[str, ...]:
        """Required frames before the first annotation: nothing is known there, they are background."""
        first = self.first_index
        return tuple(n for n, i in zip(self.required, self.required_indices(), strict=True) if i < first)

    def frame(self, index: int) -> np.ndarray:
        return read_rgb_sized(self.frame_paths[index], self.size)

    def frames(self) -> Iterator[np.ndarray]:
        for index in range(self.num_frames):
            yield self.frame(index)

    def start_frames(self) -> dict[int, tuple[int, ...]]:
        """Frame index -> ids of the objects that first appear there."""
        starts: dict[int, list[int]] = {}
        for info in self.objects:
            starts.setdefault(info.first_frame, []).append(info.object_id)
        return {index: tuple(sorted(ids)) for index, ids in sorted(starts.items())}

    def propagation_inputs(self) -> Iterator[FrameInput]:
        """One :class:`FrameInput` per frame of :meth:`propagation_indices`, decoded lazily; where objects
        start, the annotation PNG as stored and their ids."""
        required, starts = set(self.required), self.start_frames()
        for index in self.propagation_indices():
            name, new_ids = self.frame_names[index], starts.get(index, ())
            annotation = read_label_map(self.annotation_paths[name], role="annotation") if new_ids else None
            yield FrameInput(index, name, self.frame(index), annotation, new_ids, name in required)


def read_meta(path: str | Path) -> dict:
    """``videos`` of a YouTube-VOS meta.json (a byte-order mark, as Windows editors save it, is allowed)."""
    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable meta.json ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("videos"), dict):
        raise DataError(f"{path}: expected a top-level 'videos' object")
    return meta["videos"]


def categories_of(meta_path: str | Path) -> frozenset[str]:
    """Every category named in a meta.json: the training set's are the 'seen' ones."""
    return frozenset(
        obj["category"]
        for video in read_meta(meta_path).values()
        for obj in video.get("objects", {}).values()
        if isinstance(obj, dict) and obj.get("category") is not None
    )


def meta_objects(video: str, entry: object, meta_path: Path) -> dict[int, tuple[str, list, str | None]]:
    """Object id -> (first frame name, frames, category) of a meta.json video entry, each checked."""
    objects = entry.get("objects") if isinstance(entry, dict) else None
    if not isinstance(objects, dict):
        raise DataError(f"{meta_path}: videos.{video}.objects missing or not an object")
    infos = {}
    for key, obj in objects.items():
        frames = obj.get("frames") if isinstance(obj, dict) else None
        if (
            not key.isdigit()
            or not 1 <= int(key) <= MAX_OBJECT_ID
            or not isinstance(frames, list)
            or not frames
        ):
            raise DataError(
                f"{meta_path}: videos.{video}.objects.{key} needs an id 1..{MAX_OBJECT_ID} and a non-empty "
                "frames list"
            )
        infos[int(key)] = (min(frames, key=frame_order), frames, obj.get("category"))
    return infos


def _objects_from_meta(video: str, entry: object, sparse: set[str], meta_path: Path) -> dict[int, tuple]:
    """Object id -> (first frame name, category); every frame meta.json names must be a sparse frame."""
    infos = {}
    for object_id, (first, frames, category) in meta_objects(video, entry, meta_path).items():
        unknown = [f for f in frames if f not in sparse]
        if unknown:
            where = f"{meta_path}: videos.{video}.objects.{object_id}"
            raise DataError(f"{where} lists frame {unknown[0]!r} not in JPEGImages")
        infos[object_id] = (first, category)
    return infos


def frame_order(name: str) -> tuple:
    """Sort key of frame names: numeric names as numbers, before any other name."""
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def _objects_from_annotations(annotations: dict[str, Path]) -> dict[int, tuple]:
    """Without meta.json: an object starts at the first annotation PNG that contains its id."""
    seen: dict[int, tuple] = {}
    for name in sorted(annotations, key=frame_order):
        labels = read_label_map(annotations[name], role="annotation")
        for object_id in np.unique(labels):
            if object_id != 0 and int(object_id) not in seen:
                seen[int(object_id)] = (name, None)
    return seen


def settled_starts(
    listed: dict[int, str], annotated: Sequence[str], shown: Callable[[str], set[int]]
) -> tuple[dict[int, str | None], tuple[str, ...]]:
    """Each object's first annotated frame that shows it, from the frame meta.json starts it at on
    (None: none does), and a note for each object moved or left out.

    ``annotated``: the frames with an annotation PNG; ``shown(frame)``: the ids its PNG holds. Six
    objects of YouTube-VOS 2019 train are listed from frames that do not show them (pytracking's
    clean-up names them); the established trackers take objects from the PNGs' pixels, so a video
    is never refused for it.
    """
    ordered = sorted(annotated, key=frame_order)
    starts: dict[int, str | None] = {}
    notes = []
    for object_id, first in sorted(listed.items()):
        later = (frame for frame in ordered if frame_order(frame) >= frame_order(first))
        start = next((frame for frame in later if object_id in shown(frame)), None)
        starts[object_id] = start
        if start is None:
            notes.append(
                f"object {object_id}: meta.json lists it from frame {first}, but no annotation from there on "
                "shows it; left out"
            )
        elif start != first:
            notes.append(
                f"object {object_id}: meta.json starts it at frame {first}, whose annotation shows no pixel "
                f"of it; it starts at {start}, the first annotation that does"
            )
    return starts, tuple(notes)


def _first_masks(
    objects: dict[int, tuple], annotations: dict[str, Path], folder: Path
) -> tuple[dict[int, tuple], tuple[str, ...]]:
    """(objects as :func:`settled_starts` starts them, its notes naming ``folder``): the PNG of each
    object's listed first frame must exist, and no PNG read may hold an id above 254."""
    for object_id, (frame, _) in sorted(objects.items()):
        if frame not in annotations:
            raise DataError(
                f"{folder / frame}.png: annotation missing "
                f"(object {object_id} first appears in frame {frame})"
            )

    @functools.cache
    def shown(frame: str) -> set[int]:
        labels = read_label_map(annotations[frame], role="annotation")
        if labels.size and int(labels.max()) > MAX_OBJECT_ID:
            raise DataError(
                f"{annotations[frame]}: id {int(labels.max())}; object ids are 1..{MAX_OBJECT_ID}"
            )
        return set(np.unique(labels).tolist())

    starts, notes = settled_starts({i: frame for i, (frame, _) in objects.items()}, list(annotations), shown)
    settled = {i: (start, objects[i][1]) for i, start in starts.items() if start is not None}
    return settled, tuple(f"{folder}: {note}" for note in notes)


class YouTubeVOSDataset:
    """``YouTubeVOSDataset(root, "valid")``; ``root`` may be the split folder itself.

    ``all_frames``: None uses an all-frames folder when there is one, True requires it, False ignores it.
    """

    def __init__(self, root: str | Path, split: str = "valid", *, all_frames: bool | None = None) -> None:
        root = Path(root)
        if split not in SPLITS:
            raise DataError(f"YouTube-VOS split {split!r} unknown; expected one of {SPLITS}")
        self.root = root if (root / "JPEGImages").is_dir() else root / split
        self.split = split
        missing = [d for d in ("JPEGImages", "Annotations") if not (self.root / d).is_dir()]
        if missing:
            raise DataError(
                f"{self.root}: not a YouTube-VOS {split} layout, missing {', '.join(missing)} "
                "(expected JPEGImages/<video>/, Annotations/<video>/, meta.json)"
            )
        self.all_frames_dir = self._find_all_frames(all_frames)
        self.meta_path = self.root / "meta.json"
        self._meta = read_meta(self.meta_path) if self.meta_path.is_file() else None

    def _find_all_frames(self, wanted: bool | None) -> Path | None:
        base = self.root.parent
        candidates = [
            base / "all_frames" / f"{self.split}_all_frames" / "JPEGImages",
            base / f"{self.split}_all_frames" / "JPEGImages",
        ]
        found = next((c for c in candidates if c.is_dir()), None)
        if wanted and found is None:
            raise DataError(f"{candidates[0]}: all-frames folder missing (or {candidates[1]})")
        return found if wanted is not False else None

    def video_names(self) -> tuple[str, ...]:
        """The split's videos: those of meta.json, which must list every video of JPEGImages (the
        server wants masks for each of them), else JPEGImages' folders."""
        folders = (self.root / "JPEGImages").iterdir()
        present = tuple(sorted(p.name for p in folders if p.is_dir() and not p.name.startswith(".")))
        names = present if self._meta is None else tuple(sorted(self._meta))
        unlisted = sorted(set(present) - set(names))
        if unlisted:
            raise DataError(
                f"{self.root / 'JPEGImages' / unlisted[0]}: a video {self.meta_path} does not list (the "
                "submission needs masks for every video of JPEGImages)"
            )
        if not names:
            raise DataError(f"{self.root}: no videos (meta.json / JPEGImages is empty)")
        return names

    def required_frames(self, name: str) -> tuple[str, ...]:
        """Names of the frames the submission needs for video ``name``: those of ``<split>/JPEGImages``."""
        frame_dir = self.root / "JPEGImages" / plain_name(name, "video")
        if not frame_dir.is_dir():
            raise DataError(f"{frame_dir}: frame folder of video {name!r} missing")
        paths = list_video_frames(frame_dir)
        if not paths:
            raise DataError(f"{frame_dir}: no frames")
        return tuple(p.stem for p in paths)

    def submitted_frames(self, name: str) -> tuple[str, ...]:
        """The required frames the server is sent: those from the first frame meta.json lists an
        object at, as the public trackers submit them (STM, STCN, AOT and Cutie write the frames
        meta.json lists for the objects), background where no object has started; the frames before
        it stay in the results folder, as background."""
        video = self.video(name)
        start = video.first_index if video.listed_start is None else video.listed_start
        return tuple(n for n, i in zip(video.required, video.required_indices(), strict=True) if i >= start)

    def _frame_paths(self, name: str, required: tuple[str, ...]) -> list[Path]:
        sparse_dir = self.root / "JPEGImages" / name
        if self.all_frames_dir is None:
            return list_video_frames(sparse_dir)
        dense_dir = self.all_frames_dir / name
        if not dense_dir.is_dir():
            raise DataError(f"{dense_dir}: all-frames folder of video {name!r} missing")
        paths = list_video_frames(dense_dir)
        present = {p.stem for p in paths}
        absent = [f for f in required if f not in present]
        if absent:
            raise DataError(f"{dense_dir / absent[0]}.jpg: frame missing (it is in {sparse_dir})")
        return paths

    def video(self, name: str) -> YouTubeVOSVideo:
        required = self.required_frames(name)
        frame_paths = self._frame_paths(name, required)
        annotation_dir = self.root / "Annotations" / name
        annotations = {p.stem: p for p in label_pngs(annotation_dir)} if annotation_dir.is_dir() else {}
        orphans = sorted(set(annotations) - set(required))
        if orphans:
            raise DataError(f"{annotations[orphans[0]]}: annotation without a frame in JPEGImages/{name}")
        if self._meta is not None:
            if name not in self._meta:
                raise DataError(f"{self.meta_path}: video {name!r} not listed")
            objects = _objects_from_meta(name, self._meta[name], set(required), self.meta_path)
        else:
            objects = _objects_from_annotations(annotations)
        index = {p.stem: i for i, p in enumerate(frame_paths)}
        listed = min((index[frame] for frame, _ in objects.values()), default=None)
        objects, notes = _first_masks(objects, annotations, annotation_dir) if objects else ({}, ())
        if not objects:
            what = (
                "no object of meta.json with a pixel in its annotations" if notes else "no annotated object"
            )
            raise DataError(f"{annotation_dir}: video {name!r} has {what}")
        size = common_size(frame_paths, list(annotations.values()))
        infos = tuple(
            ObjectInfo(i, index[frame], category) for i, (frame, category) in sorted(objects.items())
        )
        return YouTubeVOSVideo(name, tuple(frame_paths), required, annotations, infos, size, notes, listed)

    def videos(self) -> Iterator[YouTubeVOSVideo]:
        for name in self.video_names():
            yield self.video(name)
