from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest

from mast_bench.atomic import atomic_write_text
from mast_bench.errors import PathError, UserError, user_error_from_os_error


def _message(action) -> str:
    return str(user_error_from_os_error(_raised(action)))


def _raised(action) -> OSError:
    with pytest.raises(OSError) as caught:
        action()
    return caught.value


def test_real_os_errors_name_the_path_and_the_reason(tmp_path: Path):
    missing = tmp_path / "missing" / "x.json"
    assert (
        str(user_error_from_os_error(_raised(missing.read_text))) == f"{missing}: no such file or directory"
    )
    a_file = tmp_path / "records"
    a_file.write_text("a file, not a folder")
    inside = a_file / "key.json"
    assert str(user_error_from_os_error(_raised(inside.read_text))) == f"{inside}: not a directory"
    assert (
        str(user_error_from_os_error(_raised(lambda: open(tmp_path, "w")))) == f"{tmp_path}: is a directory"
    )
    moved = _raised(lambda: os.replace(tmp_path / "staged", tmp_path / "final"))
    assert str(user_error_from_os_error(moved)) == (
        f"{tmp_path / 'staged'} -> {tmp_path / 'final'}: no such file or directory"
    )
    error = user_error_from_os_error(_raised(lambda: atomic_write_text(inside, "{}")))
    assert isinstance(error, UserError) and str(error) == f"{a_file}: file exists"


@pytest.mark.parametrize(
    "code, what",
    [
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
        (errno.ENOSPC, "no space left on device"),
        (errno.EDQUOT, "disk quota exceeded"),
    ],
)
def test_a_scratch_file_stands_for_its_folder(code: int, what: str):
    # what atomic_write's temp file raises when results/records cannot be written
    exc = OSError(code, os.strerror(code), "results/records/.0123abcd.json.k2j3x9.tmp")
    error = user_error_from_os_error(exc)
    assert isinstance(error, PathError) and isinstance(error, UserError)
    assert str(error) == f"results/records: {what}"
    assert (error.path, error.errno) == ("results/records", code)
    staged = OSError(code, os.strerror(code), "results/masks/.0123abcd.vm.42.beef.partial")
    assert str(user_error_from_os_error(staged)) == f"results/masks: {what}"
    assert str(user_error_from_os_error(OSError(code, os.strerror(code), "results/records.csv"))) == (
        f"results/records.csv: {what}"
    )


def test_the_user_error_survives_a_trip_between_processes():
    error = user_error_from_os_error(OSError(errno.EROFS, os.strerror(errno.EROFS), "results/records"))
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.path, copy.errno) == (
        PathError,
        str(error),
        "results/records",
        errno.EROFS,
    )
