"""The frozen, typed description of one MAST variant.

A variant is data: every design choice the paper (or a user) ablates is a
field here, and the model, the trainer and the propagator read these fields
instead of branching on variant names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ..config import check_name

ColourSpace = Literal["lab", "rgb"]
# roi:    long-term references located by the two-step ROI search (paper)
# window: long-term references read through a plain window at the same position (no localisation)
# full:   every position of every reference is a candidate (STM-style baseline)
# short:  long-term references are dropped; only short-term ones are read
MemoryKind = Literal["roi", "window", "full", "short"]
Schedule = Literal["official", "first-short", "previous"]
OffsetHandling = Literal["official", "fixed"]
AffinityScale = Literal["unit", "inv_sqrt_dim"]
# batch: BatchNorm in training mode while training (official); frozen: BatchNorm layers keep their
# running statistics and act as fixed affine maps in training (LIIR's "freeze BN can also help")
TrainBatchNorm = Literal["batch", "frozen"]
# encoder: MAST's trained ResNet-18 at stride 4; lab-pixels: the training-free lower bound
# (normalised colour pixels at stride 4); resnet18/resnet50: a torchvision ImageNet trunk read at
# layer ``trunk_layer`` and output stride ``trunk_stride``, weights from a checkpoint file
Features = Literal["encoder", "lab-pixels", "resnet18", "resnet50"]
# BatchNorm statistics of a trunk: as its checkpoint file has them, or as CRW's start-up leaves them
# (code/model.py:22,35-40 infer_dims and code/test.py:23 infer_downscale run zero images through the
# encoder in training mode before model.eval(): two momentum-0.1 updates of the running statistics,
# which CRW's ImageNet baseline, loaded from no checkpoint of its own, keeps)
TrunkBatchNorm = Literal["as-loaded", "crw-startup"]
TRUNK_FEATURES = ("resnet18", "resnet50")
# torchvision layerN -> its natural output stride (conv1 2 x max-pool 2, then layer2..4 halve)
TRUNK_NATURAL_STRIDE = {1: 4, 2: 8, 3: 16, 4: 32}
# the valid range of each integer field (inclusive). A window of radius 64 (129 x 129 candidates per
# pixel) already spans a 480p frame at stride 4 (120 x 214); a dilation of 16 times such a radius
# reads far outside it; a gap is a number of frames.
RANGES = {
    "train_radius": (1, 64),
    "test_radius": (1, 64),
    "coarse_radius": (1, 64),
    "long_term_gap": (1, 10_000),
    "max_dilation": (1, 16),
}
DILATION_RANGE = (1, 16)
NAMING_FIELDS = ("name", "description")  # what a variant is called, not what it computes
# Fields training never reads (the test window and the test-time reference schedule; the name and
# its prose): variants that differ in these alone train the same weights, and share them.
TEST_TIME_FIELDS = (*NAMING_FIELDS, "test_radius", "schedule")
# Fields only the long-term read uses (which references are long-term, the coarse search, its
# dilations, the offset handling): a training whose stages all sample pairs never reads them, nor
# the memory kind unless it is "full" (harness.train_identity.as_trained).
LONG_TERM_FIELDS = ("long_term_gap", "coarse_radius", "max_dilation", "dilation_set", "offset_bug")


@dataclass(frozen=True)
class VariantConfig:
    name: str
    description: str = ""
    # --- input ---
    colour_space: ColourSpace = "lab"
    channel_dropout: bool = True
    features: Features = "encoder"
    # trunk features: the output of torchvision's layer{trunk_layer} (res{trunk_layer + 1} in the
    # papers' numbering), the strides of the layers past trunk_stride set to 1 (no dilation), as
    # CRW and VFS read res4 (layer3) at stride 8
    trunk_layer: int = 3
    trunk_stride: int = 8
    trunk_batchnorm: TrunkBatchNorm = "as-loaded"
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
    # --- training ---
    train_batchnorm: TrainBatchNorm = "batch"

    def __post_init__(self) -> None:
        check_name(self.name, "variant name")
        for field, (low, high) in RANGES.items():
            if not low <= getattr(self, field) <= high:
                raise ValueError(f"{field} must be >= {low} and <= {high}, got {getattr(self, field)}")
        low, high = DILATION_RANGE
        if not self.dilation_set or any(not low <= d <= high for d in self.dilation_set):
            raise ValueError(
                f"dilation_set must be a non-empty list of integers >= {low} and <= {high}, "
                f"got {self.dilation_set}"
            )
        object.__setattr__(self, "dilation_set", tuple(sorted(set(self.dilation_set))))
        self._check_trunk()

    def _check_trunk(self) -> None:
        if self.features not in TRUNK_FEATURES:
            defaults = {f.name: f.default for f in dataclasses.fields(self) if f.name.startswith("trunk_")}
            changed = [name for name, default in defaults.items() if getattr(self, name) != default]
            if changed:
                raise ValueError(
                    f"{changed[0]} only applies to features {' or '.join(TRUNK_FEATURES)}, "
                    f"not {self.features!r}"
                )
            return
        if self.trunk_layer not in TRUNK_NATURAL_STRIDE:
            raise ValueError(f"trunk_layer must be 1, 2, 3 or 4 (torchvision layerN), got {self.trunk_layer}")
        natural = TRUNK_NATURAL_STRIDE[self.trunk_layer]
        allowed = [s for s in (4, 8, 16, 32) if s <= natural]
        if self.trunk_stride not in allowed:
            raise ValueError(
                f"trunk_stride of layer{self.trunk_layer} must be one of {allowed} (its natural stride "
                f"is {natural}; later strides are set to 1), got {self.trunk_stride}"
            )
        if self.colour_space != "rgb":
            raise ValueError(
                f"features {self.features!r} take RGB input (ImageNet-normalised inside the trunk): "
                f"set colour_space = 'rgb', got {self.colour_space!r}"
            )

    @property
    def pretrained_features(self) -> bool:
        """Features whose weights come from a checkpoint file only (an ImageNet trunk), never from
        MAST's self-supervised training."""
        return self.features in TRUNK_FEATURES

    def replace(self, **changes) -> VariantConfig:
        return dataclasses.replace(self, **changes)
