"""What a training stage feeds the model: iteration -> which frames (a plan) -> model-ready tensors.

The plan is a pure function of (stage, seed, iteration, rank), so a resumed run reads exactly the
frames the straight run read. Frames become tensors in one place (:class:`FrameTensors`): read,
resized as the official loader does (float, bilinear), converted to the model's colour space,
normalised, and (``cache_frames``) kept in memory on the training device. The cache holds the very
values the uncached path computes, so it changes speed, never numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from ..data.clips import OFFICIAL_GAP_WEIGHTS, OFFICIAL_GAPS, ClipSource, FrameFolderClips, PairSampler
from ..data.frame_sets import FrameSetLayout, FrameSetSampler
from ..data.images import resize_float
from ..data.training_set import TrainingSetClips, build_training_set, is_training_set
from ..data.video import is_video, video_files
from ..errors import ConfigError
from ..progress import tell as progress_tell
from .presets import TrainStage

FrameRef = tuple[int, int]  # (clip, frame)


@dataclass(frozen=True)
class BatchPlan:
    """``frames[k]`` lists the (clip, frame) of every sample's k-th frame; the last is the target.
    ``indices`` are their positions in time (the memory read tells short- from long-term by them)."""

    frames: tuple[tuple[FrameRef, ...], ...]
    indices: tuple[int, ...]


EMPTY_EPOCHS_LIMIT = 100  # epochs in a row too short for one batch before the data is called too small


class EpochBatches:
    """Iteration -> batch of pairs, the way a shuffled drop_last DataLoader walks the official
    epochs: batch k of epoch e is pairs[k*B:(k+1)*B] of that epoch's plan.

    A pure function of the iteration, so the sampler position needs no state beyond it.
    """

    def __init__(self, sampler: PairSampler, batch_size: int) -> None:
        if sampler.most_pairs < batch_size:
            raise ConfigError(
                f"an epoch holds at most {sampler.most_pairs} training pairs, fewer than the batch "
                f"size {batch_size}; use a smaller batch or more data"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self._epoch_starts = [0]  # first iteration of each planned epoch
        self._epoch_lengths: list[int] = []

    def _batches_in(self, epoch: int) -> int:
        while len(self._epoch_lengths) <= epoch:
            self.sampler.set_epoch(len(self._epoch_lengths))
            count = len(self.sampler) // self.batch_size  # 0: a short epoch, skipped as drop_last does
            self._epoch_lengths.append(count)
            self._epoch_starts.append(self._epoch_starts[-1] + count)
            if len(self._epoch_lengths) >= EMPTY_EPOCHS_LIMIT and not any(
                self._epoch_lengths[-EMPTY_EPOCHS_LIMIT:]
            ):
                raise ConfigError(
                    f"{EMPTY_EPOCHS_LIMIT} epochs in a row held fewer training pairs than the batch size "
                    f"{self.batch_size} (the gaps drawn and the clips' motion weights keep few); use a "
                    "smaller batch or more data"
                )
        return self._epoch_lengths[epoch]

    def position(self, iteration: int) -> tuple[int, int]:
        """(epoch, batch index within the epoch) of ``iteration``."""
        epoch = 0
        while True:
            count = self._batches_in(epoch)
            if iteration < self._epoch_starts[epoch] + count:
                return epoch, iteration - self._epoch_starts[epoch]
            epoch += 1

    def __call__(self, iteration: int, rank: int = 0, world: int = 1) -> BatchPlan:
        epoch, batch = self.position(iteration)
        if self.sampler.epoch != epoch:
            self.sampler.set_epoch(epoch)
        share = self.batch_size // world
        first = batch * self.batch_size + rank * share
        pairs = [self.sampler.pairs[i] for i in range(first, first + share)]
        return BatchPlan(
            (tuple((p.clip, p.reference) for p in pairs), tuple((p.clip, p.target) for p in pairs)), (0, 1)
        )


class FrameSets:
    """Iteration -> batch of frame sets (several references), as :class:`BatchPlan`."""

    def __init__(self, sampler: FrameSetSampler) -> None:
        self.sampler = sampler

    def __call__(self, iteration: int, rank: int = 0, world: int = 1) -> BatchPlan:
        distances, chosen = self.sampler.plan(iteration)
        share = self.sampler.batch_size // world
        mine = chosen[rank * share : (rank + 1) * share]
        span = distances[0]  # the farthest reference is frame 0 of the memory's time axis
        frames = tuple(tuple((clip, target - d) for clip, target in mine) for d in (*distances, 0))
        return BatchPlan(frames, tuple(span - d for d in (*distances, 0)))


PlanSource = Callable[[int, int, int], BatchPlan]


def clip_weights(source: ClipSource) -> tuple[float, ...] | None:
    return getattr(source, "weights", None)


def plan_source(source: ClipSource, stage: TrainStage, seed: int, tell=None) -> PlanSource:
    """The stage's plan: official pair epochs, or frame sets for the memory stages. Clips too
    short for the stage's reach are named (``tell``): they are never, or not always, sampled."""
    weights = clip_weights(source)
    if stage.sampling == "pairs":
        gap_weights = OFFICIAL_GAP_WEIGHTS if tuple(stage.gaps) == OFFICIAL_GAPS else None
        sampler = PairSampler(source, stage.gaps, gap_weights, stage.frame_size, seed, clip_weights=weights)
        lengths = [source.num_frames(c) for c in range(len(source.clip_names))]
        _name_short(
            tell, stage, [n for n, k in zip(source.clip_names, lengths, strict=True) if k <= max(stage.gaps)]
        )
        return EpochBatches(sampler, stage.batch_size)
    anchored = stage.sampling == "schedule"
    layout = FrameSetLayout(
        stage.short_term,
        stage.long_term if not anchored else 0,
        stage.long_term_range,
        stage.anchors if anchored else (),
        stage.target_range,
    )
    sampler = FrameSetSampler(source, layout, stage.batch_size, seed, weights)
    _name_short(tell, stage, sampler.too_short())
    return FrameSets(sampler)


