"""How one propagation step reads its memory: which frames, kept how long, which features, which read.

The propagation core asks a policy and never branches on a protocol name, so other trackers'
test-time protocols (top-k reads, temperatures, L2-normalised features, soft label feedback) plug in
by implementing the methods of :class:`ReadPolicy`. :class:`MastPolicy` is MAST's own, from the
model's VariantConfig.

Frame indices are positions in the propagated stream (0 = the first step). ``anchors`` are the
frames where objects were annotated, 0 first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Protocol

from torch import Tensor

from .labels import sample_labels, upsample_argmax
from .schedule import PERMANENT_REFERENCES, reference_indices, still_needed

if TYPE_CHECKING:
    from .mast import MAST


class ReadPolicy(Protocol):
    def references(self, target: int, anchors: Sequence[int]) -> list[int]: ...

    def still_needed(self, frame: int, next_target: int, anchors: Sequence[int]) -> bool: ...

    def features(self, encoded: Tensor) -> Tensor: ...

    def read(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> Tensor: ...

    def read_cost_key(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> Hashable:
        """What a read's FLOPs depend on besides its tensors' shapes (which references are long-term
        or anchors...): reads with equal shapes and keys are counted once (harness.profiling). Optional:
        a reader without it is keyed on every argument, frame indices included."""
        ...

    def values(self, channels: Tensor, count: int, scores: Tensor | None, grid: tuple[int, int]) -> Tensor:
        """What a frame stores for later reads, (1, count, h, w) on the feature grid: from its (H, W)
        channel map, or from the read's ``scores`` (None where an annotation was pasted)."""
        ...

    def labels(self, scores: Tensor, size: tuple[int, int]) -> Tensor:
        """(H, W) channel indices of ``scores`` at the frame ``size``."""
        ...


class MastPolicy:
    """The variant's reference schedule and MAST's memory read; annotated frames become anchors.

    An object that enters at frame k has its annotation there as its only ground truth, exactly as
    the first objects have frame 0, which the official schedules keep readable for the whole video.
    So wherever the schedule keeps frame 0 permanently (``official``, ``first-short``), every anchor
    is kept and read too; ``previous`` reads only t-1 and stays so. With frame 0 as the only anchor
    (DAVIS) the references are exactly the schedule's.
    """

    def __init__(self, model: MAST) -> None:
        self.model = model
        self.schedule = model.config.schedule
        self.keeps_anchors = 0 in PERMANENT_REFERENCES[self.schedule]

    def references(self, target: int, anchors: Sequence[int]) -> list[int]:
        scheduled = reference_indices(target, self.schedule)
        if not self.keeps_anchors:
            return scheduled
        return sorted(set(scheduled) | {a for a in anchors if a < target})

    def still_needed(self, frame: int, next_target: int, anchors: Sequence[int]) -> bool:
        if self.keeps_anchors and frame in anchors:
            return True
        return still_needed(frame, next_target, self.schedule)

    def features(self, encoded: Tensor) -> Tensor:
        return encoded  # raw dot-product affinity: no normalisation

    def read(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> Tensor:
        return self.model.read(query, list(ref_feats), list(ref_values), list(ref_indices), target)

    def read_cost_key(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> Hashable:
        return self.model.read_cost_key(query, ref_feats, ref_values, ref_indices, target)

    def values(self, channels: Tensor, count: int, scores: Tensor | None, grid: tuple[int, int]) -> Tensor:
        """The one-hot of the argmax labels at the top-left pixel of each cell (the official feedback)."""
        return sample_labels(channels, count, grid, self.model.stride, "top-left")

    def labels(self, scores: Tensor, size: tuple[int, int]) -> Tensor:
        return upsample_argmax(scores, size)
