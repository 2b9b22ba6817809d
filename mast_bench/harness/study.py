"""Ablation studies: ablations/<name>.toml -> harness jobs -> records -> the study's report.

A study names its variants, its reference variant, the metrics it reports and,
per budget preset (smoke: a CPU in minutes; paper: the official schedule), the
training preset and evaluation data. The file is checked completely before any
work starts; every error names the file, the key and what is allowed.
"""

from __future__ import annotations

import datetime as _dt
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import from_dict, load_toml
from ..errors import ConfigError, UserError
from ..report.manifest import StudyManifest, write_manifest
from ..report.paper import PUBLISHED
from .presets import PRESETS_FILE, load_presets

ABLATIONS_DIR = Path(__file__).resolve().parents[1] / "ablations"
Metric = Literal["J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay"]
ALL_METRICS: tuple[str, ...] = ("J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay")
PresetName = Literal["smoke", "paper"]
PRESET_NAMES: tuple[str, ...] = ("smoke", "paper")


@dataclass(frozen=True)
class StudyInfo:
    name: str
    title: str
    reference: str
    variants: tuple[str, ...]
    description: str = ""
    metrics: tuple[Metric, ...] = ALL_METRICS
    paper: str | None = None  # key of report.paper.PUBLISHED shown beside the measured rows

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError("variants: at least one variant is needed")
        duplicates = sorted({v for v in self.variants if self.variants.count(v) > 1})
        if duplicates:
            raise ValueError(f"variants: {duplicates[0]!r} is listed twice")
        if self.reference not in self.variants:
            raise ValueError(
                f"reference: {self.reference!r} is not one of the variants ({', '.join(self.variants)})"
            )
        if not self.metrics:
            raise ValueError(f"metrics: at least one of {', '.join(ALL_METRICS)} is needed")
        if self.paper is not None and self.paper not in PUBLISHED:
            raise ValueError(f"paper: got {self.paper!r}, expected one of {', '.join(map(repr, PUBLISHED))}")


@dataclass(frozen=True)
class StudyPreset:
    train: str  # a training preset of harness/presets.toml
    data: Literal["embedded", "required"] = "embedded"  # "required": the user must give --data
    split: str = "val"
    sequences: tuple[str, ...] = ()  # empty: the whole split
    max_side: int | Literal["preset", "full"] = (
        "preset"  # evaluation input size: the train preset's, full, or N
    )

    def __post_init__(self) -> None:
        if isinstance(self.max_side, int) and self.max_side < 16:
            raise ValueError(f"max_side: got {self.max_side}, expected an integer >= 16, 'preset' or 'full'")

    def job_max_side(self) -> int | None:
        """In harness.jobs.Job terms: -1 = the training preset's, None = full resolution."""
        return {"preset": -1, "full": None}.get(self.max_side, self.max_side)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Study:
    info: StudyInfo
    presets: dict[str, StudyPreset] = field(default_factory=dict)
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.info.name

    def preset(self, name: str) -> StudyPreset:
        if name not in self.presets:
            where = self.path or self.name
            raise ConfigError(
                f"{where}: no [preset.{name}] table; this study defines: {', '.join(self.presets)}"
            )
        return self.presets[name]


