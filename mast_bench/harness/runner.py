"""One benchmark job = train-or-load, propagate, score, profile, record; and many jobs at once.

``run_job`` is idempotent and safe to run twice at once: the record key is computed (and the data
checked) before any work; the job then holds the key's lock, so a second identical job waits and
reuses the first one's record. Nothing is published until the job has succeeded: masks go to a
staging folder, published together with the record; on failure the staging folder is removed.

The key names the kernel path a job expects (no compiling: a cached record is found without
building the CPU kernels); a job that computes loads them first and, should they turn out not to
run here, re-keys itself to what does run. Threads: the user's choice (OMP_NUM_THREADS,
``torch.set_num_threads``, ``Job.threads``), else this process's share of its CPUs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..config import from_dict
from ..data.fingerprint import dataset_fingerprint
from ..data.splits import DataSpec, EvaluationSplit, open_split
from ..errors import CheckpointError, ConfigError
from ..model import create_model
from ..ops import kernel_path
from ..progress import tell, tell_notes
from ..results import ResultRecord, ResultStore, identity_key
from ..threads import threads_per_job
from ..variants.config import VariantConfig
from . import identity as ids
from . import profiling, provenance
from .executors import map_jobs
from .intra_op import user_threads
from .job import Job
from .scoring import require_scorable, score_split
from .segmentation import PropagationTask, run_isolated, run_propagation
from .shared_training import (
    first_stages_once,
    one_twin_at_a_time,
    record_identity,
    shared_trainings,
    take_twin_run,
)
from .training import check_preset_for, train_or_resume
from .weights import needs_weights, trained_identity, weights_identity, weights_sha256


@dataclass(frozen=True)
class JobPlan:
    """Everything decided before the first expensive step."""

    job: Job
    data: EvaluationSplit
    threads: int
    identity: dict[str, Any]
    key: str
    train_dir: Path | None  # where the harness trains the weights (None: not trained)
    train_root: Path | None
    train_identity: dict[str, Any] | None = None  # what names train_dir


def trains(job: Job) -> bool:
    """Whether the job trains its weights (a trainable variant without a checkpoint, not random)."""
    return needs_weights(job.variant) and job.checkpoint is None and not job.random_init


def plan_job(job: Job, kernels: str | None = None) -> JobPlan:
    """Resolve and check the data, the weights and the identity; no model work yet.

    ``kernels``: the kernel path known to run (default: the one expected, named without compiling).
    """
    data = open_split(job.data)
    data.check()  # its notes were said where the jobs were started (run_jobs)
    require_scorable(data)
    threads = _threads(job)
    environment = ids.numerics_environment(job.device, threads, kernels)
    store = ResultStore(job.results)
    train_dir = train_root = train_identity = None
    if trains(job):
        train_root, train_identity = _training(job, data, store, environment)
        train_dir = store.layout.checkpoint_dir(ids.short_hash(train_identity))
        weights = trained_identity(job.preset.name, str(train_dir.relative_to(store.root) / "checkpoint.pt"))
    else:
        weights = weights_identity(job.variant, job.checkpoint, job.random_init, job.preset.seed)
        if weights["kind"] == "file":
            create_model(job.variant, job.checkpoint)  # another architecture fails here, before any work
    evaluation = {
        "task": data.task,
        "resolution": data.resolution,
        "max_side": job.evaluation_max_side(),
    }
    identity = ids.record_identity(
        variant=job.variant,
        protocol=job.protocol,
        weights=weights,
        dataset=data.identity(dataset_fingerprint(data.files(), store.layout.cache_dir)),
        evaluation=evaluation,
        environment=environment,
    )
    key = identity_key(identity)
    return JobPlan(job, data, threads, identity, key, train_dir, train_root, train_identity)


def _threads(job: Job) -> int:
    return job.threads or user_threads() or threads_per_job(1)


def _training(
    job: Job, data: EvaluationSplit, store: ResultStore, environment: dict[str, Any]
) -> tuple[Path, dict[str, Any]]:
    """(the training data's root, the identity of the training that makes the job's weights)."""
    if job.variant.pretrained_features:
        raise CheckpointError(
            f"variant {job.variant.name!r} reads a pretrained {job.variant.features} trunk: pass "
            "--checkpoint PATH (e.g. a torchvision ImageNet file); nothing is downloaded"
        )
    train_root = Path(job.train_data) if job.train_data else data.default_train_root()
    train_data = ids.training_data_fingerprint(train_root, store.layout.cache_dir)
    return train_root, ids.training_identity(job.variant, job.preset, train_data, environment)


def training_identity_of(job: Job) -> dict[str, Any]:
    """What names the training of a job that trains, without checking its evaluation data (as
    :func:`plan_job` does, at a few seconds per job on DAVIS val)."""
    environment = ids.numerics_environment(job.device, _threads(job), None)
    return _training(job, open_split(job.data), ResultStore(job.results), environment)[1]


def run_job(job: Job) -> ResultRecord:
    """Train-or-load, propagate, score, profile and record one job (or return its existing record)."""
    plan = plan_job(job)
    store = ResultStore(job.results)
    store.clean_debris()
    key = plan.key
    existing = reusable(store, key, job)
    if existing is not None:
        return existing
    store.check_writable()
    plan = with_kernels_loaded(plan)
    if plan.key != key:
        existing = reusable(store, plan.key, job)
        if existing is not None:
            return existing
    with store.lock(plan.key, what=f"job {job.variant.name} ({plan.key[:12]})"):
        existing = reusable(store, plan.key, job)
        if existing is not None:
            return existing  # computed by another process while this one waited
        source = None if job.force else same_weights_record(store, plan)
        if source is not None:
            record = store.publish_new(plan.key, lambda staged: copy_of_record(store, source, plan, staged))
            path = source.identity["checkpoint"]["path"]
            tell(
                f"{job.checkpoint}: the same weights as {path} (record {source.key[:12]}): its results reused"
            )
        else:
            train_block, weights = ensure_weights(plan)
            record = store.publish_new(
                plan.key, lambda staged: compute_record(plan, weights, staged, train_block)
            )
    store.write_table()
    return record


def reusable(store: ResultStore, key: str, job: Job) -> ResultRecord | None:
    """The existing record of ``key`` unless ``job.force`` (then not even read: --force recomputes
    over a garbage or truncated record file, which otherwise stops the job saying so)."""
    return None if job.force else store.get(key)


def copy_of_record(store: ResultStore, source: ResultRecord, plan: JobPlan, staged: Path) -> ResultRecord:
    """``source``, a record of this very job on the same weights read from another file (the run
    folder moved or copied, or the checkpoint retrained bit for bit: its file also holds wall-clock
    seconds), under this job's identity, its masks copied into ``staged`` instead of computed again."""
    store.copy_masks(source, staged)
    return ResultRecord(
        identity=plan.identity,
        # the record that computed them, not a copy of it
        provenance={"same_weights_as": source.key, **source.provenance},
        metrics=source.metrics,
        profile=source.profile,
        train=source.train,
    )


