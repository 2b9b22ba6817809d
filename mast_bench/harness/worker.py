"""``python -m mast_bench.harness.worker TASK.pkl RESULT.pkl PARENT_PID``: one pickled call, fresh process.

Used to measure a propagation's peak memory on its own. A plain subprocess
(not multiprocessing) works from anywhere: the main process, joblib/loky
workers and daemonic Dask workers, which may not start multiprocessing children.

Worker processes die with their parent: a killed ``run``/``ablate`` must not leave
a worker that goes on writing results (or starting new jobs) for minutes. The
fresh process arms Linux's parent-death signal (SIGKILL the moment the parent
goes; a polling thread elsewhere), pool workers get a polling thread
(:func:`watch_parent`). The scratch folder of a fresh process names its owner
(host and PID), so the next run removes those of killed parents.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes
from ..errors import RESUME, WorkerLost
from ..locks import debris_name, owner_alive, remove_stale_debris

SCRATCH_LABEL = "mast-bench-worker"
PARENT_GONE_STATUS = 70  # exit status of a worker that ended because its parent died
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def run_in_fresh_process(fn: Callable[[Any], Any], arg: Any, env: Mapping[str, str] | None = None) -> Any:
    """``fn(arg)`` in a new Python process; its exception (if any) is raised here.

    ``env``: variables set for the new process on top of this one's environment.
    """
    scratch_root = Path(tempfile.gettempdir())
    remove_stale_debris(scratch_root, SCRATCH_LABEL)  # left by parents killed mid-call
    scratch = scratch_root / debris_name(SCRATCH_LABEL)
    scratch.mkdir(mode=0o700)
    try:
        ok, value = _call_in(scratch, fn, arg, env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not ok:
        raise value
    return value


def _call_in(scratch: Path, fn: Callable[[Any], Any], arg: Any, env: Mapping[str, str] | None):
    task, result = scratch / "task.pkl", scratch / "result.pkl"
    task.write_bytes(pickle.dumps((fn, arg)))
    module = __spec__.name  # this module's import name, also when it runs as __main__
    command = [sys.executable, "-m", module, str(task), str(result), str(os.getpid())]
    proc = subprocess.run(command, env=None if env is None else {**os.environ, **env})
    if not result.is_file():
        raise WorkerLost(
            f"the worker process died ({_describe_status(proc.returncode)}) without a result; {RESUME}"
        )
    return pickle.loads(result.read_bytes())


def _describe_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


# ----------------------------------------------------------------- dying with the parent


def _arm_parent_death_signal() -> bool:
    """Linux: ask the kernel to SIGKILL this process when its parent thread ends.

    That thread is the one blocked in :func:`run_in_fresh_process` until this process exits.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the running program's symbols include libc's
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parent_gone(parent_pid: int, direct_child: bool) -> bool:
    # a child whose parent dies is adopted by another process; a non-child asks about the PID itself
    return os.getppid() != parent_pid if direct_child else not owner_alive(parent_pid)


def _exit_when_parent_gone(parent_pid: int, interval: float) -> None:
    direct_child = os.getppid() == parent_pid
    while not _parent_gone(parent_pid, direct_child):
        time.sleep(interval)
    os._exit(PARENT_GONE_STATUS)


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """End this process (``os._exit``) within ``interval`` seconds of ``parent_pid`` ending.

    Starts one daemon thread per process and parent; calling it again is free. For pool workers
    (loky), whose parent-death signal would follow the pool thread that forked them, not the process.
    """
    name = f"mast-bench-parent-watch-{parent_pid}"
    if any(thread.name == name for thread in threading.enumerate()):
        return
    thread = threading.Thread(target=_exit_when_parent_gone, args=(parent_pid, interval), name=name)
    thread.daemon = True
    thread.start()


def die_with_parent(parent_pid: int) -> None:
    """Called first thing in a fresh worker: never outlive ``parent_pid``."""
    if not _arm_parent_death_signal():
        watch_parent(parent_pid)
    if os.getppid() != parent_pid:  # it died before the signal was armed
        os._exit(PARENT_GONE_STATUS)


# ----------------------------------------------------------------- the fresh process


def _outcome(fn: Callable[[Any], Any], arg: Any) -> bytes:
    try:
        outcome = (True, fn(arg))
    except Exception as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    try:
        return pickle.dumps(outcome)
    except Exception as exc:  # an unpicklable value or exception still reaches the parent as text
        what = "result" if outcome[0] else f"exception {type(outcome[1]).__name__}: {outcome[1]}"
        return pickle.dumps((False, RuntimeError(f"the worker could not send back its {what} ({exc})")))


def main(argv: list[str]) -> int:
    task, result, parent = Path(argv[0]), Path(argv[1]), int(argv[2])
    die_with_parent(parent)
    fn, arg = pickle.loads(task.read_bytes())
    atomic_write_bytes(result, _outcome(fn, arg))  # a half-written result is never read
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent says so, once
        sys.exit(128 + signal.SIGINT)
