"""Frame decoding and resizing shared by every reader (one place decides how pixels are produced)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file to RGB uint8 (H, W, 3).

    Pillow and OpenCV (the official loader) decode DAVIS JPEGs to identical pixels (tested on
    davis-mini), so Pillow is used and the channel order is RGB.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: frame missing (expected an image file)")
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: unreadable image ({exc})") from None
    return rgb


def read_rgb_sized(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """``read_rgb`` for a frame of a video whose frames must all share frame 0's (H, W)."""
    rgb = read_rgb(path)
    if rgb.shape[:2] != tuple(size):
        raise DataError(f"{path}: frame size {rgb.shape[:2]}, expected {tuple(size)} like frame 0")
    return rgb


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) from the file header only (no pixel decoding)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file missing")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: unreadable image ({exc})") from None
    return height, width


def resize_float(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """float32 [0, 1] image resized to ``size`` = (H, W) as the official training loader does.

    The official code resizes the float image with cv2.resize's default INTER_LINEAR; bilinear
    interpolation acts on each channel separately, so resizing RGB instead of BGR gives the same values.
    """
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / np.float32(255.0)
    height, width = size
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image, dtype=np.float32)
    return cv2.resize(image.astype(np.float32, copy=False), (width, height), interpolation=cv2.INTER_LINEAR)


def list_images(folder: Path) -> list[Path]:
    """Image files of ``folder`` in natural order (numeric names compare as numbers)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: (0, int(p.stem), p.name) if p.stem.isdigit() else (1, 0, p.name))
