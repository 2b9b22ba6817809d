"""Processes that get in each other's way: two trainers of one folder (one of them stopped), and a
killed parent whose workers were running; no lost work, no survivors, no debris after the rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from .conftest import make_tiny_davis
from .processes import STARTUP, command_line, descendants, survivors_of_kill, wait_until

PRESET = (
    "[preset.t]\niterations = {iterations}\nbatch_size = 2\nlr = 1e-3\nframe_size = [32, 32]\ngaps = [1, 2]\n"
    "checkpoint_every = 1\nmax_side = 32\n"
)


def _mast_bench(*argv: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **kwargs.pop("env", {})}
    return subprocess.Popen(
        [sys.executable, "-m", "mast_bench", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_a_second_trainer_waits_for_a_stopped_one_and_neither_loses_work(tiny_davis, tmp_path):
    presets = tmp_path / "p.toml"
    presets.write_text(PRESET.format(iterations=12))
    out = tmp_path / "run"
    argv = [
        "train",
        "--variant",
        "mast",
        "--data",
        str(tiny_davis),
        "--presets",
        str(presets),
        "--preset",
        "t",
    ]
    first = _mast_bench(*argv, "--out", str(out), "--quiet")
    stage = out / "stages" / "1-pairs" / "checkpoint.pt"  # the chain's checkpoint.pt comes at its end
    wait_until(lambda: stage.is_file(), STARTUP, "the first trainer writes a checkpoint")
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = _mast_bench(*argv, "--out", str(out), "--quiet")
        waited = second.stderr.readline()  # its first words: whom it waits for
        assert "waiting:" in waited and "training of mast" in waited and str(first.pid) in waited
        time.sleep(2)
        assert second.poll() is None  # still waiting: a stopped holder keeps its lock
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out_first, err_first = first.communicate(timeout=600)
    out_second, err_second = second.communicate(timeout=600)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "12/12 iterations" in out_first and "12/12 iterations" in out_second
    assert "FileNotFoundError" not in err_first + err_second and "Traceback" not in err_first + err_second
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == 12 and len(state["loss_curve"]) == 12
    assert not list(out.rglob(".checkpoint.pt.*.tmp"))


@pytest.mark.slow
def test_a_killed_run_leaves_no_process_and_the_rerun_no_debris(tmp_path):
    data = make_tiny_davis(tmp_path / "davis", {f"s{i}": 1 for i in range(4)}, frames=40, size=(48, 64))
    results = tmp_path / "results"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    argv = ["run", "--variant", "mast-lab-pixels", "--data", str(data), "--results", str(results)]
    argv += ["--per-sequence", "--jobs", "2", "--quiet", "--max-side", "full"]
    parent = _mast_bench(*argv, env={"TMPDIR": str(scratch)})

    def workers() -> set[int]:
        return {p for p in descendants(parent.pid) if "mast_bench.harness.worker" in command_line(p)}

    wait_until(lambda: len(workers()) >= 1, STARTUP * 2, "an isolated worker starts")
    children = descendants(parent.pid)
    assert survivors_of_kill(parent, children, within=10.0) == set()
    rerun = _mast_bench(*argv, env={"TMPDIR": str(scratch)})
    out, err = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, err
    assert len(list((results / "records").glob("*.json"))) == 4
    assert not [p for p in (results / "masks").iterdir() if p.name.endswith(".partial")]
    assert not [p for p in scratch.iterdir() if p.name.startswith("mast-bench-worker")]
    assert not list(Path(tempfile.gettempdir()).glob(f"mast-bench-worker.*.{parent.pid}.*"))
