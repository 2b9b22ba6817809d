"""``mast-bench run --variant NAME [...]``: train-or-load, propagate, score and profile; one record per job.

With only --variant: the embedded default dataset and the smoke preset. Every (variant, protocol,
sequence set) is one job; identical jobs run once and a job whose record exists is not recomputed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from ..harness.presets import get_preset
from ..metrics.names import BENCHMARK_METRICS, DAVIS_SUMMARY, HEADERS
from . import base

NAME = "run"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_variants(parser, several=True)
    base.add_protocol(parser, several=True)
    base.add_data(parser)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="weights file; without it trainable variants are trained")
    weights.add_argument("--random-init", action="store_true", help="explicitly use random weights")
    parser.add_argument(
        "--preset",
        default="smoke",
        help="training preset and evaluation size (`mast-bench presets` lists them)",
    )
    parser.add_argument(
        "--presets", type=Path, help="TOML file with [preset.NAME] tables (default: built-in)"
    )
    parser.add_argument(
        "--max-side",
        type=base.max_side_or_preset,
        default="preset",
        help="network input side, or 'full' (default: preset's)",
    )
    base.add_train_data(parser)
    base.add_results(parser)
    base.add_device(parser)
    parser.add_argument("--force", action="store_true", help="recompute even if an identical record exists")
    parser.add_argument("--per-sequence", action="store_true", help="one job per sequence")
    add_execution(parser)
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def add_execution(parser: argparse.ArgumentParser) -> None:
    """Where the jobs run: here (--jobs N in parallel), on a Dask cluster, or through submitit."""
    parser.add_argument("--jobs", type=base.positive_int, default=1, help="parallel local jobs (joblib)")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", help="Dask scheduler address (runs the jobs on that cluster)")
    cluster.add_argument(
        "--submitit", metavar="FOLDER", help="submit the jobs through submitit (Slurm), logs in FOLDER"
    )
    parser.add_argument(
        "--submitit-cluster", default=None, help="submitit cluster: slurm (default auto), local, debug"
    )
    parser.add_argument(
        "--no-isolate",
        action="store_true",
        help="propagate in this process (peak memory covers the whole session)",
    )


def execution(args: argparse.Namespace) -> dict:
    if args.jobs != 1 and (args.scheduler or args.submitit):
        raise ConfigError(
            f"--jobs {args.jobs} runs jobs on this machine; with --scheduler or --submitit the cluster runs "
            "them (leave --jobs out)"
        )
    if args.scheduler:
        from ..harness.executors import check_scheduler_address  # distributed loads only when asked

        check_scheduler_address(args.scheduler)  # before the jobs are planned
        return {"backend": "dask", "scheduler": args.scheduler}
    if args.submitit:
        return {"backend": "submitit", "folder": args.submitit, "cluster": args.submitit_cluster}
    base.note_jobs_beyond_cpus(args.jobs)
    return {"backend": "joblib", "n_jobs": args.jobs}


def run(args: argparse.Namespace) -> int:
    from ..harness.runner import jobs_for, run_jobs  # the model stack: torch loads here, not at start-up

    jobs = jobs_for(
        base.resolve_variants(args),
        base.resolve_protocols(args),
        get_preset(args.preset, args.presets),
        base.data_spec(args),
        per_sequence=args.per_sequence,
        results=str(args.results),
        checkpoint=args.checkpoint,
        random_init=args.random_init,
        max_side=args.max_side,
        train_data=args.train_data,
        device=base.resolve_device(args.device),
        force=args.force,
        isolate=not args.no_isolate,
        progress=not args.quiet,
        command=args.command_line,
    )
    print_summary(run_jobs(jobs, **execution(args)), args.results)
    return 0


SCORES = {  # what the summary shows of a record's global metrics, by dataset kind
    "davis": tuple((HEADERS[m], m) for m in DAVIS_SUMMARY),
    "youtube-vos": (
        (HEADERS["overall"], "overall"),
        ("J/F seen", ("J_seen", "F_seen")),
        ("J/F unseen", ("J_unseen", "F_unseen")),
    ),
    **{kind: tuple((HEADERS[m], m) for m in metrics) for kind, metrics in BENCHMARK_METRICS.items()},
}


def print_summary(records, results: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    kinds = list(dict.fromkeys(r.metrics.get("kind", "davis") for r in records))
    table = Table(title=f"this command's {len(records)} record(s), in {results}")
    scores = [name for kind in kinds for name, _ in SCORES[kind]]
    for column in (
        "variant",
        "protocol",
        "data",
        *scores,
        "s/frame",
        "enc s/frame",
        "GFLOPs/frame",
        "peak MiB",
    ):
        table.add_column(column, overflow="fold")
    for record in records:
        prof, ident = record.profile, record.identity
        peak = prof.get("peak_memory_bytes")
        cells = [_score(record, kind, key) for kind in kinds for _, key in SCORES[kind]]
        table.add_row(
            ident["variant"],
            ident["protocol"]["name"],
            f"{ident['dataset']['name']}: {_sequences(ident['dataset']['sequences'])}",
            *cells,
            _fmt(prof.get("seconds_per_frame")),
            _fmt(prof.get("encoder_seconds_per_frame")),
            _fmt(prof.get("gflops_per_frame", {}).get("total"), 2),
            "-" if peak is None else f"{peak / 2**20:.0f}",
        )
    Console(width=max(Console().width, 120)).print(table)
    print(f"records: {results / 'records'}; table: {results / 'records.csv'}")


def _score(record, kind: str, key) -> str:
    if record.metrics.get("kind", "davis") != kind:
        return ""
    values = record.metrics.get("global", {})
    if isinstance(key, tuple):
        return "/".join(_fmt(values.get(k)) for k in key)
    return _fmt(values.get(key))


def _sequences(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} sequences"


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
