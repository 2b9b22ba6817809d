"""``mast-bench variants [PATTERN]``: the registered variants and their settings.

A table on a terminal; on a pipe or a file one plain line per variant (never truncated, so it can
be grepped); ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern (e.g. 'mast-dil*')")
    parser.add_argument("--variants-file", type=Path, action="append", default=[], metavar="FILE.toml")
    base.add_overrides(parser)
    parser.add_argument("--json", action="store_true", help="every field of every variant, as JSON")
    parser.set_defaults(run=run)
    return parser


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def listed(args: argparse.Namespace) -> list:
    """The variants matching the pattern (files' variants included, ``--set`` applied)."""
    from ..variants import variant_names

    from_files = [c.name for path in args.variants_file for c in _file_variants(path)]
    names = [n for n in [*variant_names(args.pattern), *from_files] if _matches(n, args.pattern)]
    if not names:
        raise UserError(f"no variant matches {args.pattern!r}; known variants: {', '.join(variant_names())}")
    args.variant = [tuple(dict.fromkeys(names))]
    return base.resolve_variants(args)


def _file_variants(path):
    from ..variants import get_variant, read_variants_toml

    return read_variants_toml(path, get_variant)


def _matches(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def run(args: argparse.Namespace) -> int:
    from ..config import to_dict

    configs = listed(args)
    if args.json:
        print(json.dumps([to_dict(c) for c in configs], indent=1))
    elif sys.stdout.isatty():
        _print_table(configs)
    else:
        for config in configs:
            settings = " ".join(f"{f}={_cell(getattr(config, f))}" for f in SHOWN_FIELDS)
            print(f"{config.name}\t{settings}\t{config.description}")
    return 0


def _print_table(configs: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(configs)} variant(s)")
    longest = max(len(c.name) for c in configs)
    table.add_column("name", style="bold", no_wrap=True, min_width=longest)
    for field in SHOWN_FIELDS:
        table.add_column(field, overflow="fold")
    table.add_column("description", overflow="fold")
    for config in configs:
        table.add_row(config.name, *(_cell(getattr(config, f)) for f in SHOWN_FIELDS), config.description)
    Console().print(table)


main = base.standalone(NAME, build)
