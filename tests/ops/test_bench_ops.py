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
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert {r["kind"] for r in results} == {"correlation", "train_read", "read_480p"}
    for result in results:
        assert "error" not in result, result
        assert result["seconds"] > 0
        assert result["peak_extra_bytes"] >= 0
