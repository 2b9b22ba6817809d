"""fp32 on CUDA as on the CPU: TF32 off for matrix products and convolutions, or on, by choice.

PyTorch lets cuDNN convolutions round fp32 inputs to TF32 (a 10-bit mantissa) on Ampere and later
GPUs by default. That moves the features by about 1e-3, enough to flip a label wherever two
references score alike, so the official labels are reproduced on CUDA only in IEEE fp32. Evaluation
runs inside ``fp32_precision("ieee")``; ``"tf32"`` is for measuring what the rounding buys. Both
switches are process-wide, so the previous settings come back on exit. Without CUDA they change
nothing that runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

MODES = ("ieee", "tf32")


def _switches() -> list[tuple[object, str, dict[str, object]]]:
    """(object, attribute, value per mode) for cuBLAS matmuls and cuDNN convolutions."""
    backends = torch.backends
    if hasattr(backends.cuda.matmul, "fp32_precision") and hasattr(backends.cudnn, "conv"):
        named = {"ieee": "ieee", "tf32": "tf32"}  # torch >= 2.9; mixing in the legacy flags is refused
        return [
            (backends.cuda.matmul, "fp32_precision", named),
            (backends.cudnn.conv, "fp32_precision", named),
        ]
    flags = {"ieee": False, "tf32": True}
    return [(backends.cuda.matmul, "allow_tf32", flags), (backends.cudnn, "allow_tf32", flags)]


@contextmanager
def fp32_precision(mode: str = "ieee") -> Iterator[None]:
    """Run the block with fp32 matmuls and convolutions in ``mode`` ("ieee" or "tf32")."""
    if mode not in MODES:
        raise ValueError(f"fp32 precision {mode!r}: expected one of {', '.join(MODES)}")
    switches = _switches()
    saved = [getattr(owner, name) for owner, name, _ in switches]
    try:
        for owner, name, values in switches:
            setattr(owner, name, values[mode])
        yield
    finally:
        for (owner, name, _), value in zip(switches, saved, strict=True):
            setattr(owner, name, value)
