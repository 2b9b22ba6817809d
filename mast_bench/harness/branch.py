"""Start a training run from the stages another run already trained (``mast-bench train
--branch-from RUN``).

Ablations of the later stages (what the fine-tuning reads, its length, its learning rate) share the
first stage, which costs most of the time. A stage of the new preset whose identity (variant, seed
and every stage up to it) matches the source run's completed stage is the same computation, so its
checkpoint is copied instead of recomputed, in order, up to the first stage that differs; so are
the source's snapshots that fall inside the copied stages. Training the new folder then resumes
after them. A source that recorded its training clips (``train-data.json``) must have read the same
ones; an older source that did not is taken at its word (said once). Under torchrun every rank
checks the source (bad input fails on each alike), rank 0 alone copies and the others wait for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..atomic import atomic_write_bytes
from ..errors import CheckpointError, DataError
from ..locks import job_lock
from ..variants.config import VariantConfig
from .copied_stages import note_copied
from .presets import Preset
from .rank_zero import on_rank_0
from .train_data import DATA_RECORD, check_data_record, read_data_record
from .train_identity import same_stage, stage_identity
from .training import (
    LOCK_NAME,
    STAGES_DIR,
    distributed,
    load_training_state,
    snapshot_iterations,
    snapshot_path,
    stage_folders,
)


def shared_stages(config: VariantConfig, preset: Preset, source: Path) -> int:
    """How many leading stages of ``preset`` the run in ``source`` completed as the same computation."""
    shared = 0
    for index, folder in enumerate(stage_folders(preset, source)):
        checkpoint = folder / "checkpoint.pt"
        if not checkpoint.is_file():
            break
        state = load_training_state(checkpoint)
        if not state.get("complete") or not same_stage(
            state.get("identity"), stage_identity(config, preset, index)
        ):
            break
        shared += 1
    return shared


def _copy(source: Path, target: Path) -> bool:
    if target.is_file():
        return False  # an earlier branch (or training) put it there: training checks it
    atomic_write_bytes(target, source.read_bytes())
    return True


def _check_source(config, preset: Preset, source: Path, out_dir: Path, data: dict, tell) -> int:
    """How many stages ``source`` shares with ``preset``; refuses what cannot be branched from."""
    if not source.is_dir():
        what = "a file, not a training run folder" if source.exists() else "no such training run folder"
        raise DataError(f"{source}: {what} (--branch-from)")
    if source.resolve() == out_dir.resolve():
        raise DataError(f"{source}: --branch-from names the run folder itself (--out)")
    if not (source / DATA_RECORD).is_file() and not (source / STAGES_DIR).is_dir():
        raise DataError(
            f"{source}: not a training run folder (no {DATA_RECORD}, no {STAGES_DIR}/); "
            "--branch-from takes the --out of an earlier `mast-bench train`"
        )
    check_data_record(source, data, "branch from a run on the same --data")
    shared = shared_stages(config, preset, source)
    if shared == 0:
        raise CheckpointError(
            f"{source}: shares no completed stage with preset {preset.name!r} for variant "
            f"{config.name!r} (variant, seed and first stage must be the same)"
        )
    if read_data_record(source) is None:
        tell(f"{source} records no training clips (an older run): it is taken to have read these")
    return shared


def branch_run(
    config: VariantConfig,
    preset: Preset,
    source: str | Path,
    out_dir: str | Path,
    data: dict,
    tell: Callable[[str], None],
) -> int:
    """Copy into ``out_dir`` the leading stages (and their snapshots) ``source`` shares with
    ``preset``; returns how many stages are shared. ``data``: the clips the branch trains on
    (``clips_summary``). Refuses a source that shares no stage or trained on other clips."""
    source, out_dir = Path(source), Path(out_dir)
    rank, world = distributed()
    tell = tell if rank == 0 else _silent
    shared = _check_source(config, preset, source, out_dir, data, tell)

    def copy() -> None:
        verb = (
            "copied" if copy_shared_stages(config, preset, source, out_dir, shared, tell) else "already there"
        )
        tell(f"branch of {source}: {describe_stages(preset, shared)} {verb}; training resumes after them")

    on_rank_0(copy, rank, world)
    return shared


def describe_stages(preset: Preset, count: int) -> str:
    """``stage(s) NAMES (N iterations)`` of the first ``count`` stages of ``preset``."""
    end = preset.iterations_of_first(count)
    return f"stage(s) {', '.join(stage.name for stage in preset.stages[:count])} ({end} iterations)"


def copy_shared_stages(config, preset: Preset, source: Path, out_dir: Path, shared: int, tell) -> bool:
    """Copy the first ``shared`` stages of ``source`` (checked alike by the caller) into ``out_dir``,
    their snapshots first: a stage's checkpoint is the copy's commit point (a run that finds it goes
    on after it). Whether anything was copied; snapshots ``source`` lacks are said, not made."""
    out_dir.mkdir(parents=True, exist_ok=True)
    end = preset.iterations_of_first(shared)
    with job_lock(out_dir / LOCK_NAME, f"training of {config.name} in {out_dir}", on_wait=tell):
        pairs = list(
            zip(stage_folders(preset, source)[:shared], stage_folders(preset, out_dir), strict=False)
        )
        names = [stage.name for stage in preset.stages[:shared]]
        absent = [
            name for name, (_, b) in zip(names, pairs, strict=True) if not (b / "checkpoint.pt").is_file()
        ]
        note_copied(out_dir, source, absent)
        wanted = sorted(i for i in snapshot_iterations(preset) if i <= end)
        lacking = [i for i in wanted if not snapshot_path(source, i).is_file()]
        copied = [
            _copy(snapshot_path(source, i), snapshot_path(out_dir, i)) for i in wanted if i not in lacking
        ]
        copied += [_copy(a / "checkpoint.pt", b / "checkpoint.pt") for a, b in pairs]
    if lacking:
        tell(
            f"{source} keeps no snapshot at iteration(s) {', '.join(map(str, lacking))}, inside the stages "
            f"copied from it: preset {preset.name}'s learning curve of {out_dir} will lack them"
        )
    return any(copied)


def _silent(_message: str) -> None:
    """Ranks other than 0 say nothing (rank 0 speaks for the run)."""
