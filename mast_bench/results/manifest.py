"""What a study run produced: which record answers for which variant, under which preset and data.

The study runner (harness.study) writes one manifest per (study, preset) into
``<results>/studies/``; the report reads it back, so a report needs nothing but
the results folder and every table row can cite the record it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..config import from_dict, to_dict
from ..errors import DataError, UserError


@dataclass(frozen=True)
class StudyManifest:
    study: str
    title: str
    reference: str
    variants: tuple[str, ...]
    metrics: tuple[str, ...]
    preset: str  # the study preset (smoke | paper | ...)
    train_preset: str  # the harness training preset it used
    data: str  # human label of the evaluation data: "embedded default" or the path given with --data
    records: Any = field(default_factory=dict)  # {variant: record key}
    description: str = ""
    paper: str | None = None
    command: str = ""
    created: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.records, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.records.items()
        ):
            raise ValueError(f"records must map variant names to record keys, got {self.records!r}")


def manifests_dir(results: str | Path) -> Path:
    return Path(results) / "studies"


def manifest_path(results: str | Path, study: str, preset: str) -> Path:
    return manifests_dir(results) / f"{study}.{preset}.json"


def write_manifest(results: str | Path, manifest: StudyManifest) -> Path:
    return atomic_write_json(manifest_path(results, manifest.study, manifest.preset), to_dict(manifest))


def read_manifest(path: str | Path) -> StudyManifest:
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read study manifest ({exc})") from None
    return from_dict(StudyManifest, data, str(path))


def find_manifest(results: str | Path, study: str, preset: str | None = None) -> StudyManifest:
    """The manifest of ``study`` (the given preset, else the most recently written one)."""
    if preset is not None:
        path = manifest_path(results, study, preset)
        if not path.is_file():
            raise UserError(
                f"{path}: no results of study {study!r} with preset {preset!r}; "
                f"run `nox -s ablate -- {study} --preset {preset}` first"
            )
        return read_manifest(path)
    candidates = sorted(manifests_dir(results).glob(f"{study}.*.json"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise UserError(
            f"{manifests_dir(results)}: no results of study {study!r}; run `nox -s ablate -- {study}` first"
        )
    return read_manifest(candidates[-1])
