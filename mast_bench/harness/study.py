"""Ablation studies: a TOML file -> rows (variant x protocol) -> harness jobs -> records + a manifest.

A study file holds only what is particular to it ([study]: its variants, a swept field, the
protocols, its reference); presets and metrics come from ``ablations/defaults.toml`` and may be
overridden per study. The file is checked completely before any work starts; every error names
the file, the key and what is allowed. Writing the study's report is the report floor's job: the
``ablate`` command chains the two.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..config import from_dict, load_toml
from ..errors import ConfigError, UserError
from ..results import StudyManifest, write_manifest
from ..results.published import PUBLISHED
from ..shipped import shipped_folder
from ..variants import VariantConfig, derive_variant, get_variant
from .job import DataSpec, Job
from .presets import PRESETS_FILE, load_presets

ABLATIONS_DIR = shipped_folder("ablations")
DEFAULTS_NAME = "defaults"
Metric = Literal["J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay"]
ALL_METRICS: tuple[str, ...] = ("J&F-Mean", "J-Mean", "J-Recall", "F-Mean", "F-Recall", "J-Decay", "F-Decay")
PRESET_NAMES: tuple[str, ...] = ("smoke", "paper")
VariantLookup = Callable[[str], VariantConfig]
ProtocolLookup = Callable[[str], Any]


@dataclass(frozen=True)
class StudyInfo:
    name: str
    title: str
    reference: str
    variants: tuple[str, ...] = ()
    base: str | None = None  # the variant a sweep modifies
    sweep: dict[str, Any] = field(default_factory=dict)  # {field: [values]}: one variant per value
    protocols: tuple[str, ...] = ("mast",)
    description: str = ""
    metrics: tuple[Metric, ...] = ALL_METRICS
    paper: str | None = None  # key of report.paper.PUBLISHED shown beside the measured rows

    def __post_init__(self) -> None:
        if not self.variants and not self.sweep:
            raise ValueError("variants: at least one variant (or a sweep) is needed")
        for name, values in (("variants", self.variants), ("protocols", self.protocols)):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{name}: {twice[0]!r} is listed twice")
        if not self.protocols:
            raise ValueError("protocols: at least one protocol is needed")
        if self.sweep and self.base is None:
            raise ValueError('sweep: needs base = "VARIANT" (the variant whose field is swept)')
        if len(self.sweep) > 1:
            raise ValueError(f"sweep: one field at a time, got {', '.join(self.sweep)}")
        for key, values in self.sweep.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"sweep.{key}: expected a non-empty list of values, got {values!r}")
        if not self.metrics:
            raise ValueError(f"metrics: at least one of {', '.join(ALL_METRICS)} is needed")


@dataclass(frozen=True)
class StudyPreset:
    train: str  # a training preset of harness/presets.toml
    data: Literal["embedded", "required"] = "embedded"  # "required": the user must give --data
    split: str | None = None  # None: the dataset kind's evaluation split
    sequences: tuple[str, ...] = ()  # empty: the whole split
    max_side: int | Literal["preset", "full"] = "preset"  # the train preset's, full size, or N

    def __post_init__(self) -> None:
        if isinstance(self.max_side, int) and self.max_side < 16:
            raise ValueError(f"max_side: got {self.max_side}, expected an integer >= 16, 'preset' or 'full'")

    def job_max_side(self) -> int | None | Literal["preset"]:
        return None if self.max_side == "full" else self.max_side


@dataclass(frozen=True)
class StudyRow:
    """One measured row: its label in the report and the configs of its job."""

    label: str
    variant: VariantConfig
    protocol: Any  # a ProtocolConfig


@dataclass(frozen=True)
class Study:
    info: StudyInfo
    rows: tuple[StudyRow, ...]
    presets: dict[str, StudyPreset]
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.info.name

    def with_protocols(self, protocols: list) -> Study:
        """The same variants under other test-time protocols (labels say which when several)."""
        info = replace(self.info, protocols=tuple(p.name for p in protocols))
        variants = list(dict.fromkeys(row.variant for row in self.rows))
        rows = _rows(info, variants, {p.name: p for p in protocols}.__getitem__, str(self.path or self.name))
        labels = [row.label for row in rows]
        reference = self.info.reference.split("@")[0]
        if len(protocols) > 1:
            reference = f"{reference}@{protocols[0].name}"
        return replace(
            self, info=replace(info, reference=reference if reference in labels else labels[0]), rows=rows
        )

    def with_overrides(self, overrides: dict[str, Any]) -> Study:
        """Every row's variant derived with ``overrides`` (``--set``): labels and reference follow."""
        where = f"{self.path or self.name}: --set"
        renamed = {row.label: derive_variant(row.variant, overrides, where) for row in self.rows}

        def label(row: StudyRow) -> str:
            name = renamed[row.label].name
            return name if row.label == row.variant.name else f"{name}@{row.protocol.name}"

        rows = tuple(replace(row, label=label(row), variant=renamed[row.label]) for row in self.rows)
        reference = next(label(row) for row in self.rows if row.label == self.info.reference)
        return replace(self, info=replace(self.info, reference=reference), rows=rows)

    def preset(self, name: str) -> StudyPreset:
        if name not in self.presets:
            raise ConfigError(
                f"{self.path or self.name}: no [preset.{name}] table; this study defines: "
                f"{', '.join(self.presets)}"
            )
        return self.presets[name]


