"""A record names its kernel path without compiling: a cache hit never builds the CPU kernels, and a
job whose kernels turn out not to run here is recorded under the path that did run."""

from __future__ import annotations

import pytest

from mast_bench.harness.runner import plan_job, run_job
from mast_bench.ops import KernelFallbackWarning, cpu_build, kernels

from .conftest import make_job, make_tiny_davis


@pytest.fixture(scope="module")
def small_davis(tmp_path_factory):
    return make_tiny_davis(tmp_path_factory.mktemp("small"), {"one": 1}, frames=4, size=(24, 32))


@pytest.fixture
def new_user(tmp_path, monkeypatch):
    """An empty kernels cache (a user who never built them); this process forgets its loaded kernels."""
    monkeypatch.delenv(kernels.KERNELS_ENV, raising=False)
    monkeypatch.setenv(cpu_build.CACHE_ENV, str(tmp_path / "empty-kernels-cache"))
    kernels.cpu_extension.cache_clear()
    yield
    kernels.cpu_extension.cache_clear()


def test_a_cached_record_is_found_without_building_the_kernels(small_davis, tmp_path, monkeypatch):
    monkeypatch.delenv(kernels.KERNELS_ENV, raising=False)
    if kernels.kernel_path("cpu") != "cpu-csrc":
        pytest.skip("the CPU kernels cannot be built here (no compiler): nothing to avoid rebuilding")
    job = make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False)
    first = run_job(job)
    assert first.identity["environment"]["kernels"] == "cpu-csrc"

    monkeypatch.setenv(cpu_build.CACHE_ENV, str(tmp_path / "empty-kernels-cache"))
    compiled = []
    monkeypatch.setattr(cpu_build, "build", lambda *a, **k: compiled.append(a) or pytest.fail("compiled"))
    kernels.cpu_extension.cache_clear()
    try:
        assert cpu_build.state() == "absent"
        again = run_job(job)
    finally:
        kernels.cpu_extension.cache_clear()
    assert again.key == first.key and again.to_dict() == first.to_dict()
    assert compiled == []
    assert not (tmp_path / "empty-kernels-cache").exists()


def test_kernels_that_fail_to_build_key_the_record_as_the_reference_path(
    small_davis, tmp_path, new_user, monkeypatch
):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("Error building extension: c++: command not found")

    monkeypatch.setattr(cpu_build, "expected_to_load", lambda spec=None: True)  # a compiler seems to be there
    monkeypatch.setattr(cpu_build, "build", no_compiler)
    job = make_job("mast-lab-pixels", tmp_path / "r", small_davis, isolate=False)
    assert plan_job(job).identity["environment"]["kernels"] == "cpu-csrc"  # expected, nothing built yet
    with pytest.warns(KernelFallbackWarning, match="command not found"):
        record = run_job(job)
    assert record.identity["environment"]["kernels"] == "reference"
    assert record.key == plan_job(job, kernels="reference").key
    assert run_job(job).key == record.key  # this process now knows: the same record, reused
