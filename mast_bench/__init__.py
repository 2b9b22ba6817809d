"""mast-bench: a faithful, fast reimplementation of MAST and a benchmark suite for its design choices.

    import mast_bench
    model = mast_bench.create_model("mast", "checkpoint.pt")   # as timm.create_model
    mast_bench.list_variants("mast-dil*")

Importing the package imports no torch: the model stack loads on first use.
"""

from __future__ import annotations

__version__ = "0.2.0"

_LAZY = {
    "create_model": ("mast_bench.model", "create_model"),
    "list_variants": ("mast_bench.variants", "variant_names"),
    "get_variant": ("mast_bench.variants", "get_variant"),
    "register_variant": ("mast_bench.variants", "register_variant"),
    "list_protocols": ("mast_bench.protocols", "protocol_names"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'mast_bench' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
