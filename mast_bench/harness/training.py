"""Self-supervised reconstruction training with resumable, atomic checkpoints.

Determinism: every random choice of iteration ``i`` (which pairs, which
channel is dropped) comes from generators seeded with ``(seed, i)``, so the
run is a pure function of (preset, variant, data, iteration) and a run
resumed from iteration k continues exactly as the straight run would. The
checkpoint still stores the global RNG states (torch, numpy, python) and the
sampler position (the iteration) so nothing else can drift. Checkpoints are
written atomically (temp file + fsync + rename), so even ``kill -9`` leaves the
previous or the new checkpoint, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write_json
from ..config import to_dict
from ..errors import CheckpointError, ConfigError
from ..locks import job_lock
from ..variants.config import VariantConfig
from .presets import Preset, learning_rate

CHECKPOINT_NAME = "checkpoint.pt"
SUMMARY_NAME = "train.json"
LOCK_NAME = ".train.lock"


class EpochBatches:
    """Iteration -> batch of (reference, target) pairs, the way a shuffled drop_last DataLoader
    walks the official epochs: batch k of epoch e is pairs[k*B:(k+1)*B] of that epoch's plan.

    A pure function of the iteration, so the sampler position needs no state beyond it.
    """

    def __init__(self, sampler, batch_size: int) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self._epoch_starts = [0]  # first iteration of each planned epoch
        self._epoch_lengths: list[int] = []

    def _batches_in(self, epoch: int) -> int:
        while len(self._epoch_lengths) <= epoch:
            self.sampler.set_epoch(len(self._epoch_lengths))
            count = len(self.sampler) // self.batch_size
            if count == 0:
                raise ConfigError(
                    f"an epoch has only {len(self.sampler)} training pairs, fewer than the batch size "
                    f"{self.batch_size}; use a smaller batch or more data"
                )
            self._epoch_lengths.append(count)
            self._epoch_starts.append(self._epoch_starts[-1] + count)
        return self._epoch_lengths[epoch]

    def position(self, iteration: int) -> tuple[int, int]:
        """(epoch, batch index within the epoch) of ``iteration``."""
        epoch = 0
        while True:
            count = self._batches_in(epoch)
            if iteration < self._epoch_starts[epoch] + count:
                return epoch, iteration - self._epoch_starts[epoch]
            epoch += 1

    def __call__(self, iteration: int, rank: int = 0, world: int = 1) -> tuple[np.ndarray, np.ndarray]:
        epoch, batch = self.position(iteration)
        if self.sampler.epoch != epoch:
            self.sampler.set_epoch(epoch)
        share = self.batch_size // world
        first = batch * self.batch_size + rank * share
        pairs = [self.sampler[i] for i in range(first, first + share)]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# A pair source maps (iteration, rank, world) to (reference, target) RGB batches (B, H, W, 3).
PairSource = Callable[[int, int, int], tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainResult:
    checkpoint: Path
    iterations: int
    final_loss: float
    seconds: float
    loss_curve: list[list[float]] = field(default_factory=list)

    def summary(self, preset: str) -> dict[str, Any]:
        return {
            "preset": preset,
            "iterations": self.iterations,
            "final_loss": self.final_loss,
            "seconds": self.seconds,
            "loss_curve": self.loss_curve,
        }


def iteration_generator(seed: int, iteration: int, rank: int = 0) -> torch.Generator:
    """An independent, reproducible stream for one iteration (and one DDP rank)."""
    sequence = np.random.SeedSequence([seed, iteration, rank])
    return torch.Generator().manual_seed(int(sequence.generate_state(1, np.uint64)[0] >> 1))


def set_global_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": list(random.getstate()[1]),
        "python_version": random.getstate()[0],
        "python_gauss": random.getstate()[2],
    }


def _restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))


def batch_to_tensor(batch: np.ndarray, colour_space: str, device: torch.device) -> torch.Tensor:
    from ..model.colour import prepare_frame

    frames = [prepare_frame(frame, colour_space) for frame in batch]
    return torch.stack(frames).to(device)


def reconstruction_step_loss(
    model: torch.nn.Module,
    config: VariantConfig,
    ref: torch.Tensor,
    target: torch.Tensor,
    gen: torch.Generator,
) -> torch.Tensor:
    from ..model.train_step import reconstruction_loss

    loss, _ = reconstruction_loss(model, [ref], target, gen)
    return loss


def _autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _distributed_class():
    from torch.nn.parallel import DistributedDataParallel

    class DistributedMAST(DistributedDataParallel):
        """DDP that still answers the attributes the training step reads from the model."""

        @property
        def config(self):
            return self.module.config

        @property
        def trainable(self) -> bool:
            return self.module.trainable

    return DistributedMAST


def _DistributedMAST(model, **kwargs):
    return _distributed_class()(model, **kwargs)


def _distributed() -> tuple[int, int]:
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def save_training_state(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, iteration: int, **extra: Any
) -> None:
    from ..model.checkpoint import save_checkpoint

    save_checkpoint(path, model, optimizer, iteration=iteration, rng=_rng_state(), **extra)


def load_training_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot resume from this checkpoint ({type(exc).__name__}: {exc})"
        ) from None


@dataclass
class _Run:
    """The state a training run carries from iteration to iteration (and through a checkpoint)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    identity: dict[str, Any]
    start: int = 0
    loss_curve: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0


