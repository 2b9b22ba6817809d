"""Dataset identity that follows file contents, for the price of stat() calls on a rerun.

The fingerprint is a sha256 over the chosen sequences of (sequence, role, file name, content hash)
of every frame and annotation. Annotations are small and decide the scores: they are read and
hashed every time. Frames are large: their content hash is cached under (size, mtime_ns, ctime_ns,
inode, device). Editing a file changes its ctime, which no user can set back, and touching one only
costs a re-read, so the fingerprint depends on contents alone. An entry is only recorded for a file
left unchanged for ``settle`` seconds before it was hashed: an edit within one timestamp tick of the
hashing could otherwise hide behind an unchanged stat.

The cache is a JSON file written atomically; each writer merges into what it reads just before, so
concurrent runs at worst lose an entry (hashed again next time), and a corrupt cache is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from ..atomic import atomic_write_json
from ..errors import DataError
from .youtube_vos import YouTubeVOSDataset

FINGERPRINT_VERSION = "mast-bench dataset fingerprint 2"
CACHE_NAME = "fingerprints.json"
CACHE_VERSION = 1
SETTLE_SECONDS = 2.0  # coarser than any file system's timestamps (FAT: 2 s)
_CHUNK = 1 << 20


class VideoFiles(NamedTuple):
    name: str
    frames: Sequence[Path]
    annotations: Sequence[Path]


def sequence_files(dataset, names: Iterable[str]) -> list[VideoFiles]:
    """The files of the named sequences of a DavisDataset or videos of a YouTubeVOSDataset."""
    out = []
    for name in names:
        if isinstance(dataset, YouTubeVOSDataset):
            video = dataset.video(name)
            annotations = [
                video.annotation_paths[n] for n in video.frame_names if n in video.annotation_paths
            ]
        else:
            video = dataset.sequence(name)
            annotations = list(video.annotation_paths)
        out.append(VideoFiles(name, tuple(video.frame_paths), tuple(annotations)))
    return out


def content_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _stat_key(path: Path) -> list[int]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file missing (it is part of the dataset's fingerprint)") from None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def read_cache(path: Path | None) -> dict[str, list]:
    """Cached entries ``{absolute path: [*stat key, sha256]}``; {} when absent or malformed."""
    if path is None:
        return {}
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(cache, dict) or cache.get("version") != CACHE_VERSION:
        return {}
    files = cache.get("files")
    return files if isinstance(files, dict) else {}


def _cached_hash(entry: object, key: list[int]) -> str | None:
    if isinstance(entry, list) and len(entry) == len(key) + 1 and entry[:-1] == key:
        digest = entry[-1]
        if isinstance(digest, str) and len(digest) == 64:
            return digest
    return None


def _frame_hash(path: Path, cache: dict[str, list], updates: dict[str, list], settle: float) -> str:
    name = os.path.abspath(path)
    key = _stat_key(path)
    digest = _cached_hash(cache.get(name), key)
    if digest is not None:
        return digest
    started = time.time_ns()
    digest = content_hash(path)
    settled = started - max(key[1], key[2]) >= settle * 1e9
    if settled and _stat_key(path) == key:  # unchanged while it was read, and for a while before
        updates[name] = [*key, digest]
    return digest


def _annotation_hash(path: Path) -> str:
    try:
        return content_hash(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file missing (it is part of the dataset's fingerprint)") from None


def write_cache(path: Path, updates: dict[str, list]) -> None:
    """Merge ``updates`` into the cache file; a cache that cannot be written is simply not kept."""
    files = {**read_cache(path), **updates}
    try:
        atomic_write_json(path, {"version": CACHE_VERSION, "files": files})
    except OSError:
        pass


def dataset_fingerprint(
    sequences: Iterable[VideoFiles], cache_dir: str | Path | None = None, settle: float = SETTLE_SECONDS
) -> str:
    """sha256 of the contents of the given sequences' files; ``cache_dir`` holds the frame hashes."""
    with _frame_hashes(cache_dir, settle) as frame_hash:
        return _digest(sequences, frame_hash)


def video_fingerprints(
    sequences: Iterable[VideoFiles], cache_dir: str | Path | None = None, settle: float = SETTLE_SECONDS
) -> dict[str, str]:
    """Each video's fingerprint (that of a dataset of it alone), the cache read and written once."""
    with _frame_hashes(cache_dir, settle) as frame_hash:
        return {video.name: _digest([video], frame_hash) for video in sequences}


def _digest(videos: Iterable[VideoFiles], frame_hash: Callable[[Path], str]) -> str:
    digest = hashlib.sha256(f"{FINGERPRINT_VERSION}\n".encode())
    for name, frames, labels in videos:
        for path in map(Path, frames):
            digest.update(f"{name}/frame/{path.name}\t{frame_hash(path)}\n".encode())
        for path in map(Path, labels):
            digest.update(f"{name}/annotation/{path.name}\t{_annotation_hash(path)}\n".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _frame_hashes(cache_dir: str | Path | None, settle: float) -> Iterator[Callable[[Path], str]]:
    """A frame's content hash, from the cache in ``cache_dir`` where its stat is unchanged; the new
    entries are merged into the cache once, at the end."""
    cache_path = Path(cache_dir) / CACHE_NAME if cache_dir is not None else None
    cache, updates = read_cache(cache_path), {}
    try:
        yield lambda path: _frame_hash(path, cache, updates, settle)
    finally:  # an interrupted first hashing keeps what it read (each entry is whole)
        if cache_path is not None and updates:
            write_cache(cache_path, updates)


__all__ = [
    "VideoFiles",
    "content_hash",
    "dataset_fingerprint",
    "read_cache",
    "sequence_files",
    "video_fingerprints",
    "write_cache",
]
