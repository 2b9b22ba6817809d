"""Label maps between the frame and the feature grid, each rule written once.

- which pixels of an annotation are the objects taken from it (void and other ids: background);
- the one-hot values a frame stores on the feature grid (top-left sample per cell as the official
  ``labels[:, :, ::4, ::4]``, or the bilinear / nearest resampling of other trackers);
- scores back to labels: bilinear upsampling (half-pixel centres), optional per-channel min-max,
  argmax;
- label maps at another size (nearest), for the network's smaller input, and back to the frame's
  size by the nearest rule of PIL or of OpenCV (the protocols' resize routes).

The read policies (policy.py, context.py) and the propagation core (inference.py) import these;
nothing here imports them, so the core and the policies never import each other.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

MINMAX_EPS = 1e-12  # VFS's guard against a constant channel


def keep_objects(labels: np.ndarray, ids: Iterable[int]) -> np.ndarray:
    """``labels`` with every id outside ``ids`` (void 255, objects started earlier) set to 0."""
    labels = np.asarray(labels)
    return np.where(np.isin(labels, list(ids)), labels, 0).astype(labels.dtype, copy=False)


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An (H, W) uint8 label map at ``size`` = (h, w): PIL's nearest (the harness's rule since v0.1)."""
    if labels.shape == tuple(size):
        return labels
    return np.asarray(Image.fromarray(labels).resize((size[1], size[0]), Image.NEAREST))


def sample_labels(channels: Tensor, count: int, grid: tuple[int, int], stride: int, mode: str) -> Tensor:
    """(H,W) channel indices -> (1,count,h,w) label values on the feature grid, as ``mode`` says:
    top-left (the top-left pixel of each stride x stride cell), bilinear or nearest (PIL's)."""
    if mode == "top-left":  # sample first, then one-hot: the same values for a fraction of the memory
        sampled = _one_hot(channels[::stride, ::stride], count)
    elif mode == "bilinear":
        sampled = F.interpolate(_one_hot(channels, count), grid, mode="bilinear", align_corners=False)
    elif mode == "nearest":
        rows, cols = (
            _nearest_sources(n, m, channels.device) for n, m in zip(channels.shape, grid, strict=True)
        )
        sampled = _one_hot(channels[rows][:, cols], count)
    else:
        raise ValueError(f"unknown label sampling {mode!r}; expected top-left, bilinear or nearest")
    if tuple(sampled.shape[-2:]) != tuple(grid):
        raise ValueError(
            f"labels {tuple(channels.shape)} at stride {stride} give {tuple(sampled.shape[-2:])}, not {grid}"
        )
    return sampled


def _one_hot(channels: Tensor, count: int) -> Tensor:
    return F.one_hot(channels.long(), count).permute(2, 0, 1).unsqueeze(0).float()


def _nearest_sources(size: int, samples: int, device) -> Tensor:
    """Source pixel of each sample, PIL's NEAREST resize (ImagingScaleAffine): the centre of sample 0 at
    step / 2, each next one ``step`` further by double additions in order, truncated. The running sum
    is not (i + 0.5) * step: for some sizes (320 -> 112) the two pick another pixel."""
    step = size / samples
    centres = np.add.accumulate(np.concatenate([[step * 0.5], np.full(samples - 1, step)]))
    return torch.from_numpy(centres.astype(np.int64)).clamp(max=size - 1).to(device)


def _cv2_nearest_sources(size: int, samples: int, device) -> Tensor:
    """Source pixel of each sample, cv2.resize INTER_NEAREST: floor(i * (1 / (samples / size))), in
    double as OpenCV computes it (no half-pixel centres: the top-left pixel of each cell)."""
    inverse_scale = 1.0 / (samples / size)
    positions = torch.arange(samples, dtype=torch.float64, device=device) * inverse_scale
    return positions.floor().long().clamp(max=size - 1)


NEAREST_RULES = {"pil": _nearest_sources, "cv2": _cv2_nearest_sources}


def nearest_labels(labels: Tensor, size: tuple[int, int], rule: str) -> Tensor:
    """An (h, w) label map at ``size`` by PIL's (``"pil"``) or OpenCV's (``"cv2"``) nearest rule."""
    if tuple(labels.shape) == tuple(size):
        return labels
    sources = NEAREST_RULES[rule]
    rows, cols = (sources(n, m, labels.device) for n, m in zip(labels.shape, size, strict=True))
    return labels[rows][:, cols]


def minmax_channels(scores: Tensor) -> Tensor:
    """Each channel of (1,C,H,W) rescaled to [0,1] over the frame where its max is > 0 (VFS, DINO)."""
    flat = scores.flatten(2)
    low, high = flat.amin(dim=2, keepdim=True), flat.amax(dim=2, keepdim=True)
    scaled = (flat - low) / (high - low + MINMAX_EPS)
    return torch.where(high > 0, scaled, flat).view_as(scores)


def upsample_argmax(scores: Tensor, size: tuple[int, int], minmax: bool = False) -> Tensor:
    """Grid scores -> (H,W) channel indices: bilinear (align_corners=False) to ``size``, each channel
    min-max normalised when ``minmax``, argmax."""
    upsampled = F.interpolate(scores, size, mode="bilinear", align_corners=False)
    if minmax:
        upsampled = minmax_channels(upsampled)
    return upsampled.argmax(dim=1)[0]
