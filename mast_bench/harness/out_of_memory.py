"""A training stage that runs out of memory says so in one line naming its sizes, not a traceback.

The allocators say it three ways: CUDA's ``torch.OutOfMemoryError``, the CPU allocator's
``RuntimeError`` ("can't allocate memory"), OpenCV's ``cv2.error`` ("Insufficient memory") when a
frame is resized; Python's own ``MemoryError``. What was trained before stays: the same preset
where there is more memory resumes from the stage's last checkpoint (a smaller batch or frame is
another preset, in another folder).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import cv2
import torch

from ..errors import ConfigError
from .presets import TrainStage

MESSAGES = ("can't allocate memory", "Insufficient memory")


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(exc, (RuntimeError, cv2.error)) and any(m in str(exc) for m in MESSAGES)


@contextlib.contextmanager
def said_in_one_line(preset: str, stage: TrainStage, device: torch.device) -> Iterator[None]:
    """Around a stage's training: its running out of memory becomes one ConfigError."""
    try:
        yield
    except Exception as exc:  # is_out_of_memory says which
        if not is_out_of_memory(exc):
            raise
        height, width = stage.frame_size
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigError(
            f"preset {preset}, stage {stage.name}: out of memory on {device} (batch_size {stage.batch_size}, "
            f"frame_size {height}x{width}, {stage.references} reference(s) a sample): lower batch_size or "
            f"frame_size, or train where there is more memory; what ran out: {first[:200]}"
        ) from None
