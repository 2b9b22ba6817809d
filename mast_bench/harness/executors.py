"""Run many independent jobs on an existing scheduler: joblib locally, Dask, or Slurm via submitit.

Only thin adapters: each back-end receives a picklable function and a list of
picklable arguments and returns the results in input order. No home-made
scheduling. Local pool workers end with the process that started them (a killed
``run --jobs 2`` leaves no worker running its jobs).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from ..errors import ConfigError
from .worker import watch_parent

A = TypeVar("A")
R = TypeVar("R")
Backend = Literal["joblib", "dask", "submitit"]
BACKENDS = ("joblib", "dask", "submitit")


@dataclass(frozen=True)
class DiesWithParent(Generic[A, R]):
    """``fn`` for a pool worker, which first arranges to exit when ``parent_pid`` ends."""

    fn: Callable[[A], R]
    parent_pid: int

    def __call__(self, item: A) -> R:
        watch_parent(self.parent_pid)  # once per worker process; later calls are free
        return self.fn(item)


def map_joblib(fn: Callable[[A], R], items: Sequence[A], n_jobs: int = 1) -> list[R]:
    from joblib import Parallel, delayed

    if n_jobs > len(items):  # a worker that never gets a task would never watch its parent either
        n_jobs = len(items)
    if n_jobs in (0, 1):
        return [fn(item) for item in items]
    task = DiesWithParent(fn, os.getpid())
    return list(Parallel(n_jobs=n_jobs, backend="loky")(delayed(task)(item) for item in items))


def map_dask(fn: Callable[[A], R], items: Sequence[A], scheduler: Any) -> list[R]:
    """``scheduler``: an address ("tcp://host:8786") or a distributed cluster object."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - optional dependency
        raise ConfigError(
            "the dask back-end needs dask[distributed] (pip install 'mast-bench[cluster]')"
        ) from None
    if scheduler is None:
        raise ConfigError("the dask back-end needs --scheduler ADDRESS")
    with Client(scheduler) as client:
        futures = client.map(fn, list(items), pure=False)
        return client.gather(futures)


def map_submitit(
    fn: Callable[[A], R],
    items: Sequence[A],
    folder: str | Path,
    cluster: str | None = None,
    slurm_parameters: dict[str, Any] | None = None,
) -> list[R]:
    """``cluster``: None = Slurm when available, "local" = submitit's local executor (tests), "debug"."""
    try:
        import submitit
    except ImportError:  # pragma: no cover - optional dependency
        raise ConfigError(
            "the submitit back-end needs submitit (pip install 'mast-bench[cluster]')"
        ) from None
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    if slurm_parameters:
        executor.update_parameters(**slurm_parameters)
    jobs = executor.map_array(fn, list(items))
    return [job.result() for job in jobs]


def map_jobs(
    fn: Callable[[A], R],
    items: Sequence[A],
    backend: str = "joblib",
    n_jobs: int = 1,
    scheduler: Any = None,
    folder: str | Path | None = None,
    cluster: str | None = None,
) -> list[R]:
    if backend == "joblib":
        return map_joblib(fn, items, n_jobs)
    if backend == "dask":
        return map_dask(fn, items, scheduler)
    if backend == "submitit":
        if folder is None:
            raise ConfigError("the submitit back-end needs a log folder")
        return map_submitit(fn, items, folder, cluster)
    raise ConfigError(f"unknown back-end {backend!r}; expected one of {', '.join(BACKENDS)}")
