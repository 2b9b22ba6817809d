"""Training/evaluation presets, read from presets.toml next to this file.

A preset is data (a frozen dataclass) so that the trainer, the propagator and
the result identity all read the same numbers; the learning-rate schedule is a
pure function of the preset and the iteration, which is what makes a resumed
run identical to a straight one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import from_dict, load_toml
from ..errors import ConfigError

PRESETS_FILE = Path(__file__).with_name("presets.toml")


@dataclass(frozen=True)
class Preset:
    name: str
    iterations: int
    batch_size: int
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    lr_milestones: tuple[int, ...] = (400_000, 600_000, 800_000, 1_000_000)  # in samples
    lr_decay: float = 0.5
    gaps: tuple[int, ...] = (2, 5, 8)
    frame_size: tuple[int, int] = (256, 256)  # training crops, (H, W)
    seed: int = 0
    checkpoint_every: int = 1000
    max_side: int | None = None  # evaluation: longest side of the network input (None = full size)
    mixed_precision: bool = False  # used only on CUDA

    def __post_init__(self) -> None:
        for field in ("iterations", "batch_size", "checkpoint_every"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not self.gaps or any(g < 1 for g in self.gaps):
            raise ValueError(f"gaps must be a non-empty list of integers >= 1, got {self.gaps}")
        if any(s < 8 for s in self.frame_size):
            raise ValueError(f"frame_size must be at least 8x8, got {self.frame_size}")
        if self.max_side is not None and self.max_side < 16:
            raise ValueError(f"max_side must be >= 16 or absent, got {self.max_side}")


def load_presets(path: str | Path = PRESETS_FILE) -> dict[str, Preset]:
    data = load_toml(path)
    table = data.get("preset")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path}: expected [preset.NAME] tables")
    return {
        name: from_dict(Preset, {"name": name, **body}, f"{path}: preset.{name}")
        for name, body in table.items()
    }


def get_preset(name: str, path: str | Path = PRESETS_FILE) -> Preset:
    presets = load_presets(path)
    if name not in presets:
        raise ConfigError(f"unknown preset {name!r}; {path} defines: {', '.join(sorted(presets))}")
    return presets[name]


def learning_rate(preset: Preset, iteration: int) -> float:
    """The official step schedule: samples seen so far decide how many halvings apply."""
    samples = iteration * preset.batch_size
    passed = sum(1 for milestone in preset.lr_milestones if samples > milestone)
    return preset.lr * preset.lr_decay**passed
