"""Self-supervised training: a chain of stages, resumable at any point, with atomic checkpoints.

``train(config, preset, clips, out)`` runs the preset's stages in order; stage k starts from stage
k-1's final weights (a fresh optimizer at its own learning rate) and lives in
``out/stages/<k>-<name>/`` with its own checkpoint. The finished chain writes ``out/checkpoint.pt``
(the final weights, official layout) and ``out/train.json`` (per-stage losses, times, samples/s).
``out/tensorboard/`` gets loss, learning rate, samples/s, the stage and now and then a
reconstruction; ``out/snapshots/`` the weights at the preset's snapshot fractions (learning curves).

Determinism: every random choice of iteration ``i`` (which frames, which channel is dropped) comes
from generators seeded with ``(seed, i)``, so a run is a pure function of (preset, variant, data,
iteration) and a run resumed from iteration k continues exactly as the straight run would. A
checkpoint also stores the global RNG states; the caller's are put back when ``train`` returns.
Checkpoints are written atomically (temp file + fsync + rename): ``kill -9`` leaves the previous or
the new one, never half of one, and loses at most ``checkpoint_every`` iterations of the stage it hit.
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write_bytes, atomic_write_json
from ..data.overlap import overlapping
from ..data.training_set import TrainingSetClips
from ..errors import CheckpointError, ConfigError, DataError, require_folder_or_absent
from ..locks import job_lock
from ..progress import progress_bar
from ..progress import tell as progress_tell
from ..results import COPIED_FROM
from ..variants.config import VariantConfig
from .batches import FrameTensors, PlanSource, plan_source
from .copied_stages import copied_stages, forget_copied
from .intra_op import intra_op_threads
from .out_of_memory import said_in_one_line
from .precise_bn import recompute_batchnorm_statistics
from .presets import Preset, TrainStage, learning_rate
from .rank_zero import on_rank_0
from .streams import iteration_generator
from .train_data import (
    DATA_RECORD,
    RESUME_REMEDY,
    check_data_record,
    clips_summary,
    keep_data_record,
    read_run_json,
)
from .train_identity import same_stage, stage_identity
from .train_log import TrainLog

CHECKPOINT_NAME = "checkpoint.pt"
SUMMARY_NAME = "train.json"
LOCK_NAME = ".train.lock"
STAGES_DIR = "stages"
SNAPSHOTS_DIR = "snapshots"


@dataclass
class StageResult:
    name: str
    iterations: int
    final_loss: float
    seconds: float
    batch_size: int
    frame_size: tuple[int, int]
    references: int
    loss_curve: list[list[float]] = field(default_factory=list)  # [global iteration, loss]

    def summary(self) -> dict[str, Any]:
        samples = self.iterations * self.batch_size
        return {
            "name": self.name,
            "iterations": self.iterations,
            "final_loss": self.final_loss,
            "seconds": self.seconds,
            "samples_per_s": samples / self.seconds if self.seconds > 0 else None,
            "batch_size": self.batch_size,
            "frame_size": list(self.frame_size),
            "references": self.references,
            "loss_curve": self.loss_curve,
        }


@dataclass
class TrainResult:
    checkpoint: Path
    iterations: int
    final_loss: float
    seconds: float
    stages: list[StageResult] = field(default_factory=list)

    @property
    def loss_curve(self) -> list[list[float]]:
        return [point for stage in self.stages for point in stage.loss_curve]

    def summary(self, preset: str, copied: dict[str, str] | None = None) -> dict[str, Any]:
        """``copied``: stage name -> the run it was copied from (``copied_stages``)."""
        copied = copied or {}
        stages = [
            {**stage.summary(), **({COPIED_FROM: copied[stage.name]} if stage.name in copied else {})}
            for stage in self.stages
        ]
        return {
            "preset": preset,
            "iterations": self.iterations,
            "final_loss": self.final_loss,
            "seconds": self.seconds,
            "loss_curve": self.loss_curve,
            "stages": stages,
        }


def stage_seed(seed: int, index: int) -> int:
    """The plan seed of stage ``index`` (the first stage keeps the preset's seed)."""
    return seed if index == 0 else int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


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


@contextlib.contextmanager
def _callers_rngs_kept():
    """Training seeds the process-wide RNGs (and a resume restores the checkpoint's states); the
    caller's states are put back afterwards, so a script or notebook that trains keeps its streams."""
    saved = _rng_state()
    try:
        yield
    finally:
        _restore_rng(saved)


def _restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))


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


