"""Arms of training replicates: one recipe trained with several seeds, compared run by run.

Two single training runs differ by seed noise as much as by design (a few J&F at short lengths),
and the intervals over objects or frame blocks count evaluation noise only. Here the unit is the
training run: each row of an arm (one seed's J&F) counts once, an arm's interval is Student's t
over its runs, and two arms differ by Welch's t interval of their means. An arm of one run (a
shared first stage, say) is a fixed point: against it only the other arm's seed noise counts.

An arms file is data: each arm's rows (report labels) and which arms are compared with which::

    [arm.memory]
    rows = ["mast-scaled (train-cpu-mast-scaled/3-schedule)", "mast-scaled (train-cpu-seed-101/3-schedule)"]

    [arm.pairs]
    rows = ["mast-scaled (train-cpu-pairs-finetune/3-pairs-finetune-late)", "..."]

    [[comparison]]
    reference = "memory"
    arms = ["pairs"]  # left out: every other arm

A comparison with ``paired = true`` pairs the i-th row of each arm with the i-th row of the
reference (the same training run scored two ways, say with and without re-estimated BatchNorm
statistics) and takes Student's t over the per-run differences: the runs' shared seed noise
cancels. Its arms must list their runs in the reference's order, one for one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats

from ..config import from_dict, load_toml
from ..errors import ConfigError
from .stats import DEFAULT_LEVEL, interval_verdict
from .tables import Table


@dataclass(frozen=True)
class Arm:
    """The result rows (report labels) of one recipe's seeds."""

    rows: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class ArmComparison:
    """Each of ``arms`` (every other arm where empty) minus ``reference``."""

    reference: str
    arms: tuple[str, ...] = ()
    paired: bool = False


@dataclass(frozen=True)
class ArmsConfig:
    arm: dict[str, Arm]
    comparison: tuple[ArmComparison, ...] = ()
    level: float = DEFAULT_LEVEL


def load_arms(path: str | Path) -> ArmsConfig:
    """An arms file, checked: every arm has a row, no row is in two arms, comparisons name arms."""
    path = Path(path)
    data = load_toml(path)
    arms = data.get("arm")
    if not isinstance(arms, dict) or not arms:
        raise ConfigError(f"{path}: no [arm.NAME] table (expected one per recipe, each with rows = [...])")
    config = from_dict(ArmsConfig, data, str(path))
    _check_arms(config, path)
    return config


def _check_arms(config: ArmsConfig, path: Path) -> None:
    seen: dict[str, str] = {}
    for name, arm in config.arm.items():
        if not arm.rows:
            raise ConfigError(f"{path}: arm.{name}.rows is empty (expected the rows of its seeds)")
        for row in arm.rows:
            if row in seen:
                raise ConfigError(f"{path}: row {row!r} is in arm.{seen[row]} and arm.{name}")
            seen[row] = name
    named = [name for c in config.comparison for name in (c.reference, *c.arms)]
    unknown = sorted({name for name in named if name not in config.arm})
    if unknown:
        raise ConfigError(f"{path}: comparison names {unknown}, not arms (arms: {', '.join(config.arm)})")
    for c in (c for c in config.comparison if c.paired):
        runs = len(config.arm[c.reference].rows)
        uneven = [n for n in c.arms or config.arm if len(config.arm[n].rows) != runs]
        if uneven:
            raise ConfigError(
                f"{path}: paired comparison with {c.reference!r}: arms {uneven} have another number of "
                f"rows than its {runs} (expected its runs, one for one)"
            )
    if not 0 < config.level < 1:
        raise ConfigError(f"{path}: level = {config.level} (expected a coverage between 0 and 1)")


@dataclass(frozen=True)
class ArmSummary:
    """An arm's runs: mean, standard deviation and t interval of the mean (nan with one run)."""

    n: int
    mean: float
    sd: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmDifference:
    """Arm minus reference arm: the difference of means and its interval (``method`` says which)."""

    difference: float
    low: float
    high: float
    df: float
    method: str


def summarise_arm(scores: np.ndarray, level: float = DEFAULT_LEVEL) -> ArmSummary:
    scores = np.asarray(scores, dtype=np.float64)
    n, mean = scores.size, float(scores.mean())
    if n < 2:
        return ArmSummary(n, mean, math.nan, math.nan, math.nan)
    sd = float(scores.std(ddof=1))
    half = _t_quantile(level, n - 1) * sd / math.sqrt(n)
    return ArmSummary(n, mean, sd, mean - half, mean + half)