def available_studies(folder: Path = ABLATIONS_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def study_path(name_or_path: str | Path, folder: Path = ABLATIONS_DIR) -> Path:
    """A study name (ablations/<name>.toml) or a path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate
    path = folder / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(available_studies(folder)) or "(none)"
        raise ConfigError(f"unknown study {str(name_or_path)!r} (no {path}); known studies: {known}")
    return path


def _check_variants(info: StudyInfo, where: str, known: Callable[[str], Any] | None) -> None:
    if known is None:
        return
    for index, variant in enumerate(info.variants):
        try:
            known(variant)
        except UserError as exc:
            raise ConfigError(f"{where}: study.variants[{index}]: {exc}") from None


def _default_variant_lookup() -> Callable[[str], Any] | None:
    """The variant registry when the variants package is importable (validation is skipped otherwise)."""
    try:
        from ..variants import get_variant
    except ImportError:
        return None
    return get_variant


def parse_study(
    data: dict[str, Any],
    where: str,
    expected_name: str | None = None,
    presets_file: Path = PRESETS_FILE,
    variant_lookup: Callable[[str], Any] | None | Literal["registry"] = "registry",
) -> Study:
    allowed = ("preset", "study")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown table {unknown[0]!r}; allowed tables: {', '.join(allowed)}")
    if "study" not in data:
        raise ConfigError(f"{where}: missing the [study] table")
    info = from_dict(StudyInfo, data["study"], f"{where}: study")
    if expected_name is not None and info.name != expected_name:
        raise ConfigError(f"{where}: study.name is {info.name!r}, expected the file's name {expected_name!r}")
    lookup = _default_variant_lookup() if variant_lookup == "registry" else variant_lookup
    _check_variants(info, where, lookup)

    tables = data.get("preset")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{where}: expected [preset.NAME] tables, NAME one of {', '.join(PRESET_NAMES)}")
    train_presets = load_presets(presets_file)
    presets = {}
    for name, body in tables.items():
        if name not in PRESET_NAMES:
            raise ConfigError(f"{where}: unknown preset {name!r}; allowed presets: {', '.join(PRESET_NAMES)}")
        preset = from_dict(StudyPreset, body, f"{where}: preset.{name}")
        if preset.train not in train_presets:
            raise ConfigError(
                f"{where}: preset.{name}.train: got {preset.train!r}, expected one of "
                f"{', '.join(map(repr, sorted(train_presets)))} (training presets of {presets_file})"
            )
        presets[name] = preset
    if "smoke" not in presets:
        raise ConfigError(f"{where}: missing [preset.smoke] (the default preset)")
    return Study(info, presets)


def load_study(
    name_or_path: str | Path,
    folder: Path = ABLATIONS_DIR,
    presets_file: Path = PRESETS_FILE,
    variant_lookup: Callable[[str], Any] | None | Literal["registry"] = "registry",
) -> Study:
    path = study_path(name_or_path, folder)
    study = parse_study(load_toml(path), str(path), path.stem, presets_file, variant_lookup)
    return Study(study.info, study.presets, path)


# ----------------------------------------------------------------- running a study


def build_jobs(
    study: Study,
    preset_name: str,
    results: str | Path,
    data: str | Path | None = None,
    command: str | None = None,
) -> list:
    """One harness Job per variant, in study order (identical jobs reuse their cached records)."""
    from .jobs import Job

    preset = study.preset(preset_name)
    if preset.data == "required" and data is None:
        raise UserError(
            f"study {study.name!r} with preset {preset_name!r} needs --data PATH (a DAVIS-2017 root); "
            "the embedded default is only for the smoke preset"
        )
    return [
        Job(
            variant=variant,
            results=str(results),
            davis=str(data) if data is not None else None,
            split=preset.split,
            sequences=preset.sequences,
            preset=preset.train,
            max_side=preset.job_max_side(),
            command=command,
        )
        for variant in study.info.variants
    ]


def data_label(data: str | Path | None) -> str:
    return "the embedded default" if data is None else str(data)


def make_manifest(study: Study, preset_name: str, data, records: list, command: str) -> StudyManifest:
    info = study.info
    return StudyManifest(
        study=info.name,
        title=info.title,
        reference=info.reference,
        variants=info.variants,
        metrics=tuple(info.metrics),
        preset=preset_name,
        train_preset=study.preset(preset_name).train,
        data=data_label(data),
        records={variant: record.key for variant, record in zip(info.variants, records, strict=True)},
        description=info.description,
        paper=info.paper,
        command=command,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    )


def run_study(
    study: Study,
    preset_name: str = "smoke",
    results: str | Path = "results",
    data: str | Path | None = None,
    n_jobs: int = 1,
    backend: str = "joblib",
    command: str | None = None,
    runner: Callable[..., list] | None = None,
) -> tuple[StudyManifest, Path]:
    """Run (or reuse) every variant's job, record the study's manifest, write its report.

    ``runner`` defaults to harness.jobs.run_jobs; returns the manifest and the path of report.md.
    """
    from ..report.build import write_study_report

    command = command or shlex.join([Path(sys.executable).name, *sys.argv])
    jobs = build_jobs(study, preset_name, results, data, command)
    if runner is None:
        from .jobs import run_jobs as runner
    records = runner(jobs, backend=backend, n_jobs=n_jobs)
    manifest = make_manifest(study, preset_name, data, records, command)
    write_manifest(results, manifest)
    return manifest, write_study_report(results, manifest)
