"""YouTube-VOS (2018/2019) ``valid`` layout as a propagation input and a submission writer.

``<split>/JPEGImages/<video>/<frame>.jpg``, ``<split>/Annotations/<video>/<frame>.png``,
``<split>/meta.json`` = ``{"videos": {video: {"objects": {"1": {"category": c, "frames": [names]}}}}}``.
Unlike DAVIS, objects may first appear after frame 0: the annotation PNG of the frame where an object
first appears gives its mask, so propagation must accept new objects mid-video.
The challenge server wants one palette PNG per frame of ``JPEGImages`` (every 5th frame in ``valid``),
zipped as ``Annotations/<video>/<frame>.png``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import DataError
from .images import image_size, list_images, read_rgb_sized
from .palette import VOID_LABEL, read_label_map, write_label_map


@dataclass(frozen=True)
class ObjectInfo:
    object_id: int
    first_frame: int
    category: str | None = None


@dataclass(frozen=True)
class YouTubeVOSVideo:
    """One video: frames, sparse annotations, and each object's first frame."""

    name: str
    frame_paths: tuple[Path, ...]
    annotation_paths: dict[str, Path]
    objects: tuple[ObjectInfo, ...]
    size: tuple[int, int]

    @property
    def num_frames(self) -> int:
        return len(self.frame_paths)

    @property
    def frame_names(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.frame_paths)

    def object_ids(self) -> tuple[int, ...]:
        return tuple(sorted(o.object_id for o in self.objects))

    def frame(self, index: int) -> np.ndarray:
        path = self.frame_paths[index]
        return read_rgb_sized(path, self.size)

    def frames(self) -> Iterator[np.ndarray]:
        for index in range(self.num_frames):
            yield self.frame(index)

    def start_frames(self) -> dict[int, tuple[int, ...]]:
        """Frame index -> ids of the objects that first appear there."""
        starts: dict[int, list[int]] = {}
        for info in self.objects:
            starts.setdefault(info.first_frame, []).append(info.object_id)
        return {index: tuple(sorted(ids)) for index, ids in sorted(starts.items())}

    def new_objects(self, index: int) -> dict[int, np.ndarray]:
        """Object id -> bool (H, W) mask for the objects first appearing at frame ``index`` (else {})."""
        ids = self.start_frames().get(index, ())
        if not ids:
            return {}
        name = self.frame_names[index]
        path = self.annotation_paths[name]
        labels = read_label_map(path)
        if labels.shape != self.size:
            raise DataError(f"{path}: annotation size {labels.shape}, expected the frame size {self.size}")
        masks = {}
        for object_id in ids:
            mask = labels == object_id
            if not mask.any():
                raise DataError(
                    f"{path}: object {object_id} of video {self.name} should first appear here, no pixel"
                )
            masks[object_id] = mask
        return masks

    def propagation_inputs(self) -> Iterator[tuple[np.ndarray, dict[int, np.ndarray]]]:
        """(frame RGB, newly appearing objects' masks) per frame, lazily."""
        for index in range(self.num_frames):
            yield self.frame(index), self.new_objects(index)


def _objects_from_meta(
    video: str, entry: object, frame_index: dict[str, int], meta_path: Path
) -> list[ObjectInfo]:
    objects = entry.get("objects") if isinstance(entry, dict) else None
    if not isinstance(objects, dict):
        raise DataError(f"{meta_path}: videos.{video}.objects missing or not an object")
    infos = []
    for key, obj in objects.items():
        frames = obj.get("frames") if isinstance(obj, dict) else None
        if not key.isdigit() or not 1 <= int(key) <= 254 or not isinstance(frames, list) or not frames:
            raise DataError(
                f"{meta_path}: videos.{video}.objects.{key} needs an id 1..254 and a non-empty frames list"
            )
        unknown = [f for f in frames if f not in frame_index]
        if unknown:
            raise DataError(
                f"{meta_path}: videos.{video}.objects.{key} lists frame {unknown[0]!r} not in JPEGImages"
            )
        first = min(frame_index[f] for f in frames)
        infos.append(ObjectInfo(int(key), first, obj.get("category")))
    return infos


def _objects_from_annotations(annotations: dict[str, Path], frame_index: dict[str, int]) -> list[ObjectInfo]:
    """Without meta.json: an object starts at the first annotation PNG that contains its id."""
    seen: dict[int, int] = {}
    for name in sorted(annotations, key=frame_index.__getitem__):
        labels = read_label_map(annotations[name])
        for object_id in np.unique(labels):
            if object_id not in (0, VOID_LABEL) and int(object_id) not in seen:
                seen[int(object_id)] = frame_index[name]
    return [ObjectInfo(i, f) for i, f in sorted(seen.items())]


