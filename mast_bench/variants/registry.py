"""The variant registry: names -> frozen VariantConfigs, from code, TOML files and plugins.

Other packages add variants through the entry-point group ``mast_bench.variants``; an entry
point is a callable returning one VariantConfig or several, or a module that registers on
import. Plugins are loaded lazily, on the first lookup or listing, so importing mast_bench
never imports third-party code.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..config import from_dict, load_toml, to_dict
from ..errors import ConfigError, UserError
from ..registry import Registry
from .config import VariantConfig

ENTRY_POINT_GROUP = "mast_bench.variants"


class VariantRegistry:
    def __init__(self, entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        self._items: Registry[VariantConfig] = Registry("variant")
        self._group = entry_point_group
        self._plugins_loaded = entry_point_group is None

    # --- registration -------------------------------------------------------------------
    def register(self, config: VariantConfig) -> VariantConfig:
        if not isinstance(config, VariantConfig):
            raise ConfigError(f"a variant must be a VariantConfig, got {type(config).__name__}")
        try:
            return self._items.add(config.name, config)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def variant(self, build: Callable[[], VariantConfig]) -> Callable[[], VariantConfig]:
        """Decorator: register the config returned by ``build()`` under its own name."""
        self.register(build())
        return build

    # --- lookup -------------------------------------------------------------------------
    def get(self, name: str) -> VariantConfig:
        self._load_plugins()
        return self._items.get(name)

    def names(self, pattern: str = "*") -> list[str]:
        self._load_plugins()
        return self._items.names(pattern)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._items

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._items)

    # --- plugins ------------------------------------------------------------------------
    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True  # set first: a plugin module may look variants up on import
        for entry_point in importlib.metadata.entry_points(group=self._group):
            self._load_entry_point(entry_point)

    def _load_entry_point(self, entry_point: Any) -> None:
        where = f"entry point {entry_point.name!r} ({entry_point.value}) of group {self._group!r}"
        try:
            loaded = entry_point.load()
        except Exception as exc:
            raise ConfigError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from None
        if isinstance(loaded, types.ModuleType):
            return  # the module registered its variants when imported
        if not callable(loaded):
            raise ConfigError(f"{where}: expected a callable or a module, got {type(loaded).__name__}")
        produced = loaded()
        configs = [produced] if isinstance(produced, VariantConfig) else produced
        if not isinstance(configs, Iterable) or not all(isinstance(c, VariantConfig) for c in configs):
            raise ConfigError(f"{where}: expected VariantConfig(s), got {produced!r}")
        for config in configs:
            try:
                self._items.add(config.name, config)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None

    # --- TOML ---------------------------------------------------------------------------
    def load_toml(self, path: str | Path) -> list[VariantConfig]:
        """Register every ``[variant.NAME]`` table of ``path`` (see :func:`read_variants_toml`)."""
        return [self.register(config) for config in read_variants_toml(path, self.get, self.names)]


_IDENTITY_FIELDS = ("name", "description")


def _field_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_field_text(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def derive_variant(base: VariantConfig, overrides: dict[str, Any], where: str = "--set") -> VariantConfig:
    """``base`` with some fields changed; its name lists the changes that matter (``mast+test_radius=9``).

    Overrides equal to the base's own values are dropped, so deriving nothing new gives ``base``
    itself (the same identity, the same record).
    """
    allowed = sorted(f.name for f in dataclasses.fields(VariantConfig) if f.name not in _IDENTITY_FIELDS)
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        listing = ", ".join(allowed)
        raise ConfigError(f"{where}: unknown variant field {unknown[0]!r}; allowed fields: {listing}")
    merged = {**to_dict(base), **overrides}
    typed = from_dict(VariantConfig, merged, where)
    changed = [name for name in allowed if getattr(typed, name) != getattr(base, name)]
    if not changed:
        return base
    order = [f.name for f in dataclasses.fields(VariantConfig)]
    changed.sort(key=order.index)
    settings = [f"{name}={_field_text(getattr(typed, name))}" for name in changed]
    return typed.replace(
        name="+".join([base.name, *settings]), description=f"{base.name} with {', '.join(settings)}"
    )


def read_variants_toml(
    path: str | Path,
    lookup: Callable[[str], VariantConfig],
    names: Callable[[], list[str]] | None = None,
) -> list[VariantConfig]:
    """The ``[variant.NAME]`` tables of ``path``: ``base = "mast"`` (a known variant or an earlier
    table of the file) plus overrides of its fields. Nothing is registered."""
    data = load_toml(path)
    unknown_top = sorted(set(data) - {"variant"})
    if unknown_top:
        raise ConfigError(f"{path}: unknown table {unknown_top[0]!r}; allowed: variant")
    tables = data.get("variant", {})
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: expected [variant.NAME] tables")
    overridable = sorted(f.name for f in dataclasses.fields(VariantConfig) if f.name != "name")
    made: dict[str, VariantConfig] = {}
    for name, table in tables.items():
        where = f"{path}: [variant.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        unknown = sorted(set(table) - set(overridable) - {"base"})
        if unknown:
            allowed = ", ".join(["base", *overridable])
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {allowed}")
        base_name = table.get("base")
        if not isinstance(base_name, str):
            raise ConfigError(f"{where}: missing key 'base' (the variant it modifies, e.g. base = \"mast\")")
        base = made.get(base_name) or _lookup_base(base_name, lookup, names, where)
        overrides = {k: v for k, v in table.items() if k != "base"}
        merged = {**to_dict(base), "description": "", **overrides, "name": name}
        made[name] = from_dict(VariantConfig, merged, where)
    return list(made.values())


def _lookup_base(name: str, lookup, names, where: str) -> VariantConfig:
    try:
        return lookup(name)
    except ConfigError:
        raise
    except UserError:
        known = ", ".join(names()) if names is not None else "(see `mast-bench variants`)"
        raise ConfigError(f"{where}.base: unknown variant {name!r}; known variants: {known}") from None


VARIANTS = VariantRegistry()


def get_variant(name: str) -> VariantConfig:
    return VARIANTS.get(name)


def variant_names(pattern: str = "*") -> list[str]:
    return VARIANTS.names(pattern)


def register_variant(config: VariantConfig) -> VariantConfig:
    return VARIANTS.register(config)


def load_variants_toml(path: str | Path) -> list[VariantConfig]:
    return VARIANTS.load_toml(path)