def _start_or_resume(config: VariantConfig, preset: Preset, ckpt_path: Path, device: torch.device) -> _Run:
    from ..model import MAST

    set_global_seed(preset.seed)
    model = MAST(config)
    if not model.trainable:
        raise ConfigError(f"variant {config.name!r} has no trainable parameters; it needs no training")
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=preset.lr, betas=preset.betas)
    run = _Run(model, optimizer, {"variant_config": to_dict(config), "preset": to_dict(preset)})
    if not ckpt_path.is_file():
        return run
    state = load_training_state(ckpt_path)
    if state.get("identity") != run.identity:
        raise CheckpointError(
            f"{ckpt_path}: holds a run of another variant/preset; use another --out folder or delete it"
        )
    model.load_state_dict(state["state_dict"])
    optimizer.load_state_dict(state["optimizer"])
    run.start, run.seconds = state["iteration"], state["seconds"]
    run.loss_curve = [list(x) for x in state["loss_curve"]]
    _restore_rng(state["rng"])
    return run


def _step(
    run: _Run, trained, config, preset, pairs: PairSource, iteration: int, rank: int, world: int, device
):
    """One optimisation step; returns its loss."""
    generator = iteration_generator(preset.seed, iteration, rank)
    ref_np, tgt_np = pairs(iteration, rank, world)
    ref = batch_to_tensor(ref_np, config.colour_space, device)
    tgt = batch_to_tensor(tgt_np, config.colour_space, device)
    for group in run.optimizer.param_groups:
        group["lr"] = learning_rate(preset, iteration)
    with _autocast(device, preset.mixed_precision):
        loss = reconstruction_step_loss(trained, config, ref, tgt, generator)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return float(loss.detach())


def _save(run: _Run, ckpt_path: Path, done: int, preset: Preset) -> None:
    save_training_state(
        ckpt_path,
        run.model,
        run.optimizer,
        done,
        identity=run.identity,
        loss_curve=run.loss_curve,
        seconds=run.seconds,
        epoch=0,
        complete=done >= preset.iterations,
    )


def _progress_bar(config, preset: Preset, start: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=preset.iterations,
        initial=start,
        desc=f"train {config.name}",
        unit="it",
        disable=not enabled,
        dynamic_ncols=True,
    )


