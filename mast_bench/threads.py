"""How many CPU threads a job may use, and the environment that gives a child process that many.

The user's choice comes first: OMP_NUM_THREADS (or MKL_NUM_THREADS), set by the user or a batch
scheduler, or a ``torch.set_num_threads(n)`` made before the run (:func:`chosen_threads`). Only
where the user made none does the automatic choice apply: a process may be allowed fewer CPUs
than the host has (its affinity mask and its cgroup CPU quota bound it), and running jobs x
threads beyond that makes every OpenMP region wait for threads that are not scheduled; spinning
waits make it worse, so children get OMP_WAIT_POLICY=PASSIVE unless the user chose otherwise.
Pure functions, no torch.
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


def _count(text: str | None) -> int | None:
    """The thread count of an OMP_NUM_THREADS-style value ("4", or "4,2" for nested levels: the
    first); None when unset or not a positive integer (OpenMP ignores those too)."""
    first = (text or "").split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else None


def physical_cores(cpuinfo: Path = Path("/proc/cpuinfo")) -> int | None:
    """Distinct (physical id, core id) pairs of /proc/cpuinfo; None where it does not say."""
    text = _read(cpuinfo)
    if not text:
        return None
    cores, physical = set(), "0"
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "physical id":
            physical = value.strip()
        elif name.strip() == "core id":
            cores.add((physical, value.strip()))
    return len(cores) or None


def default_thread_counts() -> set[int]:
    """What torch picks by itself on this machine (its intra-op default is the physical cores or
    the logical CPUs, depending on the build): a count outside this set was chosen by someone."""
    counts = {os.cpu_count() or 1, affinity_cpus(), available_cpus()}
    cores = physical_cores()
    if cores:
        counts.add(cores)
    return counts


def chosen_threads(
    torch_threads: int | None = None, env: Mapping[str, str] | None = None
) -> tuple[int, str] | None:
    """(threads, who chose them) when the user made a choice, else None (the automatic one applies).

    ``env`` (default: os.environ): OMP_NUM_THREADS, else MKL_NUM_THREADS. ``torch_threads``: torch's
    current intra-op thread count, a ``torch.set_num_threads`` choice when it is not a default.
    """
    env = os.environ if env is None else env
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        count = _count(env.get(name))
        if count is not None:
            return count, name
    if torch_threads is not None and torch_threads not in default_thread_counts():
        return torch_threads, "torch.set_num_threads"
    return None


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
