"""Evaluation sets: the videos of one split of a dataset, as data the harness drives.

:func:`open_split` turns a :class:`DataSpec` (kind, root, split, sequences) into a small frozen,
picklable object, so the isolated worker receives the same object the planner checked. Each kind
says what identifies it, checks itself, hands out its videos (:class:`~.inputs.VideoInput`), the
writer of each video's masks and which videos a masks folder already holds. Nothing here calls
back up: the harness loops over the videos, propagates and writes through these writers, and
scores with the metrics floor.

- DAVIS-2017: every frame written to ``<out>/<seq>/``, scored as the official toolkit;
- YouTube-VOS: objects that enter late, the sparse required frames written in the submission
  layout, scored locally by seen/unseen category where full annotations exist;
- JHMDB: the first frame's joints propagated as heatmaps, ``<out>/<class>/<video>.npy`` per video,
  scored by PCK (``task = "keypoints"``: the harness drives the keypoint core);
- VIP: the first frame's part labels propagated like DAVIS objects, every frame written to
  ``<out>/<video>/``, scored by mIoU over the 20 classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from .check import check_davis, check_jhmdb, check_vip, check_youtube_vos, refuse_frames_choice
from .davis import DavisDataset
from .detect import DatasetKind, require_kind
from .embedded import ensure_default, train_clips_dir
from .embedded_people import ensure_jhmdb, ensure_vip
from .embedded_youtube import ensure_youtube
from .fingerprint import VideoFiles, sequence_files
from .inputs import VideoInput
from .jhmdb import JhmdbDataset
from .keypoint_files import KeypointWriter, keypoints_path
from .masks import SequenceMasks
from .vip import VipDataset
from .youtube_submission import VideoWriter, YouTubeVOSSubmission
from .youtube_vos import YouTubeVOSDataset, categories_of

EMBEDDED_NAMES = {
    "davis": "embedded-default",
    "youtube-vos": "embedded-youtube",
    "jhmdb": "embedded-jhmdb",
    "vip": "embedded-vip",
}
DEFAULT_SPLITS = {"davis": "val", "youtube-vos": "valid", "jhmdb": "val", "vip": "val"}
EMBEDDED = {"davis": ensure_default, "youtube-vos": ensure_youtube, "jhmdb": ensure_jhmdb, "vip": ensure_vip}


@dataclass(frozen=True)
class DataSpec:
    """The evaluation data: a dataset root of a kind (None: the embedded default of that kind)."""

    kind: DatasetKind = "davis"
    root: str | None = None
    split: str | None = None  # None: the kind's evaluation split (DAVIS val, YouTube-VOS valid)
    sequences: tuple[str, ...] = ()  # empty: the whole split
    seen_meta: str | None = None  # YouTube-VOS: the training meta.json naming the seen categories
    all_frames: bool | None = None  # YouTube-VOS: None: the all-frames folder where there is one

    def __post_init__(self) -> None:  # a name given twice is one video: propagated, keyed and scored once
        object.__setattr__(self, "sequences", tuple(dict.fromkeys(self.sequences)))


class _SplitFiles:
    """What every kind shares: which videos identify the split, and the files the fingerprint covers."""

    task = "semi-supervised"  # what is propagated: label maps ("keypoints": joint heatmaps)

    def identity(self, fingerprint: str) -> dict[str, Any]:
        named = {"kind": self.kind, "name": self.name, "split": self.split, "sequences": list(self.sequences)}
        return {**named, **self._identity(), "fingerprint": fingerprint}

    def files(self) -> list[VideoFiles]:
        """Each video's frame and annotation files: what the fingerprint covers."""
        return sequence_files(self.dataset(), self.sequences)


class _LabelFolders:
    """Label maps written like DAVIS results (DAVIS objects, VIP parts): a folder of PNGs per video."""

    def videos(self, skip: tuple[str, ...] = ()) -> list[VideoInput]:
        """The videos not in ``skip``: channel k is label k (DAVIS object k, VIP part class k),
        declared up front as the toolkit counts."""
        dataset = self.dataset()
        videos = []
        for name in (n for n in self.sequences if n not in skip):
            video = dataset.sequence(name)
            ids = video.object_ids()
            videos.append(VideoInput(name, video.size, video.num_frames, video.propagation_inputs, ids))
        return videos

    def mask_writer(self, out_dir: Path, video: VideoInput) -> SequenceMasks:
        """<out_dir>/<seq>/<frame>.png, published when the sequence is complete."""
        return SequenceMasks(out_dir, video.name)

    def complete(self, out_dir: Path) -> tuple[str, ...]:
        """Sequences already published in ``out_dir``."""
        return tuple(name for name in self.sequences if (Path(out_dir) / name).is_dir())


