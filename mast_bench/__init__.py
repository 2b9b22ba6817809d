"""mast-bench: a faithful, fast reimplementation of MAST and a benchmark suite for its design choices.

    import mast_bench
    model = mast_bench.create_model("mast", "checkpoint.pt")   # as timm.create_model
    mast_bench.list_variants("mast-dil*")

Importing the package imports no torch: the model stack loads on first use.
"""

from __future__ import annotations

__version__ = "0.2.0"

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "create_model": "model",
        "list_variants": "variants:variant_names",
        "get_variant": "variants",
        "register_variant": "variants",
        "list_protocols": "protocols:protocol_names",
    },
)
