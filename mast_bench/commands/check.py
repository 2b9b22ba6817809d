"""``mast-bench check --data ROOT [--split S] [--sequences a,b]``: the pre-flight check alone.

Every frame and annotation present and cheaply verified (no full decode), equal sizes within a
sequence, palette annotations, objects in the first frame: all problems listed, each naming its
file. Every command that propagates runs this check before any model work.
"""

from __future__ import annotations

import argparse

from . import base

NAME = "check"


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument(
        "--data", required=True, metavar="ROOT", help="a DAVIS-2017 root or a YouTube-VOS split"
    )
    parser.add_argument("--split", default=None, help="split (default: DAVIS val, YouTube-VOS valid)")
    parser.add_argument(
        "--sequences", type=base.comma_list, help="comma-separated sequences (default: the split)"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..data.check import check_data

    result = check_data(args.data, args.split, args.sequences)
    if (Path(args.data) / "ImageSets" / "2017").is_dir():
        _summarise_davis(args.data, args.split or "val", args.sequences)
    print(f"{args.data}: {result.files} files in {result.sequences} sequences OK ({result.seconds:.2f} s)")
    return 0


def _summarise_davis(root, split: str, sequences) -> None:
    from ..data import DavisDataset

    dataset = DavisDataset(root)
    frames = objects = 0
    for name in sequences or dataset.sequence_names(split):
        sequence = dataset.sequence(name)
        ids = sequence.object_ids()
        frames, objects = frames + sequence.num_frames, objects + len(ids)
        height, width = sequence.size
        annotated = "all frames" if sequence.fully_annotated else "first frame only"
        shape = f"{sequence.num_frames} frames, {width}x{height}"
        print(f"  {name}: {shape}, objects {list(ids)}, annotations: {annotated}")
    print(f"  total: {frames} frames, {objects} objects")


main = base.standalone(NAME, build)
