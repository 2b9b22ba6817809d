"""The user's thread choice (OMP_NUM_THREADS, torch.set_num_threads) is what a job runs with and what
its record says; the automatic share of the CPUs applies only where the user made none."""

from __future__ import annotations

import pytest
import torch

from mast_bench.harness import runner as jobs
from mast_bench.harness.runner import plan_job, run_jobs

from .conftest import make_job, make_tiny_davis

AUTOMATIC = 5  # what the automatic choice says in these tests (never a user's number here)


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("small"), {"one": 1}, frames=4, size=(24, 32))


@pytest.fixture
def no_choice(monkeypatch):
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(jobs, "threads_per_job", lambda n_jobs, cpus=None: AUTOMATIC)


def test_omp_num_threads_is_respected_and_recorded(small_davis, tmp_path, no_choice, monkeypatch):
    job = make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False)
    assert plan_job(job).threads == AUTOMATIC  # no choice made: the automatic one
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    plan = plan_job(job)
    assert plan.threads == 1 and plan.identity["environment"]["threads"] == 1
    [record] = run_jobs([job])  # as the commands run jobs
    assert record.identity["environment"]["threads"] == 1
    assert record.key == plan.key


def test_a_torch_set_num_threads_choice_is_respected(small_davis, tmp_path, no_choice):
    from mast_bench.threads import default_thread_counts

    job = make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False)
    chosen = max(default_thread_counts()) + 1  # not a count torch picks by itself
    before = torch.get_num_threads()
    torch.set_num_threads(chosen)
    try:
        assert plan_job(job).identity["environment"]["threads"] == chosen
    finally:
        torch.set_num_threads(before)
    assert plan_job(job).threads == AUTOMATIC


def test_a_jobs_own_thread_count_wins(small_davis, tmp_path, no_choice, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    job = make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False, threads=3)
    assert plan_job(job).threads == 3
