"""Ablation studies as configs: a TOML file -> rows (variant x protocol) and study presets.

A study file holds only what is particular to it ([study]: its variants, a swept field, the
protocols, its reference); presets and metrics come from ``ablations/defaults.toml`` and may be
overridden per study. The file is checked completely before any work starts; every error names
the file, the key and what is allowed. Running a study is study_run.py's job; writing its report
the report floor's: the ``ablate`` command chains the two.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..config import did_you_mean, from_dict, load_toml
from ..data.detect import DatasetKind
from ..errors import ConfigError, UserError
from ..max_side import check_max_side
from ..metrics.names import DAVIS_METRICS, DavisMetric
from ..protocols import DEFAULT_PROTOCOL, ProtocolConfig, get_protocol
from ..registry import Registry, UnknownNameError
from ..results.published import PUBLISHED
from ..shipped import shipped_folder
from ..variants import VariantConfig, derive_variant, derive_variant_named, get_variant
from .presets import PRESETS

ABLATIONS_DIR = shipped_folder("ablations")
DEFAULTS_NAME = "defaults"
PRESET_NAMES: tuple[str, ...] = ("smoke", "paper")
VariantLookup = Callable[[str], VariantConfig]
ProtocolLookup = Callable[[str], ProtocolConfig]


def _builtin_study_files() -> list[Path]:
    return sorted(p for p in ABLATIONS_DIR.glob("*.toml") if p.stem != DEFAULTS_NAME)


# study files by name: the built-in ones of ablations/, and `mast_bench.studies` plugins (callables
# returning the paths of their study files)
STUDIES: Registry[Path] = Registry(
    "study",
    Path,
    plural="studies",
    entry_points="mast_bench.studies",
    builtins=_builtin_study_files,
    name_of=lambda path: path.stem,
)


@dataclass(frozen=True)
class StudyInfo:
    name: str
    title: str
    reference: str
    variants: tuple[str, ...] = ()
    base: str | None = None  # the variant a sweep modifies
    sweep: dict[str, Any] = field(default_factory=dict)  # {field: [values]}: one variant per value
    protocols: tuple[str, ...] = (DEFAULT_PROTOCOL,)
    description: str = ""
    metrics: tuple[DavisMetric, ...] = DAVIS_METRICS
    paper: str | None = None  # key of report.paper.PUBLISHED shown beside the measured rows
    # the dataset kinds every row runs on; the first is the study's own (its report, --data), the
    # others get the embedded set of their kind or the root given with --benchmark KIND=ROOT
    benchmarks: tuple[DatasetKind, ...] = ("davis",)

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
        if self.base is not None and not self.sweep:  # it was never looked up, a typo included
            raise ValueError(f"base: {self.base!r} names the variant a sweep changes, and there is no sweep")
        if len(self.sweep) > 1:
            raise ValueError(f"sweep: one field at a time, got {', '.join(self.sweep)}")
        for key, values in self.sweep.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"sweep.{key}: expected a non-empty list of values, got {values!r}")
        if not self.metrics:
            raise ValueError(f"metrics: at least one of {', '.join(DAVIS_METRICS)} is needed")
        if not self.benchmarks or len(set(self.benchmarks)) != len(self.benchmarks):
            raise ValueError(f"benchmarks: at least one dataset kind, each once; got {list(self.benchmarks)}")


STUDY_PRESET_KEYS = ("train", "data", "max_side")  # what every [preset.NAME] table names


@dataclass(frozen=True)
class StudyPreset:
    train: str  # a training preset of harness/presets.toml
    data: Literal["embedded", "required"] = "embedded"  # "required": the user must give --data
    split: str | None = None  # None: the dataset kind's evaluation split
    sequences: tuple[str, ...] = ()  # empty: the whole split
    max_side: int | Literal["preset", "full"] = "preset"  # the train preset's, full size, or N

    def __post_init__(self) -> None:
        if isinstance(self.max_side, int):
            check_max_side(self.max_side)

    def job_max_side(self) -> int | None | Literal["preset"]:
        return None if self.max_side == "full" else self.max_side


@dataclass(frozen=True)
class StudyRow:
    """One measured row: its label in the report and the configs of its job."""

    label: str
    variant: VariantConfig
    protocol: ProtocolConfig


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
        swept = sorted(set(overrides) & set(self.info.sweep))
        if swept:
            values = ", ".join(map(str, self.info.sweep[swept[0]]))
            raise ConfigError(
                f"{where} {swept[0]}: the study sweeps this field ({values}), so every row would get one "
                "value; leave it out, or run the variant you want with `mast-bench run`"
            )
        renamed = {row.label: derive_variant_named(row.variant, overrides, where) for row in self.rows}

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


def available_studies() -> list[str]:
    return STUDIES.names()


def study_path(name_or_path: str | Path) -> Path:
    """A study name (a built-in of ablations/, or a plugin's) or a path to a TOML file."""
    text = str(name_or_path)
    if text in STUDIES:
        return STUDIES.get(text)
    candidate = Path(text)
    if candidate.suffix.lower() == ".toml":
        return candidate
    if candidate.suffix or "/" in text or os.sep in text or candidate.is_dir():  # a path, not a name
        raise ConfigError(f"{text}: expected a study name or a study file ending in .toml")
    return STUDIES.get(text)


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
    except UnknownNameError as exc:  # a variant of one's own is defined in a file of its own
        raise ConfigError(
            f"{where}: {exc} (one defined in a file of your own: pass --variants-file FILE)"
        ) from None
    except UserError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def study_variants(info: StudyInfo, lookup: VariantLookup, where: str) -> list[VariantConfig]:
    """The listed variants, then one per swept value (``base+field=value``; the base's own value
    gives the base itself)."""
    variants = [_variant(v, lookup, f"{where}: study.variants[{i}]") for i, v in enumerate(info.variants)]
    if info.sweep:
        base = _variant(info.base, lookup, f"{where}: study.base")
        ((key, values),) = info.sweep.items()
        variants += [
            derive_variant(base, {key: value}, f"{where}: study.sweep[{index}]")
            for index, value in enumerate(values)
        ]
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
        except UnknownNameError as exc:
            hint = "(one defined in a file of your own: pass --protocols-file FILE)"
            raise ConfigError(f"{where}: study.protocols[{index}]: {exc} {hint}") from None
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
    variant_lookup: VariantLookup = get_variant,
    protocol_lookup: ProtocolLookup = get_protocol,
    defaults: dict[str, Any] | None = None,
) -> Study:
    merged = _merged(data, load_defaults() if defaults is None else defaults, where)
    info = from_dict(StudyInfo, merged["study"], f"{where}: study")
    if expected_name is not None and info.name != expected_name:
        raise ConfigError(f"{where}: study.name is {info.name!r}, expected the file's name {expected_name!r}")
    rows = _rows(info, study_variants(info, variant_lookup, where), protocol_lookup, where)
    labels = [row.label for row in rows]
    if info.reference not in labels:
        raise ConfigError(
            f"{where}: study.reference: {info.reference!r} is not one of the rows ({', '.join(labels)})"
        )
    if info.paper is not None and info.paper not in PUBLISHED:
        choices = ", ".join(map(repr, PUBLISHED))
        raise ConfigError(f"{where}: study.paper: got {info.paper!r}, expected one of {choices}")
    presets = {}
    for name, body in merged["preset"].items():
        if name not in PRESET_NAMES:
            hint = did_you_mean(name, PRESET_NAMES)
            raise ConfigError(
                f"{where}: unknown preset {name!r}{hint}; allowed presets: {', '.join(PRESET_NAMES)}"
            )
        preset = from_dict(StudyPreset, body, f"{where}: preset.{name}")
        if preset.train not in PRESETS:
            raise ConfigError(
                f"{where}: preset.{name}.train: got {preset.train!r}, expected one of "
                f"{', '.join(map(repr, PRESETS.names()))} (the training presets)"
            )
        missing = [key for key in STUDY_PRESET_KEYS if key not in body]
        if missing:  # a key left out would take the dataclass default, not the inherited value
            raise ConfigError(
                f"{where}: preset.{name}: names no {', '.join(missing)}; a [preset.{name}] table replaces "
                f"the inherited one whole, so it names {', '.join(STUDY_PRESET_KEYS)}"
            )
        presets[name] = preset
    if "smoke" not in presets:
        raise ConfigError(f"{where}: missing [preset.smoke] (the default preset)")
    return Study(info, rows, presets)


def load_study(
    name_or_path: str | Path,
    variant_lookup: VariantLookup = get_variant,
    protocol_lookup: ProtocolLookup = get_protocol,
) -> Study:
    path = study_path(name_or_path)
    study = parse_study(load_toml(path), str(path), path.stem, variant_lookup, protocol_lookup)
    return replace(study, path=path)
