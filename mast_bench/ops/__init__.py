"""Tensor memory operations of MAST: correlation, window gathers, ROI step, joint-softmax read.

The bottom floor of the package: imports nothing else from mast_bench.
"""

from .backends import BACKENDS, Backend, BackendUnavailable, get_backend
from .bilinear import bilinear_window_gather
from .flops import count_flops, local_correlation_flops
from .memory import MemoryEntry, band_rows, memory_read
from .offsets import soft_argmax_offset
from .window import local_correlation, pad_for_window, window_gather, window_read, window_size

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendUnavailable",
    "MemoryEntry",
    "band_rows",
    "bilinear_window_gather",
    "count_flops",
    "get_backend",
    "local_correlation",
    "local_correlation_flops",
    "memory_read",
    "pad_for_window",
    "soft_argmax_offset",
    "window_gather",
    "window_read",
    "window_size",
]
