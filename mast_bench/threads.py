"""How many CPU threads a job may use, and the environment that gives a child process that many.

A process may be allowed fewer CPUs than the host has: its affinity mask and its cgroup CPU quota
(containers, batch schedulers) both bound it. Running jobs x threads beyond that makes every
OpenMP region wait for threads that are not scheduled; spinning waits make it worse, so children
get OMP_WAIT_POLICY=PASSIVE unless the user chose otherwise. Pure functions, no torch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs the cgroup quota allows (fractional), or None without a quota.

    cgroup v2: ``cpu.max`` holds "QUOTA PERIOD" or "max PERIOD"; cgroup v1:
    ``cpu/cpu.cfs_quota_us`` (-1 = none) over ``cpu/cpu.cfs_period_us``.
    """
    text = _read(root / "cpu.max")
    if text is not None:
        fields = text.split()
        if len(fields) >= 1 and fields[0] != "max":
            period = float(fields[1]) if len(fields) > 1 else 100_000.0
            if float(fields[0]) > 0 and period > 0:
                return float(fields[0]) / period
        return None
    for folder in (root / "cpu", root / "cpu,cpuacct", root):
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota is None or period is None:
            continue
        if int(quota) > 0 and int(period) > 0:
            return int(quota) / int(period)
        return None
    return None


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask (all of os.cpu_count() where that is not available)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_cpus(root: Path = CGROUP_ROOT, affinity: int | None = None) -> int:
    """CPUs this process may use: the affinity mask, capped by the cgroup quota (rounded up, >= 1)."""
    cpus = affinity_cpus() if affinity is None else affinity
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def threads_per_job(jobs: int, cpus: int | None = None) -> int:
    """Threads for each of ``jobs`` concurrent jobs so that jobs x threads <= cpus (at least 1)."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    total = available_cpus() if cpus is None else cpus
    return max(1, total // jobs)


def worker_environment(threads: int, base_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base_env`` (default: os.environ) with the thread-count variables set to ``threads`` and
    OMP_WAIT_POLICY=PASSIVE unless already set: the environment for one child process."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    env = dict(os.environ if base_env is None else base_env)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env
