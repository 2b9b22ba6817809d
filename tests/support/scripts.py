"""The benchmark scripts (``benchmarks/NAME.py``, not a package) as modules, for tests that call
their ``main`` in-process."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` loaded afresh (its module-level code run once per call)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
