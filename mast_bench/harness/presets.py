"""Training recipes (a chain of stages) and evaluation settings, read from presets.toml next to this file.

A preset is data: ``Preset(name, stages, seed, max_side)``, each stage a frozen :class:`TrainStage`
(what it samples, how long, at which learning rate). The trainer, the propagator and the result
identity all read the same numbers; the learning-rate schedule is a pure function of the stage and
the iteration, which is what makes a resumed run identical to a straight one.

In TOML a preset is ``[preset.NAME]`` (seed, max_side) with one ``[[preset.NAME.stage]]`` table per
stage, in order; a preset written as a single flat table (the older format) is one "pairs" stage.
A preset with ``base = "cpu"`` starts from that preset (another table of its file or a known
one): its own keys replace the base's, and its stage tables, if it has any, replace the base's
stages. A stage table with ``base = "pairs"`` is that stage (an earlier one of its own preset, else
the base preset's) with some keys changed. A derived preset is the same :class:`Preset` as one
written out in full, so every identity computed from it is the same too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ..config import OMIT_DEFAULT, check_name, did_you_mean, from_dict, to_dict
from ..errors import ConfigError
from ..max_side import check_max_side
from ..registry import Lookup, Registry, Tables, base_of

PRESETS_FILE = Path(__file__).with_name("presets.toml")

# pairs:    one reference, the official loader's epochs (one gap per clip and epoch, disjoint pairs)
# memory:   several references read through the memory as at test time: short-term ones at fixed
#           distances before the target and long-term ones (read through the ROI step) at
#           distances drawn per batch
# schedule: the test-time reference schedule: anchor frames of the clip (0 and 5) and short-term
#           references before a target whose frame is drawn per batch
Sampling = Literal["pairs", "memory", "schedule"]


MAX_SEED = 2**63 - 1  # what every generator seeded from it takes (torch, NumPy's SeedSequence)
MAX_FRAME_SIDE = 4096  # a training crop larger than a 4K frame is a typo, not a preset (the paper: 256)


def check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be >= 0 and <= 2**63 - 1, got {seed}")


@dataclass(frozen=True)
class TrainStage:
    name: str
    iterations: int
    batch_size: int
    lr: float
    sampling: Sampling = "pairs"
    betas: tuple[float, float] = (0.9, 0.999)
    lr_milestones: tuple[int, ...] = (400_000, 600_000, 800_000, 1_000_000)  # in samples of this stage
    lr_decay: float = 0.5
    frame_size: tuple[int, int] = (256, 256)  # training frames, (H, W): the whole frame resized
    gaps: tuple[int, ...] = (2, 5, 8)  # pairs: the official gaps (weights 0.4/0.4/0.2 when these)
    short_term: tuple[int, ...] = (1, 3, 5)  # memory: distances (frames) of the short-term references
    long_term: int = 0  # memory: how many long-term references
    long_term_range: tuple[int, int] = (16, 45)  # memory: their distances, drawn per batch
    anchors: tuple[int, ...] = (0, 5)  # schedule: the clip's frames always in memory
    target_range: tuple[int, int] = (20, 80)  # schedule: the target's frame, drawn per batch
    checkpoint_every: int = 1000
    mixed_precision: bool = False  # bf16 autocast, CUDA only
    channels_last: bool = False  # CUDA only: the encoder's convolutions in NHWC
    cache_frames: bool = False  # keep every prepared frame in memory (exact: the same values)
    # this stage's own seed for what it samples (frames, channel dropout); None: derived from the
    # preset's seed and the stage's place. Replicates of a later stage branch off one first stage.
    seed: int | None = field(default=None, metadata={OMIT_DEFAULT: True})
    # steps of this stage whose encoder calls re-estimate the BatchNorm statistics of what the stage
    # keeps for evaluation (its final checkpoint, its snapshots): precise BN (harness.precise_bn).
    # 0: the running averages as trained, which remember only the last few steps
    precise_bn: int = field(default=0, metadata={OMIT_DEFAULT: True})

    def __post_init__(self) -> None:
        check_name(self.name, "stage name")
        for name in ("iterations", "batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.precise_bn < 0:
            raise ValueError(f"precise_bn must be >= 0 (steps; 0: off), got {self.precise_bn}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if not all(0 <= beta < 1 for beta in self.betas):
            raise ValueError(f"betas must be in [0, 1), got {self.betas}")
        if not (self.lr_decay > 0 and math.isfinite(self.lr_decay)):
            raise ValueError(f"lr_decay must be a finite number > 0, got {self.lr_decay}")
        if any(m < 0 for m in self.lr_milestones):
            raise ValueError(f"lr_milestones are sample counts >= 0, got {self.lr_milestones}")
        if self.seed is not None:
            check_seed(self.seed)
        if not self.gaps or any(g < 1 for g in self.gaps):
            raise ValueError(f"gaps must be a non-empty list of integers >= 1, got {self.gaps}")
        if any(not 8 <= s <= MAX_FRAME_SIDE for s in self.frame_size):
            raise ValueError(f"frame_size must be 8 to {MAX_FRAME_SIDE} a side, got {self.frame_size}")
        if self.sampling == "memory":
            self._check_memory()
        if self.sampling == "schedule":
            self._check_schedule()

    def _check_memory(self) -> None:
        if any(d < 1 for d in self.short_term) or len(set(self.short_term)) != len(self.short_term):
            raise ValueError(f"short_term must be distinct distances >= 1, got {self.short_term}")
        if self.long_term and self.short_term and self.long_term_range[0] <= max(self.short_term):
            raise ValueError(
                f"long_term_range {self.long_term_range} must start beyond the short-term "
                f"distances {self.short_term}"
            )
        low, high = self.long_term_range
        if self.long_term < 0 or (self.long_term and not 1 <= low <= high):
            raise ValueError(
                f"long_term must be >= 0 and long_term_range [low, high] with 1 <= low <= high, "
                f"got {self.long_term} and {self.long_term_range}"
            )
        if self.long_term > high - low + 1:
            raise ValueError(
                f"{self.long_term} long-term references need {self.long_term} distances in "
                f"{self.long_term_range}"
            )
        if not self.short_term and not self.long_term:
            raise ValueError("a memory stage needs at least one reference (short_term or long_term)")

    def _check_schedule(self) -> None:
        low, high = self.target_range
        if not self.anchors or any(a < 0 for a in self.anchors) or not max(self.anchors) < low <= high:
            raise ValueError(
                f"a schedule stage needs anchors >= 0 before target_range [low, high], got "
                f"anchors {self.anchors} and target_range {self.target_range}"
            )

    @property
    def references(self) -> int:
        """References per sample (a schedule stage: the most it reads)."""
        if self.sampling == "pairs":
            return 1
        return len(self.short_term) + (self.long_term if self.sampling == "memory" else len(self.anchors))


@dataclass(frozen=True)
class Preset:
    name: str
    stages: tuple[TrainStage, ...]
    seed: int = 0
    max_side: int | None = None  # evaluation: longest side of the network input (None = full size)
    snapshots: tuple[float, ...] = ()  # fractions of all iterations whose weights are kept (0 = initial)

    def __post_init__(self) -> None:
        check_name(self.name, "preset name")
        if any(not 0 <= f <= 1 for f in self.snapshots):
            raise ValueError(f"snapshots are fractions of the run in [0, 1], got {self.snapshots}")
        if not self.stages:
            raise ValueError("a preset needs at least one [[preset.NAME.stage]]")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must differ, got {names}")
        check_max_side(self.max_side)
        check_seed(self.seed)

    @property
    def iterations(self) -> int:
        return self.iterations_of_first(len(self.stages))

    def iterations_of_first(self, count: int) -> int:
        """The iterations of the first ``count`` stages: the global iteration the next one starts at."""
        return sum(stage.iterations for stage in self.stages[:count])


_PRESET_KEYS = {f.name for f in fields(Preset)} - {"stages", "name"}  # the table's name is the preset's


def parse_preset(name: str, body: dict[str, Any], where: str, lookup: Lookup | None = None) -> Preset:
    """One ``[preset.NAME]`` table: preset keys plus ``[[stage]]`` tables, or one flat "pairs" stage,
    or ``base = "..."`` and what differs from that preset (``lookup`` finds it)."""
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected a table")
    misplaced = sorted({"name", "stages"} & set(body))
    if misplaced:
        raise ConfigError(
            f"{where}: unknown key {misplaced[0]!r} (a preset is named by its table, [preset.NAME], and its "
            f"stages are [[preset.{name}.stage]] tables)"
        )
    if "base" in body:
        return _derived_preset(name, body, where, lookup or get_preset)
    if "stage" not in body:  # the flat format: everything that is not a preset key is the stage
        stage = {"name": "pairs", **{k: v for k, v in body.items() if k not in _PRESET_KEYS}}
        body = {**{k: v for k, v in body.items() if k in _PRESET_KEYS}, "stage": [stage]}
    rest = {k: v for k, v in body.items() if k != "stage"}
    _refuse_unknown_keys(rest, where, "stage")
    parsed = _stages(_stage_tables(body, name, where), None, where)
    return from_dict(Preset, {"name": name, **rest, "stages": parsed}, where)


def _derived_preset(name: str, body: dict[str, Any], where: str, lookup: Lookup) -> Preset:
    base = base_of(body, where, lookup, "preset", "cpu")
    rest = {k: v for k, v in body.items() if k not in ("base", "stage")}
    _refuse_unknown_keys(
        rest, where, "base", f" (a preset with a base changes its stages in [[preset.{name}.stage]] tables)"
    )
    stages = base.stages
    if "stage" in body:
        stages = _stages(_stage_tables(body, name, where), base, where)
    inherited = {k: v for k, v in to_dict(base).items() if k not in ("name", "stages")}
    return from_dict(Preset, {**inherited, **rest, "name": name, "stages": stages}, where)


def _refuse_unknown_keys(table: dict[str, Any], where: str, other: str, why: str = "") -> None:
    """A preset table's keys are the preset's own and ``other`` (its stage tables, or its base)."""
    unknown = sorted(set(table) - _PRESET_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], _PRESET_KEYS)
        allowed = ", ".join(sorted(_PRESET_KEYS | {other}))
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}{why}; allowed: {allowed}")


def _stage_tables(body: dict[str, Any], name: str, where: str) -> list[Any]:
    stages = body["stage"]
    if not isinstance(stages, list) or not stages:
        raise ConfigError(f"{where}.stage: expected one or more [[preset.{name}.stage]] tables")
    return stages


def _stages(tables: list[Any], base: Preset | None, where: str) -> tuple[TrainStage, ...]:
    """``[[stage]]`` tables in order: each written out in full, or ``base = "NAME"``: an earlier
    stage of this preset, else a stage of the base preset, with the table's other keys over it."""
    known = {s.name: s for s in (base.stages if base is not None else ())}
    made: list[TrainStage] = []
    for i, table in enumerate(tables):
        made.append(_stage(table, known, f"{where}.stage[{i}]"))
        known[made[-1].name] = made[-1]
    return tuple(made)


