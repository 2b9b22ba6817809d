"""Files written atomically get the mode the umask gives (not mkstemp's 0600): a group sharing a
results folder reads every record, table, mask and cache; checked as another user when root."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
from support.records import make_record

from mast_bench.atomic import atomic_write_json, atomic_write_text
from mast_bench.data.fingerprint import CACHE_NAME, write_cache
from mast_bench.data.palette import write_label_map
from mast_bench.results import ResultStore

NOBODY = 65534


@pytest.fixture
def umask():
    """Set a umask for the test; the previous one comes back afterwards."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.fixture
def shared_folder():
    """A folder another user can reach (pytest's tmp_path sits under a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="mast-bench-shared-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _results_files(root: Path) -> list[Path]:
    """A record, records.csv, a mask, a fingerprint cache and a study JSON, as the tool writes them."""
    store = ResultStore(root)
    record = make_record("mast", 0.5, 0)
    staged = store.new_staging(record.key)
    write_label_map(staged / "seq" / "00000.png", np.eye(4, dtype=np.uint8))
    with store.lock(record.key):
        store.publish(record, staged)
    store.write_table()
    write_cache(store.layout.cache_dir / CACHE_NAME, {"/x": [1, 2, 3, 4, 5, "0" * 64]})
    atomic_write_json(root / "studies" / "s.smoke.json", {"study": "s"})
    return [
        store.layout.record_path(record.key),
        store.layout.table_path,
        store.layout.masks_dir(record.key) / "seq" / "00000.png",
        store.layout.cache_dir / CACHE_NAME,
        root / "studies" / "s.smoke.json",
    ]


@pytest.mark.parametrize("mask,expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_atomic_files_get_the_mode_the_umask_gives(tmp_path, umask, mask, expected):
    from mast_bench.atomic import file_mode

    umask(mask)
    assert file_mode() == expected
    path = atomic_write_text(tmp_path / "a.txt", "x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == expected
    for written in _results_files(tmp_path / "results"):
        assert stat.S_IMODE(written.stat().st_mode) == expected, written


def test_a_generated_dataset_folder_gets_the_umask_mode_not_mkdtemps(tmp_path, umask):
    from mast_bench.data.generated import build_into

    umask(0o022)
    out = build_into(tmp_path / "embedded", lambda folder: (folder / "a.txt").write_text("x"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


def _readable_as(uid: int, paths: list[Path]) -> list[str]:
    """The paths a forked child running as ``uid`` cannot read (empty: all readable)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to the other user, try every file, report, exit
        os.close(read)
        failed = []
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for path in paths:
                try:
                    path.read_bytes()
                except OSError as exc:
                    failed.append(f"{path}: {exc.strerror}")
        except BaseException as exc:  # anything reaches the parent as text
            failed.append(f"child: {exc}")
        os.write(write, "\n".join(failed).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        report = fh.read().decode()
    os.waitpid(pid, 0)
    return [line for line in report.splitlines() if line]


def test_another_user_reads_the_results_folder(shared_folder, umask):
    if os.geteuid() != 0:
        pytest.skip("reading as another user needs root (to setuid a forked child); mode checked above")
    umask(0o022)
    files = _results_files(shared_folder / "results")
    assert _readable_as(NOBODY, files) == []
    umask(0o077)  # a private umask keeps others out: the user's choice, respected too
    private = _results_files(shared_folder / "private")
    assert len(_readable_as(NOBODY, private)) == len(private)
