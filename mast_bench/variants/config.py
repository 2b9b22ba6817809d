"""The frozen, typed description of one MAST variant.

A variant is data: every design choice the paper (or a user) ablates is a
field here, and the model, the trainer and the propagator read these fields
instead of branching on variant names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

ColourSpace = Literal["lab", "rgb"]
# roi:    long-term references located by the two-step ROI search (paper)
# window: long-term references read through a plain window at the same position (no localisation)
# full:   every position of every reference is a candidate (STM-style baseline)
# short:  long-term references are dropped; only short-term ones are read
MemoryKind = Literal["roi", "window", "full", "short"]
Schedule = Literal["official", "first-short", "previous"]
OffsetHandling = Literal["official", "fixed"]
AffinityScale = Literal["unit", "inv_sqrt_dim"]
Features = Literal["encoder", "lab-pixels"]


@dataclass(frozen=True)
class VariantConfig:
    name: str
    description: str = ""
    # --- input ---
    colour_space: ColourSpace = "lab"
    channel_dropout: bool = True
    # features: the trained encoder, or the training-free lower bound (normalised
    # colour pixels at stride 4)
    features: Features = "encoder"
    # --- memory read ---
    memory: MemoryKind = "roi"
    train_radius: int = 6  # short-term window radius in training (P = 13)
    test_radius: int = 12  # short-term window / ROI radius at test (P = 25)
    coarse_radius: int = 12  # coarse ROI search grid radius (25 x 25)
    long_term_gap: int = 15  # a reference is long-term when t - ref > long_term_gap
    max_dilation: int = 4  # d = min(max_dilation, gap // long_term_gap + 1)
    # dilations the coarse search may use: the rule's d is replaced by the largest
    # allowed value <= d (or the smallest allowed one when none is <= d)
    dilation_set: tuple[int, ...] = (2, 3, 4)
    schedule: Schedule = "official"
    offset_bug: OffsetHandling = "fixed"
    affinity_scale: AffinityScale = "unit"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a variant needs a name")
        for field in ("train_radius", "test_radius", "coarse_radius", "long_term_gap", "max_dilation"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")
        if not self.dilation_set or any(d < 1 for d in self.dilation_set):
            raise ValueError(
                f"dilation_set must be a non-empty list of integers >= 1, got {self.dilation_set}"
            )
        object.__setattr__(self, "dilation_set", tuple(sorted(set(self.dilation_set))))

    def replace(self, **changes) -> VariantConfig:
        return dataclasses.replace(self, **changes)
