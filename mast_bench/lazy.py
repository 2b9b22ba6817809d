"""Packages whose names load on first use: ``import mast_bench`` or ``mast_bench.metrics`` costs
nothing (no torch, no pandas) until a name is asked for, and a worker loads only what it uses."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """(``__getattr__``, ``__dir__``) for ``package``: ``exports`` maps a name to the submodule that
    defines it, ``"module"`` (the same name) or ``"module:attribute"``; a loaded name is kept."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = exports[name].partition(":")
        value = getattr(importlib.import_module(f".{module}", package), attribute or name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
