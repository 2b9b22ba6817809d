"""One exception type for every mistake a user can make.

Command entry points catch :class:`UserError`, print its message (which names
the offending file, key or value and what was expected) and exit non-zero;
anything else is a bug and keeps its traceback. An ``OSError`` on a path the user chose
(read-only results folder, full disk) becomes one via :func:`user_error_from_os_error`.
"""

from __future__ import annotations

import os

INTERRUPTED = "interrupted: nothing was half-written; rerun the same command to resume"  # Ctrl-C, SIGTERM
RESUME = "rerun the same command to resume (finished jobs are kept)"  # after a WorkerLost


class UserError(Exception):
    """Bad input: a missing file, a wrong layout, an unknown name, a bad config."""


class WorkerLost(RuntimeError):
    """A worker process, pool worker or cluster job ended before returning its job's result (killed,
    out of memory, node lost): neither bad input nor a bug. The rerun resumes; finished jobs are kept."""


class ConfigError(UserError, ValueError):
    """A configuration (TOML file or dataclass field) has a bad key or value."""


class DataError(UserError):
    """A dataset, mask, frame or results folder is missing or malformed."""


class CheckpointError(UserError):
    """A checkpoint cannot be read or does not fit the model."""


class PathError(UserError):
    """A file or folder cannot be read or written: read-only, full, no permission, missing."""

    def __init__(self, message: str, path: str = "", errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno


def _shown_path(filename: object) -> str:
    """The path to name: a hidden scratch file (``.name.<random>.tmp``, ``.partial``) stands for its
    folder, which is what the user chose and can fix."""
    text = os.fsdecode(filename) if isinstance(filename, (str, bytes, os.PathLike)) else str(filename)
    name = os.path.basename(text)
    if name.startswith(".") and name.endswith((".tmp", ".partial")):
        return os.path.dirname(text) or "."
    return text


def user_error_from_os_error(exc: OSError) -> PathError:
    """``<path>: <what>`` for an OSError on a path, e.g. "results/records: read-only file system"."""
    what = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    what = what[:1].lower() + what[1:]
    path = _shown_path(exc.filename) if exc.filename is not None else "?"
    if exc.filename2 is not None:
        path = f"{path} -> {_shown_path(exc.filename2)}"
    return PathError(f"{path}: {what}", path, exc.errno)


def require_folder_or_absent(path: str | os.PathLike, expected: str) -> None:
    """A path a command writes a folder at must not be a file already (it would fail, or be named
    wrongly, only after the work): ``<path>: exists and is not a folder (expected <expected>)``."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise DataError(f"{os.fspath(path)}: exists and is not a folder (expected {expected})")
