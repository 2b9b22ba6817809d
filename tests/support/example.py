"""reports/example as a results store: its committed records, and whether this machine would find them.

A record's key hashes its job's identity, numerics environment included, so the committed records are
found only where the code computes the same identities in the same environment (CPU, 2 threads, the
pinned torch, the CPU kernels)."""

from __future__ import annotations

import json
from pathlib import Path

from mast_bench.data.splits import DataSpec
from mast_bench.harness.runner import JobPlan, plan_job, prepare_jobs
from mast_bench.harness.study import load_study
from mast_bench.harness.study_run import build_jobs

EXAMPLE = Path(__file__).resolve().parents[2] / "reports" / "example"


def committed_records() -> dict[str, dict]:
    """Record key -> record, as vendored in reports/example/results."""
    return {p.stem: json.loads(p.read_text()) for p in (EXAMPLE / "results" / "records").glob("*.json")}


def main_job_plans(scratch: Path) -> list[JobPlan]:
    """The plans the README's main job (`mast-bench ablate colour_space`, smoke preset) makes here."""
    return [
        plan_job(job)
        for job in prepare_jobs(build_jobs(load_study("colour_space"), "smoke", scratch, DataSpec()))
    ]


def environment_mismatch(plans: list[JobPlan], committed: dict[str, dict]) -> str | None:
    """Why the committed records cannot be found here, or None where they can."""
    made_in = next(iter(committed.values()))["identity"]["environment"]
    here = plans[0].identity["environment"]
    return (
        None
        if here == made_in
        else f"the example was made in the numerics environment {made_in}, this is {here}"
    )