def same_weights_record(store: ResultStore, plan: JobPlan) -> ResultRecord | None:
    """The store's record (with its masks) of this job on the same weights from another file."""
    if plan.identity["checkpoint"]["kind"] != "file":
        return None
    digest = weights_sha256(plan.job.checkpoint)
    for key in store.keys_with_weights(digest):
        record = store.get(key, skip_unreadable=True)
        if (
            record is not None
            and record.provenance.get("weights_sha256") == digest
            and ids.same_job_but_file(record.identity, plan.identity)
            and store.has_masks(record)
        ):
            return record
    return None


def with_kernels_loaded(plan: JobPlan) -> JobPlan:
    """Load (or build, once) the kernels this job runs; the plan again if they are not the ones
    its identity expected (a failed build: the reference path), so the record says what ran."""
    actual = kernel_path(plan.job.device)
    if actual == plan.identity["environment"]["kernels"]:
        return plan
    return plan_job(plan.job, kernels=actual)


def ensure_weights(plan: JobPlan) -> tuple[dict[str, Any] | None, str | None]:
    """(training summary or None, weights file or None): trains when the plan says so."""
    job = plan.job
    if plan.train_dir is None:
        return None, job.checkpoint
    layout = ResultStore(job.results).layout

    def train_until(
        folder: Path, iteration: int | None, variant: VariantConfig = job.variant
    ) -> dict[str, Any]:
        args = (plan.train_root, folder, job, plan.threads, layout.cache_dir, iteration)
        return train_or_resume(variant, job.preset, *args)

    with one_twin_at_a_time(plan.train_dir, plan.train_identity, layout.locks_dir, tell) as stopped:
        if stopped is not None:  # a twin's run stopped part-way by a kill: it goes on there, then is taken
            folder, identity = stopped
            train_until(folder, None, from_dict(VariantConfig, identity["variant_config"]))
            record_identity(folder, identity)
        take_twin_run(plan.train_dir, plan.train_identity, tell)
        first_stages_once(
            plan.train_dir, plan.train_identity, job.preset, layout.locks_dir, train_until, tell
        )
        summary = train_until(plan.train_dir, None)
        record_identity(plan.train_dir, plan.train_identity)
    return summary, str(plan.train_dir / "checkpoint.pt")


