"""The GPU training recipe's plumbing, on CPU (--dry-run): footage -> speeds -> fitted preset ->
learning curve -> report, with PyAV blocked as on the GPU machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import make_tiny_davis

REPO = Path(__file__).resolve().parents[2]


def _video(path: Path, frames: int, cut: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for t in range(frames):
        frame = np.full((48, 64, 3), (40, 80, 160) if cut is None or t < cut else (30, 170, 60), np.uint8)
        frame[10:22, t : t + 12] = 255
        writer.write(frame)
    writer.release()


@pytest.mark.slow
def test_gpu_training_recipe_dry_run(tmp_path):
    _video(tmp_path / "videos" / "street.mp4", 40, cut=18)
    _video(tmp_path / "videos" / "walk.mp4", 30)
    davis = make_tiny_davis(tmp_path / "davis", {"a": 1}, frames=12)
    out = tmp_path / "out"
    command = [sys.executable, str(REPO / "benchmarks" / "gpu_train.py"), "--dry-run", "--footage",
               str(tmp_path / "videos"), "--davis", str(davis), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "gpu_train.json").read_text())
    assert result["dry_run"] and [s["stage"] for s in result["speeds_256_batch12"]] == [
        "pairs",
        "memory",
        "schedule",
    ]
    assert all(s["samples_per_s"] > 0 for s in result["speeds_256_batch12"])
    assert [s["iterations"] for s in result["train"]["stages"]] == [2, 2, 2]
    assert {v["protocol"] for v in result["verdicts"]} == {"mast"}  # the real run adds crw
    assert (out / "report" / "report.md").is_file() and (out / "run" / "tensorboard").is_dir()
    (made,) = [p for p in (out / "cache" / "training-sets").iterdir() if (p / "manifest.json").is_file()]
    assert json.loads((made / "manifest.json").read_text())["decoder"] == "opencv"  # PyAV blocked


def test_without_cuda_it_says_so_and_exits_2(tmp_path):
    command = [sys.executable, str(REPO / "benchmarks" / "gpu_train.py"), "--footage", str(tmp_path),
               "--davis", str(tmp_path), "--out", str(tmp_path / "o")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert done.returncode == 2 and "no CUDA device here" in done.stderr
