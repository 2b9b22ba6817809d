"""``mast-bench <command>`` (also ``python -m mast_bench <command>``): the one console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .commands import COMMANDS, base


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` (a command's own run imports only what it needs)."""
    parser = argparse.ArgumentParser(
        prog=base.PROG,
        description="Evaluation and ablation benchmark suite for MAST (`mast-bench COMMAND --help`).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name in [only] if only in COMMANDS else COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).build(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    base.quiet_threads_environment()
    words = list(sys.argv[1:] if argv is None else argv)
    args = base.parse(build_parser(words[0] if words else None), words)
    if isinstance(args, int):
        return args
    args.command_line = base.command_line(words)
    return base.guarded(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
