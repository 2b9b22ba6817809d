"""Pre-flight check of a dataset: every file present, complete and consistent, before any model work.

Cheap on purpose, so it can run before every job: file headers and checksums, no pixel decoding
except the annotation where each object starts. A truncated frame 5 is then found in a fraction
of a second instead of after frames 1-4 were propagated. Every problem is reported at once (up to a
limit), each naming its file and what was expected.

What each file gets:

* JPEG: the header parses and the file ends with the end-of-image marker FFD9 (trailing NUL padding
  allowed). That catches a file cut anywhere, even one byte short. Limits: JPEG carries no
  checksum, so bytes corrupted in place (same length) go unnoticed (a full decode misses most of
  them too: decoders conceal damage); a file with other bytes after its FFD9 is reported as
  truncated (re-encode it).
* PNG: every chunk's CRC (Pillow's ``verify``, no decompression) and the closing IEND chunk; that
  catches truncation and any corrupted byte.
* other image formats: the header only.

Annotations must be palette PNGs (mode 'P', at most 8 bits): their pixel values are then object ids
by construction (0 background, 1..254 objects, 255 void), so the mode check is the id-range check.
Within a sequence every frame and annotation has frame 0's size (headers only). The dataset
readers' own layout rules (consecutive frames, one annotation per frame or only the first,
meta.json) and the first-frame objects are checked by calling those readers, not by repeating them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image

from ..errors import ConfigError, DataError
from .davis import DavisDataset
from .detect import detect_kind
from .images import list_images, upright_size
from .jhmdb import JhmdbDataset
from .palette import GREY_ID_MODES
from .vip import VipDataset, check_part_classes
from .youtube_vos import YouTubeVOSDataset

PROBLEM_LIMIT = 20
JPEG_END = b"\xff\xd9"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: length 0, type, CRC; always these bytes
_TAIL = 64


@dataclass(frozen=True)
class ImageHeader:
    format: str
    mode: str
    size: tuple[int, int]  # (H, W) as stored
    upright_size: tuple[int, int]  # (H, W) once the EXIF orientation is applied: a frame's size


def _tail(path: Path) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - _TAIL))
        return fh.read()


def verify_image(path: str | Path) -> ImageHeader:
    """Header of ``path`` after the cheap integrity check above; DataError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file missing")
    try:
        with Image.open(path) as image:
            header = ImageHeader(
                image.format or "?", image.mode, (image.height, image.width), upright_size(image)
            )
            if header.format == "PNG":
                image.verify()
    except (OSError, ValueError, SyntaxError) as exc:
        what = "damaged PNG" if path.suffix.lower() == ".png" else "unreadable image"
        raise DataError(f"{path}: {what} ({exc}); expected a complete image file") from None
    if header.format == "JPEG" and not _tail(path).rstrip(b"\0").endswith(JPEG_END):
        raise DataError(
            f"{path}: truncated JPEG (expected the end-of-image marker FFD9 at the end of the file)"
        )
    if header.format == "PNG" and not _tail(path).endswith(PNG_END):
        raise DataError(f"{path}: truncated PNG (expected the closing IEND chunk at the end of the file)")
    return header


@dataclass(frozen=True)
class CheckResult:
    root: Path
    sequences: int
    files: int
    problems: tuple[str, ...]
    seconds: float
    notes: tuple[str, ...] = ()  # what the readers settled on their own (see YouTubeVOSVideo.notes)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self, limit: int = PROBLEM_LIMIT) -> str:
        count = len(self.problems)
        lines = [
            f"{self.root}: {count} problem{'s' * (count != 1)} in {self.sequences} sequence(s) "
            f"({self.files} files checked):"
        ]
        lines += [f"  {problem}" for problem in self.problems[:limit]]
        if count > limit:
            lines.append(f"  ... and {count - limit} more")
        return "\n".join(lines)

    def raise_if_problems(self, limit: int = PROBLEM_LIMIT) -> CheckResult:
        """One DataError listing every problem (the first ``limit`` of them)."""
        if self.problems:
            raise DataError(self.message(limit))
        return self


def _leading_path(message: str) -> str:
    return message.split(": ", 1)[0]


