"""The variant registry (mast_bench.registry's mechanism): names -> frozen VariantConfigs, from code,
``[variant.NAME]`` TOML tables and plugins, and :func:`derive_variant` for ``--set``.

Other packages add variants through the entry-point group ``mast_bench.variants``; an entry
point is a callable returning one VariantConfig or several, or a module that registers on
import. Plugins are loaded lazily, on the first lookup or listing, so importing mast_bench
never imports third-party code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import did_you_mean, field_defaults, from_dict, to_dict
from ..errors import ConfigError
from ..registry import Registry, Tables, base_of
from .config import NAMING_FIELDS, VariantConfig

ENTRY_POINT_GROUP = "mast_bench.variants"


def _variant_table(name: str, table: dict[str, Any], where: str, lookup: Callable[[str], VariantConfig]):
    """``[variant.NAME]``: ``base = "mast"`` (a known variant or another table of the file) plus overrides."""
    overridable = sorted(f.name for f in dataclasses.fields(VariantConfig) if f.name != "name")
    unknown = sorted(set(table) - set(overridable) - {"base"})
    if unknown:
        allowed = ", ".join(["base", *overridable])
        hint = did_you_mean(unknown[0], overridable)
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}; allowed keys: {allowed}")
    if "+" in name:  # the name --set gives: a table of that name would pass for base + the change
        raise ConfigError(
            f"{where}: a variant name with '+' is what --set makes ({name.split('+')[0]!r} with a change); "
            "choose a name without '+'"
        )
    base = base_of(table, where, lookup, "variant", "mast")
    overrides = {k: v for k, v in table.items() if k != "base"}
    return from_dict(VariantConfig, {**to_dict(base), "description": "", **overrides, "name": name}, where)


class VariantRegistry(Registry[VariantConfig]):
    """Variants by name: built-ins, ``[variant.NAME]`` TOML tables, ``mast_bench.variants`` plugins."""

    def __init__(self, entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        super().__init__(
            "variant", VariantConfig, entry_points=entry_point_group, tables=Tables("variant", _variant_table)
        )

    def variant(self, build: Callable[[], VariantConfig]) -> Callable[[], VariantConfig]:
        """Decorator: register the config returned by ``build()`` under its own name."""
        return self.builder(build)


def _field_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_field_text(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def field_settings(values: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """``name=value`` for each of ``names``, as --set writes it (``test_radius=9``, ``memory=full``)."""
    return [f"{name}={_field_text(values.get(name))}" for name in names]


def filled_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A variant config as a record holds it, the fields it lacks (added since) at their defaults."""
    return {**field_defaults(VariantConfig), **config}


def differing_fields(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The fields (naming ones left out) in which ``configs`` (as records hold them) differ, in
    :class:`VariantConfig`'s order (fields it no longer has last)."""
    filled = [filled_config(config) for config in configs]
    keys = {key for config in filled for key in config} - set(NAMING_FIELDS)
    differing = [k for k in keys if len({json.dumps(c.get(k), sort_keys=True) for c in filled}) > 1]
    order = [f.name for f in dataclasses.fields(VariantConfig)]
    return sorted(differing, key=lambda k: (order.index(k) if k in order else len(order), k))


def derive_variant(base: VariantConfig, overrides: dict[str, Any], where: str = "--set") -> VariantConfig:
    """``base`` with some fields changed; its name lists the changes that matter (``mast+test_radius=9``).

    Overrides equal to the base's own values are dropped, so deriving nothing new gives ``base``
    itself (the same identity, the same record).
    """
    allowed = sorted(f.name for f in dataclasses.fields(VariantConfig) if f.name not in NAMING_FIELDS)
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        listing = ", ".join(allowed)
        hint = did_you_mean(unknown[0], allowed)
        raise ConfigError(f"{where}: unknown variant field {unknown[0]!r}{hint}; allowed fields: {listing}")
    merged = {**to_dict(base), **overrides}
    typed = from_dict(VariantConfig, merged, where)
    changed = [name for name in allowed if getattr(typed, name) != getattr(base, name)]
    if not changed:
        return base
    order = [f.name for f in dataclasses.fields(VariantConfig)]
    changed.sort(key=order.index)
    settings = field_settings(vars(typed), changed)
    return typed.replace(
        name="+".join([base.name, *settings]), description=f"{base.name} with {', '.join(settings)}"
    )


def derive_variant_named(
    base: VariantConfig, overrides: dict[str, Any], where: str = "--set"
) -> VariantConfig:
    """:func:`derive_variant`, its refusal naming the variant it was deriving (one of several)."""
    try:
        return derive_variant(base, overrides, where)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (variant {base.name})") from None


VARIANTS = VariantRegistry()


def get_variant(name: str) -> VariantConfig:
    return VARIANTS.get(name)


def variant_names(pattern: str = "*") -> list[str]:
    return VARIANTS.names(pattern)


def register_variant(config: VariantConfig) -> VariantConfig:
    return VARIANTS.register(config)


def load_variants_toml(path: str | Path) -> list[VariantConfig]:
    return VARIANTS.register_toml(path)
