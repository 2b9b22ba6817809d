"""FlopCounterMode sees the memory operations; the official correlation package agrees with ours."""

from __future__ import annotations

import sys

import pytest
import torch
from support.spatial_sampler import SamplerUnavailable, sampler_correlation

from mast_bench.ops import (
    MemoryEntry,
    count_flops,
    local_correlation,
    local_correlation_flops,
    memory_read,
    use_kernels,
    window_read,
)


def test_local_correlation_flops_are_two_per_multiply_add():
    b, c, h, w, r = 2, 5, 6, 7, 3
    query, key = torch.randn(b, c, h, w), torch.randn(b, c, h, w)
    assert count_flops(local_correlation, query, key, r, 2) == 2 * b * c * 49 * h * w
    assert local_correlation_flops(b, c, r, h, w) == 2 * b * c * 49 * h * w


def test_backward_flops_are_counted_too():
    b, c, h, w, r = 1, 3, 4, 5, 1
    query = torch.randn(b, c, h, w, requires_grad=True)
    key = torch.randn(b, c, h, w, requires_grad=True)

    def forward_backward():
        local_correlation(query, key, r).sum().backward()

    # forward + grad_query (aggregate) + grad_key (scatter): three passes of the same size
    assert count_flops(forward_backward) == 3 * 2 * b * c * 9 * h * w


def test_memory_read_flops_add_up_per_entry_kind():
    b, c, h, w, cv = 1, 4, 5, 6, 3
    query = torch.randn(b, c, h, w)
    window = MemoryEntry(torch.randn(b, c, h, w), torch.randn(b, cv, h, w), "window", 2)
    full = MemoryEntry(torch.randn(b, c, 3, 4), torch.randn(b, cv, 3, 4), "full")
    roi = MemoryEntry(
        torch.randn(b, c, h, w), torch.randn(b, cv, h, w), "window", 1, offset=torch.rand(b, h, w, 2)
    )
    n = h * w
    window_flops = 2 * b * c * 25 * n + 2 * b * cv * 25 * n  # correlation + weighted values
    full_flops = 2 * b * c * 12 * n + 2 * b * cv * 12 * n  # two matmuls against 12 key pixels
    roi_flops = 2 * b * c * 16 * n + 2 * b * cv * 16 * n  # both contract the 4x4 integer window
    assert count_flops(memory_read, query, [window]) == window_flops
    assert count_flops(memory_read, query, [full]) == full_flops
    assert count_flops(memory_read, query, [roi]) == roi_flops
    assert (
        count_flops(memory_read, query, [window, full, roi], chunk_rows=2)
        == window_flops + full_flops + roi_flops
    )


def test_window_read_flops():
    weights, values = torch.randn(2, 9, 4, 5), torch.randn(2, 7, 4, 5)
    assert count_flops(window_read, weights, values, 1, 3) == 2 * 2 * 7 * 9 * 4 * 5


def test_sampler_explains_how_to_install_when_missing(monkeypatch):
    # A None entry in sys.modules makes the import fail, whether or not the package is installed.
    monkeypatch.setitem(sys.modules, "spatial_correlation_sampler", None)
    with pytest.raises(SamplerUnavailable, match="scripts/install-sampler"):
        sampler_correlation()


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_spatial_correlation_sampler_matches_our_correlation(dilation):
    try:
        correlate = sampler_correlation()
    except SamplerUnavailable as exc:
        pytest.skip(str(exc))
    gen = torch.Generator().manual_seed(dilation)
    query, key = torch.randn(2, 8, 9, 12, generator=gen), torch.randn(2, 8, 9, 12, generator=gen)
    expected = local_correlation(query.double(), key.double(), 3, dilation).float()
    torch.testing.assert_close(correlate(query, key, 3, dilation), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_cuda_results_equal_cpu_results():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    gen = torch.Generator().manual_seed(0)
    query = torch.randn(1, 8, 10, 12, generator=gen)
    key, value = torch.randn(1, 8, 10, 12, generator=gen), torch.randn(1, 3, 10, 12, generator=gen)
    offset = torch.randn(1, 10, 12, 2, generator=gen) * 2
    entries = [MemoryEntry(key, value, "window", 2), MemoryEntry(key, value, "window", 2, offset=offset)]
    # the CPU's exact path (tests/ops/test_cpu_kernels.py equates the compiled kernels to it); the GPU
    # check runs this from a fresh checkout, where the compiled ones would first be built (device minutes)
    with use_kernels("reference"):
        cpu = memory_read(query, entries)
    gpu_entries = [
        MemoryEntry(
            e.key.cuda(),
            e.value.cuda(),
            e.kind,
            e.radius,
            e.dilation,
            None if e.offset is None else e.offset.cuda(),
        )
        for e in entries
    ]
    torch.testing.assert_close(memory_read(query.cuda(), gpu_entries).cpu(), cpu, rtol=1e-5, atol=1e-5)
