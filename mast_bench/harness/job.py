"""What one benchmark job is: configs and paths only, so it travels to any worker unchanged.

A job carries the frozen variant, protocol and preset configs themselves (never their names): a
variant made at run time, read from a TOML file or from a plugin runs the same in this process,
in the isolated worker, under joblib, Dask and submitit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..data.detect import DATASET_KINDS, DatasetKind
from ..data.splits import DataSpec
from ..errors import ConfigError
from ..max_side import check_route_max_side
from ..protocols import ProtocolConfig, default_protocol
from ..results import DEFAULT_RESULTS
from ..variants.config import VariantConfig
from .presets import Preset

__all__ = ["DATASET_KINDS", "PRESET_MAX_SIDE", "DataSpec", "DatasetKind", "Job", "check_protocol_size"]

PRESET_MAX_SIDE = "preset"


@dataclass(frozen=True)
class Job:
    variant: VariantConfig
    preset: Preset  # training preset (used when the variant is trained) and default evaluation size
    data: DataSpec = DataSpec()
    protocol: ProtocolConfig | None = None  # None: the default protocol (MAST's own)
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
            object.__setattr__(self, "protocol", default_protocol())
        check_protocol_size(self.protocol, self.evaluation_max_side())

    def evaluation_max_side(self) -> int | None:
        return self.preset.max_side if self.max_side == PRESET_MAX_SIDE else self.max_side


def check_protocol_size(protocol: ProtocolConfig, max_side: int | None) -> None:
    """Refuse a ``max_side`` the protocol's resize route would exceed, before any work (ConfigError)."""
    try:
        check_route_max_side(protocol.route.size, max_side)
    except ValueError as exc:
        raise ConfigError(f"protocol {protocol.name}: {exc}") from None
