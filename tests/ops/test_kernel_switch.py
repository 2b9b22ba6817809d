"""One switch chooses native kernels or the reference path; a failed build falls back, warning once."""

from __future__ import annotations

import warnings

import pytest
import torch

from mast_bench.ops import (
    KERNELS_ENV,
    KernelFallbackWarning,
    cpu_build,
    kernel_mode,
    kernel_path,
    kernels,
    local_correlation,
    use_kernels,
)


def test_native_is_the_default_and_the_variable_is_read_at_call_time(monkeypatch):
    monkeypatch.delenv(KERNELS_ENV, raising=False)
    assert kernel_mode() == "native"
    monkeypatch.setenv(KERNELS_ENV, " Reference ")
    assert kernel_mode() == "reference"
    assert kernel_path("cpu") == "reference"


def test_use_kernels_wins_over_the_variable_and_nests(monkeypatch):
    monkeypatch.setenv(KERNELS_ENV, "reference")
    with use_kernels("native"):
        assert kernel_mode() == "native"
        with use_kernels("reference"):
            assert kernel_mode() == "reference"
        assert kernel_mode() == "native"
    assert kernel_mode() == "reference"


def test_bad_choices_are_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv(KERNELS_ENV, "fast")
    with pytest.raises(
        ValueError, match=r"\$MAST_BENCH_KERNELS must be one of native, reference, got 'fast'"
    ):
        kernel_path("cpu")
    with pytest.raises(ValueError, match="use_kernels"):
        with use_kernels("cuda"):
            pass


def test_provenance_names_what_runs(monkeypatch):
    monkeypatch.delenv(KERNELS_ENV, raising=False)
    expected = "cpu-csrc" if kernels.cpu_extension() is not None else "reference"
    assert kernel_path("cpu") == kernel_path(torch.device("cpu")) == expected
    assert kernel_path("meta") == "reference"
    with use_kernels("reference"):
        assert kernel_path("cpu") == "reference"


def test_unsupported_dtypes_and_mixed_inputs_take_the_reference_path():
    assert kernels.kernels_for(torch.zeros(1, dtype=torch.bfloat16)) is None
    assert kernels.kernels_for(torch.zeros(1), torch.zeros(1, dtype=torch.float64)) is None
    # bfloat16 still works, through the reference implementation
    query = torch.randn(1, 3, 4, 5).bfloat16()
    assert local_correlation(query, query, 1).dtype == torch.bfloat16


@pytest.fixture
def failed_build(monkeypatch):
    """The loader raises as on a machine without a compiler; the cached result is reset around."""

    def no_compiler(verbose: bool = False):
        raise RuntimeError("Error building extension: c++: command not found")

    monkeypatch.delenv(KERNELS_ENV, raising=False)
    monkeypatch.setattr(cpu_build, "build", no_compiler)
    kernels.cpu_extension.cache_clear()
    yield
    kernels.cpu_extension.cache_clear()


def test_a_failed_build_falls_back_to_the_reference_with_one_warning(failed_build):
    query, key = torch.randn(1, 3, 5, 6), torch.randn(1, 3, 5, 6)
    with pytest.warns(KernelFallbackWarning, match="could not be built.*command not found.*compiler"):
        result = local_correlation(query, key, 2)
    with use_kernels("reference"):
        expected = local_correlation(query, key, 2)
    torch.testing.assert_close(result, expected, rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        local_correlation(query, key, 2)
        assert kernel_path("cpu") == "reference"


def test_the_extension_cache_key_covers_the_instruction_set_and_torch():
    name = cpu_build.extension_name("avx2")
    assert name.startswith("mast_bench_kernels_avx2_torch") and name.isidentifier()
    assert cpu_build.extension_name("generic") != name
    assert "-mavx2" in cpu_build.compile_flags("avx2") and "-mavx2" not in cpu_build.compile_flags("generic")
    assert any(flag.startswith("-DMAST_SOURCES=") for flag in cpu_build.compile_flags("generic"))
