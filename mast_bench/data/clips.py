"""Unlabelled training clips and the (reference, target) pair sampler of self-supervised training.

Frame selection follows the official loader (zlai0/MAST, functional/feeder/dataset/YouTubeVOSTrain.py):
every epoch, each clip draws ONE gap from {2, 5, 8} with probabilities {0.4, 0.4, 0.2}; its frames
``0, gap, 2*gap, ...`` are cut into disjoint consecutive pairs ``(k*2*gap, k*2*gap + gap)`` (an odd
last frame is dropped, a clip shorter than gap+1 frames gives no pair); all pairs of all clips form
the epoch. Frames are then read, scaled to float [0, 1] and resized to 256x256 with cv2.resize
(INTER_LINEAR), as YTVOSTrainLoader.py does (it resizes the float BGR image; we keep RGB, which gives
the same per-channel values).

Everything is index-based and seeded by (seed, epoch), so a torch DataLoader with workers yields the
same batches on every run; call :meth:`PairSampler.set_epoch` before creating each epoch's iterator
(persistent workers would keep the old plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError, DataError
from .images import list_images, read_rgb_alike, resize_float, training_frames_size

OFFICIAL_GAPS = (2, 5, 8)
OFFICIAL_GAP_WEIGHTS = (0.4, 0.4, 0.2)


class ClipSource(Protocol):
    """A list of clips whose frames can be read by index."""

    @property
    def clip_names(self) -> tuple[str, ...]: ...

    def num_frames(self, clip: int) -> int: ...

    def read_frames(self, clip: int, indices: Sequence[int]) -> list[np.ndarray]:
        """RGB uint8 (H, W, 3) frames at ``indices`` (any order) of clip ``clip``."""
        ...

    def check(self) -> None:
        """What can be known of every clip cheaply, before training reads any (a DataError naming
        the file): a bad frame found part-way through stopped a run hours in."""
        ...


def clip_folders(root: Path) -> list[Path]:
    """Clip folders of a plain folder of frame folders, a DAVIS root or a YouTube-VOS split root."""
    for candidate in (root / "JPEGImages" / "480p", root / "JPEGImages", root):
        folders = sorted(p for p in candidate.iterdir() if p.is_dir()) if candidate.is_dir() else []
        folders = [p for p in folders if not p.name.startswith(".")]  # .ipynb_checkpoints is no clip
        if folders:
            return folders
    return []


class FrameFolderClips:
    """Each sub-folder of images is a clip (YouTube-VOS/OxUvA frame folders, DAVIS JPEGImages/480p)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            what = "not a folder" if self.root.exists() else "no such folder"
            raise DataError(
                f"{self.root}: {what} (expected a training set, a video file, a folder of videos or "
                "sub-folders of images)"
            )
        clips = [(folder.name, tuple(list_images(folder))) for folder in clip_folders(self.root)]
        clips = [(name, frames) for name, frames in clips if frames]
        if not clips:
            raise DataError(
                f"{self.root}: no clips (expected sub-folders of images, a DAVIS root or JPEGImages/<video>/)"
            )
        self._names = tuple(name for name, _ in clips)
        self._frames = tuple(frames for _, frames in clips)
        self._sizes_checked: set[int] = set()

    @property
    def clip_names(self) -> tuple[str, ...]:
        return self._names

    def num_frames(self, clip: int) -> int:
        return len(self._frames[clip])

    def frame_paths(self, clip: int) -> tuple[Path, ...]:
        return self._frames[clip]

    def read_frames(self, clip: int, indices: Sequence[int]) -> list[np.ndarray]:
        """The frames, their clip's sizes checked on its first read (headers only): training reads a
        frame at a time, so a frame of another size was stretched against its pair's, silently."""
        self._check_sizes(clip)
        return read_rgb_alike([self._frames[clip][i] for i in indices])

    def check(self) -> None:
        """Every clip's frames readable images of one size (headers only: a few seconds for 100,000
        frames; a frame whose data is cut short is found when read)."""
        for clip in range(len(self._frames)):
            self._check_sizes(clip)

    def _check_sizes(self, clip: int) -> None:
        if clip not in self._sizes_checked:
            training_frames_size(self._frames[clip])
            self._sizes_checked.add(clip)


@dataclass(frozen=True)
class PairIndex:
    clip: int
    reference: int
    target: int


