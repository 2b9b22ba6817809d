"""Publishing a record: masks and record appear together, a failure leaves the folder as it was, and
concurrent publishers of one key never see each other's half-done work."""

from __future__ import annotations

import errno
import multiprocessing
from pathlib import Path

import pytest
from support.records import make_record

from mast_bench.results import ResultRecord, ResultsLayout, ResultStore


def _staged(store: ResultStore, key: str, content: bytes) -> Path:
    staged = store.new_staging(key)
    (staged / "seq").mkdir()
    (staged / "seq" / "00000.png").write_bytes(content)
    return staged


def test_publish_moves_masks_and_writes_the_record(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    staged = _staged(store, record.key, b"new")
    with store.lock(record.key):
        store.publish(record, staged)
    assert not staged.exists()
    assert (store.layout.masks_dir(record.key) / "seq" / "00000.png").read_bytes() == b"new"
    assert store.get(record.key).masks == f"masks/{record.key}"


def test_a_failed_record_write_puts_the_previous_masks_back(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    with store.lock(record.key):
        store.publish(record, _staged(store, record.key, b"old"))
    before = store.layout.record_path(record.key).read_text()
    staged = _staged(store, record.key, b"new")

    def disk_full(path, obj):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("mast_bench.results.store.atomic_write_json", disk_full)
    with store.lock(record.key), pytest.raises(OSError, match="No space left"):
        store.publish(record, staged)
    assert (store.layout.masks_dir(record.key) / "seq" / "00000.png").read_bytes() == b"old"
    assert store.layout.record_path(record.key).read_text() == before
    assert (staged / "seq" / "00000.png").read_bytes() == b"new"  # still the caller's to discard


def _publish_many(root: str, tries: int, content: bytes) -> int:
    store = ResultStore(root)
    record = make_record("mast", 0.5, 0)
    for _ in range(tries):
        staged = _staged(store, record.key, content)
        with store.lock(record.key):
            store.publish(record, staged)
    return tries


def test_concurrent_publishers_of_one_key_never_fail(tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        done = pool.starmap(_publish_many, [(str(tmp_path), 60, b"a"), (str(tmp_path), 60, b"b")])
    assert done == [60, 60]
    store = ResultStore(tmp_path)
    key = make_record("mast", 0.5, 0).key
    assert (store.layout.masks_dir(key) / "seq" / "00000.png").read_bytes() in (b"a", b"b")
    assert ResultRecord.load(store.layout.record_path(key)).key == key
    assert not [p for p in store.layout.masks_root.iterdir() if p.name.startswith(".")]


def test_debris_of_a_dead_owner_is_removed_and_a_live_ones_kept(tmp_path):
    layout = ResultsLayout(tmp_path)
    mine = layout.staging_dir("k" * 64)
    mine.mkdir(parents=True)
    dead = layout.masks_root / mine.name.replace(f".{__import__('os').getpid()}.", ".999999999.")
    dead.mkdir()
    assert layout.remove_debris() == [dead]
    assert mine.is_dir() and not dead.exists()


def test_an_unchanged_table_is_not_rewritten(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    with store.lock(record.key):
        store.publish(record)
    path = store.write_table()
    stamp = path.stat().st_mtime_ns
    assert store.write_table() == path and path.stat().st_mtime_ns == stamp


def test_the_weights_index_finds_records_by_weights_reading_each_record_once(tmp_path, monkeypatch):
    """Records written by hand (a copied records folder) and published ones are found by their
    weights' sha256; a second lookup reads no record, and a republished key is indexed anew."""
    from mast_bench.atomic import atomic_write_json

    store = ResultStore(tmp_path)
    weights = ["a" * 64, "b" * 64, "a" * 64, None]
    records = [make_record(f"variant-{i}", 0.5, i) for i in range(4)]
    for record, digest in zip(records, weights, strict=True):
        record.provenance["weights_sha256"] = digest
    for record in records[:2]:
        atomic_write_json(store.layout.record_path(record.key), record.to_dict())
    assert store.keys_with_weights("a" * 64) == [records[0].key]
    for record in records[2:]:
        with store.lock(record.key):
            store.publish(record)

    reads = []
    original = ResultRecord.load
    monkeypatch.setattr(ResultRecord, "load", lambda path: reads.append(path) or original(path))
    assert store.keys_with_weights("a" * 64) == sorted([records[0].key, records[2].key])
    assert store.keys_with_weights("b" * 64) == [records[1].key]
    assert store.keys_with_weights("c" * 64) == [] and reads == []

    records[2].provenance["weights_sha256"] = "c" * 64
    with store.lock(records[2].key):
        store.publish(records[2])
    assert store.keys_with_weights("a" * 64) == [records[0].key]
    assert store.keys_with_weights("c" * 64) == [records[2].key] and reads == []


def test_macos_hidden_copies_in_a_copied_results_folder_are_not_records(tmp_path):
    """A results folder copied through an exFAT drive holds ``._<key>.json`` beside each record (and
    ``._<key>.<digest>`` in the weights index): they are neither broken records nor keys."""
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    record.provenance["weights_sha256"] = "a" * 64
    with store.lock(record.key):
        store.publish(record)
    assert store.keys_with_weights("a" * 64) == [record.key]
    for folder in (store.layout.records_dir, store.layout.weights_index_dir):
        for path in list(folder.iterdir()):
            (folder / f"._{path.name}").write_bytes(b"\0\5\26\7 AppleDouble")
    assert [r.key for r in store.records()] == [record.key]
    assert store.keys_with_weights("a" * 64) == [record.key]
