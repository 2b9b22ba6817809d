"""``mast-bench data make-default|make-youtube [--out DIR] [--seed N]``: generate an embedded dataset.

Generated, never downloaded: deterministic sets of textured objects over panning photos with exact
annotations -- the DAVIS-layout default (with unlabelled training clips), and a YouTube-VOS-layout
set (objects that enter late and leave, unseen categories, sparse and all-frames folders).
Commands given no --data use them.
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
    youtube = actions.add_parser("make-youtube", help="generate the embedded YouTube-VOS-layout dataset")
    youtube.add_argument("--out", type=Path, help="output folder (default: its cache folder)")
    youtube.add_argument("--seed", type=int, default=0)
    youtube.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    youtube.set_defaults(run=make_youtube)
    return parser


def make_default(args: argparse.Namespace) -> int:
    from ..data.embedded import default_root
    from ..data.embedded import make_default as generate

    path = generate(args.out or default_root(), seed=args.seed, overwrite=args.overwrite)
    print(f"embedded dataset (seed {args.seed}) written to {path}")
    return 0


def make_youtube(args: argparse.Namespace) -> int:
    from ..data.embedded_youtube import default_youtube_root
    from ..data.embedded_youtube import make_youtube as generate

    path = generate(args.out or default_youtube_root(), seed=args.seed, overwrite=args.overwrite)
    print(f"embedded YouTube-VOS-layout dataset (seed {args.seed}) written to {path}")
    return 0


main = base.standalone(NAME, build)
