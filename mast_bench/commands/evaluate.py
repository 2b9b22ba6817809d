"""``mast-bench evaluate --data ROOT --masks DIR [--split val]``: DAVIS semi-supervised J&F.

The official davis2017-evaluation toolkit's numbers and CSVs (its flags --davis_path,
--results_path, --set and --task are accepted too). Always recomputes and overwrites the CSVs,
never reuses stale ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..metrics.evaluation import evaluate_semisupervised
from ..metrics.toolkit_csv import format_report, write_csvs
from . import base

NAME = "evaluate"


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument(
        "--data", "--davis_path", dest="data", required=True, metavar="ROOT", help="DAVIS root"
    )
    parser.add_argument("--davis", dest="data", help=argparse.SUPPRESS)
    parser.add_argument(
        "--masks",
        "--results_path",
        dest="masks",
        type=Path,
        required=True,
        help="folder with <seq>/<frame>.png (the toolkit's results path)",
    )
    parser.add_argument("--split", "--set", dest="split", default="val", help="ImageSets/2017/<split>.txt")
    parser.add_argument("--task", default="semi-supervised", choices=["semi-supervised"])
    parser.add_argument(
        "--sequences", type=base.comma_list, help="comma-separated sequences (default: the split)"
    )
    parser.add_argument("--resolution", default="480p", help="Annotations/<resolution> (default: 480p)")
    parser.add_argument("--jobs", type=base.positive_int, default=2, help="worker processes (default: 2)")
    parser.add_argument(
        "--ignore-void",
        action="store_true",
        help="remove void (255) pixels from both masks (NOT the toolkit's numbers: void is background there)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    start = time.time()
    evaluation = evaluate_semisupervised(
        args.data,
        args.masks,
        split=args.split,
        sequences=list(args.sequences) if args.sequences else None,
        n_jobs=args.jobs,
        resolution=args.resolution,
        ignore_void=args.ignore_void,
    )
    global_path, per_sequence_path = write_csvs(evaluation, args.masks, args.split)
    print(f"Global results saved in {global_path}")
    print(f"Per-sequence results saved in {per_sequence_path}")
    sys.stdout.write(format_report(evaluation, args.split))
    sys.stdout.write(f"\nTotal time:{time.time() - start}\n")
    return 0


main = base.standalone(NAME, build)
