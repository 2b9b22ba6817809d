"""Evaluation data as the harness sees it: what identifies it, how to check, propagate and score it.

One small frozen class per dataset kind, picklable, so the isolated worker receives the same
object the planner checked: DAVIS-2017 (every frame written, scored as the official toolkit) and
YouTube-VOS (objects that enter late, the sparse required frames written in the submission layout,
scored locally by seen/unseen category where full annotations exist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .job import DataSpec

EMBEDDED_NAMES = {"davis": "embedded-default", "youtube-vos": "embedded-youtube"}


def table_rows(table) -> list[dict[str, Any]]:
    """pandas rows as plain JSON-ready dicts (numpy scalars become Python numbers, NaN null)."""
    rows = table.to_dict(orient="records")
    return [{str(k): _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class _DavisFrame:
    index: int
    name: str
    rgb: np.ndarray
    new_labels: np.ndarray | None
    required: bool = True


class _Evaluation:
    """What both kinds share: fingerprinted files, and propagation through ``videos`` and ``writer``."""

    def files(self):
        """Each video's frame and annotation files: what the fingerprint covers."""
        from ..data.fingerprint import sequence_files

        return sequence_files(self.dataset(), self.sequences)

    def videos(self, skip=()) -> list:
        """A propagation plan for each video not in ``skip``."""
        dataset = self.dataset()
        return [self.plan(dataset, name) for name in self.sequences if name not in skip]

    def propagate(self, model, out_dir: Path, device: str, max_side, progress: bool, skip=(), protocol=None):
        """Masks of every video not in ``skip`` into ``out_dir`` (each published when complete)."""
        from .propagation import propagate_videos

        return propagate_videos(
            model,
            self.videos(skip),
            self.writer(out_dir),
            protocol=protocol,
            device=device,
            max_side=max_side,
            progress=progress,
        )


@dataclass(frozen=True)
class DavisEvaluation(_Evaluation):
    """DAVIS-2017 semi-supervised: <root>/JPEGImages/480p/<seq>/, Annotations/480p/<seq>/, ImageSets/2017."""

    root: str
    name: str
    split: str
    sequences: tuple[str, ...]
    resolution: str = "480p"
    kind: str = "davis"

    def dataset(self):
        from ..data import DavisDataset

        return DavisDataset(self.root, self.resolution)

    def identity(self, fingerprint: str) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "split": self.split,
            "sequences": list(self.sequences),
            "resolution": self.resolution,
            "fingerprint": fingerprint,
        }

    def check(self) -> None:
        """Layout, frames, annotations and first-frame objects, before any model work."""
        from ..data.check import check_davis

        check_davis(self.root, self.split, self.sequences, self.resolution)

    def plan(self, dataset, name: str):
        from .propagation import VideoPlan

        video = dataset.sequence(name)
        ids = video.object_ids()
        return VideoPlan(name, video.size, video.num_frames, _davis_inputs(video, ids), ids)

    def writer(self, out_dir: Path):
        """Each sequence into <out_dir>/<seq>/, published when complete."""
        from .propagation import SequenceFolderWriter

        return lambda video: SequenceFolderWriter(out_dir, video.name)

    def complete(self, out_dir: Path) -> tuple[str, ...]:
        """Sequences already published in ``out_dir``."""
        return tuple(name for name in self.sequences if (Path(out_dir) / name).is_dir())

    def scorable(self) -> bool:
        """Every frame annotated (DAVIS test-dev has first frames only)."""
        dataset = self.dataset()
        return all(dataset.sequence(name).fully_annotated for name in self.sequences)

    def score(self, masks_dir: Path) -> dict[str, Any]:
        from ..metrics import evaluate_semisupervised

        evaluation = evaluate_semisupervised(
            self.root, masks_dir, self.split, list(self.sequences), n_jobs=1, resolution=self.resolution
        )
        return {
            "kind": self.kind,
            "global": table_rows(evaluation.global_table)[0],
            "per_sequence": table_rows(evaluation.per_sequence),
            "per_object": table_rows(evaluation.per_object),
            "per_frame": table_rows(evaluation.per_frame),
        }

    def default_train_root(self) -> Path:
        """The embedded default ships unlabelled training clips; elsewhere train on the frames."""
        clips = Path(self.root) / "train_clips"
        return clips if clips.is_dir() else Path(self.root)


def _davis_inputs(video, ids: tuple[int, ...]):
    def frames():
        for index in range(video.num_frames):
            new = None
            if index == 0:
                first = video.first_labels()
                new = np.where(np.isin(first, ids), first, 0).astype(np.uint8)  # void -> background
            yield _DavisFrame(index, video.frame_names[index], video.frame(index), new)

    return frames


