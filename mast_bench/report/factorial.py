"""Features x protocol: how much of a J&F gap is the representation and how much the propagation rule.

Every (features, protocol) cell is scored on the same objects, so each factor's effect is measured
object by object, paired by (sequence, object), with the other factor held fixed: the protocol
effect within each feature set, the feature effect within each protocol, and their interaction
(does the protocol effect depend on the features?) as a paired difference of paired differences.
Input: one row per (features, protocol, sequence, object) with that object's J&F in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .stats import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    PairedComparison,
    bootstrap_ci,
    paired_comparison,
)
from .tables import Table

COLUMNS = ("features", "protocol", "sequence", "object", "J&F")
PAIR_KEY = ["sequence", "object"]
Factor = Literal["protocol", "features", "interaction"]


@dataclass(frozen=True)
class Effect:
    """``level`` minus ``reference`` of ``factor`` with the other factor at ``within``. For the
    interaction, ``level``/``reference`` are protocols and ``within`` names the two feature sets whose
    protocol effects are subtracted ("resnet18 - mast": effect within resnet18 minus within mast)."""

    factor: Factor
    within: str
    level: str
    reference: str
    comparison: PairedComparison


def check_frame(frame: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"per-object frame lacks column(s) {missing}; expected {list(COLUMNS)}")
    repeated = frame.duplicated(["features", "protocol", *PAIR_KEY])
    if repeated.any():
        row = frame.loc[repeated, ["features", "protocol", *PAIR_KEY]].iloc[0].tolist()
        raise ValueError(f"(features, protocol, sequence, object) {row} appears more than once")


def levels(frame: pd.DataFrame, column: str) -> list[str]:
    """The distinct values of ``column`` in order of first appearance (the caller's order)."""
    return list(dict.fromkeys(frame[column].astype(str)))


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """(sequence, object) rows x (features, protocol) columns of J&F; NaN where a cell lacks the object."""
    check_frame(frame)
    typed = frame.assign(features=frame["features"].astype(str), protocol=frame["protocol"].astype(str))
    return typed.pivot(index=PAIR_KEY, columns=["features", "protocol"], values="J&F")


def cell_intervals(
    frame: pd.DataFrame,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> dict[tuple[str, str], Interval]:
    """Mean J&F of each (features, protocol) cell with its bootstrap interval over objects."""
    wide = _wide(frame)
    return {
        (f, p): bootstrap_ci(wide[(f, p)].to_numpy(), resamples, seed, level)
        for f in levels(frame, "features")
        for p in levels(frame, "protocol")
        if (f, p) in wide.columns
    }


def factor_effects(
    frame: pd.DataFrame,
    reference_features: str | None = None,
    reference_protocol: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> list[Effect]:
    """Paired effects of each factor against its reference level (default: the first listed)."""
    wide = _wide(frame)
    features, protocols = levels(frame, "features"), levels(frame, "protocol")
    f0 = _reference(reference_features, features, "features")
    p0 = _reference(reference_protocol, protocols, "protocol")

    def cell(f: str, p: str) -> np.ndarray:
        return wide[(f, p)].to_numpy() if (f, p) in wide.columns else np.full(len(wide), np.nan)

    def compare(a: np.ndarray, b: np.ndarray) -> PairedComparison:
        return paired_comparison(a, b, resamples, seed, level)

    effects = [
        Effect("protocol", f, p, p0, compare(cell(f, p), cell(f, p0)))
        for f in features
        for p in protocols
        if p != p0
    ]
    effects += [
        Effect("features", p, f, f0, compare(cell(f, p), cell(f0, p)))
        for p in protocols
        for f in features
        if f != f0
    ]
    effects += [
        Effect(
            "interaction", f"{f} - {f0}", p, p0, compare(cell(f, p) - cell(f, p0), cell(f0, p) - cell(f0, p0))
        )
        for f in features
        if f != f0
        for p in protocols
        if p != p0
    ]
    return effects


def _reference(name: str | None, known: list[str], factor: str) -> str:
    if not known:
        raise ValueError(f"the per-object frame has no {factor} level")
    if name is None:
        return known[0]
    if name not in known:
        raise ValueError(f"reference {factor} {name!r} is not among {known}")
    return name


def two_way_table(
    frame: pd.DataFrame,
    caption: str,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Table:
    """Rows = features, columns = protocols, cells "J&F [low, high]" (x100, bootstrap interval)."""
    intervals = cell_intervals(frame, resamples, seed, level)
    protocols = levels(frame, "protocol")
    rows = []
    for f in levels(frame, "features"):
        row = {"Features": f}
        for p in protocols:
            interval = intervals.get((f, p))
            row[p] = _cell_text(interval) if interval is not None else "–"
        rows.append(row)
    return Table("factorial", caption, pd.DataFrame(rows, columns=["Features", *protocols]))


def _cell_text(interval: Interval) -> str:
    if interval.n == 0:
        return "–"
    return f"{interval.estimate * 100:.1f} [{interval.low * 100:.1f}, {interval.high * 100:.1f}]"


def effects_table(effects: list[Effect], caption: str) -> Table:
    """One row per paired effect: ΔJ&F x100 with its bootstrap interval, Wilcoxon p and pair count."""
    frame = pd.DataFrame(
        {
            "Factor": [e.factor for e in effects],
            "Within": [e.within for e in effects],
            "Level": [e.level for e in effects],
            "Reference": [e.reference for e in effects],
            "ΔJ&F": [e.comparison.mean_difference * 100 for e in effects],
            "Δ CI low": [e.comparison.low * 100 for e in effects],
            "Δ CI high": [e.comparison.high * 100 for e in effects],
            "Wilcoxon p": [e.comparison.wilcoxon_p for e in effects],
            "Pairs": [e.comparison.n_pairs for e in effects],
        }
    )
    decimals = {"ΔJ&F": 1, "Δ CI low": 1, "Δ CI high": 1, "Wilcoxon p": 4, "Pairs": 0}
    return Table("factorial_effects", caption, frame, decimals=decimals)