class YouTubeVOSDataset:
    """``YouTubeVOSDataset(root, "valid")``; ``root`` may be the split folder itself."""

    def __init__(self, root: str | Path, split: str = "valid") -> None:
        root = Path(root)
        self.root = root if (root / "JPEGImages").is_dir() else root / split
        self.split = split
        missing = [d for d in ("JPEGImages", "Annotations") if not (self.root / d).is_dir()]
        if missing:
            raise DataError(
                f"{self.root}: not a YouTube-VOS {split} layout, missing {', '.join(missing)} "
                "(expected JPEGImages/<video>/, Annotations/<video>/, meta.json)"
            )
        self.meta_path = self.root / "meta.json"
        self._meta = self._read_meta() if self.meta_path.is_file() else None

    def _read_meta(self) -> dict:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{self.meta_path}: unreadable meta.json ({exc})") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("videos"), dict):
            raise DataError(f"{self.meta_path}: expected a top-level 'videos' object")
        return meta["videos"]

    def video_names(self) -> tuple[str, ...]:
        if self._meta is not None:
            names = tuple(sorted(self._meta))
        else:
            names = tuple(sorted(p.name for p in (self.root / "JPEGImages").iterdir() if p.is_dir()))
        if not names:
            raise DataError(f"{self.root}: no videos (meta.json / JPEGImages is empty)")
        return names

    def video(self, name: str) -> YouTubeVOSVideo:
        frame_dir = self.root / "JPEGImages" / name
        annotation_dir = self.root / "Annotations" / name
        if not frame_dir.is_dir():
            raise DataError(f"{frame_dir}: frame folder of video {name!r} missing")
        frame_paths = list_images(frame_dir)
        if not frame_paths:
            raise DataError(f"{frame_dir}: no frames")
        frame_index = {p.stem: i for i, p in enumerate(frame_paths)}
        annotations = {p.stem: p for p in annotation_dir.glob("*.png")} if annotation_dir.is_dir() else {}
        orphans = sorted(set(annotations) - set(frame_index))
        if orphans:
            raise DataError(f"{annotations[orphans[0]]}: annotation without a frame in {frame_dir}")
        if self._meta is not None:
            if name not in self._meta:
                raise DataError(f"{self.meta_path}: video {name!r} not listed")
            objects = _objects_from_meta(name, self._meta[name], frame_index, self.meta_path)
        else:
            objects = _objects_from_annotations(annotations, frame_index)
        if not objects:
            raise DataError(f"{annotation_dir}: video {name!r} has no annotated object")
        for info in objects:
            frame_name = frame_paths[info.first_frame].stem
            if frame_name not in annotations:
                raise DataError(
                    f"{annotation_dir / (frame_name + '.png')}: annotation missing "
                    f"(object {info.object_id} first appears in frame {frame_name})"
                )
        size = image_size(frame_paths[0])
        for path in [*frame_paths[1:], *annotations.values()]:
            if image_size(path) != size:
                raise DataError(
                    f"{path}: size (H, W) = {image_size(path)}, expected {size} like {frame_paths[0]}"
                )
        objects.sort(key=lambda o: o.object_id)
        return YouTubeVOSVideo(name, tuple(frame_paths), annotations, tuple(objects), size)

    def videos(self) -> Iterator[YouTubeVOSVideo]:
        for name in self.video_names():
            yield self.video(name)


class YouTubeVOSSubmission:
    """Writes ``<root>/Annotations/<video>/<frame>.png`` and zips it for the challenge server."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, video: str, frame_name: str) -> Path:
        if not video or "/" in video or not frame_name or "/" in frame_name:
            raise DataError(f"bad video/frame name {video!r}/{frame_name!r}")
        return self.root / "Annotations" / video / f"{frame_name}.png"

    def write(self, video: str, frame_name: str, labels: np.ndarray) -> Path:
        return write_label_map(self.path(video, frame_name), labels)

    def missing(self, dataset: YouTubeVOSDataset) -> list[Path]:
        """Expected result files (every JPEGImages frame of every video) that are not written yet."""
        expected = []
        for name in dataset.video_names():
            frame_dir = dataset.root / "JPEGImages" / name
            expected += [self.path(name, p.stem) for p in list_images(frame_dir)]
        return [p for p in expected if not p.is_file()]

    def zip(self, dataset: YouTubeVOSDataset, zip_path: str | Path) -> Path:
        """Zip the results (refusing an incomplete submission), deterministic entry order."""
        missing = self.missing(dataset)
        if missing:
            raise DataError(
                f"{missing[0]}: result missing ({len(missing)} of the submission's files missing)"
            )
        files = sorted((self.root / "Annotations").rglob("*.png"))

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in files:
                    archive.write(path, path.relative_to(self.root).as_posix())

        return atomic_write(zip_path, write)
