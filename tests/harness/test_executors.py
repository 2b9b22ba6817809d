from __future__ import annotations

import importlib.util
import math
import os

import pytest

from mast_bench.errors import INTERRUPTED, ConfigError, UserError, WorkerLost
from mast_bench.harness.executors import map_jobs

from .helpers import dies_on_one, square_with_pid
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


def test_a_lost_worker_is_one_error_that_says_the_rerun_resumes():
    """A killed pool worker, Dask worker or submitit job gave a traceback of its back-end, exit 1."""
    said = r"^a --jobs worker process died \(exit codes \{SIGKILL\(-9\)\}\); rerun the same command"
    with pytest.raises(WorkerLost, match=said):
        map_jobs(dies_on_one, [0, 1], backend="joblib", n_jobs=2)


def test_a_submitit_job_that_ends_without_a_result_is_one_error(tmp_path):
    pytest.importorskip("submitit")  # about 15 s: submitit waits that long for a result file to appear
    said = rf"^submitit job \d+ ended without a result \(state \w+; its logs: {tmp_path / 'logs'}\); rerun"
    with pytest.raises(WorkerLost, match=said):
        map_jobs(os._exit, [9], backend="submitit", folder=tmp_path / "logs", cluster="local")


def test_a_dask_worker_lost_is_one_error():
    distributed = pytest.importorskip("distributed")
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        pytest.raises(WorkerLost, match=r"^the Dask cluster lost a job \(KilledWorker: "),
    ):
        map_jobs(dies_on_one, [1], backend="dask", scheduler=cluster.scheduler_address)


def test_a_dask_scheduler_address_that_cannot_work_is_bad_input():
    pytest.importorskip("distributed")
    import dask

    with pytest.raises(ConfigError, match=r"--scheduler 'nonsense://x': not a Dask scheduler address"):
        map_jobs(square_with_pid, [1], backend="dask", scheduler="nonsense://x")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            ConfigError, match=r"^--scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there"
        ),
    ):
        map_jobs(square_with_pid, [1], backend="dask", scheduler="tcp://127.0.0.1:1")


def test_bad_input_inside_a_submitit_job_is_raised_as_bad_input(tmp_path):
    """submitit hands back only a traceback's text: a job's unknown name gave a FailedJobError wall."""
    pytest.importorskip("submitit")
    from mast_bench.variants import get_variant

    with pytest.raises(UserError, match=r"^unknown variant 'nope'; known variants: mast"):
        map_jobs(get_variant, ["nope"], backend="submitit", folder=tmp_path / "logs", cluster="local")


def test_a_dask_scheduler_without_workers_says_it_waits_for_one(capsys):
    """It waited without a word for as long as no worker joined."""
    distributed = pytest.importorskip("distributed")
    import threading

    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        threading.Timer(1.0, cluster.scale, args=(1,)).start()  # a worker joins a second later
        out = map_jobs(square_with_pid, [3], backend="dask", scheduler=cluster.scheduler_address)
    assert [v for v, _ in out] == [9]
    assert (
        f"waiting for a worker to join the Dask scheduler at {cluster.scheduler_address} (it has none yet)"
        in capsys.readouterr().err
    )


def test_sigterm_while_waiting_for_dask_jobs_ends_with_one_line():
    """Dask's own waiting tasks were logged on the way out ('Task exception was never retrieved ...
    AllExit'), twice, under the command's line."""
    pytest.importorskip("distributed")
    import subprocess
    import sys

    code = (
        "import os, signal, sys, threading\n"
        "import distributed\n"
        "from mast_bench.commands.base import guarded\n"
        "from mast_bench.harness.executors import map_jobs\n"
        "if __name__ == '__main__':\n"
        "    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as c:\n"
        "        threading.Timer(2.0, os.kill, args=(os.getpid(), signal.SIGTERM)).start()\n"
        "        run = lambda args: map_jobs(abs, [1, 2], backend='dask', scheduler=c.scheduler_address)\n"
        "        sys.exit(guarded(run, None))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 143
    assert proc.stderr.splitlines()[-1] == INTERRUPTED, proc.stderr
    assert "Task exception was never retrieved" not in proc.stderr and "Traceback" not in proc.stderr
