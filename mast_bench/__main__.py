"""``mast-bench <command>`` (also ``python -m mast_bench <command>``): the one console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from .errors import INTERRUPTED


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` (a command's own run imports only what it needs)."""
    from .commands import COMMANDS, base

    parser = argparse.ArgumentParser(
        prog=base.PROG,
        description="Evaluation and ablation benchmark suite for MAST (`mast-bench COMMAND --help`).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name in [only] if only in COMMANDS else COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).build(commands)
    return parser


def entry(command: str) -> Callable[[Sequence[str] | None], int]:
    """``main(argv)`` of ``python -m mast_bench.<module>``: the same as ``mast-bench COMMAND``, through
    :func:`main` (so a Ctrl-C while the command's modules load ends with one line there too)."""

    def command_main(argv: Sequence[str] | None = None) -> int:
        return main([command, *(sys.argv[1:] if argv is None else argv)])

    return command_main


def main(argv: Sequence[str] | None = None) -> int:
    """A Ctrl-C while the command's modules load (pandas, OpenCV: about half a second) ends as one
    during its run does, with one line; the run's own handler (``base.guarded``) says the same."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    from .commands import base

    base.quiet_threads_environment()
    words = list(sys.argv[1:] if argv is None else argv)
    args = base.parse(build_parser(words[0] if words else None), words)
    if isinstance(args, int):
        return args
    args.command_line = base.command_line(words)
    return base.guarded(args.run, args)


if __name__ == "__main__":
    sys.exit(main())
