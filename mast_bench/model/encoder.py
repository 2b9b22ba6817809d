"""The MAST feature encoder: a ResNet-18 kept at output stride 4, then a 3x3 conv to 64 channels;
and :func:`build_features`, the encoder a variant's ``features`` field asks for.

Module and parameter names follow the official code (``conv1.0``, ``layer1.0.left.3``,
``shortcut.0``...) so official checkpoints load without any key renaming.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..variants.config import VariantConfig
from .backbones import ResNetTrunk

FEATURE_CHANNELS = 64
MAST_STRIDE = 4


class ResidualBlock(nn.Module):
    """BasicBlock with the official attribute names ``left`` (main path) and ``shortcut``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.left = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.left(x)
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNet18Stride4(nn.Module):
    """conv1 7x7/2, no max-pool, layers 64/128(s2)/256/256: output stride 4, 256 channels."""

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
        )
        widths_strides = [(64, 1), (128, 2), (256, 1), (256, 1)]
        channels = 64
        for index, (width, stride) in enumerate(widths_strides, start=1):
            blocks = nn.Sequential(ResidualBlock(channels, width, stride), ResidualBlock(width, width, 1))
            self.add_module(f"layer{index}", blocks)
            channels = width
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)


def make_post_convolution(in_channels: int = 256) -> nn.Conv2d:
    return nn.Conv2d(in_channels, FEATURE_CHANNELS, kernel_size=3, stride=1, padding=1)


@dataclass(frozen=True)
class Features:
    """The modules the MAST module holds as ``feature_extraction`` and ``post_convolution`` (None:
    absent; no extraction at all means the normalised input pixels are the features) and the
    output stride."""

    extraction: nn.Module | None
    post_convolution: nn.Module | None
    stride: int


def build_features(config: VariantConfig) -> Features:
    if config.features == "encoder":
        trunk = ResNet18Stride4(3)
        return Features(trunk, make_post_convolution(trunk.out_channels), MAST_STRIDE)
    if config.features == "lab-pixels":  # training-free baseline: no parameters at all
        return Features(None, None, MAST_STRIDE)
    if config.features in ("resnet18", "resnet50"):
        trunk = ResNetTrunk(
            int(config.features.removeprefix("resnet")), config.trunk_layer, config.trunk_stride
        )
        return Features(trunk, None, trunk.stride)
    raise ConfigError(f"variant {config.name!r}: unknown features {config.features!r}")