def _image_files(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    """The folder's images; none where it has none or is ambiguous (the reader's load() says why)."""
    if not folder.is_dir():
        return []
    try:
        files = list_images(folder)
    except DataError:
        return []
    return [p for p in files if p.suffix.lower() in suffixes] if suffixes else files


def sequence_problems(
    frames: Sequence[Path],
    annotations: Sequence[Path],
    load: Callable[[], object],
    annotation_modes: tuple[str, ...] = ("P",),
) -> list[str]:
    """Problems of one sequence: each file on its own, sizes against frame 0, then ``load()`` (the
    dataset reader's layout and object checks), whose error is kept unless it names a file already
    reported."""
    problems, headers = [], {}
    for path in [*frames, *annotations]:
        try:
            headers[path] = verify_image(path)
        except DataError as exc:
            problems.append(str(exc))
    for path in annotations:
        if path in headers and headers[path].mode not in annotation_modes:
            expected = " or ".join(repr(m) for m in annotation_modes)
            problems.append(
                f"{path}: image mode {headers[path].mode!r}, expected a palette PNG (mode {expected}) "
                "whose pixel values are object ids"
            )
    frame_sizes = {path: headers[path].upright_size for path in frames if path in headers}
    if frame_sizes:  # the odd ones out are named, against the size most frames have (the first's on a tie)
        size = Counter(frame_sizes.values()).most_common(1)[0][0]
        like = next(path for path, other in frame_sizes.items() if other == size)
        sizes = frame_sizes | {path: headers[path].size for path in annotations if path in headers}
        for path, other in sizes.items():
            if other != size:
                problems.append(f"{path}: size (H, W) = {other}, expected {size} like {like}")
    reported = {_leading_path(p) for p in problems}
    try:
        load()
    except DataError as exc:
        if _leading_path(str(exc)) not in reported:
            problems.append(str(exc))
    return problems


def _first_objects(dataset: DavisDataset | VipDataset, name: str) -> None:
    sequence = dataset.sequence(name)
    first = sequence.first_labels()
    sequence.object_ids(first)  # the layout, and an object in the first annotation
    if isinstance(dataset, VipDataset):
        check_part_classes(first, sequence.annotation_paths[0])


def inspect_davis(
    dataset: DavisDataset, split: str = "val", sequences: Sequence[str] | None = None
) -> CheckResult:
    """Every problem of the chosen sequences of a DAVIS dataset (``sequences`` None: the split's)."""
    start = time.perf_counter()
    names = list(sequences) if sequences else list(dataset.sequence_names(split))
    modes = ("P", *GREY_ID_MODES) if dataset.allow_grey else ("P",)
    problems, files = [], 0
    for name in names:
        frames = _image_files(dataset.frames_dir / name)
        annotations = _image_files(dataset.annotations_dir / name, (".png",))
        files += len(frames) + len(annotations)
        problems += sequence_problems(frames, annotations, partial(_first_objects, dataset, name), modes)
    return CheckResult(dataset.root, len(names), files, tuple(problems), time.perf_counter() - start)


def _youtube_vos_objects(dataset: YouTubeVOSDataset, name: str, notes: list[str]) -> None:
    notes += dataset.video(name).notes  # the layout, meta.json, and each object's pixels where it starts


def inspect_youtube_vos(dataset: YouTubeVOSDataset, videos: Sequence[str] | None = None) -> CheckResult:
    """Every problem of the chosen videos of a YouTube-VOS split (``videos`` None: all)."""
    start = time.perf_counter()
    names = list(videos) if videos else list(dataset.video_names())
    frames_root = dataset.all_frames_dir or dataset.root / "JPEGImages"  # the frames propagated through
    problems, files, notes = [], 0, []
    for name in names:
        frames = _image_files(frames_root / name)
        annotations = _image_files(dataset.root / "Annotations" / name, (".png",))
        files += len(frames) + len(annotations)
        load = partial(_youtube_vos_objects, dataset, name, notes)
        problems += sequence_problems(frames, annotations, load)
    seconds = time.perf_counter() - start
    return CheckResult(dataset.root, len(names), files, tuple(problems), seconds, tuple(notes))


def inspect_jhmdb(dataset: JhmdbDataset, videos: Sequence[str] | None = None) -> CheckResult:
    """Every problem of the chosen videos of a JHMDB split: frames, sizes and joint positions."""
    start = time.perf_counter()
    names = list(videos) if videos else list(dataset.video_names())
    problems, files = [], 0
    for name in names:
        entries = dataset.entries()
        frames = _image_files(entries[name][0] if name in entries else dataset.frames_dir / name)
        files += len(frames) + 1
        problems += sequence_problems(frames, [], partial(dataset.sequence, name))
    return CheckResult(dataset.root, len(names), files, tuple(problems), time.perf_counter() - start)


def inspect_vip(dataset: VipDataset, split: str = "val", videos: Sequence[str] | None = None) -> CheckResult:
    """Every problem of the chosen videos of a VIP split (part labels: grey or palette PNGs)."""
    start = time.perf_counter()
    names = list(videos) if videos else list(dataset.sequence_names(split))
    problems, files = [], 0
    for name in names:
        frames = _image_files(dataset.frames_dir / name)
        annotations = _image_files(dataset.annotations_dir / name, (".png",))
        files += len(frames) + len(annotations)
        problems += sequence_problems(
            frames, annotations, partial(_first_objects, dataset, name), ("P", *GREY_ID_MODES)
        )
    return CheckResult(dataset.root, len(names), files, tuple(problems), time.perf_counter() - start)


def check_jhmdb(
    root: str | Path, split: str = "val", videos: Sequence[str] | None = None, limit: int = PROBLEM_LIMIT
) -> CheckResult:
    return inspect_jhmdb(JhmdbDataset(root, split), videos).raise_if_problems(limit)


def check_vip(
    root: str | Path, split: str = "val", videos: Sequence[str] | None = None, limit: int = PROBLEM_LIMIT
) -> CheckResult:
    return inspect_vip(VipDataset(root), split, videos).raise_if_problems(limit)


def check_davis(
    root: str | Path,
    split: str = "val",
    sequences: Sequence[str] | None = None,
    resolution: str = "480p",
    limit: int = PROBLEM_LIMIT,
) -> CheckResult:
    """:func:`inspect_davis` of ``root``; raises one DataError listing the problems."""
    return inspect_davis(DavisDataset(root, resolution), split, sequences).raise_if_problems(limit)


def check_youtube_vos(
    root: str | Path,
    split: str = "valid",
    videos: Sequence[str] | None = None,
    limit: int = PROBLEM_LIMIT,
    all_frames: bool | None = None,
) -> CheckResult:
    dataset = YouTubeVOSDataset(root, split, all_frames=all_frames)
    return inspect_youtube_vos(dataset, videos).raise_if_problems(limit)


def check_data(
    root: str | Path,
    split: str | None = None,
    sequences: Sequence[str] | None = None,
    limit: int = PROBLEM_LIMIT,
    all_frames: bool | None = None,
) -> CheckResult:
    """Check a DAVIS-2017, JHMDB or VIP root (as detect.py tells them), or else a YouTube-VOS folder
    (``all_frames`` as :class:`YouTubeVOSDataset` takes it)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder missing")
    kind = detect_kind(root)
    refuse_frames_choice(kind, all_frames)
    if kind == "davis":
        return check_davis(root, split or "val", sequences, limit=limit)
    if kind == "jhmdb":
        return check_jhmdb(root, split or "val", sequences, limit)
    if kind == "vip":
        return check_vip(root, split or "val", sequences, limit)
    return check_youtube_vos(root, split or "valid", sequences, limit, all_frames)


def refuse_frames_choice(kind: str, all_frames: bool | None) -> None:
    """The sparse or all frames are a choice of YouTube-VOS alone."""
    if all_frames is not None and kind != "youtube-vos":
        raise ConfigError(f"--all-frames / --sparse-frames choose YouTube-VOS frames; the data is {kind}")


@dataclass(frozen=True)
class SequenceSummary:
    """What the check command shows of one DAVIS sequence."""

    name: str
    frames: int
    size: tuple[int, int]  # (H, W)
    objects: tuple[int, ...]
    fully_annotated: bool


def summarise_davis(
    root: str | Path, split: str, sequences: Sequence[str] | None = None
) -> list[SequenceSummary]:
    """Frames, size, objects and annotation coverage of each chosen sequence of a DAVIS root."""
    dataset = DavisDataset(root)
    summaries = []
    for name in sequences or dataset.sequence_names(split):
        sequence = dataset.sequence(name)
        summaries.append(
            SequenceSummary(
                name, sequence.num_frames, sequence.size, sequence.object_ids(), sequence.fully_annotated
            )
        )
    return summaries
