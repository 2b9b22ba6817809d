"""Keypoint propagation one frame at a time: the first frame's joints become heatmaps on the feature
grid, every later frame reads them through the protocol's memory read and keeps the read's scores as
its own heatmaps (soft feedback, as CRW propagates keypoints; MAST never reported keypoints, so its
protocol reads heatmaps the same way here). The protocol's resize route gives the network's size
and the frame resampler; heatmaps never pass through a label map (heatmaps.py has the joint rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from ..max_side import check_max_side, route_network_size
from ..protocols.config import ResizeRoute
from .frame_memory import FrameMemory, encode_frame
from .heatmaps import heatmap_joints, joint_heatmaps
from .policy import MastPolicy, ReadPolicy


@dataclass(frozen=True)
class KeypointStep:
    target: int
    references: list[int]
    heatmaps: torch.Tensor  # (1, J, h, w) on the feature grid
    joints: np.ndarray  # (2, J) x, y in frame pixels (0-based); -1 where a heatmap has no mass


class KeypointCore:
    """``core.step(frame, joints)`` for the first frame, ``core.step(frame)`` after; one per video."""

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        device: str | torch.device = "cpu",
        policy: ReadPolicy | None = None,
        max_side: int | None = None,
        route: ResizeRoute | None = None,
    ) -> None:
        check_max_side(max_side)
        self.model = model.eval()
        self.policy = policy if policy is not None else MastPolicy(model)
        self.device = torch.device(device)
        self.route = route if route is not None else ResizeRoute()
        self._max_side = max_side
        self._memory = FrameMemory(self.policy)
        self._size: tuple[int, int] | None = None
        self.input_size: tuple[int, int] | None = None
        self._next = 0

    @property
    def stored_frames(self) -> tuple[int, ...]:
        return self._memory.stored_frames

    def step(self, frame: np.ndarray, joints: np.ndarray | None = None) -> KeypointStep:
        """Propagate to ``frame`` (RGB (H, W, 3)); ``joints`` (2, J) in its pixels at the first step only."""
        index = self._next
        size = tuple(np.shape(frame)[:2])
        if index == 0:
            if joints is None or np.ndim(joints) != 2 or np.shape(joints)[0] != 2:
                raise DataError("keypoints of frame 0: required, as a (2, J) array of x, y in pixels")
            self._size = size
            self.input_size = route_network_size(size, self._max_side, self.route.size)
            self._memory.anchors.append(0)
        elif joints is not None:
            raise DataError(f"keypoints of frame {index}: only the first frame is annotated")
        elif size != self._size:
            raise DataError(f"frame {index} has size {size}, the first frame {self._size}")
        with torch.inference_mode():
            encoded = encode_frame(self.model, frame, self.input_size, self.route.frames, self.device)
            query = self.policy.features(encoded)
            references: list[int] = []
            if index == 0:
                grid = tuple(query.shape[-2:])
                heatmaps = joint_heatmaps(joints, size, self.input_size, self.model.stride, grid).to(
                    self.device
                )
            else:
                references, heatmaps = self._memory.read(index, query)
            self._memory.store(index, query, heatmaps)
        self._next += 1
        located = heatmap_joints(heatmaps[0], size, self.input_size, self.model.stride)
        return KeypointStep(index, references, heatmaps, located)