def arm_difference(scores: np.ndarray, reference: np.ndarray, level: float = DEFAULT_LEVEL) -> ArmDifference:
    """Welch's t interval of mean(scores) - mean(reference); a one-run side counts as a fixed point
    (its seed noise unknown), and with one run on each side there is no interval."""
    a, b = np.asarray(scores, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    difference = float(a.mean() - b.mean())
    parts = [(x.var(ddof=1) / x.size, x.size - 1) for x in (a, b) if x.size > 1]
    if not parts:
        return ArmDifference(difference, math.nan, math.nan, math.nan, "none: one run on each side")
    se2 = sum(v for v, _ in parts)
    df = se2**2 / sum(v**2 / d for v, d in parts) if se2 > 0 else float(sum(d for _, d in parts))
    half = _t_quantile(level, df) * math.sqrt(se2)
    method = "welch" if len(parts) == 2 else "one-sample: the one-run side taken as fixed"
    return ArmDifference(difference, difference - half, difference + half, df, method)


def paired_difference(
    scores: np.ndarray, reference: np.ndarray, level: float = DEFAULT_LEVEL
) -> ArmDifference:
    """Student's t interval of the mean of the per-run differences ``scores - reference`` (run i
    with run i); with one pair there is no interval."""
    differences = np.asarray(scores, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    summary = summarise_arm(differences, level)
    method = "paired: runs one for one" if summary.n > 1 else "none: one pair"
    return ArmDifference(summary.mean, summary.low, summary.high, float(summary.n - 1) or math.nan, method)


def _t_quantile(level: float, df: float) -> float:
    return float(_scipy_stats.t.ppf(0.5 + level / 2, df))


def check_rows(config: ArmsConfig, scores: dict[str, float], where: str) -> None:
    """Refuse arms naming rows the results lack, or rows without a J&F (``scores``: label -> J&F,
    NaN where a record has none; ``where``: the arms file, for the message)."""
    labels = list(scores)
    missing = [row for arm in config.arm.values() for row in arm.rows if row not in scores]
    if missing:
        raise ConfigError(f"{where}: rows {missing} are not in the results (rows: {', '.join(labels)})")
    unscored = [
        (name, row) for name, arm in config.arm.items() for row in arm.rows if math.isnan(scores[row])
    ]
    if unscored:
        name, row = unscored[0]
        raise ConfigError(
            f"{where}: arm {name!r} row {row!r} has no J&F in its record (null or missing); leave it out"
        )


def arm_scores(config: ArmsConfig, scores: dict[str, float], where: str) -> dict[str, np.ndarray]:
    """Each arm's J&F per run from ``scores`` (label -> J&F); refuses a row the results lack
    (``where``: the arms file, for the message)."""
    check_rows(config, scores, where)
    return {name: np.array([scores[row] for row in arm.rows]) for name, arm in config.arm.items()}


def compare_arms(config: ArmsConfig, scores: dict[str, float], where: str = "arms") -> dict[str, Any]:
    """Every arm summarised, and every arm against each reference arm (JSON-ready, rounded)."""
    by_arm = arm_scores(config, scores, where)
    arms = {
        name: {
            "description": config.arm[name].description,
            "rows": dict(zip(config.arm[name].rows, _rounded(values), strict=True)),
            **_rounded_fields(summarise_arm(values, config.level)),
        }
        for name, values in by_arm.items()
    }
    differences = [
        _difference_row(
            name,
            c.reference,
            (paired_difference if c.paired else arm_difference)(
                by_arm[name], by_arm[c.reference], config.level
            ),
        )
        for c in config.comparison
        for name in (c.arms or by_arm)
        if name != c.reference
    ]
    return {"level": config.level, "arms": arms, "differences": differences}


def _difference_row(name: str, reference: str, difference: ArmDifference) -> dict[str, Any]:
    no_interval = math.isnan(difference.low)
    verdict = "no interval" if no_interval else interval_verdict(difference.low, difference.high)
    return {"arm": name, "reference": reference, **_rounded_fields(difference), "verdict": verdict}


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in values]


def _rounded_fields(obj: ArmSummary | ArmDifference) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else round(v, 2) if isinstance(v, float) else v)
        for k, v in obj.__dict__.items()
    }


def arms_tables(result: dict[str, Any], caption: str) -> tuple[Table, Table]:
    """``compare_arms``'s result as two tables: the arms, and the differences between them."""
    arms = result["arms"]
    per_arm = pd.DataFrame(
        {
            "Arm": list(arms),
            "Runs": [a["n"] for a in arms.values()],
            "J&F (mean)": [a["mean"] for a in arms.values()],
            "SD": [_nan(a["sd"]) for a in arms.values()],
            "CI low": [_nan(a["low"]) for a in arms.values()],
            "CI high": [_nan(a["high"]) for a in arms.values()],
            "Runs' J&F": [", ".join(f"{v:.2f}" for v in a["rows"].values()) for a in arms.values()],
        }
    )
    rows = result["differences"]
    differences = pd.DataFrame(
        {
            "Arm": [r["arm"] for r in rows],
            "Minus": [r["reference"] for r in rows],
            "ΔJ&F": [r["difference"] for r in rows],
            "Δ CI low": [_nan(r["low"]) for r in rows],
            "Δ CI high": [_nan(r["high"]) for r in rows],
            "df": [_nan(r["df"]) for r in rows],
            "Interval": [r["method"] for r in rows],
            "Verdict": [r["verdict"] for r in rows],
        }
    )
    two = {"J&F (mean)": 2, "SD": 2, "CI low": 2, "CI high": 2, "Runs": 0}
    return (
        Table(
            "arms",
            f"{caption}: arms of training runs",
            per_arm,
            decimals=two,
            better={"J&F (mean)": "higher"},
        ),
        Table(
            "arm_differences",
            f"{caption}: differences between arms",
            differences,
            decimals={"ΔJ&F": 2, "Δ CI low": 2, "Δ CI high": 2, "df": 1},
        ),
    )


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
