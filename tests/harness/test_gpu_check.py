"""The GPU check's plumbing on CPU (--dry-run) and its report against the GPU issue's targets."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import gpu_report  # noqa: E402


def test_dry_run_checks_the_official_clip_in_both_precisions_and_reports(official_reference, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--dry-run",
               "--reference", str(official_reference), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    check = json.loads((out / "gpu_check.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["gpu_check.json"], "nothing partial is left"
    assert check["dry_run"] and check["machine"]["device"] == "cpu"
    clip = check["official_clip"]
    assert clip["ok"] and clip["ieee"]["frames"] == 3
    assert set(clip["ieee"]["mismatched_pixels"].values()) == {0}
    assert clip["tf32"]["mismatched_share"] == 0.0  # no TF32 on a CPU: the switch changes nothing there
    bench = check["benchmark_480p"]
    assert bench["ok"] and bench["ieee"]["frames"] == bench["tf32"]["frames"] == 3
    assert check["bf16_training_step"]["ok"] and "training" not in check
    # the kernel tests run where Triton is installed (the nox session) and are skipped, visibly, where
    # not, or where its interpreter cannot run (Triton < 3.7 on NumPy >= 2.4: the tests' own skip)
    kernels, has_triton = check["kernel_tests"], importlib.util.find_spec("triton") is not None
    assert kernels["ok"], kernels
    if not has_triton:
        assert kernels["skipped"].startswith("triton is not installed"), kernels
    elif "skipped" in kernels:
        assert kernels["skipped"].startswith(f"Triton {_triton_version()}'s interpreter cannot run"), kernels
    skip_line = f"kernel_tests: skipped: {kernels.get('skipped')}"
    assert (skip_line in done.stdout) == ("skipped" in kernels), done.stdout
    assert done.returncode == 0, done.stdout + done.stderr

    summary_path = tmp_path / "gpu.json"
    assert gpu_report.main([str(out), "--out", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    targets = {t["what"]: t for t in summary["targets"]}
    assert targets[gpu_report.LABELS]["met"] is True
    assert targets["propagation 216x120, 5 references, ieee: speed"]["measured"].endswith("% of it)")
    assert targets["propagation 216x120, 5 references, tf32: peak CUDA memory"] == {
        "what": "propagation 216x120, 5 references, tf32: peak CUDA memory",
        "target": "<= 2 GiB",
        "measured": "not measured",
        "met": None,
    }
    assert (targets[gpu_report.PAIRS]["measured"], targets[gpu_report.PAIRS]["met"]) == ("not measured", None)
    assert summary["command"][1].endswith("gpu_check.py") and summary["machine"]["torch"]


def test_training_verdicts_read_the_interval_not_the_mean():
    train = {
        "speeds_256_batch12": [
            {"stage": "pairs", "references": 1, "samples_per_s": 650.0},
            {"stage": "memory", "references": 5, "samples_per_s": 140.0},
        ],
        "verdicts": [
            {"protocol": "crw", "comparison": "final (end of schedule) vs random init", "mean": 3.0,
             "frame_blocks": [-0.5, 6.0]},
            {"protocol": "mast", "comparison": "final (end of schedule) vs random init", "mean": 9.0,
             "frame_blocks": [2.0, 15.0]},
            {"protocol": "mast", "comparison": "final vs mast-lab-pixels", "mean": -1.0,
             "frame_blocks": [-4.0, 2.0]},
        ],
    }  # fmt: skip
    rows = gpu_report.training_verdicts(train)
    assert [(r.measured, r.met) for r in rows] == [
        ("650 pairs/s", True),
        ("140 samples/s", None),
        ("+3.00 J&F [-0.50, +6.00]", False),
        ("+9.00 J&F [+2.00, +15.00]", True),
        ("-1.00 J&F [-4.00, +2.00]", None),
    ]
    assert "**missed**" in gpu_report.table(rows) and "| 650 pairs/s | met |" in gpu_report.table(rows)


def test_a_missing_check_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(SystemExit, match=r"gpu_check.json is missing"):
        gpu_report.summarise(tmp_path)


def _triton_version() -> str:
    import triton

    return triton.__version__
