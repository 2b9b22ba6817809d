"""Folders the project keeps at its top level and the wheel ships inside the package.

``ablations/`` (the built-in studies) sits beside ``mast_bench/`` in a checkout, as the design card
draws the house; setuptools maps it to ``mast_bench/ablations`` in a wheel (pyproject.toml,
``package-dir``). One lookup serves both, without copies. (``ops/cpu_build.py`` finds ``csrc/`` by
the same rule: the bottom floor imports nothing of the package.)
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    """``mast_bench/<name>`` in an installed wheel, else ``<checkout>/<name>``."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name
