"""``mast-bench protocols [PATTERN]``: the registered test-time protocols and their settings.

A table on a terminal; on a pipe or a file one plain line per protocol (never truncated); ``--json``
for scripts. ``mast`` reads the variant's own memory (its schedule, ROI memory, radius).
"""

from __future__ import annotations

import argparse
from pathlib import Path

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


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    parser.add_argument("--protocols-file", type=Path, action="append", default=[], metavar="FILE.toml")
    parser.add_argument("--json", action="store_true", help="every field of every protocol, as JSON")
    parser.set_defaults(run=run)
    return parser


def _cell(protocol, field: str) -> str:
    if protocol.context is None:
        return ""  # the variant's own memory read: nothing of these applies
    return str(getattr(protocol.context, field))


def run(args: argparse.Namespace) -> int:
    registry = base.protocol_registry(args.protocols_file)
    names = registry.names(args.pattern)
    if not names:
        raise UserError(
            f"no protocol matches {args.pattern!r}; known protocols: {', '.join(registry.names())}"
        )
    base.print_listing([registry.get(n) for n in names], SHOWN_FIELDS, _cell, args.json)
    return 0
