"""Runs that leave no mess: bad frames found before any work, full and read-only folders reported
as one line, honest identities, and a second identical run that waits and reuses the first's."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mast_bench.__main__ import main
from mast_bench.harness.runner import plan_job
from mast_bench.results import ResultRecord, ResultStore

from .conftest import make_job, make_tiny_davis


@pytest.fixture
def davis(tmp_path):
    return make_tiny_davis(tmp_path / "davis", {"one": 1, "two": 2}, frames=8, size=(24, 32))


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A small tmpfs at ``path`` (None when this machine does not let us mount one)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_truncated_late_frame_is_found_before_any_propagation(davis, tmp_path, capsys):
    frame = davis / "JPEGImages/480p/two/00005.jpg"
    frame.write_bytes(frame.read_bytes()[:-200])
    out = tmp_path / "out"
    code, _, err = _run(
        ["propagate", "--variant", "mast-lab-pixels", "--data", str(davis), "--out", str(out)], capsys
    )
    assert code == 2 and err.startswith("error: ") and "two/00005.jpg" in err and "Traceback" not in err
    assert not out.exists()  # untouched
    results = tmp_path / "results"
    code, _, err = _run(
        ["run", "--variant", "mast-lab-pixels", "--data", str(davis), "--results", str(results)], capsys
    )
    assert code == 2 and "two/00005.jpg" in err
    assert not (results / "records").exists() or not list((results / "records").iterdir())


def test_a_cache_hit_writes_nothing_even_on_a_read_only_folder(davis, tmp_path, capsys):
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(davis), "--quiet", "--no-isolate"]
    with tmpfs(tmp_path / "mnt", "64m") as mount:
        results = (mount or tmp_path) / "results"
        assert _run([*argv, "--results", str(results)], capsys)[0] == 0
        before = _listing(results)
        time.sleep(0.05)
        if mount is not None:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        code, out, err = _run([*argv, "--results", str(results)], capsys)
        assert code == 0, err
        assert _listing(results) == before
        if mount is None:
            pytest.skip("no tmpfs here: the cache hit wrote nothing, the read-only part was not run")
        code, _, err = _run([*argv, "--results", str(results), "--force"], capsys)
        assert code == 2 and "read-only file system" in err and "Traceback" not in err
        assert err.startswith(f"error: {results}")
        assert _listing(results) == before


def test_a_full_disk_is_one_line_and_leaves_the_results_folder_as_it_was(
    davis, tmp_path, capsys, monkeypatch
):
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(davis), "--quiet", "--no-isolate"]
    with tmpfs(tmp_path / "full", "48k") as mount:
        if mount is None:  # no tmpfs: the disk fills when the record is written
            from mast_bench.results import store

            def full(path, obj):
                raise OSError(errno.ENOSPC, "No space left on device", str(path))

            monkeypatch.setattr(store, "atomic_write_json", full)
        results = (mount or tmp_path) / "results"
        code, _, err = _run([*argv, "--results", str(results)], capsys)
        assert code == 2 and "no space left on device" in err and "Traceback" not in err
        records = results / "records"
        assert not records.exists() or not list(records.iterdir())
        masks = results / "masks"
        assert not masks.exists() or not list(masks.iterdir())  # no masks without their record


def test_propagate_into_a_full_disk_leaves_no_partial_sequence(davis, tmp_path, capsys):
    with tmpfs(tmp_path / "full", "24k") as mount:
        if mount is None:
            pytest.skip("cannot mount a small tmpfs here (the monkeypatched ENOSPC case is tested above)")
        out = mount / "out"
        argv = [
            "propagate",
            "--variant",
            "mast-lab-pixels",
            "--data",
            str(davis),
            "--out",
            str(out),
            "--quiet",
        ]
        code, _, err = _run(argv, capsys)
        assert code == 2 and "no space left on device" in err and "Traceback" not in err
        assert not [p for p in out.iterdir() if not p.name.startswith(".")] or all(
            len(list((out / s).glob("*.png"))) == 8 for s in ("one", "two") if (out / s).exists()
        )
        assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_thread_count_is_part_of_the_identity(davis, tmp_path):
    one = plan_job(make_job("mast-lab-pixels", tmp_path / "r", davis, threads=1))
    two = plan_job(make_job("mast-lab-pixels", tmp_path / "r", davis, threads=2))
    assert one.identity["environment"]["threads"] == 1 and two.identity["environment"]["threads"] == 2
    assert one.key != two.key


def test_an_edited_annotation_of_unchanged_size_changes_the_identity(davis, tmp_path):
    job = make_job("mast-lab-pixels", tmp_path / "r", davis, threads=1)
    before = plan_job(job).key
    path = davis / "Annotations/480p/two/00003.png"
    from mast_bench.data import read_label_map, write_label_map

    labels = read_label_map(path)
    size = path.stat().st_size
    labels[0, 0] = 1 - labels[0, 0] if labels[0, 0] in (0, 1) else 0
    write_label_map(path, labels)
    assert plan_job(job).key != before
    assert abs(path.stat().st_size - size) < 64  # a small edit, but contents are what identify the data


def test_the_same_variant_twice_runs_once(davis, tmp_path, capsys):
    results = tmp_path / "r"
    argv = [
        "run",
        "--variant",
        "mast-lab-pixels,mast-lab-pixels",
        "--data",
        str(davis),
        "--results",
        str(results),
    ]
    assert _run([*argv, "--quiet", "--no-isolate"], capsys)[0] == 0
    assert len(list((results / "records").glob("*.json"))) == 1


def test_a_second_identical_run_waits_for_the_first_and_reuses_its_record(davis, tmp_path):
    """The record's lock is held here while a second run starts; it says whom it waits for, then finds
    the record published by the holder and computes nothing."""
    results = tmp_path / "r"
    # one thread on both sides, chosen explicitly: the record's identity holds the thread count, and
    # neither side may depend on what this process's earlier tests left in its environment
    job = make_job("mast-lab-pixels", results, davis, isolate=False, threads=1)
    plan = plan_job(job)
    store = ResultStore(results)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "mast_bench", "run", "--variant", "mast-lab-pixels", "--data", str(davis)]
    with store.lock(plan.key):
        proc = subprocess.Popen(
            [*argv, "--results", str(results), "--quiet", "--no-isolate"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        waited = ""
        while "waiting:" not in waited:  # its first line on stderr: whom it waits for
            line = proc.stderr.readline()
            assert line, f"the second run ended without waiting: {waited}"
            waited += line
        record = ResultRecord(
            identity=plan.identity,
            provenance={"created": "by the first run"},
            metrics={"kind": "davis", "global": {"J&F-Mean": 0.123456}, "per_object": [], "per_frame": []},
            profile={"frame_size": [1, 1]},
        )
        store.publish(record)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, waited + err
    assert "0.123" in out
    assert ResultStore(results).get(plan.key).provenance["created"] == "by the first run"


def test_environment_mixing_is_refused_by_reports(tmp_path, capsys):
    from support.records import make_record, store_record

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.5, 0, threads=1))
    store_record(results, replace(make_record("mast-rgb", 0.5, 1, threads=2)))
    code = main(["report", "--results", str(results)])
    err = capsys.readouterr().err
    assert (
        code == 2 and "different numerics environments" in err and "threads=1" in err and "threads=2" in err
    )
