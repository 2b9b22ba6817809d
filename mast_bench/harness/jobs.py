"""One benchmark job = train-or-load, propagate, score, profile, record; and many jobs at once.

``run_job`` is idempotent: the record key is computed before any work, and an
existing record with that key is returned unless ``force``. Nothing is
published until the job has succeeded: masks go to a staging folder and the
record JSON is written last, atomically; on failure the staging folder is
removed, so no partial record is ever left behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..config import to_dict
from ..errors import ConfigError, DataError
from . import profiling, provenance
from .executors import map_jobs
from .loading import build_model, checkpoint_identity, needs_weights
from .presets import Preset, get_preset
from .propagation import PropagationStats, propagate_dataset
from .records import ResultRecord, canonical_json, identity_key
from .store import ResultStore


@dataclass(frozen=True)
class Job:
    variant: str
    results: str = "results"
    davis: str | None = None  # None: the embedded default dataset
    split: str = "val"
    sequences: tuple[str, ...] = ()  # empty: the whole split
    checkpoint: str | None = None  # a weights file; None: train with `preset` (or no weights needed)
    random_init: bool = False
    preset: str = "smoke"  # training preset and evaluation protocol (max_side)
    presets: str | None = None  # TOML file with [preset.NAME] tables; None: the built-in presets.toml
    max_side: int | None = -1  # -1: the preset's; None: full resolution
    train_data: str | None = None  # None: the evaluation dataset's frames (labels unused)
    device: str = "cpu"
    force: bool = False
    isolate: bool = True  # propagate in a fresh worker process (honest CPU peak memory)
    progress: bool = True
    command: str | None = None


# ----------------------------------------------------------------- identity pieces


def dataset_fingerprint(dataset, sequences: list[str]) -> str:
    """Names and byte sizes of every frame and annotation file of the chosen sequences."""
    digest = hashlib.sha256()
    for name in sequences:
        video = dataset.sequence(name)
        for path in (*video.frame_paths, *video.annotation_paths):
            digest.update(f"{name}/{path.parent.name}/{path.name}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def resolve_dataset(job: Job):
    from ..data import DavisDataset

    if job.davis is None:
        from ..data.embedded import ensure_default

        root, name = Path(ensure_default()), "embedded-default"
    else:
        root = Path(job.davis)
        name = root.resolve().name
    dataset = DavisDataset(root)
    sequences = list(job.sequences) if job.sequences else list(dataset.sequence_names(job.split))
    return dataset, name, sequences


def default_train_root(root: Path) -> Path:
    """The embedded default ships unlabelled training clips; elsewhere train on the dataset's frames."""
    clips = root / "train_clips"
    return clips if clips.is_dir() else root


def train_identity(config, preset: Preset, train_root: Path) -> dict[str, Any]:
    return {
        "variant_config": to_dict(config),
        "preset": to_dict(preset),
        "train_data": str(train_root.resolve()),
        "code_version": provenance.code_version(),
    }


def train_dir(store: ResultStore, identity: dict[str, Any]) -> Path:
    key = hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]
    return store.root / "checkpoints" / key


# ----------------------------------------------------------------- the job


@dataclass
class _PropagationTask:
    variant: str
    checkpoint: str | None
    random_init: bool
    seed: int
    davis_root: str
    sequences: list[str]
    out_dir: str
    device: str
    max_side: int | None
    progress: bool


def _propagate_task(task: _PropagationTask) -> tuple[PropagationStats, int]:
    """Runs in the (isolated) worker: build the model, propagate, measure."""
    from ..data import DavisDataset
    from ..variants import get_variant

    config = get_variant(task.variant)
    model = build_model(config, task.checkpoint, task.random_init, task.seed, task.device)
    stats = propagate_dataset(
        model,
        DavisDataset(task.davis_root),
        task.sequences,
        task.out_dir,
        task.device,
        task.max_side,
        progress=task.progress,
    )
    return stats, profiling.parameter_count(model)


def _run_isolated(task: _PropagationTask) -> tuple[PropagationStats, int]:
    """A fresh process per propagation, so its peak memory is its own."""
    from .worker import run_in_fresh_process

    return run_in_fresh_process(_propagate_task, task)


def evaluation_metrics(
    davis_root: Path, results_dir: Path, split: str, sequences: list[str]
) -> dict[str, Any]:
    from ..metrics import evaluate_semisupervised

    evaluation = evaluate_semisupervised(davis_root, results_dir, split, sequences, n_jobs=1)
    return {
        "global": _records(evaluation.global_table)[0] if _records(evaluation.global_table) else {},
        "per_sequence": _records(evaluation.per_sequence),
        "per_object": _records(evaluation.per_object),
        "per_frame": _records(evaluation.per_frame),
    }