def plan_pairs(
    num_frames: Sequence[int],
    gaps: Sequence[int] = OFFICIAL_GAPS,
    gap_weights: Sequence[float] | None = OFFICIAL_GAP_WEIGHTS,
    *,
    seed: int = 0,
    epoch: int = 0,
    clip_weights: Sequence[float] | None = None,
) -> list[PairIndex]:
    """One epoch of pairs, the official way (see the module docstring), in a seeded random order.

    ``clip_weights`` (a training set's, in [0, 1]) keep each pair of a clip with that probability,
    drawn from a stream of their own, so the official plan is unchanged without them.
    """
    rng = np.random.default_rng([seed, epoch])
    keep = np.random.default_rng([seed, epoch, 1])
    pairs = []
    for clip in rng.permutation(len(num_frames)):
        gap = int(rng.choice(np.asarray(gaps), p=gap_weights))
        starts = np.arange(0, num_frames[clip], gap)
        chosen = starts[: pairs_in_clip(num_frames[clip], gap) * 2].reshape(-1, 2)
        if clip_weights is not None:
            chosen = chosen[keep.random(len(chosen)) < clip_weights[clip]]
        pairs += [PairIndex(int(clip), int(a), int(b)) for a, b in chosen]
    return [pairs[i] for i in rng.permutation(len(pairs))]


def pairs_in_clip(length: int, gap: int) -> int:
    """Disjoint pairs (k*2*gap, k*2*gap + gap) in a clip of ``length`` frames."""
    return -(-length // gap) // 2


def _check_gaps(gaps: Sequence[int], weights: Sequence[float] | None) -> tuple[float, ...] | None:
    if not gaps or any(int(g) != g or g < 1 for g in gaps):
        raise ConfigError(f"pair gaps must be positive integers, got {tuple(gaps)}")
    if weights is None:
        return None
    if len(weights) != len(gaps) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"gap_weights {tuple(weights)} must be {len(gaps)} non-negative numbers, not all 0")
    total = float(sum(weights))
    return tuple(float(w) / total for w in weights)


class PairSampler:
    """Index-based dataset of (reference, target) float32 RGB [0, 1] (H, W, 3) pairs."""

    def __init__(
        self,
        source: ClipSource,
        gaps: Sequence[int] = OFFICIAL_GAPS,
        gap_weights: Sequence[float] | None = OFFICIAL_GAP_WEIGHTS,
        size: tuple[int, int] = (256, 256),
        seed: int = 0,
        epoch: int = 0,
        clip_weights: Sequence[float] | None = None,
    ) -> None:
        self.source = source
        self.clip_weights = None if clip_weights is None else tuple(float(w) for w in clip_weights)
        self.gaps = tuple(int(g) for g in gaps)
        self.gap_weights = _check_gaps(self.gaps, gap_weights)
        if len(size) != 2 or min(size) < 1:
            raise ConfigError(f"pair size must be (H, W) with positive sides, got {size}")
        self.size = (int(size[0]), int(size[1]))
        self.seed = seed
        self._lengths = tuple(source.num_frames(c) for c in range(len(source.clip_names)))
        self.most_pairs = self._most_pairs()
        if self.most_pairs == 0:
            raise DataError(
                f"no training pair: no clip is longer than the smallest gap (gaps {self.gaps}, clip "
                f"lengths {sorted(set(self._lengths))[:5]}...); use shorter gaps or longer clips"
            )
        self.set_epoch(epoch)

    def _most_pairs(self) -> int:
        """The most pairs an epoch can hold: each clip at its smallest drawable gap, every pair kept.
        A given epoch may hold fewer, even none (the gaps drawn, the clips' weights)."""
        drawable = [
            g for g, w in zip(self.gaps, self.gap_weights or [1] * len(self.gaps), strict=True) if w > 0
        ]
        return sum(pairs_in_clip(length, min(drawable)) for length in self._lengths)

    def set_epoch(self, epoch: int) -> None:
        """Re-plan the pairs for ``epoch`` (each epoch draws new gaps, like the official loader)."""
        self.epoch = epoch
        self.pairs = tuple(
            plan_pairs(
                self._lengths,
                self.gaps,
                self.gap_weights,
                seed=self.seed,
                epoch=epoch,
                clip_weights=self.clip_weights,
            )
        )

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        pair = self.pairs[index]
        reference, target = self.source.read_frames(pair.clip, [pair.reference, pair.target])
        return resize_float(reference, self.size), resize_float(target, self.size)
