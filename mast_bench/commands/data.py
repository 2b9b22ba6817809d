"""``mast-bench data make-default [--out DIR] [--seed N]``: generate the embedded default dataset.

It is generated, never downloaded: a deterministic DAVIS-layout set of textured objects over
panning photos, with exact annotations and unlabelled training clips.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import base

NAME = "data"


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("make-default", help="generate the embedded DAVIS-layout dataset")
    make.add_argument("--out", type=Path, help="output folder (default: the embedded default's cache folder)")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    make.set_defaults(run=make_default)
    return parser


def make_default(args: argparse.Namespace) -> int:
    from ..data.embedded import default_root
    from ..data.embedded import make_default as generate

    path = generate(args.out or default_root(), seed=args.seed, overwrite=args.overwrite)
    print(f"embedded dataset (seed {args.seed}) written to {path}")
    return 0


main = base.standalone(NAME, build)
