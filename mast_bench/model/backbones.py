"""ImageNet ResNet trunks with torchvision's module names, the usual baseline of self-supervised trackers.

Modules are named as torchvision's ``resnet18``/``resnet50`` (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0``...), so an official torchvision checkpoint loads strictly once its
classifier ``fc`` and the layers after the chosen one are left out (:func:`torchvision_trunk_state`).
The trunk stops after ``layer{last_layer}``; to reach a finer ``stride`` the strides of the later
layers are set to 1 without dilation, as CRW (``ResNet.modify``) and VFS (``switch_strides``) do
to read layer3 (res4) at stride 8. ResNet-50 strides its 3x3 conv (torchvision's "v1.5").
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .colour import RGB_MEAN, RGB_STD

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WIDTHS = (64, 128, 256, 512)
STEM_STRIDE = 4  # conv1 stride 2, max-pool stride 2
_CLASSIFIER = ("fc.", "avgpool.")


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels)


def _downsample(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), _bn(out_channels)
    )


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, width: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _bn(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = _bn(width)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = _bn(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = _bn(width)
        self.conv3 = nn.Conv2d(width, width * self.expansion, 1, bias=False)
        self.bn3 = _bn(width * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


ARCHITECTURES = {18: (BasicBlock, (2, 2, 2, 2)), 50: (Bottleneck, (3, 4, 6, 3))}


def layer_strides(last_layer: int, stride: int) -> tuple[int, ...]:
    """Strides of layer1..layer{last_layer}: torchvision's (1, 2, 2, 2), the later ones set to 1 once
    the output ``stride`` is reached."""
    natural = STEM_STRIDE * 2 ** (last_layer - 1)
    if not 1 <= last_layer <= 4 or stride < STEM_STRIDE or stride > natural or stride & (stride - 1):
        raise ValueError(
            f"layer{last_layer} can give output stride 4..{natural} (a power of 2), not {stride}"
        )
    strides, reached = [], STEM_STRIDE
    for index in range(last_layer):
        step = 2 if index > 0 and reached < stride else 1
        strides.append(step)
        reached *= step
    return tuple(strides)


class ResNetTrunk(nn.Module):
    """torchvision ResNet-18/50 up to ``layer{last_layer}`` at output ``stride``; takes the project's
    RGB input (``colour_space="rgb"``) and applies ImageNet's normalisation itself."""

    def __init__(self, depth: int, last_layer: int = 3, stride: int = 8) -> None:
        super().__init__()
        if depth not in ARCHITECTURES:
            raise ValueError(f"ResNet depth must be one of {sorted(ARCHITECTURES)}, got {depth}")
        block, counts = ARCHITECTURES[depth]
        self.stride = stride
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for index, step in enumerate(layer_strides(last_layer, stride)):
            width, natural_step = WIDTHS[index], 1 if index == 0 else 2
            out_channels = width * block.expansion
            # torchvision decides on a downsample branch from the unmodified stride
            needs_branch = natural_step != 1 or channels != out_channels
            branch = _downsample(channels, out_channels, step) if needs_branch else None
            blocks = [block(channels, width, step, branch)]
            blocks += [block(out_channels, width, 1, None) for _ in range(counts[index] - 1)]
            self.add_module(f"layer{index + 1}", nn.Sequential(*blocks))
            channels = out_channels
        self.last_layer = last_layer
        self.out_channels = channels
        scale = torch.tensor(RGB_STD) / torch.tensor(IMAGENET_STD)
        shift = (torch.tensor(RGB_MEAN) - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
        self.register_buffer("input_scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("input_shift", shift.view(1, 3, 1, 1), persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(B,3,H,W) RGB normalised as ``prepare_frame(..., "rgb")`` -> (B,C,ceil(H/s),ceil(W/s))."""
        # ((x*std + mean) - imagenet mean) / imagenet std
        return self.imagenet_forward(frames * self.input_scale + self.input_shift)

    def imagenet_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk on input already normalised as torchvision's ImageNet models take it."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(1, self.last_layer + 1):
            x = getattr(self, f"layer{index}")(x)
        return x


# CRW's start-up passes (ajabri/videowalk): code/model.py:35-40 infer_dims runs a 1x3x256x256 zero
# image, code/test.py:23 infer_downscale a batch of 10 zero images of 320x320, both in training mode
CRW_STARTUP_BATCHES = ((1, 3, 256, 256), (10, 3, 320, 320))


def crw_startup_statistics(trunk: ResNetTrunk) -> None:
    """Leave the BatchNorm running statistics as CRW's start-up does: the zero images (zeros of the
    normalised input) through the trunk in training mode, one momentum update per pass."""
    was_training = trunk.training
    parameter = next(trunk.parameters())
    trunk.train()
    with torch.no_grad():
        for shape in CRW_STARTUP_BATCHES:
            trunk.imagenet_forward(torch.zeros(shape, dtype=parameter.dtype, device=parameter.device))
    trunk.train(was_training)


def torchvision_trunk_state(state: Mapping[str, torch.Tensor], trunk: ResNetTrunk) -> dict[str, torch.Tensor]:
    """A torchvision ResNet state dict restricted to what ``trunk`` holds: the classifier and the
    layers after ``trunk.last_layer`` dropped. Files older than BatchNorm's ``num_batches_tracked``
    buffer get it (unused in eval). Everything else is left for the strict load to check."""
    dropped = _CLASSIFIER + tuple(f"layer{n}." for n in range(trunk.last_layer + 1, 5))
    kept = {k: v for k, v in state.items() if not k.startswith(dropped)}
    for key, buffer in trunk.state_dict().items():
        running_mean = key.removesuffix("num_batches_tracked") + "running_mean"
        if key.endswith("num_batches_tracked") and key not in kept and running_mean in kept:
            kept[key] = torch.zeros_like(buffer)
    return kept
