"""CPUs a job may use (affinity and cgroup quota) and the environment of a child process."""

from __future__ import annotations

import pytest

from mast_bench.threads import (
    THREAD_VARIABLES,
    available_cpus,
    cgroup_cpu_limit,
    chosen_threads,
    default_thread_counts,
    physical_cores,
    threads_per_job,
    worker_environment,
)


def _cgroup_v2(tmp_path, text):
    (tmp_path / "cpu.max").write_text(text + "\n")
    return tmp_path


def _cgroup_v1(tmp_path, quota, period="100000"):
    folder = tmp_path / "cpu"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text(quota + "\n")
    (folder / "cpu.cfs_period_us").write_text(period + "\n")
    return tmp_path


@pytest.mark.parametrize(
    "text,expected", [("150000 100000", 1.5), ("max 100000", None), ("200000 50000", 4.0), ("max", None)]
)
def test_cgroup_v2_quota(tmp_path, text, expected):
    assert cgroup_cpu_limit(_cgroup_v2(tmp_path, text)) == expected


@pytest.mark.parametrize("quota,expected", [("250000", 2.5), ("-1", None)])
def test_cgroup_v1_quota_is_the_fallback(tmp_path, quota, expected):
    assert cgroup_cpu_limit(_cgroup_v1(tmp_path, quota)) == expected


def test_no_cgroup_files_mean_no_quota(tmp_path):
    assert cgroup_cpu_limit(tmp_path) is None


def test_available_cpus_is_the_smaller_of_affinity_and_quota(tmp_path):
    root = _cgroup_v2(tmp_path, "150000 100000")  # 1.5 CPUs of quota: 2 threads may run
    assert available_cpus(root, affinity=8) == 2
    assert available_cpus(root, affinity=1) == 1
    assert available_cpus(tmp_path / "no-cgroup", affinity=6) == 6
    assert available_cpus(_cgroup_v2(tmp_path, "10000 100000"), affinity=4) == 1  # a tenth of a CPU: still 1


def test_available_cpus_of_this_process_is_positive():
    assert available_cpus() >= 1


@pytest.mark.parametrize("jobs,cpus,expected", [(1, 2, 2), (2, 2, 1), (3, 2, 1), (2, 16, 8), (3, 16, 5)])
def test_threads_per_job_never_oversubscribes(jobs, cpus, expected):
    threads = threads_per_job(jobs, cpus)
    assert threads == expected
    assert threads >= 1 and (jobs * threads <= cpus or threads == 1)


def test_threads_per_job_refuses_zero_jobs():
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        threads_per_job(0, 4)


def test_worker_environment_sets_threads_and_a_passive_wait_policy():
    env = worker_environment(3, {"PATH": "/bin", "OMP_NUM_THREADS": "16"})
    assert {name: env[name] for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "3")
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["PATH"] == "/bin"


def test_worker_environment_keeps_the_users_wait_policy_and_copies():
    base = {"OMP_WAIT_POLICY": "ACTIVE"}
    env = worker_environment(1, base)
    assert env["OMP_WAIT_POLICY"] == "ACTIVE" and base == {"OMP_WAIT_POLICY": "ACTIVE"}
    with pytest.raises(ValueError, match="threads must be >= 1"):
        worker_environment(0, base)


def test_the_users_environment_is_a_choice():
    assert chosen_threads(None, {"OMP_NUM_THREADS": "1"}) == (1, "OMP_NUM_THREADS")
    assert chosen_threads(None, {"OMP_NUM_THREADS": "3,2"}) == (
        3,
        "OMP_NUM_THREADS",
    )  # nested levels: the first
    assert chosen_threads(None, {"MKL_NUM_THREADS": "2"}) == (2, "MKL_NUM_THREADS")
    assert chosen_threads(None, {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "2"}) == (4, "OMP_NUM_THREADS")
    for ignored in ("", "0", "-2", "many"):  # OpenMP ignores these too
        assert chosen_threads(None, {"OMP_NUM_THREADS": ignored}) is None
    assert chosen_threads(None, {}) is None


def test_a_torch_thread_count_that_is_not_a_default_is_a_choice():
    defaults = default_thread_counts()
    assert available_cpus() in defaults
    assert chosen_threads(max(defaults), {}) is None  # what torch picks by itself
    assert chosen_threads(max(defaults) + 1, {}) == (max(defaults) + 1, "torch.set_num_threads")
    assert chosen_threads(max(defaults) + 1, {"OMP_NUM_THREADS": "1"}) == (1, "OMP_NUM_THREADS")


def test_physical_cores_counts_distinct_cores(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    blocks = [(0, 0), (0, 1), (0, 0), (0, 1), (1, 0)]  # 2 hyper-threads on each of 2 cores, a second socket
    cpuinfo.write_text(
        "\n".join(
            f"processor\t: {i}\nphysical id\t: {p}\ncore id\t\t: {c}\n" for i, (p, c) in enumerate(blocks)
        )
    )
    assert physical_cores(cpuinfo) == 3
    (tmp_path / "empty").write_text("")
    assert physical_cores(tmp_path / "empty") is None and physical_cores(tmp_path / "absent") is None
