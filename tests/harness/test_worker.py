from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mast_bench.errors import ConfigError
from mast_bench.harness.presets import get_preset
from mast_bench.harness.worker import PARENT_GONE_STATUS, SCRATCH_LABEL, run_in_fresh_process
from mast_bench.locks import debris_name, debris_owner, this_host

from .processes import STARTUP, command_line, descendants, start_parent, survivors_of_kill, wait_until


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch) -> Path:
    """The temp folder of this process and of the processes it starts."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def test_fresh_process_returns_value_and_reraises_errors(scratch: Path):
    # functions are pickled by reference: the fresh process imports them by module name
    assert run_in_fresh_process(math.factorial, 5) == 120
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        run_in_fresh_process(get_preset, "nope")
    assert run_in_fresh_process(os.getenv, "MAST_BENCH_TEST_VALUE", env={"MAST_BENCH_TEST_VALUE": "7"}) == "7"
    assert list(scratch.iterdir()) == []


def test_scratch_folder_is_removed_when_the_child_crashes(scratch: Path):
    with pytest.raises(RuntimeError, match=r"died \(exit status 3\) without a result"):
        run_in_fresh_process(os._exit, 3)
    assert list(scratch.iterdir()) == []


def test_a_child_interrupted_by_ctrl_c_exits_130_without_a_traceback(tmp_path: Path):
    """Ctrl-C reaches the whole process group: the child printed a KeyboardInterrupt traceback of
    40 lines above the parent's one-line notice."""
    import functools
    import pickle
    import signal

    # what Python's SIGINT handler does, called directly: a background CI job ignores SIGINT, and
    # then no signal would reach the child (_thread.interrupt_main does nothing there)
    ctrl_c = functools.partial(signal.default_int_handler, signal.SIGINT)
    (tmp_path / "task").write_bytes(pickle.dumps((ctrl_c, None)))
    command = [sys.executable, "-m", "mast_bench.harness.worker", "task", "result", str(os.getpid())]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=STARTUP)
    assert (done.returncode, done.stderr) == (130, "")
    assert not (tmp_path / "result").exists()


def test_a_child_whose_parent_is_already_gone_exits_at_once(tmp_path: Path):
    """The parent may die before the child arms its parent-death signal: the child checks."""
    not_my_parent = 1
    command = [sys.executable, "-m", "mast_bench.harness.worker", "task", "result", str(not_my_parent)]
    assert subprocess.run(command, cwd=tmp_path, timeout=STARTUP).returncode == PARENT_GONE_STATUS
    assert list(tmp_path.iterdir()) == []  # never read its task, never wrote a result


def test_killed_parent_takes_its_fresh_worker_along_and_the_next_run_cleans_up(scratch: Path):
    parent = start_parent(
        """
        import time
        from mast_bench.harness.worker import run_in_fresh_process
        run_in_fresh_process(time.sleep, 600)
        """
    )
    wait_until(
        lambda: any("mast_bench.harness.worker" in command_line(p) for p in descendants(parent.pid)),
        STARTUP,
        "the fresh worker starts",
    )
    children = descendants(parent.pid)
    assert survivors_of_kill(parent, children, within=5.0) == set()
    left = [p for p in scratch.iterdir() if p.name.startswith(SCRATCH_LABEL)]
    assert [debris_owner(p.name, SCRATCH_LABEL).pid for p in left] == [parent.pid]  # a killed parent's debris

    live = scratch / debris_name(SCRATCH_LABEL)  # a running process's scratch folder is never touched
    live.mkdir()
    foreign = scratch / f"{SCRATCH_LABEL}.another-host.{parent.pid}.0badcafe"
    foreign.mkdir()
    assert run_in_fresh_process(math.factorial, 4) == 24
    assert sorted(scratch.iterdir()) == sorted([live, foreign])
    assert debris_owner(live.name, SCRATCH_LABEL).host == this_host()
