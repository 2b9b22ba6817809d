"""``python -m mast_bench {variants,run}``: argument parsing and error presentation only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import UserError

# settings shown for each variant, in this order (name and description have their own columns)
_SHOWN_FIELDS = (
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


def _variants_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .variants import VARIANTS

    names = VARIANTS.names(args.pattern)
    if not names:
        raise UserError(f"no variant matches {args.pattern!r}; known variants: {', '.join(VARIANTS.names())}")
    table = Table(title=f"{len(names)} variant(s)")
    table.add_column("name", style="bold")
    for field in _SHOWN_FIELDS:
        table.add_column(field)
    table.add_column("description")
    for name in names:
        config = VARIANTS.get(name)
        cells = [_cell(getattr(config, field)) for field in _SHOWN_FIELDS]
        table.add_row(name, *cells, config.description)
    Console(width=args.width).print(table)
    return 0


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mast_bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    variants = commands.add_parser("variants", help="list the registered variants and their settings")
    variants.add_argument(
        "pattern", nargs="?", default="*", help="shell-style name pattern (e.g. 'mast-dil*')"
    )
    variants.add_argument("--width", type=int, default=None, help="table width in characters")
    variants.set_defaults(handler=_variants_command)
    from .harness.run_command import add_run_parser

    add_run_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
