"""FLOP counting that sees the memory operations (2 FLOPs per multiply-add).

FlopCounterMode counts matmul/bmm natively and our window operators through the
formulas registered next to them (ops/window.py); unfold, grid_sample and
element-wise code would silently count as 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Total FLOPs of ``fn(*args, **kwargs)`` (forward, and backward if ``fn`` runs one)."""
    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return int(counter.get_total_flops())


def local_correlation_flops(batch: int, channels: int, radius: int, height: int, width: int) -> int:
    """The closed form 2*B*C*P^2*H*W that FlopCounterMode reports for local_correlation."""
    return 2 * batch * channels * (2 * radius + 1) ** 2 * height * width
