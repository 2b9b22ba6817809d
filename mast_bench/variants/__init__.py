"""Variants: frozen VariantConfigs by name (built-ins, TOML files, ``mast_bench.variants`` plugins)."""

from .builtin import MAST_PAPER, builtin_variants, register_builtins
from .config import VariantConfig
from .registry import (
    ENTRY_POINT_GROUP,
    VARIANTS,
    VariantRegistry,
    derive_variant,
    derive_variant_named,
    get_variant,
    load_variants_toml,
    register_variant,
    variant_names,
)

register_builtins(VARIANTS)

__all__ = [
    "ENTRY_POINT_GROUP",
    "MAST_PAPER",
    "VARIANTS",
    "VariantConfig",
    "VariantRegistry",
    "builtin_variants",
    "derive_variant",
    "derive_variant_named",
    "get_variant",
    "load_variants_toml",
    "register_builtins",
    "register_variant",
    "variant_names",
]
