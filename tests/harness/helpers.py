"""Picklable module-level functions for the executor tests (workers import them by name)."""

from __future__ import annotations


def square_with_pid(x: int) -> tuple[int, int]:
    import os

    return x * x, os.getpid()


def dies_on_one(x: int) -> int:
    """Kills its own process on 1 (a worker lost to the OOM killer, a node gone), else returns x."""
    import os
    import signal

    if x == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return x
