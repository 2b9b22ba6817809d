"""``python -m mast_bench.evaluate``: DAVIS semi-supervised J&F with the official toolkit's numbers and CSVs.

Accepts our flags (--davis, --results) and the toolkit's (--davis_path, --results_path, --set, --task).
Always recomputes and overwrites the CSVs (never reuses stale ones); bad input exits 2 with one message.
"""

from __future__ import annotations

import argparse
import sys
import time

from .errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mast_bench.evaluate",
        description="Evaluate DAVIS-2017 semi-supervised results (J, F, J&F) as davis2017-evaluation does.",
    )
    parser.add_argument("--davis", "--davis_path", dest="davis", required=True, help="DAVIS root folder")
    parser.add_argument(
        "--results", "--results_path", dest="results", required=True, help="folder with <seq>/<frame>.png"
    )
    parser.add_argument("--set", dest="split", default="val", help="ImageSets/2017/<set>.txt (default: val)")
    parser.add_argument(
        "--task",
        default="semi-supervised",
        choices=["semi-supervised"],
        help="only semi-supervised is supported",
    )
    parser.add_argument(
        "--sequences", nargs="+", default=None, help="evaluate these sequences instead of the set"
    )
    parser.add_argument("--resolution", default="480p", help="Annotations/<resolution> (default: 480p)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument(
        "--ignore-void",
        action="store_true",
        help="remove void (255) pixels from both masks (NOT the toolkit's numbers: void is background there)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .metrics import evaluate_semisupervised, format_report, write_csvs

    start = time.time()
    try:
        evaluation = evaluate_semisupervised(
            args.davis,
            args.results,
            split=args.split,
            sequences=args.sequences,
            n_jobs=args.jobs,
            resolution=args.resolution,
            ignore_void=args.ignore_void,
        )
        global_path, per_sequence_path = write_csvs(evaluation, args.results, args.split)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Global results saved in {global_path}")
    print(f"Per-sequence results saved in {per_sequence_path}")
    sys.stdout.write(format_report(evaluation, args.split))
    sys.stdout.write(f"\nTotal time:{time.time() - start}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