def compute_record(
    plan: JobPlan, weights: str | None, staged: Path, train_block: dict[str, Any] | None
) -> ResultRecord:
    job = plan.job
    task = PropagationTask(job, plan.data, weights, str(staged), plan.threads)
    stats, parameters = run_isolated(task) if job.isolate else run_propagation(task)
    metrics = score_split(plan.data, staged)
    profile = profiling.build_profile(
        parameters=parameters,
        encoder=stats.encoder,
        frames=stats.frames,
        seconds=stats.seconds,
        memory=stats.memory,
        frame_size=stats.frame_size,
        machine_gflops=profiling.matmul_gflops(torch.device(job.device)),
    )
    return ResultRecord(
        identity=plan.identity,
        provenance={
            **provenance.collect(job.device, job.preset.seed, job.command),
            "data_root": str(Path(plan.data.root).resolve()),
            "weights_sha256": weights_sha256(weights),
        },
        metrics=metrics,
        profile=profile,
        train=train_block,
    )


def prepare_jobs(jobs: list[Job], backend: str = "joblib", n_jobs: int = 1, **_: Any) -> list[Job]:
    """The unique jobs as :func:`run_jobs` runs them: each with its thread count (the user's, else
    its share of the CPUs) and progress bars only when jobs run one at a time."""
    if not jobs:
        raise ConfigError("no job to run")
    if n_jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {n_jobs}")
    unique = list(dict.fromkeys(jobs))
    for job in unique:  # before any job trains: a refusal after another job's hour of training
        if trains(job):
            check_preset_for(job.variant, job.preset)
    parallel = _parallel(backend, n_jobs)
    threads = (user_threads() or threads_per_job(min(n_jobs, len(unique)))) if backend == "joblib" else None
    return [
        replace(job, progress=job.progress and not parallel, threads=job.threads or threads) for job in unique
    ]


def run_jobs(
    jobs: list[Job],
    backend: str = "joblib",
    n_jobs: int = 1,
    scheduler: Any = None,
    folder: str | Path | None = None,
    cluster: str | None = None,
) -> list[ResultRecord]:
    """Run independent jobs on joblib (local), Dask (``scheduler``) or submitit (``folder``).

    Identical jobs run once. Local jobs share this process's CPUs: jobs x threads never exceeds
    them (each job's thread count is part of its identity).
    """
    unique = list(dict.fromkeys(jobs))
    prepared = prepare_jobs(unique, backend, n_jobs)
    for spec in dict.fromkeys(job.data for job in unique):  # here, once: not in each worker process
        tell_notes(open_split(spec).check())
    given = sorted({job.train_data for job in unique if job.train_data})
    if given and not any(trains(job) for job in unique):  # said once: a preview prepares the jobs too
        tell(f"note: --train-data {given[0]} is not read: no job trains (weights given or random, or none)")
    order = sharing_order(prepared) if _parallel(backend, n_jobs) else range(len(prepared))
    ordered = map_jobs(run_job, [prepared[i] for i in order], backend, n_jobs, scheduler, folder, cluster)
    done = {unique[i]: record for i, record in zip(order, ordered, strict=True)}
    for root in {job.results for job in unique}:
        ResultStore(root).write_table()
    return [done[job] for job in jobs]


def _parallel(backend: str, n_jobs: int) -> bool:
    return backend != "joblib" or n_jobs > 1


def sharing_order(jobs: list[Job]) -> list[int]:
    """The indices of ``jobs`` with those that would wait for an earlier job's training (its twin's,
    or first stages it shares) moved behind the rest, each group in its order: run several at once,
    ``run --variant a,b --protocol mast,crw`` held a worker idle waiting for a's training while b's
    waited its turn."""
    seen: set[str] = set()
    first, waiting = [], []
    for index, job in enumerate(jobs):
        shared = shared_trainings(training_identity_of(job), job.preset) if trains(job) else ()
        (waiting if seen.intersection(shared) else first).append(index)
        seen.update(shared)
    return first + waiting


def jobs_for(
    variants: list,
    protocols: list,
    preset,
    data: DataSpec,
    *,
    per_sequence: bool = False,
    **settings: Any,
) -> list[Job]:
    """One job per (variant, protocol, data): the whole split, or each sequence on its own."""
    specs = [data]
    if per_sequence:
        specs = [replace(data, sequences=(name,)) for name in open_split(data).sequences]
    return [
        Job(variant=variant, protocol=protocol, preset=preset, data=spec, **settings)
        for variant in variants
        for protocol in protocols
        for spec in specs
    ]
