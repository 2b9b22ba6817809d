from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mast_bench.data import DavisDataset
from mast_bench.data import fingerprint as fp
from mast_bench.data.fingerprint import CACHE_NAME, dataset_fingerprint, read_cache, sequence_files
from mast_bench.data.palette import read_label_map, write_label_map
from mast_bench.errors import DataError


@pytest.fixture
def davis(make_davis, tmp_path: Path) -> DavisDataset:
    return DavisDataset(make_davis(tmp_path / "davis", {"a": 4, "b": 3}))


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """Names of the files whose contents are read, in order."""
    seen = []
    original = fp.content_hash

    def counting(path):
        seen.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(fp, "content_hash", counting)
    return seen


def _fingerprint(dataset: DavisDataset, cache: Path | None, names=("a", "b")) -> str:
    return dataset_fingerprint(sequence_files(dataset, names), cache, settle=0.0)


def test_a_rerun_reads_only_annotations(davis: DavisDataset, tmp_path: Path, hashed: list[str]):
    cache = tmp_path / "cache"
    first = _fingerprint(davis, cache)
    assert len(hashed) == 14  # 7 frames + 7 annotations
    entries = read_cache(cache / CACHE_NAME)
    assert len(entries) == 7 and all(name.endswith(".jpg") for name in entries)
    hashed.clear()
    assert _fingerprint(davis, cache) == first == _fingerprint(davis, None)
    assert hashed[:7] == [f"{i:05d}.png" for i in (0, 1, 2, 3, 0, 1, 2)]  # frames came from the cache
    assert len(hashed) == 7 + 14  # (the uncached run read everything again)


def test_each_videos_fingerprint_is_that_of_a_dataset_of_it_alone(
    davis: DavisDataset, tmp_path: Path, hashed: list[str], monkeypatch
):
    """propagate lists each video's; the cache is read and written once for all of them (once per
    video rewrote a YouTube-VOS-sized cache hundreds of times)."""
    writes = []
    write = fp.write_cache
    monkeypatch.setattr(fp, "write_cache", lambda path, updates: writes.append(path) or write(path, updates))
    cache = tmp_path / "cache"
    each = fp.video_fingerprints(sequence_files(davis, ("a", "b")), cache, settle=0.0)
    assert each == {name: _fingerprint(davis, None, (name,)) for name in ("a", "b")}
    assert each["a"] != each["b"] and writes == [cache / CACHE_NAME]
    hashed.clear()
    assert fp.video_fingerprints(sequence_files(davis, ("a", "b")), cache, settle=0.0) == each
    assert not [name for name in hashed if name.endswith(".jpg")] and len(writes) == 1


def test_contents_decide_not_names_sizes_or_times(davis: DavisDataset, tmp_path: Path):
    cache = tmp_path / "cache"
    base = _fingerprint(davis, cache)
    annotation = davis.annotations_dir / "a" / "00002.png"
    before = annotation.stat().st_size
    labels = read_label_map(annotation)
    labels[labels == 1] = 2  # the object changes id: a different annotation of the same size
    write_label_map(annotation, labels)
    assert annotation.stat().st_size == before
    edited = _fingerprint(davis, cache)
    assert edited != base
    write_label_map(annotation, np.where(labels == 2, 1, labels))
    assert _fingerprint(davis, cache) == base

    frame = davis.frames_dir / "b" / "00001.jpg"
    stat = frame.stat()
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same contents
    assert _fingerprint(davis, cache) == base
    data = bytearray(frame.read_bytes())
    data[-10] ^= 0x01  # same size, and the old modification time put back
    frame.write_bytes(bytes(data))
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert frame.stat().st_size == stat.st_size and frame.stat().st_mtime_ns == stat.st_mtime_ns
    assert _fingerprint(davis, cache) != base  # the cache is keyed on ctime too, which cannot be put back

    assert _fingerprint(davis, cache, ["b", "a"]) != _fingerprint(davis, cache, ["a", "b"])
    assert _fingerprint(davis, cache, ["a"]) != _fingerprint(davis, cache, ["a", "b"])


