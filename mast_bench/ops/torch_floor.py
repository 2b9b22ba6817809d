"""The oldest torch the operators register on, said in one line where they would register.

Older releases fail deep inside torch.library (torch 2.6 cannot infer a schema from list[Tensor],
has no register_autocast) or hang later (2.7: a gloo group's destructor holds the GIL while its
threads wait for it, so a DDP run deadlocks when it ends one; fixed by pytorch/pytorch#154976).
pyproject.toml's requirement says the same (a test holds them equal).
"""

from __future__ import annotations

import re

MIN_TORCH = (2, 8)


class TorchTooOld(ImportError):
    """This Python's torch is older than MIN_TORCH (the CLI says so in one ``error:`` line)."""


def check_torch_version(version: str) -> None:
    """Raise TorchTooOld naming ``version`` and the floor when ``version`` is older than MIN_TORCH."""
    numbers = re.match(r"(\d+)\.(\d+)", version)
    if numbers is None or (int(numbers[1]), int(numbers[2])) >= MIN_TORCH:
        return
    floor = ".".join(map(str, MIN_TORCH))
    raise TorchTooOld(
        f"mast-bench needs torch >= {floor}; this Python has torch {version} "
        f"(install torch>={floor} first: scripts/setup's MAST_BENCH_TORCH names the build)"
    )
