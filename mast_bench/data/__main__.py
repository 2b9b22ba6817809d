"""``python -m mast_bench.data {make-default,check}``: make the embedded dataset, validate a DAVIS root."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import DataError, UserError
from .davis import DavisDataset
from .embedded import default_root, make_default


def _make_default(args: argparse.Namespace) -> None:
    out = Path(args.out) if args.out else default_root()
    path = make_default(out, seed=args.seed, overwrite=args.overwrite)
    print(f"embedded dataset (seed {args.seed}) written to {path}")


def _check(args: argparse.Namespace) -> None:
    dataset = DavisDataset(args.root, resolution=args.resolution)
    splits = dataset.splits()
    if not splits:
        raise DataError(f"{dataset.imagesets_dir}: no split list (expected train.txt, val.txt ...)")
    total = 0
    for split in splits:
        names = dataset.sequence_names(split)
        frames = objects = 0
        print(f"split {split}: {len(names)} sequences")
        for name in names:
            sequence = dataset.sequence(name)
            ids = sequence.object_ids()
            frames += sequence.num_frames
            objects += len(ids)
            annotated = "all frames" if sequence.fully_annotated else "first frame only"
            height, width = sequence.size
            print(
                f"  {name}: {sequence.num_frames} frames, {width}x{height}, "
                f"objects {list(ids)}, annotations: {annotated}"
            )
        print(f"  total: {frames} frames, {objects} objects")
        total += len(names)
    print(
        f"{dataset.root}: valid DAVIS-2017 layout ({args.resolution}), "
        f"{total} sequences in {len(splits)} splits"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mast_bench.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make-default", help="generate the embedded DAVIS-layout dataset")
    make.add_argument("--out", help=f"output folder (default: {default_root()})")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    make.set_defaults(run=_make_default)
    check = commands.add_parser("check", help="validate a DAVIS-2017 root and print a summary")
    check.add_argument("root")
    check.add_argument("--resolution", default="480p", choices=("480p", "Full-Resolution"))
    check.set_defaults(run=_check)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
