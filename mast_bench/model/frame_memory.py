"""What a propagation core keeps between steps: each frame's features and values while a later
target may still read them, the anchors, and the encoding of a frame at the network's size.

Both cores use it: the label core (inference.py), whose values are one-hot label maps or soft
scores, and the keypoint core (keypoint_core.py), whose values are joint heatmaps. The policy says
which frames a target reads and how long a frame is kept (model/policy.py).
"""

from __future__ import annotations

import numpy as np
import torch

from .colour import prepare_frame
from .policy import ReadPolicy
from .resizing import resize_frame


def encode_frame(model, frame: np.ndarray, size: tuple[int, int], resize: str, device) -> torch.Tensor:
    """The model's features of ``frame`` resized to the network input ``size`` by ``resize``."""
    prepared = prepare_frame(resize_frame(frame, size, resize), model.config.colour_space)
    return model.encode(prepared[None].to(device))


class FrameMemory:
    """Features and values by frame; ``read`` a target, ``store`` a frame (which forgets the frames
    no later target can read)."""

    def __init__(self, policy: ReadPolicy) -> None:
        self.policy = policy
        self.anchors: list[int] = []
        self._features: dict[int, torch.Tensor] = {}
        self._values: dict[int, torch.Tensor] = {}

    @property
    def stored_frames(self) -> tuple[int, ...]:
        return tuple(sorted(self._features))

    def read(self, target: int, query: torch.Tensor) -> tuple[list[int], torch.Tensor]:
        """(frames read, the policy's scores) of ``target`` with features ``query``."""
        references = self.policy.references(target, self.anchors)
        feats = [self._features[r] for r in references]
        values = [self._values[r] for r in references]
        return references, self.policy.read(query, feats, values, references, target)

    def store(self, frame: int, features: torch.Tensor, values: torch.Tensor) -> None:
        self._features[frame] = features
        self._values[frame] = values
        self._forget(frame + 1)

    def add_channels(self, count: int) -> None:
        """Zero channels appended to every stored value (objects absent from those frames)."""
        for frame, value in self._values.items():
            zeros = value.new_zeros((1, count, *value.shape[2:]))
            self._values[frame] = torch.cat([value, zeros], dim=1)

    def _forget(self, next_target: int) -> None:
        needed = self.policy.still_needed
        for frame in [f for f in self._features if not needed(f, next_target, self.anchors)]:
            del self._features[frame], self._values[frame]
