"""Training samples with several references (the memory stages): a target frame and the frames
that come before it at given distances, the way the memory holds them at test time.

Every sample of one batch shares the same distances, because the memory read decides per
reference whether it is short-term (a window around the same place) or long-term (the ROI step
with a dilation that grows with the distance), and a batch is read in one call. Two layouts:

- free: short-term references at fixed distances, long-term ones at distances drawn afresh for
  every batch from a range; the target anywhere in a clip long enough;
- anchored (the test-time schedule): references at fixed frames of the clip (the schedule keeps
  frames 0 and 5) plus the short-term ones before the target, whose position is drawn per batch
  from a range and shared by the batch, so the long-term distances are those a test would see.

Everything is a pure function of (seed, iteration): a resumed run draws exactly what the straight
run drew, with no sampler state to save.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .clips import ClipSource


@dataclass(frozen=True)
class FrameSetLayout:
    """Where the references sit before the target, in frames."""

    short_term: tuple[int, ...]
    long_term: int = 0
    long_term_range: tuple[int, int] = (16, 45)
    anchors: tuple[int, ...] = ()  # anchored layout: reference frames fixed in the clip
    target_range: tuple[int, int] = (20, 80)  # anchored layout: the target's frame, drawn per batch

    def draw(self, rng: np.random.Generator, longest: int) -> tuple[tuple[int, ...], int | None]:
        """(distances farthest first, the shared target frame or None) of one batch; nothing is
        drawn beyond ``longest`` frames back."""
        if self.anchors:
            low, high = self.target_range
            target = int(rng.integers(low, min(high, longest) + 1))
            near = {d for d in self.short_term if d < target - max(self.anchors)}
            return tuple(sorted({target - a for a in self.anchors} | near, reverse=True)), target
        low, high = self.long_term_range
        high = min(high, longest)
        drawn = rng.choice(np.arange(low, high + 1), self.long_term, replace=False) if self.long_term else []
        return tuple(sorted({*self.short_term, *map(int, drawn)}, reverse=True)), None

    @property
    def nearest_span(self) -> int:
        """The least reach of a batch: its farthest reference is at least this far back."""
        if self.anchors:
            return self.target_range[0]
        return max([*self.short_term, self.long_term_range[0] if self.long_term else 0])


class FrameSetSampler:
    """Iteration -> (distances, [(clip, target)] * batch_size): which frame sets a batch holds."""

    def __init__(
        self,
        source: ClipSource,
        layout: FrameSetLayout,
        batch_size: int,
        seed: int = 0,
        weights: Sequence[float] | None = None,
    ) -> None:
        self.source, self.layout, self.batch_size, self.seed = source, layout, batch_size, seed
        self.lengths = np.array([source.num_frames(c) for c in range(len(source.clip_names))])
        self.weights = np.ones(len(self.lengths)) if weights is None else np.asarray(weights, dtype=float)
        self.longest = int(self.lengths.max()) - 1
        if self.longest < layout.nearest_span:
            raise DataError(
                f"no clip is long enough for this stage: its references reach {layout.nearest_span} frames "
                f"back, the longest clip has {self.longest + 1} frames"
            )

    def too_short(self) -> list[str]:
        """Clips this stage can never sample (no more frames than its shortest possible reach)."""
        need = self.layout.nearest_span
        return [name for name, n in zip(self.source.clip_names, self.lengths, strict=True) if n <= need]

    def plan(self, iteration: int) -> tuple[tuple[int, ...], list[tuple[int, int]]]:
        """(distances, [(clip, target frame)] * batch_size) of ``iteration``."""
        rng = np.random.default_rng([self.seed, iteration, 0x6D656D])  # 'mem'
        distances, shared = self.layout.draw(rng, self.longest)
        span = distances[0] if shared is None else shared
        chances = self.weights * np.maximum(self.lengths - span, 0)
        if shared is not None:
            chances = self.weights * (self.lengths > shared)
        clips = rng.choice(len(self.lengths), self.batch_size, p=chances / chances.sum())
        targets = [shared if shared is not None else int(rng.integers(span, self.lengths[c])) for c in clips]
        return distances, list(zip(map(int, clips), targets, strict=True))
