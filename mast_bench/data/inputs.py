"""What propagation reads from an evaluation set, the same for every dataset kind.

A :class:`VideoInput` per video and, lazily, a :class:`FrameInput` per frame. Annotations are
handed over as stored (void and earlier objects included) with the ids of the objects that start
at that frame: the propagation core takes those objects from them (model/labels.py), so the
"which pixels are new objects" rule lives in one place. A keypoint set (JHMDB) hands over the
joints of its first frame instead of a label map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameInput:
    """One propagation step: the frame, the objects starting there, whether its mask is written."""

    index: int
    name: str
    rgb: np.ndarray  # (H, W, 3) uint8
    annotation: np.ndarray | None  # (H, W) uint8 label map as stored, where objects start; else None
    new_ids: tuple[int, ...] = ()  # the objects that start at this frame
    required: bool = True  # its mask is part of the results
    joints: np.ndarray | None = None  # (2, J) x, y in pixels (0-based) where keypoints start; else None


@dataclass(frozen=True)
class VideoInput:
    """One video as the propagation loop sees it (both dataset kinds).

    ``object_ids`` are declared up front (DAVIS: channel k is object k, as the official one-hot);
    ``background`` names required frames before the first annotation (written empty).
    """

    name: str
    size: tuple[int, int]
    frames: int
    inputs: Callable[[], Iterator[FrameInput]]
    object_ids: tuple[int, ...] = ()
    background: tuple[str, ...] = ()
