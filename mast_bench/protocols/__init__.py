"""Protocols: frozen test-time label-propagation rules by name (built-ins, TOML files, plugins)."""

from .builtin import builtin_protocols, register_builtins
from .config import ContextRead, ProtocolConfig, ResizeRoute
from .registry import (
    DEFAULT_PROTOCOL,
    ENTRY_POINT_GROUP,
    PROTOCOLS,
    ProtocolRegistry,
    default_protocol,
    derive_protocol,
    get_protocol,
    load_protocols_toml,
    protocol_names,
    register_protocol,
)

register_builtins(PROTOCOLS)

__all__ = [
    "DEFAULT_PROTOCOL",
    "ENTRY_POINT_GROUP",
    "PROTOCOLS",
    "ContextRead",
    "ProtocolConfig",
    "ProtocolRegistry",
    "ResizeRoute",
    "builtin_protocols",
    "default_protocol",
    "derive_protocol",
    "get_protocol",
    "load_protocols_toml",
    "protocol_names",
    "register_builtins",
    "register_protocol",
]
