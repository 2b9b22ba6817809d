"""What a learning-curve run produced: the training summary, and which record scores which weights.

``mast-bench learning-curve`` trains once, scores every kept snapshot (and each stage's final
weights) under each protocol beside training-free baselines, and writes one manifest into
``<results>/studies/learning-curve-<variant>.<preset>.json``; the training report reads it back
with the records, so it needs nothing but the results folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..config import from_dict, to_dict
from ..errors import DataError, UserError
from .layout import ResultsLayout
from .records import decode_json

CURVE_PREFIX = "learning-curve"


@dataclass(frozen=True)
class CurvePoint:
    """One scored weights file: its global iteration, the stage it ends or lies in, a record."""

    iteration: int
    stage: str
    label: str  # "random init", "25 %", "end of pairs", ...
    protocol: str
    record: str


@dataclass(frozen=True)
class CurveBaseline:
    variant: str
    protocol: str
    record: str


@dataclass(frozen=True)
class CurveManifest:
    name: str  # learning-curve-<variant>
    variant: str
    preset: str
    train_data: str
    data: str
    max_side: int | None
    protocols: tuple[str, ...]
    train: Any = field(default_factory=dict)  # the training run's train.json summary
    points: tuple[CurvePoint, ...] = ()
    baselines: tuple[CurveBaseline, ...] = ()
    command: str = ""
    machine: Any = field(default_factory=dict)  # cpu model, cores, threads, torch (where it ran)


def curve_name(variant: str) -> str:
    return f"{CURVE_PREFIX}-{variant}"


def write_curve(results: str | Path, manifest: CurveManifest) -> Path:
    path = ResultsLayout(Path(results)).manifest_path(manifest.name, manifest.preset)
    return atomic_write_json(path, to_dict(manifest))


def read_curve(path: str | Path) -> CurveManifest:
    """The manifest in ``path``; an unreadable or malformed one gives one error naming the file."""
    path = Path(path)
    remedy = "delete it or rerun `mast-bench learning-curve` to write it again"
    try:
        data: Any = decode_json(path, "a learning-curve manifest")
        return from_dict(CurveManifest, data, "manifest")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc}); {remedy}") from None
    except (ValueError, UserError) as exc:
        raise DataError(f"{path}: {exc}; {remedy}") from None


def find_curves(results: str | Path) -> list[Path]:
    """Every learning-curve manifest of a results folder."""
    folder = ResultsLayout(Path(results)).studies_dir
    return sorted(folder.glob(f"{CURVE_PREFIX}-*.json")) if folder.is_dir() else []
