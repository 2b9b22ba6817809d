"""``mast-bench variants [PATTERN]``: the registered variants and their settings.

A table on a terminal; on a pipe or a file one plain line per variant (never truncated, so it can
be grepped); ``--json`` for scripts. ``--variants-file`` and ``--set`` show what those flags make.
"""

from __future__ import annotations

import argparse

from ..errors import UserError
from . import base

NAME = "variants"
SHOWN_FIELDS = (
    "colour_space",
    "channel_dropout",
    "features",
    "memory",
    "schedule",
    "offset_bug",
    "affinity_scale",
    "test_radius",
    "dilation_set",
)


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern (e.g. 'mast-dil*')")
    base.add_variants_file(parser, "show the [variant.NAME] tables of this file too (repeatable)")
    base.add_overrides(parser)
    parser.add_argument("--json", action="store_true", help="every field of every variant, as JSON")
    parser.set_defaults(run=run)
    return parser


def _cell(config, field: str) -> str:
    value = getattr(config, field)
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def run(args: argparse.Namespace) -> int:
    registry = base.variant_registry(args.variants_file)
    names = registry.names(args.pattern)
    if not names:
        raise UserError(f"no variant matches {args.pattern!r}; known variants: {', '.join(registry.names())}")
    args.variant = [tuple(names)]
    base.print_listing(base.resolve_variants(args), SHOWN_FIELDS, _cell, args.json)
    return 0
