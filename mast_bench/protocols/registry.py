"""The protocol registry (mast_bench.registry's mechanism): names -> frozen ProtocolConfigs, from code,
``[protocol.NAME]`` TOML tables and ``mast_bench.protocols`` plugins.

A TOML file holds ``[protocol.NAME]`` tables: ``base = "crw"`` (a known protocol or an earlier
table of the file) plus overrides; a ``context`` sub-table overrides single fields of the base's
context read (``context.top_k = 5``), or gives a whole one when the base reads the variant's memory;
a ``route`` sub-table overrides single fields of the base's resize route (``route.size = "square"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import did_you_mean, from_dict, to_dict
from ..errors import ConfigError
from ..registry import Registry, Tables, base_of
from .config import ContextRead, ProtocolConfig, ResizeRoute

ENTRY_POINT_GROUP = "mast_bench.protocols"
DEFAULT_PROTOCOL = "mast"  # what every command, job and propagation uses when none is named
_TOP_FIELDS = ("description", "source", "context", "route")
_TABLES = {"context": ContextRead, "route": ResizeRoute}  # sub-tables: single fields override the base's


def _protocol_table(name: str, table: dict[str, Any], where: str, lookup: Callable[[str], ProtocolConfig]):
    base = base_of(table, where, lookup, "protocol", "crw")
    return derive_protocol(base, name, {k: v for k, v in table.items() if k != "base"}, where)


class ProtocolRegistry(Registry[ProtocolConfig]):
    """Protocols by name: built-ins, ``[protocol.NAME]`` TOML tables, ``mast_bench.protocols`` plugins."""

    def __init__(self, entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        super().__init__(
            "protocol",
            ProtocolConfig,
            entry_points=entry_point_group,
            tables=Tables("protocol", _protocol_table),
        )


def derive_protocol(base: ProtocolConfig, name: str, overrides: dict[str, Any], where: str) -> ProtocolConfig:
    """``base`` renamed, with top-level fields and single context fields overridden."""
    unknown = sorted(set(overrides) - set(_TOP_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _TOP_FIELDS)}; allowed keys: "
            f"base, {', '.join(_TOP_FIELDS)}"
        )
    tables = {}
    for key, kind in _TABLES.items():
        inherited = getattr(base, key)
        changes = overrides.get(key)
        if changes is None:
            tables[key] = inherited
            continue
        if not isinstance(changes, dict):
            raise ConfigError(f"{where}.{key}: expected a table of {key} fields")
        fields = to_dict(inherited) if inherited is not None else {}
        tables[key] = from_dict(kind, {**fields, **changes}, f"{where}.{key}")
    top = {k: v for k, v in overrides.items() if k not in _TABLES}
    for key, value in top.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected a string, got {value!r}")
    # the base's citation, marked as a base's: the derived protocol's own numbers are read nowhere
    source = f"derived from {base.name}" + (f" ({base.source})" if base.source else "")
    try:
        return dataclasses.replace(base, **{"description": "", "source": source, **top}, name=name, **tables)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


PROTOCOLS = ProtocolRegistry()


def get_protocol(name: str) -> ProtocolConfig:
    return PROTOCOLS.get(name)


def protocol_names(pattern: str = "*") -> list[str]:
    return PROTOCOLS.names(pattern)


def register_protocol(config: ProtocolConfig) -> ProtocolConfig:
    return PROTOCOLS.register(config)


def load_protocols_toml(path: str | Path) -> list[ProtocolConfig]:
    return PROTOCOLS.register_toml(path)


def default_protocol() -> ProtocolConfig:
    """MAST's own protocol: the variant's memory read, exactly as without a protocol."""
    return PROTOCOLS.get(DEFAULT_PROTOCOL)
