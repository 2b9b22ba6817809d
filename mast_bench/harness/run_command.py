"""The ``run`` subcommand of ``python -m mast_bench``: train-or-load, propagate, score, profile.

Kept in the harness (not in __main__) so the entry module stays parsing only;
``add_run_parser`` hangs the subcommand on the shared subparser set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import check_device, comma_list, default_device, max_side


def add_run_parser(commands) -> argparse.ArgumentParser:
    run = commands.add_parser(
        "run",
        help="train-or-load, propagate, score and profile variants; results kept as records",
        description="With only --variant: the embedded default dataset and the smoke preset.",
    )
    run.add_argument(
        "--variant",
        required=True,
        type=comma_list,
        action="append",
        help="variant name(s), comma-separated or repeated",
    )
    run.add_argument("--davis", help="DAVIS-2017 root (default: the embedded default dataset)")
    run.add_argument("--set", default="val", dest="split", help="ImageSets/2017/<set>.txt (default val)")
    run.add_argument("--sequences", type=comma_list, help="comma-separated sequences (default: the set)")
    weights = run.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="weights file; without it trainable variants are trained")
    weights.add_argument("--random-init", action="store_true", help="explicitly use random weights")
    run.add_argument(
        "--preset", default="smoke", help="training preset and evaluation protocol (smoke, paper)"
    )
    run.add_argument(
        "--max-side",
        type=max_side,
        default=-1,
        help="network input longest side, or 'full' (default: the preset's)",
    )
    run.add_argument("--train-data", help="frames to train on (default: the evaluation dataset's frames)")
    run.add_argument("--results", default="results", help="results folder (default ./results)")
    run.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    run.add_argument("--force", action="store_true", help="recompute even if an identical record exists")
    run.add_argument("--per-sequence", action="store_true", help="one job per sequence")
    run.add_argument("--jobs", type=int, default=1, help="parallel local jobs (joblib)")
    run.add_argument("--scheduler", help="Dask scheduler address (runs the jobs on that cluster)")
    run.add_argument(
        "--submitit", metavar="FOLDER", help="submit the jobs through submitit (Slurm), logs in FOLDER"
    )
    run.add_argument(
        "--submitit-cluster", default=None, help="submitit cluster: slurm (default auto), local, debug"
    )
    run.add_argument(
        "--no-isolate",
        action="store_true",
        help="propagate in this process (peak memory then covers the whole session)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=run_command)
    return run


def build_jobs(args: argparse.Namespace) -> list:
    from .jobs import Job

    variants = [name for group in args.variant for name in group]
    if args.per_sequence:
        from .jobs import resolve_dataset

        probe = Job(
            variant=variants[0], davis=args.davis, split=args.split, sequences=tuple(args.sequences or ())
        )
        _, _, names = resolve_dataset(probe)
        sequence_sets = [(name,) for name in names]
    else:
        sequence_sets = [tuple(args.sequences or ())]
    command = " ".join(["python", "-m", "mast_bench", *sys.argv[1:]])
    return [
        Job(
            variant=variant,
            results=str(Path(args.results)),
            davis=args.davis,
            split=args.split,
            sequences=sequences,
            checkpoint=args.checkpoint,
            random_init=args.random_init,
            preset=args.preset,
            max_side=args.max_side,
            train_data=args.train_data,
            device=args.device,
            force=args.force,
            isolate=not args.no_isolate,
            progress=not args.quiet,
            command=command,
        )
        for variant in variants
        for sequences in sequence_sets
    ]


def run_command(args: argparse.Namespace) -> int:
    from .jobs import run_jobs

    args.device = check_device(args.device or default_device())
    jobs = build_jobs(args)
    if args.scheduler:
        backend, folder = "dask", None
    elif args.submitit:
        backend, folder = "submitit", args.submitit
    else:
        backend, folder = "joblib", None
    records = run_jobs(jobs, backend, args.jobs, args.scheduler, folder, args.submitit_cluster)
    print_summary(records, Path(args.results))
    return 0


def print_summary(records, results: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(records)} record(s) in {results}")
    for column in (
        "variant",
        "sequences",
        "J&F",
        "J",
        "F",
        "s/frame",
        "enc s/frame",
        "GFLOPs/frame",
        "peak MiB",
    ):
        table.add_column(column)
    for record in records:
        glob, prof = record.metrics.get("global", {}), record.profile
        peak = prof.get("peak_memory_bytes")
        table.add_row(
            record.identity["variant"],
            _sequences(record.identity["dataset"]["sequences"]),
            _fmt(glob.get("J&F-Mean")),
            _fmt(glob.get("J-Mean")),
            _fmt(glob.get("F-Mean")),
            _fmt(prof.get("seconds_per_frame")),
            _fmt(prof.get("encoder_seconds_per_frame")),
            _fmt(prof.get("gflops_per_frame", {}).get("total"), 2),
            "-" if peak is None else f"{peak / 2**20:.0f}",
        )
    Console(width=max(Console().width, 120)).print(table)
    print(f"records: {results / 'records'}; table: {results / 'records.csv'}")


def _sequences(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} sequences"


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
