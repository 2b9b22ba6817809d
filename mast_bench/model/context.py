"""The context-queue read of CRW, VFS and DINO as a :class:`~mast_bench.model.policy.ReadPolicy`.

A target reads the annotated frames (the anchors, frame 0 first) and a queue of the frames before
it, through the same memory read as MAST (``ops.memory_read``): anchors as "full" entries or
windows, queue frames as windows whose outside candidates are excluded (a disk through
``disk_radius``), ONE softmax of the top-k of (query . key) / temperature over every candidate of
every frame jointly. A frame read twice (an anchor also in the queue, or CRW's padding copies of
frame 0) is two sets of candidates, as in those trackers, which matters to the top-k.

How a label map reaches the feature grid, what a propagated frame stores, and how scores become
labels (:meth:`ContextPolicy.values`, :meth:`ContextPolicy.labels`) are the protocol's too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor

from ..ops import MemoryEntry, memory_read
from ..protocols.config import ContextRead, ProtocolConfig
from .labels import sample_labels, upsample_argmax
from .policy import MastPolicy, ReadPolicy


def queue_frames(target: int, previous: int, start: str) -> list[int]:
    """The queue of ``target``, oldest first (see ``ContextRead.queue_start``)."""
    if start == "pad-first":
        return [max(0, frame) for frame in range(target - previous, target)]
    first = 0 if start == "with-first" else 1
    return list(range(max(first, target - previous), target))


class ContextPolicy:
    """Read policy of a :class:`ContextRead`; ``stride`` is the encoder's (label sampling).

    Beyond the four ReadPolicy methods, :meth:`values` and :meth:`labels` carry the protocol's label
    rules for a propagation loop that asks for them (MAST's are one-hot top-left samples of the
    argmax, and a plain argmax).
    """

    def __init__(self, context: ContextRead, stride: int) -> None:
        self.context = context
        self.stride = stride

    # --- which frames -------------------------------------------------------------------
    def references(self, target: int, anchors: Sequence[int]) -> list[int]:
        """Anchors before ``target`` and its queue, as a sorted multiset (repeats are read twice)."""
        earlier = [a for a in anchors if a < target]
        return sorted(earlier + self._queue(target))

    def still_needed(self, frame: int, next_target: int, anchors: Sequence[int]) -> bool:
        if frame in anchors:
            return True
        first = 1 if self.context.queue_start == "after-first" else 0
        return frame >= max(first, next_target - self.context.previous_frames)

    def _queue(self, target: int) -> list[int]:
        return queue_frames(target, self.context.previous_frames, self.context.queue_start)

    # --- the read -----------------------------------------------------------------------
    def features(self, encoded: Tensor) -> Tensor:
        return F.normalize(encoded, p=2, dim=1) if self.context.normalise_features else encoded

    def read(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> Tensor:
        """(1, channels, h, w) scores: the weighted values of the top-k candidates."""
        stored = {i: (f, v) for i, f, v in zip(ref_indices, ref_feats, ref_values, strict=True)}
        # anchors first, then the queue oldest first: the trackers' order (it only breaks top-k ties)
        entries = [self._anchor_entry(*stored[i]) for i in self._anchors_among(ref_indices, target)]
        entries += [self._window_entry(*stored[i]) for i in self._queue(target)]
        return memory_read(query, entries, scale=1.0 / self.context.temperature, top_k=self.context.top_k)

    def read_cost_key(
        self,
        query: Tensor,
        ref_feats: Sequence[Tensor],
        ref_values: Sequence[Tensor],
        ref_indices: Sequence[int],
        target: int,
    ) -> int:
        """How many references are anchors (the rest are queue windows): with the tensors' shapes,
        all a read's FLOPs depend on."""
        return len(self._anchors_among(ref_indices, target))

    def _anchors_among(self, ref_indices: Sequence[int], target: int) -> list[int]:
        """The references that are not ``target``'s queue (a multiset difference): the anchors."""
        queue, given = Counter(self._queue(target)), Counter(ref_indices)
        if queue - given:
            raise ValueError(
                f"references {list(ref_indices)} of frame {target} miss its queue {sorted(queue)}"
            )
        return sorted((given - queue).elements())

    def _anchor_entry(self, key: Tensor, value: Tensor) -> MemoryEntry:
        if self.context.first_frame == "full":
            return MemoryEntry(key, value, "full")
        return self._window_entry(key, value)

    def _window_entry(self, key: Tensor, value: Tensor) -> MemoryEntry:
        ctx = self.context
        if ctx.window == "square":
            return MemoryEntry(key, value, "window", radius=ctx.radius, outside=ctx.outside)
        # a disk of offsets shorter than the radius fits the window of radius - 1
        return MemoryEntry(
            key, value, "window", radius=ctx.radius - 1, outside=ctx.outside, disk_radius=ctx.radius
        )

    # --- labels -------------------------------------------------------------------------
    def values(self, channels: Tensor, count: int, scores: Tensor | None, grid: tuple[int, int]) -> Tensor:
        """What a frame stores for later reads: its label map (``channels``, (H,W) indices) on the
        feature grid, or, with soft feedback, the read's ``scores`` (None for annotated frames)."""
        if scores is not None and self.context.feedback == "soft":
            return scores
        return sample_labels(channels, count, grid, self.stride, self.context.label_sampling)

    def labels(self, scores: Tensor, size: tuple[int, int]) -> Tensor:
        """(H,W) channel indices: scores upsampled bilinearly (half-pixel centres), normalised as the
        protocol says, argmaxed."""
        return upsample_argmax(scores, size, minmax=self.context.score_normalisation == "minmax")


def make_policy(protocol: ProtocolConfig, model) -> ReadPolicy:
    """MAST's own policy when the protocol reads the variant's memory, else the context policy."""
    if protocol.context is None:
        return MastPolicy(model)
    return ContextPolicy(protocol.context, model.stride)
