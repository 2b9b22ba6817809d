"""``mast-bench evaluate --data ROOT --masks DIR [--dataset davis|jhmdb|vip] [--split val]``.

DAVIS: semi-supervised J&F, the official davis2017-evaluation toolkit's numbers and CSVs (its flags
--davis_path, --results_path, --set and --task are accepted too). JHMDB: PCK@0.1 and @0.2 of the
keypoint files ``<masks>/<class>/<video>.npy`` as CRW's eval_pck.py; VIP: mIoU of the part masks
``<masks>/<video>/<frame>.png`` as eval_vip.py (``mast-bench propagate`` writes both layouts).
Always recomputes and overwrites the CSVs, never reuses stale ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..data.detect import WHAT, detect_kind, require_kind
from ..errors import ConfigError, DataError
from ..metrics.benchmark_csv import format_benchmark_report, write_benchmark_csvs
from ..metrics.evaluation import evaluate_semisupervised
from ..metrics.part_iou import evaluate_vip
from ..metrics.pck import evaluate_jhmdb
from ..metrics.toolkit_csv import format_report, write_csvs
from ..threads import available_cpus
from . import base

NAME = "evaluate"
BENCHMARK_SCORERS = {"jhmdb": evaluate_jhmdb, "vip": evaluate_vip}  # DAVIS has its toolkit's outputs


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument(
        "--data", "--davis_path", dest="data", required=True, metavar="ROOT", help="DAVIS, JHMDB or VIP root"
    )
    parser.add_argument(
        "--dataset",
        default="davis",
        choices=("davis", *BENCHMARK_SCORERS),
        help="what --data holds (default davis)",
    )
    parser.add_argument("--davis", dest="data", help=argparse.SUPPRESS)
    parser.add_argument(
        "--masks",
        "--results_path",
        dest="masks",
        type=Path,
        required=True,
        help="folder with <seq>/<frame>.png (the toolkit's results path; JHMDB: <class>/<video>.npy)",
    )
    parser.add_argument("--split", "--set", dest="split", default="val", help="ImageSets/2017/<split>.txt")
    parser.add_argument("--task", default="semi-supervised", choices=["semi-supervised"])
    parser.add_argument(
        "--sequences", type=base.comma_list, help="comma-separated sequences (default: the split)"
    )
    parser.add_argument("--resolution", help="DAVIS: Annotations/<resolution> (default: 480p)")
    parser.add_argument(
        "--jobs", type=base.positive_int, help="scoring threads (default: 2, or 1 on a single CPU)"
    )
    parser.add_argument(
        "--ignore-void",
        action="store_true",
        help="DAVIS: remove void (255) pixels from both masks "
        "(NOT the toolkit's numbers: void is background there)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    start = time.time()
    _require_kind(args.data, args.dataset)
    if args.dataset == "davis":
        _davis(args)
    else:
        _benchmark(args)
    sys.stdout.write(f"\nTotal time:{time.time() - start}\n")
    return 0


def _require_kind(root: str, kind: str) -> None:
    """A root of another kind is named as such (it was read for the asked kind's files first)."""
    if detect_kind(root) == "youtube-vos":
        raise DataError(f"{root}: {WHAT['youtube-vos']}; `mast-bench run --dataset youtube-vos` scores it")
    require_kind(root, kind)


def _davis(args: argparse.Namespace) -> None:
    if args.jobs is not None:
        base.note_jobs_beyond_cpus(args.jobs)
    jobs = args.jobs or min(2, available_cpus())
    evaluation = evaluate_semisupervised(
        args.data,
        args.masks,
        split=args.split,
        sequences=list(args.sequences) if args.sequences else None,
        n_jobs=jobs,
        resolution=args.resolution or "480p",
        ignore_void=args.ignore_void,
    )
    global_path, per_sequence_path = write_csvs(evaluation, args.masks, args.split)
    print(f"Global results saved in {global_path}")
    print(f"Per-sequence results saved in {per_sequence_path}")
    sys.stdout.write(format_report(evaluation, args.split))


def _benchmark(args: argparse.Namespace) -> None:
    davis_only = [
        flag
        for flag, given in (("--resolution", args.resolution), ("--ignore-void", args.ignore_void))
        if given
    ]
    if davis_only:
        raise ConfigError(f"{', '.join(davis_only)}: DAVIS only (not --dataset {args.dataset})")
    scores = BENCHMARK_SCORERS[args.dataset](args.data, args.masks, args.split, args.sequences)
    for path in write_benchmark_csvs(scores, args.masks, args.dataset, args.split):
        print(f"Results saved in {path}")
    sys.stdout.write(format_benchmark_report(scores, args.dataset, args.split))
