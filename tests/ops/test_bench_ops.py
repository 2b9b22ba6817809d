"""The ops benchmark script runs end to end on tiny shapes and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ops.py"


@pytest.mark.slow
def test_quick_benchmark_writes_results(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=900)
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert {r["kind"] for r in results} == {"correlation", "train_read", "read_480p"}
    assert {r["impl"] for r in results} >= {"native", "reference", "unfold"}
    for result in results:
        assert "error" not in result, result
        assert result["seconds"] > 0
        assert result["peak_extra_bytes"] >= 0
    reference = {r["kernel_path"] for r in results if r["impl"] == "reference"}
    assert reference == {"reference"}
    assert payload["machine"]["matmul_gflops"] > 0 and payload["machine"]["available_cpus"] >= 1
    measured = {(s["kind"], s["mode"]) for s in payload["speedups"]}
    assert ("read_480p", "forward") in measured and ("train_read", "forward_backward") in measured
    assert all(s["reference_over_native"] > 0 for s in payload["speedups"])
