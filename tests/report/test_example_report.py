"""reports/example is what the README's main job regenerates, byte for byte.

The job runs as ``scripts/vendor_example`` runs it (``mast-bench ablate colour_space --results
results``, the study's records vendored into reports/example/results, the report written from
them) in a copy of the example whose vendored folder is the job's results store: every identity
the code computes today must find its committed record (else the example is stale: regenerate it
with ``scripts/vendor_example``), and the report, tables and figures must come out the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.example import EXAMPLE, committed_records, environment_mismatch, main_job_plans

REPO = Path(__file__).resolve().parents[2]
COMMAND = "mast-bench ablate colour_space --results results --quiet"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_the_main_job_regenerates_the_example_byte_for_byte(tmp_path):
    manifest = json.loads((EXAMPLE / "results" / "studies" / "colour_space.smoke.json").read_text())
    assert manifest["command"] == COMMAND  # the way scripts/vendor_example runs the main job
    committed = committed_records()
    plans = main_job_plans(tmp_path / "plan")
    if mismatch := environment_mismatch(plans, committed):
        pytest.skip(mismatch)
    stale = [plan.job.variant.name for plan in plans if plan.key not in committed]
    assert not stale, f"records of {stale} are not those of reports/example: run scripts/vendor_example"

    checkout = tmp_path / "checkout"
    shutil.copytree(EXAMPLE, checkout / "reports" / "example")
    shutil.copytree(EXAMPLE / "results", checkout / "results")  # the job's store: its committed records
    shutil.copytree(REPO / "scripts", checkout / "scripts")

    env = {**os.environ, "MAST_BENCH": str(Path(sys.executable).with_name("mast-bench"))}
    proc = subprocess.run(
        ["bash", "scripts/vendor_example"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "4 jobs, 4 cached, 0 to compute" in proc.stderr
    regenerated, expected = _files(checkout / "reports" / "example"), _files(EXAMPLE)
    assert sorted(regenerated) == sorted(expected)
    assert [name for name in expected if regenerated[name] != expected[name]] == []
