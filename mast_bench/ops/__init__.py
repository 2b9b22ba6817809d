"""Tensor memory operations of MAST: correlation, window gathers, ROI step, joint-softmax read.

The bottom floor of the package: imports nothing else from mast_bench. Native kernels (C++ on
CPU, Triton on CUDA) implement the custom operators; ``MAST_BENCH_KERNELS=reference`` or
``use_kernels("reference")`` selects the pure-PyTorch reference, ``kernel_path(device)`` says
which one runs (``expected_kernel_path`` without building the CPU kernels).
"""

from .bilinear import bilinear_window_gather
from .flops import count_flops, local_correlation_flops
from .kernels import (
    KERNELS_ENV,
    KernelFallbackWarning,
    expected_kernel_path,
    kernel_mode,
    kernel_path,
    use_kernels,
)
from .memory import MemoryEntry, band_rows, memory_read
from .offsets import soft_argmax_offset
from .window import local_correlation, pad_for_window, window_gather, window_read, window_size

__all__ = [
    "KERNELS_ENV",
    "KernelFallbackWarning",
    "MemoryEntry",
    "band_rows",
    "bilinear_window_gather",
    "count_flops",
    "expected_kernel_path",
    "kernel_mode",
    "kernel_path",
    "local_correlation",
    "local_correlation_flops",
    "memory_read",
    "pad_for_window",
    "soft_argmax_offset",
    "use_kernels",
    "window_gather",
    "window_read",
    "window_size",
]