def test_the_fingerprint_does_not_depend_on_where_the_dataset_lives(make_davis, tmp_path: Path):
    one = DavisDataset(make_davis(tmp_path / "one", {"a": 3}))
    two = DavisDataset(make_davis(tmp_path / "two", {"a": 3}))
    assert _fingerprint(one, tmp_path / "cache", ["a"]) == _fingerprint(two, tmp_path / "cache", ["a"])


def test_a_file_changed_just_before_hashing_is_not_cached(davis: DavisDataset, tmp_path: Path):
    """Within one timestamp tick an edit keeps the stat unchanged: such a file is hashed, not cached."""
    cache = tmp_path / "cache"
    files = sequence_files(davis, ["a"])
    for path in files[0].frames:
        os.utime(path)  # changed just now
    dataset_fingerprint(files, cache)
    assert read_cache(cache / CACHE_NAME) == {}
    dataset_fingerprint(files, cache, settle=0.0)
    assert len(read_cache(cache / CACHE_NAME)) == 4


def test_a_corrupt_or_foreign_cache_is_ignored_and_replaced(davis: DavisDataset, tmp_path: Path):
    cache = tmp_path / "cache"
    base = _fingerprint(davis, None)
    cache.mkdir()
    for content in ("{not json", json.dumps({"version": 99, "files": {}}), json.dumps([1, 2])):
        (cache / CACHE_NAME).write_text(content)
        assert _fingerprint(davis, cache) == base
        assert len(read_cache(cache / CACHE_NAME)) == 7
    entries = read_cache(cache / CACHE_NAME)
    bad = {  # odd entries: the right stat with a wrong hash; even ones: malformed
        name: [*entry[:-1], "0" * 64] if i % 2 else "junk" for i, (name, entry) in enumerate(entries.items())
    }
    (cache / CACHE_NAME).write_text(json.dumps({"version": 1, "files": bad}))
    assert _fingerprint(davis, cache) != base  # a wrong cached hash is trusted: the cache is ours alone
    (cache / CACHE_NAME).write_text(json.dumps({"version": 1, "files": {k: "junk" for k in bad}}))
    assert _fingerprint(davis, cache) == base  # malformed entries are hashed again


def test_a_missing_file_is_named(davis: DavisDataset, tmp_path: Path):
    files = sequence_files(davis, ["a"])
    (davis.annotations_dir / "a" / "00001.png").unlink()
    with pytest.raises(DataError, match=r"a/00001.png: file missing"):
        dataset_fingerprint(files, tmp_path / "cache")
    (davis.frames_dir / "a" / "00003.jpg").unlink()
    with pytest.raises(DataError, match=r"a/00003.jpg: file missing"):
        dataset_fingerprint(files, tmp_path / "cache")


def test_an_unwritable_cache_costs_only_speed(davis: DavisDataset, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert _fingerprint(davis, blocker) == _fingerprint(davis, None)


# Each round touches one frame (a cache miss, so a cache write) and fingerprints the dataset.
RACER = """
import os, sys
from mast_bench.data import DavisDataset
from mast_bench.data.fingerprint import dataset_fingerprint, sequence_files
files = sequence_files(DavisDataset(sys.argv[1]), ["a", "b"])
frames = [path for sequence in files for path in sequence.frames]
prints = set()
for round in range(40):
    os.utime(frames[(round + int(sys.argv[3])) % len(frames)])
    prints.add(dataset_fingerprint(files, sys.argv[2], settle=0.0))
print(prints.pop(), len(prints))
"""


def test_concurrent_runs_share_one_cache(davis: DavisDataset, tmp_path: Path):
    cache = tmp_path / "cache"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RACER), str(davis.root), str(cache), str(offset)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for offset in (0, 3)
    ]
    outputs = [racer.communicate(timeout=300) for racer in racers]
    expected = _fingerprint(davis, None)
    assert outputs == [(f"{expected} 0\n", "")] * 2
    assert len(read_cache(cache / CACHE_NAME)) == 7
    assert [p.name for p in cache.iterdir()] == [CACHE_NAME]  # no temp file left behind
