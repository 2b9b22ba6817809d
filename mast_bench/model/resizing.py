"""Frames at the network's input size, as each protocol's resize route says (protocols/config.py).

The three trackers resize differently and the difference reaches the labels: PIL's bilinear
antialiases when it shrinks, OpenCV's INTER_LINEAR does not, and CRW resizes the frame after its
conversion to float32 / 255, where OpenCV's uint8 path rounds through fixed-point weights. A frame
already at the size is returned as it is (no resampler is the identity on every backend).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


def resize_frame(frame: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """An RGB uint8 (H, W, 3) frame at ``size`` = (h, w): uint8, or float32 in [0, 1] for
    ``cv2-linear-float`` (prepare_frame takes both)."""
    if frame.shape[:2] == tuple(size):
        return frame
    height, width = size
    if method == "pil-bilinear":
        return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR))
    if method == "cv2-linear":
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    if method == "cv2-linear-float":
        scaled = frame.astype(np.float32) / np.float32(255.0)
        return cv2.resize(scaled, (width, height), interpolation=cv2.INTER_LINEAR)
    raise ValueError(
        f"unknown frame resize {method!r}; expected pil-bilinear, cv2-linear or cv2-linear-float"
    )