def _records(table: Any) -> list[dict[str, Any]]:
    if hasattr(table, "to_dict"):
        rows = table.to_dict(orient="records")
    elif isinstance(table, dict):
        rows = [table]
    else:
        rows = list(table)
    return [{str(k): _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def run_job(job: Job) -> ResultRecord:
    """Train-or-load, propagate, score, profile and record one job (or return its existing record)."""
    from ..variants import get_variant

    config = get_variant(job.variant)
    preset = get_preset(job.preset, job.presets) if job.presets else get_preset(job.preset)
    max_side = preset.max_side if job.max_side == -1 else job.max_side
    store = ResultStore(job.results)
    dataset, dataset_name, sequences = resolve_dataset(job)
    for name in sequences:  # layout and first-frame objects are checked before any work
        dataset.sequence(name).object_ids()

    trained = needs_weights(config) and job.checkpoint is None and not job.random_init
    if trained:
        train_root = Path(job.train_data) if job.train_data else default_train_root(dataset.root)
        t_ident = train_identity(config, preset, train_root)
        t_dir = train_dir(store, t_ident)
        checkpoint = {
            "kind": "trained",
            "sha256": None,
            "train_preset": preset.name,
            "path": str(t_dir.relative_to(store.root) / "checkpoint.pt"),
        }
    else:
        checkpoint = checkpoint_identity(config, job.checkpoint, job.random_init, preset.seed)
    identity = {
        "variant": config.name,
        "variant_config": to_dict(config),
        "checkpoint": checkpoint,
        "dataset": {
            "name": dataset_name,
            "root": str(dataset.root.resolve()),
            "split": job.split,
            "sequences": sequences,
            "fingerprint": dataset_fingerprint(dataset, sequences),
        },
        "protocol": {"task": "semi-supervised", "resolution": dataset.resolution, "max_side": max_side},
        "code_version": provenance.code_version(),
    }
    if checkpoint["kind"] == "file":
        build_model(config, job.checkpoint)  # another architecture fails here, before any work
    key = identity_key(identity)
    existing = store.get(key)
    if existing is not None and not job.force:
        return existing

    train_block = None
    weights = job.checkpoint
    if trained:
        train_block, weights = _train(config, preset, train_root, t_dir, job)

    staged = store.staging_masks_dir(key)
    try:
        task = _PropagationTask(
            config.name,
            weights,
            job.random_init,
            preset.seed,
            str(dataset.root),
            sequences,
            str(staged),
            job.device,
            max_side,
            job.progress,
        )
        stats, parameters = _run_isolated(task) if job.isolate else _propagate_task(task)
        metrics = evaluation_metrics(dataset.root, staged, job.split, sequences)
        device = torch.device(job.device)
        profile = profiling.build_profile(
            parameters=parameters,
            encoder=stats.encoder,
            frames=stats.frames,
            seconds=stats.seconds,
            memory=stats.memory,
            frame_size=stats.frame_size,
            machine_gflops=profiling.matmul_gflops(device),
        )
        record = ResultRecord(
            identity=identity,
            provenance=provenance.collect(job.device, preset.seed, job.command),
            metrics=metrics,
            profile=profile,
            train=train_block,
        )
        store.put(record, staged)
    except BaseException:
        store.discard(staged)
        raise
    return record


def _train(config, preset: Preset, train_root: Path, out_dir: Path, job: Job) -> tuple[dict[str, Any], str]:
    from .training import make_pair_source, read_summary, train

    summary = read_summary(out_dir)
    if summary is None:
        result = train(
            config, preset, make_pair_source(train_root, preset), out_dir, job.device, job.progress
        )
        summary = result.summary(preset.name)
    return summary, str(out_dir / "checkpoint.pt")


def run_jobs(
    jobs: list[Job],
    backend: str = "joblib",
    n_jobs: int = 1,
    scheduler: Any = None,
    folder: str | Path | None = None,
    cluster: str | None = None,
) -> list[ResultRecord]:
    """Run independent jobs on joblib (local), Dask (``scheduler``) or submitit (``folder``)."""
    if not jobs:
        raise ConfigError("no job to run")
    if n_jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {n_jobs}")
    if backend != "joblib" or n_jobs > 1:
        jobs = [replace(job, progress=False) for job in jobs]  # bars of parallel workers would interleave
    records = map_jobs(run_job, jobs, backend, n_jobs, scheduler, folder, cluster)
    for root in {job.results for job in jobs}:
        ResultStore(root).write_table()  # one final table with every job's record
    return records


__all__ = ["Job", "run_job", "run_jobs", "DataError"]