@dataclass(frozen=True)
class YouTubeEvaluation(_Evaluation):
    """A YouTube-VOS split (2018/2019 ``valid``/``test``, or a fully annotated YouTube-style folder)."""

    root: str  # the dataset root holding <split>/ (and train/meta.json for the seen categories)
    name: str
    split: str
    sequences: tuple[str, ...]  # video names
    seen_meta: str | None = None  # the training meta.json whose categories are the seen ones
    kind: str = "youtube-vos"
    resolution: str = "native"

    def dataset(self):
        from ..data import YouTubeVOSDataset

        return YouTubeVOSDataset(self.root, self.split)

    def identity(self, fingerprint: str) -> dict[str, Any]:
        dataset = self.dataset()
        return {
            "kind": self.kind,
            "name": self.name,
            "split": self.split,
            "sequences": list(self.sequences),
            "all_frames": dataset.all_frames_dir is not None,
            "seen_categories": sorted(self.seen_categories()),
            "fingerprint": fingerprint,
        }

    def seen_categories(self) -> frozenset[str]:
        """The training categories (the scores' "seen" group); empty without a training meta.json."""
        from ..metrics.youtube import categories_of

        return categories_of(self.seen_meta) if self.seen_meta else frozenset()

    def check(self) -> None:
        from ..data.check import check_youtube_vos

        check_youtube_vos(self.root, self.split, self.sequences)

    def plan(self, dataset, name: str):
        from .propagation import VideoPlan

        video = dataset.video(name)
        frames = len(video.propagation_indices())
        return VideoPlan(
            name, video.size, frames, video.propagation_inputs, background=video.required_before_start()
        )

    def writer(self, out_dir: Path):
        """The submission layout <out_dir>/Annotations/<video>/<frame>.png, each video published whole."""
        from ..data import YouTubeVOSSubmission

        submission, dataset = YouTubeVOSSubmission(out_dir), self.dataset()
        return lambda video: submission.video_writer(dataset.video(video.name))

    def complete(self, out_dir: Path) -> tuple[str, ...]:
        from ..data import YouTubeVOSSubmission

        submission = YouTubeVOSSubmission(out_dir)
        return tuple(name for name in self.sequences if submission.is_complete(name))

    def zip(self, out_dir: Path, zip_path: Path) -> Path:
        """The zip for the evaluation server: exactly the required frames."""
        from ..data import YouTubeVOSSubmission

        return YouTubeVOSSubmission(out_dir).zip(self.dataset(), zip_path)

    def scorable(self) -> bool:
        """Local scores need every required frame annotated from each object's first frame on (a
        held-out part of train, a generated set); official valid/test are scored by the server."""
        if self.seen_meta is None:
            return False
        dataset = self.dataset()
        for name in self.sequences:
            video = dataset.video(name)
            first = video.frame_names[video.first_index]
            if any(f >= first and f not in video.annotation_paths for f in video.required):
                return False
        return True

    def score(self, masks_dir: Path) -> dict[str, Any]:
        from ..metrics.youtube import evaluate_youtube

        if not self.scorable():
            raise DataError(
                f"{self.dataset().root}: not scorable locally (needs every required frame annotated and a "
                "training meta.json for the seen categories); the evaluation server scores valid/test"
            )
        evaluation = evaluate_youtube(
            self.dataset().root, Path(masks_dir), self.seen_categories(), self.sequences
        )
        per_object = [
            {**row, "sequence": row["video"], "J-Mean": row["J"], "F-Mean": row["F"]}
            for row in table_rows(evaluation.per_object)
        ]
        per_frame = [{**row, "sequence": row["video"]} for row in table_rows(evaluation.per_frame)]
        return {
            "kind": self.kind,
            "global": table_rows(evaluation.summary)[0],
            "per_object": per_object,
            "per_frame": per_frame,
        }

    def default_train_root(self) -> Path:
        """Training frames: the split's own folders (their labels are never used)."""
        return self.dataset().root


def resolve_data(spec: DataSpec) -> DavisEvaluation | YouTubeEvaluation:
    """The evaluation data of ``spec``: its root (the embedded default when none) and sequences."""
    if spec.kind == "davis":
        return _resolve_davis(spec)
    if spec.kind == "youtube-vos":
        return _resolve_youtube(spec)
    raise DataError(f"unknown dataset kind {spec.kind!r}; expected davis or youtube-vos")


def _root_and_name(spec: DataSpec, ensure_embedded) -> tuple[Path, str]:
    """The dataset root and the name records give it (the embedded set's when no root is given)."""
    if spec.root is None:
        return Path(ensure_embedded()), EMBEDDED_NAMES[spec.kind]
    return Path(spec.root), Path(spec.root).resolve().name


def _resolve_davis(spec: DataSpec) -> DavisEvaluation:
    from ..data import DavisDataset
    from ..data.embedded import ensure_default

    root, name = _root_and_name(spec, ensure_default)
    if not (root / "ImageSets").is_dir() and any(
        (root / s / "meta.json").is_file() for s in ("valid", "train", "test")
    ):
        raise DataError(f"{root}: a YouTube-VOS layout (<split>/meta.json inside); use --dataset youtube-vos")
    split = spec.split or "val"
    sequences = spec.sequences or DavisDataset(root).sequence_names(split)
    return DavisEvaluation(str(root), name, split, tuple(sequences))


def _resolve_youtube(spec: DataSpec) -> YouTubeEvaluation:
    from ..data import YouTubeVOSDataset
    from ..data.embedded_youtube import ensure_youtube

    root, name = _root_and_name(spec, ensure_youtube)
    if (root / "ImageSets" / "2017").is_dir():
        raise DataError(f"{root}: a DAVIS-2017 layout (ImageSets/2017 inside); use --dataset davis")
    split = spec.split or "valid"
    dataset = YouTubeVOSDataset(root, split)
    sequences = spec.sequences or dataset.video_names()
    train_meta = dataset.root.parent / "train" / "meta.json"
    seen = spec.seen_meta or (str(train_meta) if train_meta.is_file() and split != "train" else None)
    return YouTubeEvaluation(str(root), name, split, tuple(sequences), seen)
