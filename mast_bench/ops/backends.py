"""Local-correlation backends chosen by name: "torch" (reference), "sampler", "cpp".

All share ``local_correlation(query, key, radius, dilation) -> (B, P*P, H, W)``
with MAST_SPEC.md's zero-padded semantics, so tests can compare them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from .window import check_window, local_correlation

BACKENDS = ("torch", "sampler", "cpp")


class BackendUnavailable(RuntimeError):
    """A named backend exists but cannot run here (missing package or build)."""


@dataclass(frozen=True)
class Backend:
    name: str
    local_correlation: Callable[[Tensor, Tensor, int, int], Tensor]


SAMPLER_HOWTO = (
    "the 'sampler' backend needs the package spatial-correlation-sampler==0.5.0, which does not build "
    "from PyPI against a CPU torch; run scripts/install-sampler (it patches the sdist: CPU_ONLY = True and "
    "an #ifdef USE_CUDA guard around the CUDAGuard include, then pip install --no-build-isolation)"
)


def _sampler_correlation() -> Callable[[Tensor, Tensor, int, int], Tensor]:
    try:
        from spatial_correlation_sampler import spatial_correlation_sample
    except ImportError as exc:
        raise BackendUnavailable(f"{SAMPLER_HOWTO} ({exc})") from exc

    def correlate(query: Tensor, key: Tensor, radius: int, dilation: int = 1) -> Tensor:
        check_window(radius, dilation)
        size = 2 * radius + 1
        out = spatial_correlation_sample(
            query.contiguous(),
            key.contiguous(),
            kernel_size=1,
            patch_size=size,
            stride=1,
            padding=0,
            dilation=1,
            dilation_patch=dilation,
        )
        b, _, _, h, w = out.shape
        return out.reshape(b, size * size, h, w)

    return correlate


def _cpp_correlation() -> Callable[[Tensor, Tensor, int, int], Tensor]:
    from .cpp import cpp_local_correlation, load_extension

    try:
        load_extension()
    except Exception as exc:  # compiler, ninja or headers missing: say so, keep the torch path
        raise BackendUnavailable(
            f"the 'cpp' backend could not build csrc/window_ops.cpp ({type(exc).__name__}: {exc}); "
            "it needs a C++ compiler with OpenMP and ninja; the 'torch' backend needs neither"
        ) from exc
    return cpp_local_correlation


def get_backend(name: str) -> Backend:
    """The backend called ``name``; BackendUnavailable says how to get it when it cannot run."""
    if name == "torch":
        return Backend("torch", local_correlation)
    if name == "sampler":
        return Backend("sampler", _sampler_correlation())
    if name == "cpp":
        return Backend("cpp", _cpp_correlation())
    raise ValueError(f"unknown ops backend {name!r}; expected one of {BACKENDS}")