def _name_short(tell, stage: TrainStage, names: list[str]) -> None:
    if names and tell is not None:
        tell(
            f"stage {stage.name}: {len(names)} clips too short for its farthest reference, sampled less "
            f"or never: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
        )


def open_clip_source(root: str | Path, cache_dir: str | Path, tell: Callable[[str], None] | None = None):
    """Training frames at ``root``: a training set, a video file or a folder of videos (made into a
    training set in ``cache_dir`` once), or frame folders read as the official loader does (no cuts,
    no weights)."""
    root = Path(root)
    if is_training_set(root):
        return TrainingSetClips(root)
    if is_video(root) or (root.is_dir() and video_files(root)):
        name = "videos-" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
        built = build_training_set(
            [root], Path(cache_dir) / "training-sets" / name, tell=tell or progress_tell
        )
        return TrainingSetClips(built.root)
    return FrameFolderClips(root)


class FrameTensors:
    """(clip, frame) references -> normalised (B, 3, H, W) tensors on the training device."""

    def __init__(self, source: ClipSource, stage: TrainStage, colour_space: str, device: torch.device):
        self.source, self.size, self.colour_space, self.device = (
            source,
            stage.frame_size,
            colour_space,
            device,
        )
        self.cache: dict[FrameRef, torch.Tensor] | None = {} if stage.cache_frames else None
        self.layout = torch.channels_last if stage.channels_last and device.type == "cuda" else None

    def _prepare(self, ref: FrameRef) -> torch.Tensor:
        from ..model.colour import prepare_frame

        (frame,) = self.source.read_frames(ref[0], [ref[1]])
        return prepare_frame(resize_float(frame, self.size), self.colour_space)

    def preload(self, refs: list[FrameRef], threads: int = 8) -> None:
        """Fill the cache with ``refs`` using ``threads`` readers (decoders release the GIL)."""
        if self.cache is None:
            return
        missing = [r for r in dict.fromkeys(refs) if r not in self.cache]
        with ThreadPoolExecutor(max(1, threads)) as pool:
            for ref, tensor in zip(missing, pool.map(self._prepare, missing), strict=True):
                self.cache[ref] = tensor.to(self.device)

    def batch(self, refs: tuple[FrameRef, ...]) -> torch.Tensor:
        if self.cache is None:
            frames = torch.stack([self._prepare(r) for r in refs]).to(self.device)
        else:
            self.preload(list(refs), threads=1)
            frames = torch.stack([self.cache[r] for r in refs])
        return frames if self.layout is None else frames.contiguous(memory_format=self.layout)


def all_frames(source: ClipSource) -> list[FrameRef]:
    return [(c, f) for c in range(len(source.clip_names)) for f in range(source.num_frames(c))]