@dataclass(frozen=True)
class DavisSplit(_LabelFolders, _SplitFiles):
    """DAVIS-2017 semi-supervised: <root>/JPEGImages/480p/<seq>/, Annotations/480p/<seq>/, ImageSets/2017."""

    root: str
    name: str
    split: str
    sequences: tuple[str, ...]
    resolution: str = "480p"
    kind: str = "davis"

    def dataset(self) -> DavisDataset:
        return DavisDataset(self.root, self.resolution)

    def _identity(self) -> dict[str, Any]:
        return {"resolution": self.resolution}

    def check(self) -> tuple[str, ...]:
        """Layout, frames, annotations and first-frame objects, before any model work; raises on a
        problem, returns the notes (what the readers settled on their own) for the caller to say."""
        return check_davis(self.root, self.split, self.sequences, self.resolution).notes

    def unscorable_reason(self) -> str | None:
        """Why the toolkit cannot score the split (DAVIS test-dev annotates first frames only, and
        the first and the last frame of a sequence are never scored); None: it can."""
        dataset = self.dataset()
        for name in self.sequences:
            reason = dataset.sequence(name).unscorable_reason(dataset.annotations_dir)
            if reason is not None:
                return reason
        return None

    def default_train_root(self) -> Path:
        """The embedded default ships unlabelled training clips; elsewhere train on the frames."""
        clips = train_clips_dir(self.root)
        return clips if clips.is_dir() else Path(self.root)


@dataclass(frozen=True)
class YouTubeSplit(_SplitFiles):
    """A YouTube-VOS split (2018/2019 ``valid``/``test``, or a fully annotated YouTube-style folder)."""

    root: str  # the dataset root holding <split>/ (and train/meta.json for the seen categories)
    name: str
    split: str
    sequences: tuple[str, ...]  # video names
    seen_meta: str | None = None  # the training meta.json whose categories are the seen ones
    kind: str = "youtube-vos"
    resolution: str = "native"
    all_frames: bool | None = None  # True: the 30 fps folder, False: the sparse frames, None: 30 fps if there

    def dataset(self) -> YouTubeVOSDataset:
        return YouTubeVOSDataset(self.root, self.split, all_frames=self.all_frames)

    def _identity(self) -> dict[str, Any]:
        return {
            "all_frames": self.dataset().all_frames_dir is not None,
            # since 2026-12-07: an all-frames run stops at the last required frame (fewer frames
            # counted), and an object starts at the first annotation that shows it
            "propagated": "from each object's first annotation that shows it to the last required frame",
            "seen_categories": sorted(self.seen_categories()),
        }

    def seen_categories(self) -> frozenset[str]:
        """The training categories (the scores' "seen" group); empty without a training meta.json."""
        return categories_of(self.seen_meta) if self.seen_meta else frozenset()

    def check(self) -> tuple[str, ...]:
        return check_youtube_vos(self.root, self.split, self.sequences, all_frames=self.all_frames).notes

    def videos(self, skip: tuple[str, ...] = ()) -> list[VideoInput]:
        """The videos not in ``skip``, from each one's first annotated frame; required frames before
        it are background."""
        dataset = self.dataset()
        videos = []
        for name in (n for n in self.sequences if n not in skip):
            video = dataset.video(name)
            frames = len(video.propagation_indices())
            before = video.required_before_start()
            videos.append(VideoInput(name, video.size, frames, video.propagation_inputs, background=before))
        return videos

    def mask_writer(self, out_dir: Path, video: VideoInput) -> VideoWriter:
        """The submission layout <out_dir>/Annotations/<video>/<frame>.png, each video published whole."""
        return YouTubeVOSSubmission(out_dir).video_writer(self.dataset().video(video.name))

    def complete(self, out_dir: Path) -> tuple[str, ...]:
        submission = YouTubeVOSSubmission(out_dir)
        return tuple(name for name in self.sequences if submission.is_complete(name))

    def zip(self, out_dir: Path, zip_path: Path) -> Path:
        """The zip for the evaluation server: exactly the required frames."""
        return YouTubeVOSSubmission(out_dir).zip(self.dataset(), zip_path)

    def unscorable_reason(self) -> str | None:
        """Local scores need every required frame annotated from each object's first frame on (a
        held-out part of train, a generated set); official valid/test are scored by the server."""
        dataset = self.dataset()
        if not dataset.meta_path.is_file():
            return f"{dataset.meta_path}: missing, and scoring reads each object's frames and category there"
        videos = [dataset.video(n) for n in self.sequences]
        if not all(_required_annotated(video) for video in videos):
            return (
                f"{dataset.root}: not scorable locally (not every required frame is annotated); the "
                "evaluation server scores valid/test"
            )
        if self.seen_meta is None:
            return (
                f"{dataset.root}: no training meta.json to tell seen from unseen categories (none at "
                f"{dataset.root.parent / 'train' / 'meta.json'}); pass --seen-meta"
            )
        if not any(_scores_something(video) for video in videos):
            return (
                f"{dataset.root}: nothing to score in {', '.join(self.sequences[:3])}"
                f"{' ...' if len(self.sequences) > 3 else ''} (no object is annotated after its first frame)"
            )
        return None

    def default_train_root(self) -> Path:
        """Training frames: the split's own folders (their labels are never used)."""
        return self.dataset().root


def _required_annotated(video) -> bool:
    """Every required frame from the video's first annotated one on has its annotation."""
    first = video.frame_names[video.first_index]
    return all(f < first or f in video.annotation_paths for f in video.required)