def distributed() -> tuple[int, int]:
    """(rank, world size): a process group (gloo on CPU, NCCL on CUDA) under torchrun."""
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def load_training_state(path: Path) -> dict[str, Any]:
    from ..model.checkpoint import load_failure

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot resume from this checkpoint ({load_failure(exc)}); "
            "delete it to restart this stage"
        ) from None


@dataclass
class _Run:
    """The state a stage carries from iteration to iteration (and through a checkpoint)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    identity: dict[str, Any]
    start: int = 0  # iterations of this stage already done
    loss_curve: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Stage:
    """One stage of the chain as the loop sees it."""

    index: int
    config: TrainStage
    folder: Path
    offset: int  # global iteration of this stage's first iteration
    seed: int

    @property
    def checkpoint(self) -> Path:
        return self.folder / CHECKPOINT_NAME


def stage_stream(preset: Preset, index: int) -> tuple[int, int]:
    """(seed, global iteration of its first step) of stage ``index``: what its batches and its
    per-iteration random streams are drawn from."""
    stage = preset.stages[index]
    seed = stage_seed(preset.seed, index) if stage.seed is None else stage.seed
    return seed, preset.iterations_of_first(index)


def _stages(preset: Preset, out_dir: Path) -> list[_Stage]:
    stages = []
    for index, stage in enumerate(preset.stages):
        seed, offset = stage_stream(preset, index)
        stages.append(_Stage(index, stage, out_dir / STAGES_DIR / f"{index + 1}-{stage.name}", offset, seed))
    return stages


def stage_folders(preset: Preset, out_dir: str | Path) -> list[Path]:
    """Where each stage of ``preset`` trains under ``out_dir`` (its checkpoint.pt: its final weights)."""
    return [stage.folder for stage in _stages(preset, Path(out_dir))]


def _new_model(config: VariantConfig, preset: Preset, previous: Path | None, device: torch.device):
    from ..model import MAST
    from ..model.checkpoint import load_weights

    set_global_seed(preset.seed)
    model = MAST(config)
    if not model.trainable:
        raise ConfigError(f"variant {config.name!r} has no trainable parameters; it needs no training")
    if previous is not None:
        load_weights(model, previous)
    return set_training_mode(model.to(device))


def set_training_mode(model: torch.nn.Module) -> torch.nn.Module:
    """Training mode, except BatchNorm layers of a variant that freezes them (running statistics
    kept and used, as in evaluation)."""
    model.train()
    if model.config.train_batchnorm == "frozen":
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
    return model


def _start_or_resume(config, preset: Preset, stage: _Stage, previous: Path | None, device) -> _Run:
    model = _new_model(config, preset, previous, device)
    if stage.config.channels_last and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=stage.config.lr, betas=stage.config.betas)
    run = _Run(model, optimizer, stage_identity(config, preset, stage.index))
    if not stage.checkpoint.is_file():
        return run
    state = load_training_state(stage.checkpoint)
    _refuse_another_run(stage.checkpoint, state, run.identity)
    model.load_state_dict(state["state_dict"])
    optimizer.load_state_dict(state["optimizer"])
    run.start, run.seconds = state["iteration"], state["seconds"]
    run.loss_curve = [list(x) for x in state["loss_curve"]]
    _restore_rng(state["rng"])
    return run


def _refuse_another_run(checkpoint: Path, state: dict[str, Any], identity: dict[str, Any]) -> None:
    if not same_stage(state.get("identity"), identity):
        raise CheckpointError(
            f"{checkpoint}: holds a run of another variant/preset; use another run folder or delete it"
        )


def _save(run: _Run, stage: _Stage, done: int, model: torch.nn.Module | None = None) -> None:
    """The stage's checkpoint after ``done`` iterations; ``model``: the weights to keep where they
    are not the trained module's own (precise BN statistics at the stage's end)."""
    from ..model.checkpoint import save_checkpoint

    save_checkpoint(
        stage.checkpoint,
        run.model if model is None else model,
        run.optimizer,
        iteration=done,
        rng=_rng_state(),
        identity=run.identity,
        loss_curve=run.loss_curve,
        seconds=run.seconds,
        epoch=0,
        stage=stage.config.name,
        complete=done >= stage.config.iterations,
    )


def _step(run: _Run, trained, stage: _Stage, plans: PlanSource, frames: FrameTensors, i: int, rank, world):
    """Iteration ``i`` of the stage; returns (loss, step info)."""
    from ..model.train_step import reconstruction_loss

    generator = iteration_generator(stage.seed, stage.offset + i, rank)
    plan = plans(i, rank, world)
    inputs = [frames.batch(refs) for refs in plan.frames]
    for group in run.optimizer.param_groups:
        group["lr"] = learning_rate(stage.config, i)
    with _autocast(frames.device, stage.config.mixed_precision):
        loss, info = reconstruction_loss(
            trained,
            inputs[:-1],
            inputs[-1],
            generator,
            ref_indices=plan.indices[:-1],
            target_index=plan.indices[-1],
        )
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    value = float(loss.detach())
    if not _finite_gradients(run.optimizer):  # after DDP's all-reduce: every rank decides alike
        raise ConfigError(
            f"stage {stage.config.name}: non-finite gradients at iteration {i + 1} (loss {value:g}, "
            f"learning rate {learning_rate(stage.config, i):g}): training diverged; the weights were not "
            "updated with them, and the last checkpoint is kept: lower the stage's lr and train into "
            "another folder"
        )
    run.optimizer.step()
    return value, info


def _finite_gradients(optimizer: torch.optim.Optimizer) -> bool:
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    return not grads or bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())


def _progress_bar(config, stage: _Stage, start: int, enabled: bool):
    """A bar on a terminal, one line per stage in a log (mast_bench.progress)."""
    return progress_bar(
        total=stage.config.iterations,
        initial=start,
        desc=f"train {config.name} [{stage.index + 1} {stage.config.name}]",
        unit="it",
        enabled=enabled,
        leave=True,
    )


def snapshot_iterations(preset: Preset) -> set[int]:
    """Global iterations whose weights the run keeps in ``snapshots/`` (0 = the initial weights)."""
    return {round(f * preset.iterations) for f in preset.snapshots}


def snapshot_path(out_dir: Path, iteration: int) -> Path:
    return Path(out_dir) / SNAPSHOTS_DIR / f"iter-{iteration:07d}.pt"


def _evaluation_model(
    ctx: _Context, stage: _Stage, model: torch.nn.Module, done: int, snapshot: bool
) -> torch.nn.Module:
    """The weights kept for evaluation after ``done`` iterations of ``stage``: the trained module,
    or, where the stage asks for precise BN and keeps these weights (a ``snapshot`` due, the stage's
    end), a copy with its BatchNorm statistics re-estimated (the training goes on from its own)."""
    if not stage.config.precise_bn or not (done == stage.config.iterations or snapshot):
        return model
    kept = copy.deepcopy(model)
    recompute_batchnorm_statistics(
        kept, ctx.clips, stage.config, stage.seed, stage.config.precise_bn, ctx.device
    )
    return kept


def _snapshot(model: torch.nn.Module, out_dir: Path, iteration: int, identity: dict[str, Any]) -> None:
    """Keep the weights at ``iteration``, naming the stage that trained them (its identity)."""
    from ..model.checkpoint import save_checkpoint

    save_checkpoint(snapshot_path(out_dir, iteration), model, iteration=iteration, identity=identity)


def _snapshot_due(out_dir: Path, iteration: int, wanted: set[int], identity: dict[str, Any]) -> bool:
    """A wanted iteration whose snapshot is not there, or is another stage's: a run folder another
    preset trained first (its stage 1 the same, the next one not) held that preset's weights there."""
    if iteration not in wanted:
        return False
    path = snapshot_path(out_dir, iteration)
    return not path.is_file() or not snapshot_of_stage(path, identity)


