"""Picklable module-level functions for the executor tests (workers import them by name)."""

from __future__ import annotations


def square_with_pid(x: int) -> tuple[int, int]:
    import os

    return x * x, os.getpid()
