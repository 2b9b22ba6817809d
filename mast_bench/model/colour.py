"""Frame colour transforms: the official Lab input, an RGB alternative, and their normalisation.

Lab goes through OpenCV's own ``cvtColor`` on the float32 image because that is what the
official loader does, and OpenCV (>= 4) evaluates float sRGB->Lab through a trilinear
lookup table: the closed-form CIE formula differs from it by up to 0.19 L units (3.8e-3
after normalisation), enough to flip pixels of a propagated mask. With OpenCV the input
is bit-identical to the official one (checked against the reference outputs).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch

from ..errors import DataError

ColourSpace = Literal["lab", "rgb"]

# Official normalisation: (L - 50) / 50, a / 127, b / 127 (transforms.Normalize([50,0,0],[50,127,127])).
LAB_MEAN = np.array([50.0, 0.0, 0.0], dtype=np.float32)
LAB_STD = np.array([50.0, 127.0, 127.0], dtype=np.float32)
# RGB (no official input mode): [0,1] mapped to [-1,1], the same range the Lab channels take.
RGB_MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
RGB_STD = np.array([0.5, 0.5, 0.5], dtype=np.float32)


def to_float01(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H,W,3) -> float32 / 255 (the official ``np.float32(img) / 255.0``); floats pass through."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3:
        raise DataError(f"expected an RGB frame of shape (H, W, 3), got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    raise DataError(f"expected a uint8 or float RGB frame, got dtype {array.dtype}")


def rgb_to_lab(rgb01: np.ndarray) -> np.ndarray:
    """float32 RGB in [0,1] (H,W,3) -> Lab (L in [0,100], a,b about [-127,127]) exactly as OpenCV."""
    bgr = np.ascontiguousarray(rgb01[..., ::-1], dtype=np.float32)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab)


def normalise(image: np.ndarray, colour_space: ColourSpace) -> np.ndarray:
    mean, std = (LAB_MEAN, LAB_STD) if colour_space == "lab" else (RGB_MEAN, RGB_STD)
    return (image - mean) / std


def prepare_frame(rgb: np.ndarray, colour_space: ColourSpace) -> torch.Tensor:
    """An RGB frame (uint8, or float in [0,1]) -> the normalised (3,H,W) float32 model input."""
    if colour_space not in ("lab", "rgb"):
        raise DataError(f"unknown colour space {colour_space!r}; expected 'lab' or 'rgb'")
    rgb01 = to_float01(rgb)
    image = rgb_to_lab(rgb01) if colour_space == "lab" else rgb01
    normalised = normalise(image, colour_space).astype(np.float32, copy=False)
    return torch.from_numpy(np.ascontiguousarray(normalised.transpose(2, 0, 1)))