def snapshot_of_stage(path: Path, identity: dict[str, Any]) -> bool:
    """Whether the snapshot at ``path`` was kept by the stage of ``identity`` (one unreadable is not;
    one written before snapshots named their stage is taken at its word)."""
    try:
        state = load_training_state(path)
    except CheckpointError:  # any unreadable file is no snapshot of this stage
        return False
    if not isinstance(state, dict):
        return False
    stored = state.get("identity")
    return stored is None or same_stage(stored, identity)


@dataclass(frozen=True)
class _Context:
    """What every stage of one chain shares."""

    config: VariantConfig
    preset: Preset
    clips: Any  # a ClipSource
    out_dir: Path
    device: torch.device
    progress: bool
    rank: int
    world: int
    tell: Callable[[str], None]


def _result(stage: _Stage, run: _Run, iterations: int) -> StageResult:
    cfg = stage.config
    final = run.loss_curve[-1][1] if run.loss_curve else float("nan")
    return StageResult(
        cfg.name,
        iterations,
        final,
        run.seconds,
        cfg.batch_size,
        cfg.frame_size,
        cfg.references,
        run.loss_curve,
    )


def _stage_end(stage: _Stage, start: int, stop_after: int | None) -> int:
    """The local iteration this call stops at (``stop_after`` is global)."""
    if stop_after is None:
        return stage.config.iterations
    return min(stage.config.iterations, max(start, stop_after - stage.offset))


