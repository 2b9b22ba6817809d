"""What a study run produced: which record answers for which variant, under which preset and data.

The study runner writes one manifest per (study, preset) into ``<results>/studies/``; the
report reads it back, so a report needs nothing but the results folder and every table row
can cite the record it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..config import from_dict, to_dict
from ..errors import DataError, UserError
from .layout import ResultsLayout
from .records import decode_json


@dataclass(frozen=True)
class StudyManifest:
    study: str
    title: str
    reference: str
    variants: tuple[str, ...]  # the row labels, in study order (a variant, or variant@protocol)
    metrics: tuple[str, ...]
    preset: str  # the study preset (smoke | paper | ...)
    train_preset: str  # the harness training preset it used
    data: str  # human label of the evaluation data: "embedded default" or the path given with --data
    records: Any = field(default_factory=dict)  # {row label: record key}
    factors: Any = field(default_factory=dict)  # {row label: {"variant": name, "protocol": name}}
    dataset: str = "davis"  # the evaluation data's kind
    benchmarks: Any = field(default_factory=dict)  # {kind: {row label: record key}}: the other benchmarks
    description: str = ""
    paper: str | None = None
    command: str = ""
    created: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.records, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.records.items()
        ):
            raise ValueError(f"records must map variant names to record keys, got {self.records!r}")
        if not isinstance(self.benchmarks, dict) or not all(
            isinstance(rows, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in rows.items())
            for rows in self.benchmarks.values()
        ):
            raise ValueError(
                f"benchmarks must map dataset kinds to {{row: record key}}, got {self.benchmarks!r}"
            )


def write_manifest(results: str | Path, manifest: StudyManifest) -> Path:
    """Write the manifest; one that says the same but for its time of writing is left as it is, so
    rerunning a study whose records are all cached changes no byte of the results folder."""
    path = ResultsLayout(Path(results)).manifest_path(manifest.study, manifest.preset)
    try:
        previous = read_manifest(path) if path.is_file() else None
    except UserError:
        previous = None  # a broken manifest is simply written again
    if previous is not None and replace(previous, created=manifest.created) == manifest:
        os.utime(path)  # still the latest run of the study (find_manifest goes by modification time)
        return path
    return atomic_write_json(path, to_dict(manifest))


def read_manifest(path: str | Path) -> StudyManifest:
    """The manifest in ``path``; garbage, truncated or malformed files give one error naming the
    file and what to do (delete it, or run the study again, which writes it anew)."""
    path = Path(path)
    study, _, preset = path.stem.rpartition(".")  # <study>.<preset>.json
    rerun = f"mast-bench ablate {study} --preset {preset}" if study else f"mast-bench ablate {path.stem}"
    remedy = f"delete it or rerun `{rerun}` to write it again"
    try:
        data: Any = decode_json(path, "a study manifest")
    except OSError as exc:
        raise DataError(f"{path}: cannot read study manifest ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise DataError(f"{path}: {exc}; {remedy}") from None
    try:
        return from_dict(StudyManifest, data, "manifest")
    except UserError as exc:
        raise DataError(f"{path}: {exc} (not a study manifest); {remedy}") from None


def find_manifest(results: str | Path, study: str, preset: str | None = None) -> StudyManifest:
    """The manifest of ``study`` (the given preset, else the most recently written one)."""
    layout = ResultsLayout(Path(results))
    if preset is not None:
        path = layout.manifest_path(study, preset)
        if not path.is_file():
            raise UserError(
                f"{path}: no results of study {study!r} with preset {preset!r}; "
                f"run `mast-bench ablate {study} --preset {preset}` first (a study of your own: its TOML "
                "file's path in place of its name)"
            )
        return read_manifest(path)
    candidates = sorted(layout.studies_dir.glob(f"{study}.*.json"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise UserError(
            f"{layout.studies_dir}: no results of study {study!r}; run `mast-bench ablate {study}` first "
            "(a study of your own: its TOML file's path in place of its name)"
        )
    return read_manifest(candidates[-1])
