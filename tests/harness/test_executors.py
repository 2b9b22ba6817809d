from __future__ import annotations

import importlib.util
import math
import os

import pytest

from mast_bench.errors import ConfigError
from mast_bench.harness.executors import map_jobs

from .helpers import square_with_pid
from .processes import STARTUP, command_line, descendants, start_parent, survivors_of_kill, wait_until


def test_joblib_serial_and_parallel_keep_order():
    serial = map_jobs(square_with_pid, [1, 2, 3], backend="joblib", n_jobs=1)
    assert [v for v, _ in serial] == [1, 4, 9] and {p for _, p in serial} == {os.getpid()}
    parallel = map_jobs(square_with_pid, [3, 1, 2, 5], backend="joblib", n_jobs=2)
    assert [v for v, _ in parallel] == [9, 1, 4, 25]
    assert os.getpid() not in {p for _, p in parallel}


def test_joblib_runs_one_item_in_process_without_starting_workers():
    assert map_jobs(square_with_pid, [3], backend="joblib", n_jobs=4) == [(9, os.getpid())]
    assert map_jobs(square_with_pid, [], backend="joblib", n_jobs=4) == []


def test_killed_parent_leaves_no_pool_worker(tmp_path):
    # the task, defined in the parent's __main__, travels by value; it says when it has started
    parent = start_parent(
        f"""
        import os, time
        from pathlib import Path
        from mast_bench.harness.executors import map_joblib
        def task(name):
            (Path({str(tmp_path)!r}) / name).write_text(str(os.getpid()))
            time.sleep(600)
        map_joblib(task, ["a", "b"], n_jobs=2)
        """
    )
    # a file can be seen before its pid is written in it: wait for both pids, not for both files
    wait_until(lambda: sum(bool(p.read_text()) for p in tmp_path.iterdir()) == 2, STARTUP, "both tasks start")
    workers = {int(p.read_text()) for p in tmp_path.iterdir()}
    children = descendants(parent.pid)
    assert workers <= children and all("loky" in command_line(pid) for pid in workers)
    assert survivors_of_kill(parent, children, within=5.0) == set()


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as c:
        out = map_jobs(square_with_pid, [4, 2], backend="dask", scheduler=c.scheduler_address)
    assert [v for v, _ in out] == [16, 4]


def test_submitit_local_executor(tmp_path):
    pytest.importorskip("submitit")
    # a stdlib function: the submitted process imports it by name without the tests folder
    out = map_jobs(math.factorial, [3, 4], backend="submitit", folder=tmp_path / "logs", cluster="local")
    assert out == [6, 24]


def test_bad_backend_and_missing_scheduler():
    with pytest.raises(ConfigError, match="unknown back-end 'ray'"):
        map_jobs(square_with_pid, [1], backend="ray")
    # without the cluster extra the missing package is named first, then the missing --scheduler
    cluster = importlib.util.find_spec("distributed") is not None
    with pytest.raises(ConfigError, match="--scheduler" if cluster else r"mast-bench\[cluster\]"):
        map_jobs(square_with_pid, [1], backend="dask")


def test_more_local_jobs_than_cpus_is_allowed_but_said_once(capsys):
    from mast_bench.commands.base import note_jobs_beyond_cpus

    note_jobs_beyond_cpus(2, cpus=2)
    assert capsys.readouterr().err == ""
    note_jobs_beyond_cpus(8, cpus=2)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("note: --jobs 8 is more than the 2 CPU(s)") and line.endswith(
        "(--jobs 2 is usually faster)"
    )
