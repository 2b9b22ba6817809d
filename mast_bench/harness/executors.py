"""Run many independent jobs on an existing scheduler: joblib locally, Dask, or Slurm via submitit.

Only thin adapters: each back-end receives a picklable function and a list of
picklable arguments and returns the results in input order. No home-made
scheduling. Local pool workers end with the process that started them (a killed
``run --jobs 2`` leaves no worker running its jobs).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from ..errors import RESUME, ConfigError, UserError, WorkerLost
from ..progress import tell
from .worker import watch_parent

A = TypeVar("A")
R = TypeVar("R")
Backend = Literal["joblib", "dask", "submitit"]
BACKENDS = ("joblib", "dask", "submitit")
DASK_POLL_SECONDS = 0.2  # how often a run looks whether its Dask jobs are done


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
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    task = DiesWithParent(fn, os.getpid())
    try:
        return list(Parallel(n_jobs=n_jobs, backend="loky")(delayed(task)(item) for item in items))
    except TerminatedWorkerError as exc:
        codes = re.search(r"exit codes of the workers are (\{.*?\})", str(exc))
        how = f"exit codes {codes.group(1)}" if codes else "killed"
        raise WorkerLost(f"a --jobs worker process died ({how}); {RESUME}") from None


def map_dask(fn: Callable[[A], R], items: Sequence[A], scheduler: Any) -> list[R]:
    """``scheduler``: an address ("tcp://host:8786") or a distributed cluster object."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - optional dependency
        raise ConfigError(
            "the dask back-end needs dask[distributed] (pip install 'mast-bench[cluster]')"
        ) from None
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    if scheduler is None:
        raise ConfigError("the dask back-end needs --scheduler ADDRESS")
    check_scheduler_address(scheduler)
    try:
        client = Client(scheduler)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
    with client:
        if not client.scheduler_info().get("workers"):
            tell(f"waiting for a worker to join the Dask scheduler at {scheduler} (it has none yet)")
        futures = client.map(fn, list(items), pure=False)
        try:
            _wait_quietly(client, futures)
            return client.gather(futures)
        except (KilledWorker, FutureCancelledError, CommClosedError) as exc:
            raise WorkerLost(f"the Dask cluster lost a job ({type(exc).__name__}: {exc}); {RESUME}") from None


def _wait_quietly(client: Any, futures: list) -> None:
    """Wait for ``futures`` in plain sleeps: a Ctrl-C or SIGTERM inside ``Client.gather`` left Dask's
    waiting tasks to be logged on the way out ('Task exception was never retrieved ... AllExit')
    under the command's one line. A failed job, or a client that stops running, ends the wait at
    once (gather then raises, as it did before the others finished)."""
    while client.status == "running" and not all(future.done() for future in futures):
        if any(future.status in ("error", "cancelled") for future in futures):
            return
        time.sleep(DASK_POLL_SECONDS)


def check_scheduler_address(scheduler: Any) -> None:
    """A scheduler address Dask can connect to at all (a cluster object passes), before any work."""
    if not isinstance(scheduler, str):
        return
    from distributed.comm import parse_address
    from distributed.comm.registry import backends

    scheme, location = parse_address(scheduler)
    if scheme not in backends or not location:
        raise ConfigError(
            f"--scheduler {scheduler!r}: not a Dask scheduler address (expected e.g. tcp://host:8786; "
            f"schemes: {', '.join(sorted(backends))})"
        )


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
    from submitit.core.utils import UncompletedJobError

    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    if slurm_parameters:
        executor.update_parameters(**slurm_parameters)
    jobs = executor.map_array(UserErrorsReturned(fn), list(items))
    results = []
    for job in jobs:
        try:
            result = job.result()
        except UncompletedJobError:
            raise WorkerLost(
                f"submitit job {job.job_id} ended without a result (state {job.state}; its logs: {folder}); "
                f"{RESUME}"
            ) from None
        if isinstance(result, ReturnedUserError):
            raise UserError(result.message)
        results.append(result)
    return results


@dataclass(frozen=True)
class ReturnedUserError:
    """Bad input met inside a submitit job: submitit hands back only the text of an exception's
    traceback, so the job returns the message and the submitting process raises it."""

    message: str


@dataclass(frozen=True)
class UserErrorsReturned(Generic[A, R]):
    """``fn`` for a submitit job: bad input comes back as a :class:`ReturnedUserError`."""

    fn: Callable[[A], R]

    def __call__(self, item: A) -> R | ReturnedUserError:
        try:
            return self.fn(item)
        except UserError as exc:
            return ReturnedUserError(str(exc))


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
