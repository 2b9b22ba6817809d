"""Which implementation runs the memory operators: native kernels or the pure-PyTorch reference.

One switch: the environment variable ``MAST_BENCH_KERNELS`` ("native", the default, or
"reference"), read at every call, and :func:`use_kernels` to choose in code for a block
(it wins over the variable). "native" means the C++ kernels on CPU tensors and the Triton
kernels on CUDA tensors; where they cannot run (no compiler, a failed build, Triton missing,
an unsupported dtype) the reference path runs instead, after ONE warning per cause.
:func:`kernel_path` names what runs on a device; :func:`expected_kernel_path` names it without
building anything (the CPU kernels are built ahead of time, see cpu_build), for records' identity.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType

import torch

from . import cpu_build

KERNELS_ENV = "MAST_BENCH_KERNELS"
MODES = ("native", "reference")
CPU_DTYPES = (torch.float32, torch.float64)
CUDA_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

_chosen: ContextVar[str | None] = ContextVar("mast_bench_kernels", default=None)


class KernelFallbackWarning(RuntimeWarning):
    """The native kernels cannot run here; the (slower, exact) reference path runs instead."""


def _checked(mode: str, where: str) -> str:
    value = mode.strip().lower()
    if value not in MODES:
        raise ValueError(f"{where} must be one of {', '.join(MODES)}, got {mode!r}")
    return value


def kernel_mode() -> str:
    """ "native" or "reference": the innermost :func:`use_kernels`, else $MAST_BENCH_KERNELS."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    return _checked(os.environ.get(KERNELS_ENV, "native"), f"${KERNELS_ENV}")


@contextlib.contextmanager
def use_kernels(mode: str) -> Iterator[None]:
    """Run the block with the "native" kernels or the "reference" path (nests; thread/task local)."""
    token = _chosen.set(_checked(mode, "use_kernels(mode)"))
    try:
        yield
    finally:
        _chosen.reset(token)


@functools.cache
def cpu_extension() -> ModuleType | None:
    """The compiled CPU kernels (loaded; built first if no process has), or None (with one warning)
    when they cannot be built here. Waiting too long for another process's build raises."""
    try:
        return cpu_build.build()
    except TimeoutError:  # another build holds the lock: not a reason to switch paths silently
        raise
    except Exception as exc:  # no compiler, no ninja, missing headers, a compile error
        warnings.warn(
            f"mast_bench: the CPU kernels (csrc/) could not be built, so the memory "
            f"operators run the pure-PyTorch reference path (exact, slower): {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}. They need a C++ "
            "compiler with OpenMP and ninja; `mast-bench kernels build` tries again.",
            KernelFallbackWarning,
            stacklevel=2,
        )
        return None


@functools.cache
def cuda_kernels() -> ModuleType | None:
    """The Triton kernels' module, or None (with one warning) when Triton is not importable."""
    try:
        from . import triton_kernels
    except Exception as exc:
        warnings.warn(
            "mast_bench: Triton is not importable, so the memory operators run the pure-PyTorch "
            f"reference path on CUDA (exact, slower): {type(exc).__name__}: {exc}. "
            "Install the 'triton' extra.",
            KernelFallbackWarning,
            stacklevel=2,
        )
        return None
    return triton_kernels


def native_module(device: torch.device) -> ModuleType | None:
    """The kernels that run on ``device`` now, or None for the reference path."""
    if kernel_mode() != "native":
        return None
    if device.type == "cpu":
        return cpu_extension()
    if device.type == "cuda":
        return cuda_kernels()
    return None


def kernels_for(*tensors: torch.Tensor) -> ModuleType | None:
    """The kernels for these operator inputs, else None: one device; on CPU one dtype of
    CPU_DTYPES, on CUDA any mix of CUDA_DTYPES (the Triton kernels convert what they load)."""
    first = tensors[0]
    if any(t.device != first.device for t in tensors[1:]):
        return None
    if first.device.type == "cuda":
        supported = all(t.dtype in CUDA_DTYPES for t in tensors)
    else:
        supported = first.dtype in CPU_DTYPES and all(t.dtype == first.dtype for t in tensors[1:])
    return native_module(first.device) if supported else None


def kernel_path(device: str | torch.device = "cpu") -> str:
    """What runs the memory operators on ``device``: "cpu-csrc", "cuda-triton" or "reference".

    The first call on CPU may compile the kernels (about a minute, once per machine).
    """
    device = torch.device(device)
    if native_module(device) is None:
        return "reference"
    return {"cpu": "cpu-csrc", "cuda": "cuda-triton"}[device.type]


def expected_kernel_path(device: str | torch.device = "cpu") -> str:
    """What :func:`kernel_path` will say on ``device``, named without compiling anything: on CPU
    from the build folder (built, failed) and the tools (compiler, ninja) alone."""
    device = torch.device(device)
    if device.type != "cpu" or kernel_mode() != "native":
        return kernel_path(device)
    if cpu_extension.cache_info().currsize:  # this process already knows
        return kernel_path(device)
    return "cpu-csrc" if cpu_build.expected_to_load() else "reference"
