"""The results folder, in one place: where records, masks, checkpoints, studies and reports live.

    <root>/records/<key>.json              one result record per job
    <root>/records.csv                     one flattened row per record (regenerated from the JSONs)
    <root>/masks/<key>/<seq>/<frame>.png   the masks a record was scored on
    <root>/checkpoints/<train key>/        weights trained by the harness (resumable)
    <root>/studies/<study>.<preset>.json   which record answers for which variant of a study run
    <root>/reports/<name>/                 report.md, tables/, figures/
    <root>/.locks/, <root>/.cache/         coordination between processes, cheap-to-rebuild caches
    <root>/.cache/weights-index/<key>.<w>  which weights (sha256 w, or "none") each record was made from

Staging folders are hidden siblings named after their owner (host and PID), so the debris of a
killed process can be told from the work of a live one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..locks import debris_name, remove_stale_debris

DEFAULT_RESULTS = Path("results")
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class ResultsLayout:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    @property
    def table_path(self) -> Path:
        return self.root / "records.csv"

    @property
    def masks_root(self) -> Path:
        return self.root / "masks"

    @property
    def checkpoints_root(self) -> Path:
        return self.root / "checkpoints"

    @property
    def studies_dir(self) -> Path:
        return self.root / "studies"

    @property
    def reports_root(self) -> Path:
        return self.root / "reports"

    @property
    def locks_dir(self) -> Path:
        return self.root / ".locks"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".cache"

    @property
    def weights_index_dir(self) -> Path:
        return self.cache_dir / "weights-index"

    def own_paths(self) -> tuple[Path, ...]:
        """What the store keeps for itself (all but ``reports/``): no report is written into them."""
        return (
            self.records_dir,
            self.table_path,
            self.masks_root,
            self.checkpoints_root,
            self.studies_dir,
            self.locks_dir,
            self.cache_dir,
        )

    def record_path(self, key: str) -> Path:
        return self.records_dir / f"{key}.json"

    def masks_dir(self, key: str) -> Path:
        return self.masks_root / key

    def masks_reference(self, key: str) -> str:
        """How a record names its masks folder: relative to the root, so the folder can move."""
        return self.masks_dir(key).relative_to(self.root).as_posix()

    def staging_dir(self, key: str) -> Path:
        """A new private folder name for a job's outputs before they are published."""
        return self.masks_root / debris_name(f".{key}", PARTIAL_SUFFIX)

    def remove_debris(self) -> list[Path]:
        """Staging folders whose owner process is gone (killed jobs); live ones are kept."""
        return remove_stale_debris(self.masks_root, ".", PARTIAL_SUFFIX)

    def checkpoint_dir(self, train_key: str) -> Path:
        return self.checkpoints_root / train_key

    def manifest_path(self, study: str, preset: str) -> Path:
        return self.studies_dir / f"{study}.{preset}.json"

    def report_dir(self, name: str | None) -> Path:
        return self.reports_root / (name or "all")

    def lock_path(self, name: str) -> Path:
        return self.locks_dir / f"{name}.lock"
