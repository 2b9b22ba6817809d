"""The results folder as a store of records: get, publish, list, and the CSV table of them all.

A job's outputs (its masks) are staged in a private folder and published together with the
record, under the record's lock: the masks are renamed into place, then the record JSON (the
commit point) is written atomically. Any failure in between puts the previous masks back, so a
reader sees the old state or the new one, never masks without their record.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write, atomic_write_json
from ..errors import DataError
from ..locks import job_lock
from .layout import ResultsLayout
from .records import ResultRecord


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise DataError(f"{root}: exists and is not a folder (expected a results folder)")
        self.layout = ResultsLayout(root)

    @property
    def root(self) -> Path:
        return self.layout.root

    def get(self, key: str) -> ResultRecord | None:
        path = self.layout.record_path(key)
        return ResultRecord.load(path) if path.is_file() else None

    def records(self) -> list[ResultRecord]:
        folder = self.layout.records_dir
        if not folder.is_dir():
            return []
        return [ResultRecord.load(p) for p in sorted(folder.glob("*.json"))]

    def new_staging(self, key: str) -> Path:
        """A fresh private folder for a job's masks; :meth:`publish` moves it into place."""
        path = self.layout.staging_dir(key)
        path.mkdir(parents=True)
        return path

    def lock(self, key: str, what: str = ""):
        """The lock of one record key, held while a job computes and publishes it; a second
        process asking for it says whom it waits for, then waits."""
        return job_lock(self.layout.lock_path(key), what or f"record {key[:12]}", on_wait=_tell)

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
        return path

    def discard(self, staged: Path) -> None:
        shutil.rmtree(staged, ignore_errors=True)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([r.flat_row() for r in self.records()])

    def write_table(self) -> Path:
        """Regenerate records.csv from the record JSONs (skipped when it already says the same)."""
        text = self.table().to_csv(index=False)
        path = self.layout.table_path
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return path
        return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
