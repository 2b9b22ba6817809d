"""Minimal label-PNG reading for scoring (kept here so metrics/ depends on nothing but numpy and Pillow).

DAVIS annotations and results are indexed PNGs (mode 'P', pixel = object id) or 8-bit grey ('L').
Anything else (an RGB rendering, a 16-bit image) would silently turn colours into ids, so it is refused
with a message that names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DataError

LABEL_MODES = ("P", "L")


def read_label_png(path: str | Path, role: str = "mask") -> np.ndarray:
    """Read an indexed/grey PNG as an (H, W) uint8 array of object ids."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            mode = img.mode
            if mode not in LABEL_MODES:
                raise DataError(
                    f"{path}: {role} PNG has mode {mode!r}; expected an indexed ('P') or 8-bit grey ('L') "
                    "PNG whose pixel values are object ids (0 background, 1..K objects)"
                )
            labels = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{path}: {role} PNG not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: cannot read {role} PNG ({exc})") from None
    if labels.ndim != 2:
        raise DataError(
            f"{path}: {role} PNG has shape {labels.shape}; expected a single-channel (H, W) image"
        )
    return labels