def _trained_module(ctx: _Context, model: torch.nn.Module) -> torch.nn.Module:
    if ctx.world == 1:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return _distributed_class()(model, device_ids=ids)


def _run_stage(
    ctx: _Context, stage: _Stage, previous: Path | None, stop_after: int | None, log
) -> StageResult:
    """Train (or resume, or find complete) one stage; returns its result."""
    run = _start_or_resume(ctx.config, ctx.preset, stage, previous, ctx.device)
    cfg, end = stage.config, _stage_end(stage, run.start, stop_after)
    if run.start >= end:
        return _result(stage, run, run.start)
    if ctx.rank == 0:
        forget_copied(ctx.out_dir, cfg.name)  # it trains here after all
    if run.start and ctx.rank == 0:
        ctx.tell(
            f"resuming {ctx.config.name}: stage {stage.index + 1}/{len(ctx.preset.stages)} "
            f"'{cfg.name}' at iteration {run.start}/{cfg.iterations} from {stage.checkpoint}"
        )
    trained = _trained_module(ctx, run.model)
    plans = plan_source(ctx.clips, cfg, stage.seed, ctx.tell if ctx.rank == 0 else None)
    frames = FrameTensors(ctx.clips, cfg, ctx.config.colour_space, ctx.device)
    wanted = snapshot_iterations(ctx.preset)
    if (
        ctx.rank == 0
        and stage.offset + run.start == 0
        and _snapshot_due(ctx.out_dir, 0, wanted, run.identity)
    ):
        _snapshot(run.model, ctx.out_dir, 0, run.identity)  # the initial weights: nothing to re-estimate
    bar = _progress_bar(ctx.config, stage, run.start, ctx.progress and ctx.rank == 0)
    for i in range(run.start, end):
        tick = time.perf_counter()
        loss, info = _step(run, trained, stage, plans, frames, i, ctx.rank, ctx.world)
        run.seconds += time.perf_counter() - tick
        done = i + 1
        run.loss_curve.append([stage.offset + done, loss])
        speed = cfg.batch_size * done / max(run.seconds, 1e-9)  # this stage's samples per second of steps
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", samples_per_s=f"{speed:.1f}")
        if ctx.rank != 0:
            continue
        at_checkpoint = done % cfg.checkpoint_every == 0 or done == end
        log.step(
            stage.offset + done,
            stage.index,
            loss,
            learning_rate(cfg, i),
            speed,
            info if at_checkpoint else None,
        )
        due = _snapshot_due(ctx.out_dir, stage.offset + done, wanted, run.identity)
        kept = _evaluation_model(ctx, stage, run.model, done, due)
        if due:
            _snapshot(kept, ctx.out_dir, stage.offset + done, run.identity)
        if at_checkpoint:  # a resume state keeps the trained module's own statistics: resumes are exact
            _save(run, stage, done, kept if done == cfg.iterations else None)
    bar.close()
    return _result(stage, run, end)


