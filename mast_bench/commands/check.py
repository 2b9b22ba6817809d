"""``mast-bench check --data ROOT [--split S] [--sequences a,b] [--sparse-frames]``: the pre-flight
check alone.

Every frame and annotation present and cheaply verified (no full decode), equal sizes within a
sequence, palette annotations, objects in the first frame: all problems listed, each naming its
file. Every command that propagates runs this check before any model work.
"""

from __future__ import annotations

import argparse

from ..data.check import check_data, summarise_davis
from ..data.detect import detect_kind
from . import base

NAME = "check"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument(
        "--data",
        required=True,
        metavar="ROOT",
        help="a DAVIS-2017, JHMDB or VIP root, or a YouTube-VOS split (the layout tells which)",
    )
    parser.add_argument(
        "--split", default=None, help="split (default: DAVIS, JHMDB and VIP val, YouTube-VOS valid)"
    )
    parser.add_argument(
        "--sequences", type=base.comma_list, help="comma-separated sequences (default: the split)"
    )
    base.add_youtube_frames(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    result = check_data(args.data, args.split, args.sequences, all_frames=args.all_frames)
    if detect_kind(args.data) == "davis":
        frames = objects = 0
        for sequence in summarise_davis(args.data, args.split or "val", args.sequences):
            frames, objects = frames + sequence.frames, objects + len(sequence.objects)
            annotated = "all frames" if sequence.fully_annotated else "first frame only"
            height, width = sequence.size
            print(
                f"  {sequence.name}: {sequence.frames} frames, {width}x{height}, "
                f"objects {list(sequence.objects)}, annotations: {annotated}"
            )
        print(f"  total: {frames} frames, {objects} objects")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"{args.data}: {result.files} files in {result.sequences} sequences OK ({result.seconds:.2f} s)")
    return 0
