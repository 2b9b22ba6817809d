"""Every reader of records and manifests turns a garbage, truncated or malformed file into one error
naming the file and what to do (delete it, or --force / rerun the study), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.records import make_record

from mast_bench.errors import DataError
from mast_bench.results import ResultRecord, ResultStore, StudyManifest, read_manifest, write_manifest
from mast_bench.results.records import REMEDY, UnreadableRecord


def _valid() -> dict:
    return make_record("mast", 0.5, 0).to_dict()


def _changed(change) -> bytes:
    data = _valid()
    change(data)
    return json.dumps(data).encode()


CORRUPT = {
    "binary garbage": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8 text (byte 0x89 at offset 0)"),
    "truncated": (json.dumps(_valid()).encode()[:200], "invalid or truncated JSON"),
    "empty": (b"", "empty file (expected a schema-2 result record)"),
    "not JSON": (b"key = 'toml?'\n", "invalid or truncated JSON (Expecting value at line 1, column 1)"),
    "a list": (b"[1, 2]", "not a schema-2 result record"),
    "old schema": (_changed(lambda d: d.update(schema=1)), "not a schema-2 result record"),
    "no metrics": (_changed(lambda d: d.pop("metrics")), "missing field 'metrics'"),
    "identity a list": (_changed(lambda d: d.update(identity=[])), "identity: expected an object, got list"),
    "identity lacks a field": (
        _changed(lambda d: d["identity"].pop("dataset")),
        "identity: missing field 'dataset'",
    ),
    "protocol a string": (
        _changed(lambda d: d["identity"].update(protocol="mast")),
        "identity.protocol: expected an object, got str",
    ),
    "profile null": (_changed(lambda d: d.update(profile=None)), "profile: expected an object, got NoneType"),
    "global a list": (
        _changed(lambda d: d["metrics"].update({"global": []})),
        "metrics.global: expected an object",
    ),
    "per-object numbers": (
        _changed(lambda d: d["metrics"].update(per_object=[1, 2])),
        "metrics.per_object: expected a list of objects",
    ),
    "a per-object row without its sequence": (
        _changed(lambda d: d["metrics"]["per_object"][0].pop("sequence")),
        "metrics.per_object[0]: missing field 'sequence'",
    ),
    "a per-frame row without its frame": (
        _changed(lambda d: d["metrics"]["per_frame"][1].pop("frame")),
        "metrics.per_frame[1]: missing field 'frame'",
    ),
    "variant a number": (
        _changed(lambda d: d["identity"].update(variant=5)),
        "identity.variant: expected a string, got 5",
    ),
    "protocol without its name": (
        _changed(lambda d: d["identity"]["protocol"].pop("name")),
        "identity.protocol.name: expected a string",
    ),
    "training stages a string": (
        _changed(lambda d: d.update(train={"preset": "smoke", "stages": "oops"})),
        "train.stages: expected a list of objects",
    ),
    "a loss curve of strings": (
        _changed(lambda d: d.update(train={"preset": "smoke", "loss_curve": ["low"]})),
        "train.loss_curve: expected a list of [iteration, loss] pairs",
    ),
    "edited identity": (
        _changed(lambda d: d["identity"].update(variant="other")),
        "does not match its identity",
    ),
}


@pytest.mark.parametrize("name", list(CORRUPT))
def test_a_corrupt_record_file_is_one_error_saying_what_to_do(name, tmp_path):
    content, what = CORRUPT[name]
    path = tmp_path / "record.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableRecord) as caught:
        ResultRecord.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and what in message and message.endswith(f"; {REMEDY}")
    assert "\n" not in message and isinstance(caught.value, DataError) and caught.value.path == path


def test_a_record_of_a_newer_schema_says_so_and_never_to_delete_it(tmp_path, capsys):
    """It was called broken, and the remedy said to delete it (or --force over it)."""
    store, good, newer = _store_with(tmp_path, _changed(lambda d: d.update(schema=3)))
    message = "a schema-3 record, written by a newer mast-bench (this one reads schema 2)"
    with pytest.raises(DataError) as caught:
        store.records()
    assert str(caught.value) == f"{newer}: {message}; use that version, or another --results"
    assert "delete" not in str(caught.value)
    assert [r.key for r in store.records(skip_unreadable=True)] == [good.key]  # report --force
    assert f"warning: left out {newer}: {message}\n" in capsys.readouterr().err


def _store_with(tmp_path, content: bytes) -> tuple[ResultStore, ResultRecord, Path]:
    store = ResultStore(tmp_path)
    good = make_record("mast", 0.5, 0)
    with store.lock(good.key):
        store.publish(good)
    bad = store.layout.records_dir / ("f" * 64 + ".json")
    bad.write_bytes(content)
    return store, good, bad


def test_the_store_names_a_bad_record_or_leaves_it_out_of_the_table_saying_so(tmp_path, capsys):
    store, good, bad = _store_with(tmp_path, b"\x00\xff garbage")
    with pytest.raises(UnreadableRecord, match=f"^{bad}: .*; delete it or rerun with --force$"):
        store.records()
    with pytest.raises(UnreadableRecord, match=f"^{bad}: "):
        store.get("f" * 64)
    assert [r.key for r in store.records(skip_unreadable=True)] == [good.key]
    assert store.get("f" * 64, skip_unreadable=True) is None
    store.layout.table_path.write_bytes(b"\xff\xfe garbage table")  # a garbage table is rewritten
    store.write_table()
    assert store.layout.table_path.read_text().splitlines()[1].startswith(good.key)
    err = capsys.readouterr().err
    assert err.count(f"warning: left out {bad}: ") == 1  # once per file and process, not per table


def test_a_record_under_another_keys_name_is_refused(tmp_path):
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    other = "0" * 64
    store.layout.records_dir.mkdir(parents=True)
    store.layout.record_path(other).write_text(json.dumps(record.to_dict()))
    with pytest.raises(UnreadableRecord, match=f"holds the record of key {record.key}, not its file name's"):
        store.get(other)


def test_a_stray_copy_of_a_record_never_stands_in_for_it(tmp_path, capsys):
    """`copy-of-<key>.json`, edited: the all-records report showed its J&F under the real record's key."""
    store = ResultStore(tmp_path)
    record = make_record("mast", 0.5, 0)
    with store.lock(record.key):
        store.publish(record)
    copy = store.layout.records_dir / f"copy-of-{record.key}.json"
    edited = json.loads(json.dumps(record.to_dict()))
    edited["metrics"]["global"]["J&F-Mean"] = 0.9
    copy.write_text(json.dumps(edited))
    with pytest.raises(
        UnreadableRecord, match=f"^{copy}: holds the record of key {record.key}, not its file"
    ):
        store.records()
    kept = store.records(skip_unreadable=True)
    assert [r.to_dict() for r in kept] == [record.to_dict()]
    assert f"warning: left out {copy}: holds the record of key" in capsys.readouterr().err


def _manifest() -> StudyManifest:
    return StudyManifest(
        study="radius",
        title="t",
        reference="mast",
        variants=("mast",),
        metrics=("J&F-Mean",),
        preset="smoke",
        train_preset="smoke",
        data="embedded",
        records={"mast": "a" * 64},
    )


@pytest.mark.parametrize(
    "content, what",
    [
        (b"\xff\xd8\xff\xe0 jpeg?", "not a study manifest: not UTF-8 text (byte 0xff at offset 0)"),
        (b'{"study": "radius", "ti', "not a study manifest: invalid or truncated JSON"),
        (b'{"study": "radius"}', "manifest: missing required key 'title' (not a study manifest)"),
        (b'{"study": 3}', "manifest.study: got 3, expected str (not a study manifest)"),
    ],
)
def test_a_corrupt_manifest_is_one_error_saying_what_to_do(content, what, tmp_path):
    path = write_manifest(tmp_path, _manifest())
    assert read_manifest(path) == _manifest()
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_manifest(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and what in message
    assert message.endswith(
        "; delete it or rerun `mast-bench ablate radius --preset smoke` to write it again"
    )
