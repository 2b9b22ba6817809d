"""The protocol registry: names -> frozen ProtocolConfigs, from code and TOML files.

A TOML file holds ``[protocol.NAME]`` tables: ``base = "crw"`` (a known protocol or an earlier
table of the file) plus overrides; a ``context`` sub-table overrides single fields of the base's
context read (``context.top_k = 5``), or gives a whole one when the base reads the variant's memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import from_dict, load_toml, to_dict
from ..errors import ConfigError, UserError
from ..registry import Registry
from .config import ContextRead, ProtocolConfig

_TOP_FIELDS = ("description", "source", "context")


class ProtocolRegistry:
    def __init__(self) -> None:
        self._items: Registry[ProtocolConfig] = Registry("protocol")

    def register(self, config: ProtocolConfig) -> ProtocolConfig:
        if not isinstance(config, ProtocolConfig):
            raise ConfigError(f"a protocol must be a ProtocolConfig, got {type(config).__name__}")
        try:
            return self._items.add(config.name, config)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def get(self, name: str) -> ProtocolConfig:
        return self._items.get(name)

    def names(self, pattern: str = "*") -> list[str]:
        return self._items.names(pattern)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def load_toml(self, path: str | Path) -> list[ProtocolConfig]:
        """Register every ``[protocol.NAME]`` table of ``path`` (see :func:`read_protocols_toml`)."""
        return [self.register(config) for config in read_protocols_toml(path, self.get, self.names)]


def read_protocols_toml(
    path: str | Path, lookup: Callable[[str], ProtocolConfig], names: Callable[[], list[str]]
) -> list[ProtocolConfig]:
    """The ``[protocol.NAME]`` tables of ``path`` as configs; nothing is registered."""
    data = load_toml(path)
    unknown_top = sorted(set(data) - {"protocol"})
    if unknown_top:
        raise ConfigError(f"{path}: unknown table {unknown_top[0]!r}; allowed: protocol")
    tables = data.get("protocol", {})
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: expected [protocol.NAME] tables")
    made: dict[str, ProtocolConfig] = {}
    for name, table in tables.items():
        where = f"{path}: [protocol.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        base_name = table.get("base")
        if not isinstance(base_name, str):
            raise ConfigError(f"{where}: missing key 'base' (the protocol it modifies, e.g. base = \"crw\")")
        base = made.get(base_name) or _lookup_base(base_name, lookup, names, where)
        made[name] = derive_protocol(base, name, {k: v for k, v in table.items() if k != "base"}, where)
    return list(made.values())


def derive_protocol(base: ProtocolConfig, name: str, overrides: dict[str, Any], where: str) -> ProtocolConfig:
    """``base`` renamed, with top-level fields and single context fields overridden."""
    unknown = sorted(set(overrides) - set(_TOP_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys: base, {', '.join(_TOP_FIELDS)}"
        )
    context = base.context
    if "context" in overrides:
        changes = overrides["context"]
        if not isinstance(changes, dict):
            raise ConfigError(f"{where}.context: expected a table of context fields")
        inherited = to_dict(context) if context is not None else {}
        context = from_dict(ContextRead, {**inherited, **changes}, f"{where}.context")
    top = {k: v for k, v in overrides.items() if k != "context"}
    for key, value in top.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected a string, got {value!r}")
    try:
        return dataclasses.replace(base, **{"description": "", **top}, name=name, context=context)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _lookup_base(name: str, lookup, names, where: str) -> ProtocolConfig:
    try:
        return lookup(name)
    except UserError:
        raise ConfigError(
            f"{where}.base: unknown protocol {name!r}; known protocols: {', '.join(names())}"
        ) from None


PROTOCOLS = ProtocolRegistry()


def get_protocol(name: str) -> ProtocolConfig:
    return PROTOCOLS.get(name)


def protocol_names(pattern: str = "*") -> list[str]:
    return PROTOCOLS.names(pattern)


def register_protocol(config: ProtocolConfig) -> ProtocolConfig:
    return PROTOCOLS.register(config)


def load_protocols_toml(path: str | Path) -> list[ProtocolConfig]:
    return PROTOCOLS.load_toml(path)
