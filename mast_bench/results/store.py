"""The results folder: one JSON per record, masks per record, a CSV regenerated from the JSONs.

Layout (docs/DESIGN.md): <root>/records/<key>.json, <root>/masks/<key>/<seq>/<frame>.png,
<root>/records.csv. Records are written atomically and only once a job has
finished, so a crash leaves either the old state or the new one. Masks are
written into a staging folder and renamed into place when the job succeeds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write, atomic_write_json
from .records import ResultRecord


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    def record_path(self, key: str) -> Path:
        return self.records_dir / f"{key}.json"

    def masks_dir(self, key: str) -> Path:
        return self.root / "masks" / key

    def get(self, key: str) -> ResultRecord | None:
        path = self.record_path(key)
        return ResultRecord.load(path) if path.is_file() else None

    def records(self) -> list[ResultRecord]:
        if not self.records_dir.is_dir():
            return []
        return [ResultRecord.load(p) for p in sorted(self.records_dir.glob("*.json"))]

    def staging_masks_dir(self, key: str) -> Path:
        """A fresh private folder for a job's masks; :meth:`put` moves it into place."""
        path = self.root / "masks" / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
        path.mkdir(parents=True)
        return path

    def put(self, record: ResultRecord, staged_masks: Path | None = None) -> Path:
        """Publish masks (if staged) then the record, then refresh records.csv."""
        if staged_masks is not None:
            final = self.masks_dir(record.key)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staged_masks, final)
        record.masks = str(Path("masks") / record.key)
        path = atomic_write_json(self.record_path(record.key), record.to_dict())
        self.write_table()
        return path

    def discard(self, staged_masks: Path) -> None:
        shutil.rmtree(staged_masks, ignore_errors=True)

    def table(self) -> pd.DataFrame:
        rows = [r.flat_row() for r in self.records()]
        return pd.DataFrame(rows)

    def write_table(self) -> Path:
        frame = self.table()
        return atomic_write(self.root / "records.csv", lambda p: frame.to_csv(p, index=False))
