"""``mast-bench protocols [PATTERN]``: the registered test-time protocols and their settings.

A table on a terminal; on a pipe or a file one plain line per protocol (never truncated); ``--json``
for scripts. ``mast`` reads the variant's own memory (its schedule, ROI memory, radius).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys

from ..errors import UserError
from . import base

NAME = "protocols"
SHOWN_FIELDS = (
    "previous_frames",
    "queue_start",
    "top_k",
    "temperature",
    "radius",
    "window",
    "first_frame",
    "normalise_features",
    "label_sampling",
    "feedback",
    "score_normalisation",
)


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    parser.add_argument("--json", action="store_true", help="every field of every protocol, as JSON")
    parser.set_defaults(run=run)
    return parser


def _settings(protocol) -> list[str]:
    if protocol.context is None:
        return ["the variant's own memory read"] + [""] * (len(SHOWN_FIELDS) - 1)
    return [str(getattr(protocol.context, field)) for field in SHOWN_FIELDS]


def run(args: argparse.Namespace) -> int:
    from ..config import to_dict
    from ..protocols import get_protocol, protocol_names

    names = [n for n in protocol_names() if fnmatch.fnmatchcase(n, args.pattern)]
    if not names:
        raise UserError(
            f"no protocol matches {args.pattern!r}; known protocols: {', '.join(protocol_names())}"
        )
    protocols = [get_protocol(n) for n in names]
    if args.json:
        print(json.dumps([to_dict(p) for p in protocols], indent=1))
    elif sys.stdout.isatty():
        _print_table(protocols)
    else:
        for protocol in protocols:
            if protocol.context is None:
                settings = "the variant's own memory read"
            else:
                settings = " ".join(f"{f}={getattr(protocol.context, f)}" for f in SHOWN_FIELDS)
            print(f"{protocol.name}\t{settings}\t{protocol.description}")
    return 0


def _print_table(protocols: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(protocols)} protocol(s)")
    table.add_column("name", style="bold", no_wrap=True, min_width=max(len(p.name) for p in protocols))
    for field in SHOWN_FIELDS:
        table.add_column(field, overflow="fold")
    table.add_column("description", overflow="fold")
    for protocol in protocols:
        table.add_row(protocol.name, *_settings(protocol), protocol.description)
    Console().print(table)


main = base.standalone(NAME, build)