def train(
    config: VariantConfig,
    preset: Preset,
    clips,
    out_dir: str | Path,
    device: str | torch.device = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
    tell: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train ``config`` with ``preset``'s stages on ``clips`` (a ClipSource) into ``out_dir``.

    Resumes wherever the folder's checkpoints left off. The folder's lock is held for the whole
    chain: a second trainer of the same folder waits for this one (then resumes or finds it
    complete), and only the holder removes temp files. The folder keeps which clips it trained on
    (``train-data.json``) and refuses to resume on others. ``stop_after`` ends the chain early, after
    that global iteration (checkpoint written); the next call resumes.
    """
    check_training(config, preset, clips, stop_after=stop_after)
    rank, world = distributed()
    stale = clips.set.stale_decoding() if isinstance(clips, TrainingSetClips) else None
    if stale is not None and rank == 0:  # said where it trains, not where the set is only planned
        (tell or progress_tell)(stale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)  # after the refusals: a refused run leaves no folder
    # rank 0 alone writes checkpoints, so it alone locks the folder; the other ranks wait for it
    # (on a lock held by another trainer too) and share its refusal, e.g. other clips
    ctx = _Context(
        config, preset, clips, out_dir, torch.device(device), progress, rank, world, tell or progress_tell
    )
    with contextlib.ExitStack() as held, _callers_rngs_kept():
        on_rank_0(lambda: _take_folder(ctx, held), rank, world)
        return _train_locked(ctx, stop_after)


def check_training(
    config: VariantConfig,
    preset: Preset,
    clips,
    out_dir: str | Path | None = None,
    stop_after: int | None = None,
) -> None:
    """What refuses a training before it writes a file: the preset, the clips' frames, each stage's
    sampling of them and (``out_dir``) a run folder whose weights saw other clips. ``train`` checks
    them itself; ``train --branch-from`` checks them before it copies stages into the folder."""
    check_stop_after(preset, stop_after)
    check_preset_for(config, preset)
    _, world = distributed()
    for stage in preset.stages:
        if stage.batch_size % world:
            raise ConfigError(
                f"preset {preset.name}, stage {stage.name}: batch_size {stage.batch_size} not divisible by "
                f"{world} ranks"
            )
    clips.check()
    check_stages(preset, clips)
    if out_dir is not None and _has_trained(Path(out_dir)):
        check_data_record(Path(out_dir), clips_summary(clips), RESUME_REMEDY)


def check_run_folder(
    out_dir: str | Path,
    data: str | Path | None = None,
    config: VariantConfig | None = None,
    preset: Preset | None = None,
) -> None:
    """Before the clips are opened (a folder of videos is decoded first): a run folder is no folder
    of other files (its checkpoint.pt and train.json would be written over them), lies outside the
    training data (a training set made again there is replaced whole, the run with it) and, given
    ``config`` and ``preset``, holds no stage checkpoint of another variant or preset."""
    out_dir = Path(out_dir)
    if data is not None and overlapping(out_dir, [Path(data)]) is not None:
        raise DataError(
            f"{out_dir}: the run folder overlaps its training data {data}; choose a run folder outside it"
        )
    require_folder_or_absent(out_dir, "a training run's folder")
    present = {p.name for p in out_dir.iterdir() if not p.name.startswith(".")} if out_dir.is_dir() else set()
    if present and not present & {DATA_RECORD, STAGES_DIR}:
        raise DataError(
            f"{out_dir}: holds other files ({', '.join(sorted(present)[:3])}) and no training run "
            f"({DATA_RECORD}, {STAGES_DIR}/); choose another run folder"
        )
    if config is None or preset is None:
        return
    for index, folder in enumerate(stage_folders(preset, out_dir)):
        checkpoint = folder / CHECKPOINT_NAME
        if checkpoint.is_file():
            identity = stage_identity(config, preset, index)
            _refuse_another_run(checkpoint, load_training_state(checkpoint), identity)


def check_stages(preset: Preset, clips) -> None:
    """Every stage can sample the clips, checked before the first trains: a later stage's refusal
    (its references reach past the longest clip) came after the earlier stages had trained."""
    for stage in preset.stages:
        try:
            plan_source(clips, stage, seed=0)
        except (ConfigError, DataError) as exc:
            raise type(exc)(f"preset {preset.name}, stage {stage.name}: {exc}") from None


def check_preset_for(config: VariantConfig, preset: Preset) -> None:
    """What a variant cannot train with (config alone): checked by run and ablate for every job that
    trains before any trains, so a refusal never comes after another job's hour of training."""
    if config.train_batchnorm == "frozen" and any(stage.precise_bn for stage in preset.stages):
        raise ConfigError(
            f"preset {preset.name}: precise_bn re-estimates BatchNorm statistics, which variant "
            f"{config.name!r} keeps frozen (train_batchnorm = 'frozen'); set precise_bn = 0"
        )


def check_stop_after(preset: Preset, stop_after: int | None) -> None:
    """A stop past the chain's end would train to the end and look as if it had stopped: refuse it."""
    if stop_after is None or 0 < stop_after <= preset.iterations:
        return
    stages = ", ".join(f"{stage.name} {stage.iterations}" for stage in preset.stages)
    raise ConfigError(
        f"stop after iteration {stop_after}: preset {preset.name} has {preset.iterations} iterations "
        f"in all ({stages}); expected 1 to {preset.iterations}"
    )


def _take_folder(ctx: _Context, held: contextlib.ExitStack) -> None:
    """Lock the run folder for the whole chain (held until ``held`` closes), record its clips and
    remove temp files a killed run left (ours to remove: we hold the lock)."""
    what = f"training of {ctx.config.name} in {ctx.out_dir}"
    held.enter_context(job_lock(ctx.out_dir / LOCK_NAME, what, on_wait=ctx.tell))
    keep_data_record(ctx.out_dir, clips_summary(ctx.clips), _has_trained(ctx.out_dir))
    for stale in ctx.out_dir.rglob(".*.tmp"):  # checkpoints, snapshots, notes: atomic_write's temp files
        stale.unlink(missing_ok=True)


def _has_trained(out_dir: Path) -> bool:
    """Weights in ``out_dir`` that have seen its recorded data: a stage checkpoint, or a snapshot past
    iteration 0 (written at its step, before that step's checkpoint)."""
    if any((out_dir / STAGES_DIR).glob(f"*/{CHECKPOINT_NAME}")):
        return True
    return any(p != snapshot_path(out_dir, 0) for p in (out_dir / SNAPSHOTS_DIR).glob("iter-*.pt"))


def _train_locked(ctx: _Context, stop_after: int | None) -> TrainResult:
    results: list[StageResult] = []
    previous: Path | None = None
    with TrainLog(ctx.out_dir, enabled=ctx.rank == 0) as log:
        for stage in _stages(ctx.preset, ctx.out_dir):
            if stop_after is not None and stage.offset >= stop_after:
                break  # stopped at a stage boundary: the next stage is not entered
            with said_in_one_line(ctx.preset.name, stage.config, ctx.device):
                result = _run_stage(ctx, stage, previous, stop_after, log)
            results.append(result)
            if result.iterations < stage.config.iterations:
                break  # stopped early (stop_after): the next call resumes here
            previous = stage.checkpoint
    done = sum(r.iterations for r in results)
    final = results[-1].final_loss if results else float("nan")
    result = TrainResult(ctx.out_dir / CHECKPOINT_NAME, done, final, sum(r.seconds for r in results), results)
    if ctx.rank == 0 and done >= ctx.preset.iterations:
        atomic_write_bytes(result.checkpoint, previous.read_bytes())  # the last stage's final state
        summary = result.summary(ctx.preset.name, copied_stages(ctx.out_dir))
        atomic_write_json(ctx.out_dir / SUMMARY_NAME, summary)
    return result


def train_or_resume(
    config,
    preset: Preset,
    train_root: Path,
    out_dir: Path,
    job,
    threads: int,
    cache_dir,
    stop_after: int | None = None,
) -> dict:
    """The summary of a complete training run in ``out_dir``, training (or resuming) it first (up to
    ``stop_after`` only, where given: the summary then is of what trained)."""
    from .batches import open_clip_source

    summary = read_summary(out_dir)
    if summary is not None:
        return summary
    with intra_op_threads(threads):
        clips = open_clip_source(train_root, cache_dir)
        result = train(config, preset, clips, out_dir, job.device, job.progress, stop_after=stop_after)
    return read_summary(out_dir) or result.summary(preset.name)


def read_summary(out_dir: str | Path) -> dict[str, Any] | None:
    path = Path(out_dir) / SUMMARY_NAME
    return read_run_json(path, "training summary", "delete it to rebuild it")