def available_studies(folder: Path = ABLATIONS_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml") if p.stem != DEFAULTS_NAME)


def study_path(name_or_path: str | Path, folder: Path = ABLATIONS_DIR) -> Path:
    """A study name (ablations/<name>.toml) or a path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate
    path = folder / f"{name_or_path}.toml"
    if not path.is_file() or candidate.name == DEFAULTS_NAME:
        known = ", ".join(available_studies(folder)) or "(none)"
        raise ConfigError(f"unknown study {str(name_or_path)!r} (no {path}); known studies: {known}")
    return path


def load_defaults(path: Path = ABLATIONS_DIR / f"{DEFAULTS_NAME}.toml") -> dict[str, Any]:
    data = load_toml(path)
    unknown = sorted(set(data) - {"defaults", "preset"})
    if unknown:
        raise ConfigError(f"{path}: unknown table {unknown[0]!r}; allowed tables: defaults, preset")
    return data


def _merged(data: dict[str, Any], defaults: dict[str, Any], where: str) -> dict[str, Any]:
    allowed = ("preset", "study")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown table {unknown[0]!r}; allowed tables: {', '.join(allowed)}")
    if not isinstance(data.get("study"), dict):
        raise ConfigError(f"{where}: missing the [study] table")
    inherited = defaults.get("defaults", {})
    study = {**{k: v for k, v in inherited.items() if k in ("metrics",)}, **data["study"]}
    presets = {**defaults.get("preset", {}), **data.get("preset", {})}
    return {"study": study, "preset": presets}


def _variant(name: str, lookup: VariantLookup, where: str) -> VariantConfig:
    try:
        return lookup(name)
    except UserError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def study_variants(info: StudyInfo, lookup: VariantLookup, where: str) -> list[VariantConfig]:
    """The listed variants, then one per swept value (``base+field=value``; the base's own value
    gives the base itself)."""
    variants = [_variant(v, lookup, f"{where}: study.variants[{i}]") for i, v in enumerate(info.variants)]
    if info.sweep:
        base = _variant(info.base, lookup, f"{where}: study.base")
        ((key, values),) = info.sweep.items()
        variants += [derive_variant(base, {key: value}, f"{where}: study.sweep.{key}") for value in values]
    counts = Counter(v.name for v in variants)
    twice = sorted(name for name, count in counts.items() if count > 1)
    if twice:
        raise ConfigError(f"{where}: variant {twice[0]!r} appears twice (listed and swept?)")
    return variants


def _rows(info: StudyInfo, variants: list[VariantConfig], protocol_lookup: ProtocolLookup, where: str):
    protocols = []
    for index, name in enumerate(info.protocols):
        try:
            protocols.append(protocol_lookup(name))
        except UserError as exc:
            raise ConfigError(f"{where}: study.protocols[{index}]: {exc}") from None
    several = len(protocols) > 1
    return tuple(
        StudyRow(f"{v.name}@{p.name}" if several else v.name, v, p) for v in variants for p in protocols
    )


def parse_study(
    data: dict[str, Any],
    where: str,
    expected_name: str | None = None,
    presets_file: Path = PRESETS_FILE,
    variant_lookup: VariantLookup = get_variant,
    protocol_lookup: ProtocolLookup | None = None,
    defaults: dict[str, Any] | None = None,
) -> Study:
    merged = _merged(data, load_defaults() if defaults is None else defaults, where)
    info = from_dict(StudyInfo, merged["study"], f"{where}: study")
    if expected_name is not None and info.name != expected_name:
        raise ConfigError(f"{where}: study.name is {info.name!r}, expected the file's name {expected_name!r}")
    if protocol_lookup is None:
        from ..protocols import get_protocol as protocol_lookup
    rows = _rows(info, study_variants(info, variant_lookup, where), protocol_lookup, where)
    labels = [row.label for row in rows]
    if info.reference not in labels:
        raise ConfigError(
            f"{where}: study.reference: {info.reference!r} is not one of the rows ({', '.join(labels)})"
        )
    if info.paper is not None and info.paper not in PUBLISHED:
        choices = ", ".join(map(repr, PUBLISHED))
        raise ConfigError(f"{where}: study.paper: got {info.paper!r}, expected one of {choices}")
    train_presets = load_presets(presets_file)
    presets = {}
    for name, body in merged["preset"].items():
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
    return Study(info, rows, presets)


def load_study(
    name_or_path: str | Path,
    folder: Path = ABLATIONS_DIR,
    presets_file: Path = PRESETS_FILE,
    variant_lookup: VariantLookup = get_variant,
    protocol_lookup: ProtocolLookup | None = None,
) -> Study:
    path = study_path(name_or_path, folder)
    study = parse_study(load_toml(path), str(path), path.stem, presets_file, variant_lookup, protocol_lookup)
    return replace(study, path=path)


# ----------------------------------------------------------------- running a study


def build_jobs(
    study: Study,
    preset_name: str,
    results: str | Path,
    data: DataSpec,
    presets_file: Path = PRESETS_FILE,
    command: str | None = None,
    **job_settings: Any,
) -> list[Job]:
    """One harness Job per row, in study order (identical jobs reuse their cached records)."""
    preset = study.preset(preset_name)
    if preset.data == "required" and data.root is None:
        raise UserError(
            f"study {study.name!r} with preset {preset_name!r} needs --data PATH (a dataset root); "
            "the embedded default is only for the smoke preset"
        )
    data = replace(data, split=data.split or preset.split, sequences=data.sequences or preset.sequences)
    train = load_presets(presets_file)[preset.train]
    return [
        Job(
            variant=row.variant,
            protocol=row.protocol,
            preset=train,
            data=data,
            results=str(results),
            max_side=preset.job_max_side(),
            command=command,
            **job_settings,
        )
        for row in study.rows
    ]


def data_label(data: DataSpec) -> str:
    where = "the embedded default" if data.root is None else str(data.root)
    return where if data.kind == "davis" else f"{where} ({data.kind})"


def make_manifest(
    study: Study, preset_name: str, data: DataSpec, records: list, command: str
) -> StudyManifest:
    info = study.info
    return StudyManifest(
        study=info.name,
        title=info.title,
        reference=info.reference,
        variants=tuple(row.label for row in study.rows),
        metrics=tuple(info.metrics),
        preset=preset_name,
        train_preset=study.preset(preset_name).train,
        data=data_label(data),
        records={row.label: record.key for row, record in zip(study.rows, records, strict=True)},
        factors={
            row.label: {"variant": row.variant.name, "protocol": row.protocol.name} for row in study.rows
        },
        dataset=data.kind,
        description=info.description,
        paper=info.paper,
        command=command,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    )


def run_study(
    study: Study,
    preset_name: str,
    results: str | Path,
    data: DataSpec,
    command: str,
    runner: Callable[..., list] | None = None,
    execution: dict[str, Any] | None = None,
    yes: bool = False,
    announce: Callable[[str], None] | None = None,
    **job_settings: Any,
) -> StudyManifest:
    """Run (or reuse) every row's job and record the study's manifest.

    ``runner(jobs, **execution)`` defaults to harness.jobs.run_jobs (backend, n_jobs, scheduler...).
    More than ``preview.MAX_JOBS`` jobs are refused unless ``yes``; ``announce`` gets the plan (jobs,
    cached, to compute, a rough time) before any work.
    """
    from . import preview

    jobs = build_jobs(study, preset_name, results, data, command=command, **job_settings)
    preview.refuse_large(len(dict.fromkeys(jobs)), f"study {study.path or study.name}", yes)
    if announce is not None:
        from .jobs import prepare_jobs

        planned = preview.preview_jobs(prepare_jobs(jobs, **(execution or {})))
        announce(planned.describe(f"study {study.name} ({preset_name} preset)"))
    if runner is None:
        from .jobs import run_jobs as runner
    records = runner(jobs, **(execution or {}))
    manifest = make_manifest(study, preset_name, data, records, command)
    write_manifest(results, manifest)
    return manifest
