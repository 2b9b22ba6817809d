"""A YouTube-VOS results folder and the zip the evaluation server takes.

``<root>/Annotations/<video>/<frame>.png`` (palette PNGs), one per required frame, zipped with the
``Annotations/`` prefix (as the public trackers' evaluation scripts make it), from each video's first
annotation on (the frames before it, background, stay out of the zip as the trackers leave them out).
A video is written into ``<root>/.staging/<video>`` and renamed into ``Annotations/`` only once every
required frame is there, so an interrupted run leaves complete videos only and a rerun resumes with
the missing ones.
The zip is deterministic: sorted entries, fixed timestamps and permissions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from types import TracebackType

import numpy as np

from ..atomic import atomic_write
from ..errors import DataError
from .palette import label_map_image
from .plain_names import plain_name
from .youtube_vos import YouTubeVOSDataset, YouTubeVOSVideo

STAGING = ".staging"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: no clock in the archive
ZIP_MODE = 0o644 << 16


class VideoWriter:
    """Collects one video's masks; publishes them on a clean ``with`` exit if all required frames came."""

    def __init__(self, submission: YouTubeVOSSubmission, video: str, required: tuple[str, ...]) -> None:
        self.submission, self.video, self.required = submission, video, required
        self.staging = submission.root / STAGING / video
        self.written: set[str] = set()

    def __enter__(self) -> VideoWriter:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        return self

    def write(self, frame_name: str, labels: np.ndarray) -> Path:
        if frame_name not in self.required:
            raise DataError(
                f"video {self.video}: frame {frame_name!r} is not a required frame of the submission"
            )
        path = self.staging / f"{plain_name(frame_name, 'frame')}.png"
        image = label_map_image(labels)
        atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))
        self.written.add(frame_name)
        return path

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        missing = [f for f in self.required if f not in self.written]
        if missing:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise DataError(
                f"video {self.video}: {len(missing)} required frame(s) not written, first {missing[0]}; "
                "nothing published"
            )
        self.submission.publish(self.video, self.staging)


class YouTubeVOSSubmission:
    """``with submission.video_writer(video) as out: out.write(name, labels)``; then ``zip(...)``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def annotations_dir(self) -> Path:
        return self.root / "Annotations"

    def path(self, video: str, frame_name: str) -> Path:
        return self.annotations_dir / plain_name(video, "video") / f"{plain_name(frame_name, 'frame')}.png"

    def is_complete(self, video: str) -> bool:
        """Published videos are complete by construction (staging + rename)."""
        return (self.annotations_dir / plain_name(video, "video")).is_dir()

    def video_writer(self, video: YouTubeVOSVideo) -> VideoWriter:
        return VideoWriter(self, video.name, video.required)

    def publish(self, video: str, folder: Path) -> Path:
        """Rename a finished folder into ``Annotations/`` (an older copy is moved away first)."""
        target = self.annotations_dir / video
        target.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{video}.old-", dir=self.root / STAGING))
            os.replace(target, old / video)
        os.replace(folder, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def missing(self, dataset: YouTubeVOSDataset) -> list[Path]:
        """Required result files (every frame of ``<split>/JPEGImages``) that are not published yet."""
        expected = [self.path(n, f) for n in dataset.video_names() for f in dataset.required_frames(n)]
        return [p for p in expected if not p.is_file()]

    def _entries(self, dataset: YouTubeVOSDataset) -> list[Path]:
        missing = self.missing(dataset)
        if missing:
            raise DataError(
                f"{missing[0]}: result missing ({len(missing)} of the submission's files missing)"
            )
        expected = {self.path(n, f) for n in dataset.video_names() for f in dataset.required_frames(n)}
        written = {p for p in self.annotations_dir.rglob("*") if p.is_file() and not p.name.startswith(".")}
        extra = sorted(written - expected)  # hidden files (macOS's ._ copies) are not results
        if extra:
            raise DataError(f"{extra[0]}: not a required frame (the folder holds exactly those)")
        return sorted(self.path(n, f) for n in dataset.video_names() for f in dataset.submitted_frames(n))

    def zip(self, dataset: YouTubeVOSDataset, zip_path: str | Path) -> Path:
        """Zip the frames the server is sent (``submitted_frames``: from each video's first annotation
        on) of a complete folder (refusing missing or extra files), byte-for-byte reproducible."""
        files = self._entries(dataset)

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in files:
                    info = zipfile.ZipInfo(path.relative_to(self.root).as_posix(), date_time=ZIP_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = ZIP_MODE
                    archive.writestr(info, path.read_bytes())

        return atomic_write(zip_path, write)