def train(
    config: VariantConfig,
    preset: Preset,
    pairs: PairSource,
    out_dir: str | Path,
    device: str | torch.device = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
) -> TrainResult:
    """Train ``config`` with ``preset`` into ``out_dir``; resumes from ``out_dir/checkpoint.pt``.

    The folder's lock is held for the whole run: a second trainer of the same folder waits for
    this one (then resumes or finds it complete), and only the holder removes temp files.
    ``stop_after`` ends the run early (after that iteration, checkpoint written) -- for tests
    and for splitting long jobs; the next call resumes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rank, world = _distributed()
    if preset.batch_size % world:
        raise ConfigError(
            f"preset {preset.name}: batch_size {preset.batch_size} not divisible by {world} ranks"
        )
    # rank 0 alone writes checkpoints, so it alone locks the folder (other ranks waiting on the lock
    # while rank 0 waits for them in the DDP set-up would deadlock)
    what = f"training of {config.name} in {out_dir}"
    lock = job_lock(out_dir / LOCK_NAME, what, on_wait=_tell) if rank == 0 else contextlib.nullcontext()
    with lock:
        if rank == 0:
            for stale in out_dir.glob(f".{CHECKPOINT_NAME}.*.tmp"):  # ours to remove: we hold the lock
                stale.unlink(missing_ok=True)
        return _train_locked(
            config, preset, pairs, out_dir, torch.device(device), progress, stop_after, rank, world
        )


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _train_locked(config, preset, pairs, out_dir: Path, device, progress: bool, stop_after, rank, world):
    ckpt_path = out_dir / CHECKPOINT_NAME
    run = _start_or_resume(config, preset, ckpt_path, device)
    trained = run.model
    if world > 1:
        trained = _DistributedMAST(run.model, device_ids=[device.index] if device.type == "cuda" else None)
    end = preset.iterations if stop_after is None else min(preset.iterations, stop_after)
    bar = _progress_bar(config, preset, run.start, progress and rank == 0)
    loss_value = run.loss_curve[-1][1] if run.loss_curve else float("nan")
    for iteration in range(run.start, end):
        tick = time.perf_counter()
        loss_value = _step(run, trained, config, preset, pairs, iteration, rank, world, device)
        run.loss_curve.append([iteration + 1, loss_value])
        run.seconds += time.perf_counter() - tick
        bar.update(1)
        bar.set_postfix(
            loss=f"{loss_value:.4f}",
            samples_per_s=f"{preset.batch_size * bar.n / max(run.seconds, 1e-9):.1f}",
        )
        done = iteration + 1
        if rank == 0 and (done % preset.checkpoint_every == 0 or done == end):
            _save(run, ckpt_path, done, preset)
    bar.close()
    result = TrainResult(ckpt_path, max(end, run.start), loss_value, run.seconds, run.loss_curve)
    if rank == 0 and result.iterations >= preset.iterations:
        atomic_write_json(out_dir / SUMMARY_NAME, result.summary(preset.name))
    return result


def train_or_resume(config, preset: Preset, train_root: Path, out_dir: Path, job, threads: int) -> dict:
    """The summary of a complete training run in ``out_dir``, training (or resuming) it first."""
    summary = read_summary(out_dir)
    if summary is not None:
        return summary
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        result = train(
            config, preset, make_pair_source(train_root, preset), out_dir, job.device, job.progress
        )
    finally:
        torch.set_num_threads(previous)
    return read_summary(out_dir) or result.summary(preset.name)


def make_pair_source(root: str | Path, preset: Preset) -> EpochBatches:
    """Pairs from the frame folders under ``root`` (a DAVIS root, YouTube-VOS/OxUvA frame folders)."""
    from ..data.clips import OFFICIAL_GAP_WEIGHTS, OFFICIAL_GAPS, FrameFolderClips, PairSampler

    weights = OFFICIAL_GAP_WEIGHTS if tuple(preset.gaps) == OFFICIAL_GAPS else None
    sampler = PairSampler(
        FrameFolderClips(root),
        gaps=preset.gaps,
        gap_weights=weights,
        size=preset.frame_size,
        seed=preset.seed,
    )
    return EpochBatches(sampler, preset.batch_size)


def read_summary(out_dir: str | Path) -> dict[str, Any] | None:
    path = Path(out_dir) / SUMMARY_NAME
    return json.loads(path.read_text()) if path.is_file() else None
