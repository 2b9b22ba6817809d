"""Protocols: frozen test-time label-propagation rules by name (built-ins and TOML files)."""

from .builtin import builtin_protocols, register_builtins
from .config import ContextRead, ProtocolConfig
from .registry import (
    PROTOCOLS,
    ProtocolRegistry,
    derive_protocol,
    get_protocol,
    load_protocols_toml,
    protocol_names,
    read_protocols_toml,
    register_protocol,
)

register_builtins(PROTOCOLS)

__all__ = [
    "PROTOCOLS",
    "ContextRead",
    "ProtocolConfig",
    "ProtocolRegistry",
    "builtin_protocols",
    "derive_protocol",
    "get_protocol",
    "load_protocols_toml",
    "protocol_names",
    "read_protocols_toml",
    "register_builtins",
    "register_protocol",
]
