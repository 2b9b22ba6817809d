"""What one benchmark job is: configs and paths only, so it travels to any worker unchanged.

A job carries the frozen variant, protocol and preset configs themselves (never their names): a
variant made at run time, read from a TOML file or from a plugin runs the same in this process,
in the isolated worker, under joblib, Dask and submitit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..results import DEFAULT_RESULTS
from ..variants.config import VariantConfig
from .presets import Preset

if TYPE_CHECKING:
    from ..protocols import ProtocolConfig

DatasetKind = Literal["davis", "youtube-vos"]
DATASET_KINDS: tuple[str, ...] = ("davis", "youtube-vos")
PRESET_MAX_SIDE = "preset"


@dataclass(frozen=True)
class DataSpec:
    """The evaluation data: a dataset root of a kind (None: the embedded default of that kind)."""

    kind: DatasetKind = "davis"
    root: str | None = None
    split: str | None = None  # None: the kind's evaluation split (DAVIS val, YouTube-VOS valid)
    sequences: tuple[str, ...] = ()  # empty: the whole split
    seen_meta: str | None = None  # YouTube-VOS: the training meta.json naming the seen categories


@dataclass(frozen=True)
class Job:
    variant: VariantConfig
    preset: Preset  # training preset (used when the variant is trained) and default evaluation size
    data: DataSpec = DataSpec()
    protocol: ProtocolConfig | None = None  # None: MAST's own test-time protocol ("mast")
    results: str = str(DEFAULT_RESULTS)
    checkpoint: str | None = None  # a weights file; None: train with `preset` (or no weights needed)
    random_init: bool = False
    max_side: int | None | Literal["preset"] = PRESET_MAX_SIDE  # network input side; None: full size
    train_data: str | None = None  # None: the embedded training clips, else the evaluation frames
    device: str = "cpu"
    threads: int | None = None  # intra-op threads; None: this process's share of the CPUs
    force: bool = False
    isolate: bool = True  # propagate in a fresh worker process (honest CPU peak memory)
    progress: bool = True
    command: str | None = None

    def __post_init__(self) -> None:
        if self.protocol is None:
            from ..protocols import get_protocol

            object.__setattr__(self, "protocol", get_protocol("mast"))

    def evaluation_max_side(self) -> int | None:
        return self.preset.max_side if self.max_side == PRESET_MAX_SIDE else self.max_side
