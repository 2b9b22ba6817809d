"""spatial-correlation-sampler (the official MAST correlation package) as an optional cross-check.

Not a dependency: it does not build from PyPI against a CPU torch (scripts/install-sampler
patches and builds it). Tests and benchmarks that use it skip, visibly, when it is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

HOWTO = (
    "spatial-correlation-sampler==0.5.0 is not installed; it does not build from PyPI against a CPU "
    "torch: run scripts/install-sampler (it patches the sdist: CPU_ONLY = True and an #ifdef USE_CUDA "
    "guard around the CUDAGuard include, then pip install --no-build-isolation)"
)


class SamplerUnavailable(RuntimeError):
    """The package cannot be imported here."""


def sampler_correlation() -> Callable[[Tensor, Tensor, int, int], Tensor]:
    """local_correlation(query, key, radius, dilation) -> (B, P*P, H, W) through the package."""
    try:
        from spatial_correlation_sampler import spatial_correlation_sample
    except ImportError as exc:
        raise SamplerUnavailable(f"{HOWTO} ({exc})") from exc

    def correlate(query: Tensor, key: Tensor, radius: int, dilation: int = 1) -> Tensor:
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