def _stage(table: Any, known: dict[str, TrainStage], where: str) -> TrainStage:
    if not isinstance(table, dict) or "base" not in table:
        return from_dict(TrainStage, table, where)
    name = table["base"]
    if not isinstance(name, str) or name not in known:
        raise ConfigError(
            f"{where}.base: no stage {name!r} to start from; expected an earlier stage of this "
            f"preset or one of its base preset's: {', '.join(known) or '(none)'}"
        )
    overrides = {k: v for k, v in table.items() if k != "base"}
    return from_dict(TrainStage, {**to_dict(known[name]), **overrides}, where)


def load_presets(path: str | Path = PRESETS_FILE) -> dict[str, Preset]:
    return {preset.name: preset for preset in PRESETS.read_toml(path)}


def get_preset(name: str, path: str | Path | None = None) -> Preset:
    """The preset ``name``: from ``path``'s tables first when given, else the registry (presets.toml,
    ``mast_bench.presets`` plugins)."""
    return (PRESETS if path is None else PRESETS.with_files([path])).get(name)


PRESETS: Registry[Preset] = Registry(
    "preset",
    Preset,
    entry_points="mast_bench.presets",
    builtins=lambda: load_presets(PRESETS_FILE).values(),
    tables=Tables("preset", parse_preset),
)


def learning_rate(stage: TrainStage, iteration: int) -> float:
    """The official step schedule: samples seen so far in the stage decide how many halvings apply."""
    samples = iteration * stage.batch_size
    passed = sum(1 for milestone in stage.lr_milestones if samples > milestone)
    return stage.lr * stage.lr_decay**passed