def _scores_something(video) -> bool:
    """Some object has an annotated frame after its first: the metric scores those (and an object
    without one is left out)."""
    index = {name: i for i, name in enumerate(video.frame_names)}
    last = max(index[name] for name in video.annotation_paths)
    return any(o.first_frame < last for o in video.objects)


def _people_train_root() -> Path:
    """JHMDB and VIP are test sets only: trained weights come from the embedded default's clips (the
    same weights as a DAVIS job's, so one features row spans every benchmark)."""
    return train_clips_dir(ensure_default())


@dataclass(frozen=True)
class JhmdbSplit(_SplitFiles):
    """JHMDB keypoints: a split list of (joint_positions.mat, frame folder) pairs."""

    root: str
    name: str
    split: str
    sequences: tuple[str, ...]  # <class>/<video>
    kind: str = "jhmdb"
    resolution: str = "native"
    task = "keypoints"

    def dataset(self) -> JhmdbDataset:
        return JhmdbDataset(self.root, self.split)

    def _identity(self) -> dict[str, Any]:
        return {}

    def check(self) -> tuple[str, ...]:
        return check_jhmdb(self.root, self.split, self.sequences).notes

    def videos(self, skip: tuple[str, ...] = ()) -> list[VideoInput]:
        """The videos not in ``skip``: the first frame's joints, then the frames to propagate to."""
        dataset = self.dataset()
        videos = []
        for name in (n for n in self.sequences if n not in skip):
            video = dataset.sequence(name)
            videos.append(VideoInput(name, video.size, video.num_frames, video.propagation_inputs))
        return videos

    def mask_writer(self, out_dir: Path, video: VideoInput) -> KeypointWriter:
        """<out_dir>/<class>/<video>.npy, written whole when the video is complete."""
        return KeypointWriter(out_dir, video.name)

    def complete(self, out_dir: Path) -> tuple[str, ...]:
        return tuple(name for name in self.sequences if keypoints_path(out_dir, name).is_file())

    def unscorable_reason(self) -> str | None:
        return None  # every frame has its joints

    def default_train_root(self) -> Path:
        return _people_train_root()


@dataclass(frozen=True)
class VipSplit(_LabelFolders, _SplitFiles):
    """VIP human parts: every (sparse) frame annotated; propagated and written like DAVIS masks."""

    root: str
    name: str
    split: str
    sequences: tuple[str, ...]
    kind: str = "vip"
    resolution: str = "native"

    def dataset(self) -> VipDataset:
        return VipDataset(self.root)

    def _identity(self) -> dict[str, Any]:
        return {}

    def check(self) -> tuple[str, ...]:
        return check_vip(self.root, self.split, self.sequences).notes

    def unscorable_reason(self) -> str | None:
        return None  # every (sparse) frame is labelled

    def default_train_root(self) -> Path:
        return _people_train_root()


EvaluationSplit = DavisSplit | YouTubeSplit | JhmdbSplit | VipSplit


def _in_list(given: tuple[str, ...], listed: tuple[str, ...], list_path: Path) -> tuple[str, ...]:
    """The sequences asked for, every one in the split's list (a record names the split), or the
    whole list when none is asked for."""
    unlisted = [name for name in given if name not in listed]
    if unlisted:
        raise DataError(
            f"{list_path}: the split lists no sequence {unlisted[0]!r}; pass the --split whose list has it"
        )
    return given or listed


def open_split(spec: DataSpec) -> EvaluationSplit:
    """The evaluation set of ``spec``: its root (the embedded set of its kind when none) and videos."""
    if spec.kind not in EMBEDDED:
        raise DataError(f"unknown dataset kind {spec.kind!r}; expected one of {', '.join(EMBEDDED)}")
    refuse_frames_choice(spec.kind, spec.all_frames)
    if spec.root is None:
        root, name = Path(EMBEDDED[spec.kind]()), EMBEDDED_NAMES[spec.kind]
    else:
        root, name = Path(spec.root), Path(spec.root).resolve().name
    require_kind(root, spec.kind)
    split = spec.split or DEFAULT_SPLITS[spec.kind]
    if spec.kind == "davis":
        davis = DavisDataset(root)
        listed, list_path = davis.sequence_names(split), davis.imagesets_dir / f"{split}.txt"
        return DavisSplit(str(root), name, split, _in_list(spec.sequences, listed, list_path))
    if spec.kind == "jhmdb":
        return JhmdbSplit(str(root), name, split, spec.sequences or JhmdbDataset(root, split).video_names())
    if spec.kind == "vip":
        vip = VipDataset(root)
        return VipSplit(
            str(root), name, split, _in_list(spec.sequences, vip.sequence_names(split), vip.list_path(split))
        )
    dataset = YouTubeVOSDataset(root, split, all_frames=spec.all_frames)
    train_meta = dataset.root.parent / "train" / "meta.json"
    seen = spec.seen_meta or (str(train_meta) if train_meta.is_file() and split != "train" else None)
    videos = spec.sequences or dataset.video_names()
    return YouTubeSplit(str(root), name, split, videos, seen, all_frames=spec.all_frames)
