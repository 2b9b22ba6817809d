"""The results folder as a store of records: get, publish, list, and the CSV table of them all.

A job's outputs (its masks) are staged in a private folder and published together with the
record, under the record's lock: the masks are renamed into place, then the record JSON (the
commit point) is written atomically. Any failure in between puts the previous masks back, so a
reader sees the old state or the new one, never masks without their record.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write, atomic_write_json
from ..errors import DataError, require_folder_or_absent, user_error_from_os_error
from ..locks import job_lock
from ..progress import tell, tell_once
from .layout import ResultsLayout
from .records import ResultRecord, UnreadableRecord


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _names(folder: Path) -> list[str]:
    """The entries' names of ``folder``, hidden ones left out (the store writes none; macOS writes
    ``._<key>.json`` copies on other file systems); none when it does not exist."""
    try:
        return [name for name in os.listdir(folder) if not name.startswith(".")]
    except FileNotFoundError:
        return []


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        require_folder_or_absent(root, "a results folder")
        self.layout = ResultsLayout(root)

    @property
    def root(self) -> Path:
        return self.layout.root

    def get(self, key: str, skip_unreadable: bool = False) -> ResultRecord | None:
        """The record of ``key``, None when there is none; :class:`UnreadableRecord` (which says to
        delete it or rerun with --force) when its file is garbage, truncated or another key's, or
        with ``skip_unreadable`` None after one line on stderr naming it."""
        path = self.layout.record_path(key)
        if not path.exists():
            return None
        try:
            record = _load_named(path)
        except UnreadableRecord as exc:
            if not skip_unreadable:
                raise
            tell_once(exc.left_out())
            return None
        return record

    def records(self, skip_unreadable: bool = False) -> list[ResultRecord]:
        """Every record; an unreadable file raises :class:`UnreadableRecord`, or with
        ``skip_unreadable`` is left out after one line on stderr naming it."""
        folder = self.layout.records_dir
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder / name for name in _names(folder) if name.endswith(".json")):
            try:
                found.append(_load_named(path))  # a stray copy must not stand in for its key's record
            except UnreadableRecord as exc:
                if not skip_unreadable:
                    raise
                tell_once(exc.left_out())
        return found

    def new_staging(self, key: str) -> Path:
        """A fresh private folder for a job's masks; :meth:`publish` moves it into place."""
        path = self.layout.staging_dir(key)
        path.mkdir(parents=True)
        return path

    def lock(self, key: str, what: str = ""):
        """The lock of one record key, held while a job computes and publishes it; a second
        process asking for it says whom it waits for, then waits."""
        return job_lock(self.layout.lock_path(key), what or f"record {key[:12]}", on_wait=tell)

    def clean_debris(self) -> list[Path]:
        return self.layout.remove_debris()

    def publish(self, record: ResultRecord, staged_masks: Path | None = None) -> Path:
        """Make the record (and its staged masks) visible together; returns the record's path.

        The caller holds :meth:`lock` for the record's key.
        """
        final = self.layout.masks_dir(record.key)
        previous = None
        if staged_masks is not None:
            if final.exists():
                previous = final.with_name(final.name + ".old")
                shutil.rmtree(previous, ignore_errors=True)
                os.replace(final, previous)
            os.replace(staged_masks, final)
            record.masks = self.layout.masks_reference(record.key)
        try:
            path = atomic_write_json(self.layout.record_path(record.key), record.to_dict())
        except BaseException:
            if staged_masks is not None:
                os.replace(final, staged_masks)  # back to the caller's staging folder
                if previous is not None:
                    os.replace(previous, final)
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        self._index_weights(record.key, record.provenance.get("weights_sha256"))
        return path

    def publish_new(self, key: str, build: Callable[[Path], ResultRecord]) -> ResultRecord:
        """``build(staged)`` writes a job's masks into a fresh staging folder and returns its
        record; both are published together, and the folder is removed if anything fails. The
        caller holds :meth:`lock` for ``key``."""
        staged = self.new_staging(key)
        try:
            record = build(staged)
            self.publish(record, staged)
        except BaseException:
            self.discard(staged)
            raise
        return record

    def keys_with_weights(self, digest: str) -> list[str]:
        """Keys of the records made from the weights of sha256 ``digest`` (their
        ``provenance.weights_sha256``), from the weights index: records it does not name yet are read
        once and added, so a lookup lists two folders instead of reading every record. The index is
        a cache: a stale entry only costs a record read; the caller checks what it loads."""
        entries = {tuple(name.split(".", 1)) for name in _names(self.layout.weights_index_dir) if "." in name}
        for key in self._record_keys() - {key for key, _ in entries}:
            record = self.get(key, skip_unreadable=True)
            if record is not None:
                entries.add((key, self._index_weights(key, record.provenance.get("weights_sha256"))))
        return sorted(key for key, weights in entries if weights == digest)

    def _record_keys(self) -> set[str]:
        return {name[: -len(".json")] for name in _names(self.layout.records_dir) if name.endswith(".json")}

    def _index_weights(self, key: str, digest: str | None) -> str:
        """Name ``key``'s weights in the index (an empty file ``<key>.<digest>``, replacing what it
        said before); returns the name used. A folder that cannot be written keeps no index."""
        folder, weights = self.layout.weights_index_dir, digest or "none"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob(f"{key}.*"):
                if stale.name != f"{key}.{weights}":
                    stale.unlink(missing_ok=True)
            (folder / f"{key}.{weights}").touch()
        except OSError:
            pass  # a cache: the next lookup reads the record again
        return weights

    def has_masks(self, record: ResultRecord) -> bool:
        return bool(record.masks) and (self.root / record.masks).is_dir()

    def copy_masks(self, record: ResultRecord, staged: Path) -> None:
        """Copy ``record``'s masks into a staging folder (hard links where the file system allows:
        masks are published by renaming folders, never rewritten in place)."""
        shutil.copytree(self.root / record.masks, staged, copy_function=_link_or_copy, dirs_exist_ok=True)

    def discard(self, staged: Path) -> None:
        shutil.rmtree(staged, ignore_errors=True)

    def table(self, skip_unreadable: bool = False) -> pd.DataFrame:
        return pd.DataFrame([r.flat_row() for r in self.records(skip_unreadable)])

    def check_writable(self) -> None:
        """Before a job's work (a cached job writes nothing, so it needs none of this): the folders it
        writes are folders that take files, and its table is no folder (a records file, or a
        read-only top level, was found after the propagation)."""
        layout = self.layout
        folders = (layout.root, layout.records_dir, layout.masks_root)
        for folder in folders:
            require_folder_or_absent(folder, "a folder of the results")
        if layout.table_path.is_dir():
            raise DataError(f"{layout.table_path}: is a folder (expected the records table, a file)")
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
                os.close(handle)
                os.unlink(probe)
            except OSError as exc:  # named by the folder, not the probe: "<folder>: read-only file system"
                raise user_error_from_os_error(OSError(exc.errno, exc.strerror, str(folder))) from None

    def write_table(self) -> Path:
        """Regenerate records.csv from the record JSONs (skipped when it already says the same).

        The table is derived: an unreadable record is left out of it (named on stderr), and an
        unreadable records.csv is simply written again."""
        data = self.table(skip_unreadable=True).to_csv(index=False).encode("utf-8")
        path = self.layout.table_path
        try:
            if path.is_file() and path.read_bytes() == data:
                return path
        except OSError:
            pass  # unreadable: rewrite it (an unwritable folder then says so)
        return atomic_write(path, lambda p: p.write_bytes(data))


def _load_named(path: Path) -> ResultRecord:
    """The record in ``path``, which must be named by its key (``<key>.json``)."""
    record = ResultRecord.load(path)
    if path.name != f"{record.key}.json":
        raise UnreadableRecord(path, f"holds the record of key {record.key}, not its file name's")
    return record
