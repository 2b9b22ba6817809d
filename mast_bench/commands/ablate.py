"""``mast-bench ablate NAME [--preset smoke|paper] [--data ROOT] [--train-data PATH] [--jobs N]``

Runs every row (variant x protocol) of the study ablations/NAME.toml (or a study file given by
its path) through the harness -- cached records are reused -- then writes the study's report to
<results>/reports/NAME/. A study that lists several benchmarks (the protocol study: DAVIS, JHMDB,
VIP) runs every row on each: --data is the first one's root, --benchmark KIND=ROOT another's (the
embedded sets otherwise); --dataset KIND runs the study on that kind alone. It first says on stderr
how many jobs it is, how many are cached and roughly how long the rest take; a study of more than
64 jobs needs --yes.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..config import parse_assignments
from ..data.detect import DATASET_KINDS
from ..data.splits import DataSpec
from ..errors import ConfigError
from ..harness.study import available_studies, load_study
from . import base
from .run import add_execution, execution

NAME = "ablate"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    parser.add_argument(
        "study", metavar="NAME", help=f"a built-in study ({', '.join(available_studies())}) or a TOML file"
    )
    parser.add_argument(
        "--preset", default="smoke", help="budget preset of the study: smoke (default) or paper"
    )
    base.add_data(parser, dataset_default="the study's benchmarks")
    parser.set_defaults(dataset=None)  # none given: the study's own benchmarks
    parser.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="KIND=ROOT",
        help="the data root of another benchmark of the study, e.g. jhmdb=/data/JHMDB (repeatable)",
    )
    base.add_protocol(parser, several=True)  # given: the study runs under these instead of its own
    base.add_train_data(parser)
    base.add_overrides(parser)  # given: every variant of the study gets these field values
    base.add_variants_file(parser, "variants the study may name besides the registered ones (repeatable)")
    base.add_results(parser)
    base.add_device(parser)
    parser.add_argument(
        "--force", action="store_true", help="recompute every job even if an identical record exists"
    )
    parser.add_argument(
        "--yes", action="store_true", help="run a study of more than 64 jobs (refused without it)"
    )
    add_execution(parser)
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..harness.study_run import run_study  # the model stack: torch loads here, not at start-up
    from ..report.build import write_study_report  # scipy and matplotlib, likewise

    study = load_study(
        args.study,
        variant_lookup=base.variant_registry(args.variants_file).get,
        protocol_lookup=base.protocol_registry(args.protocols_file).get,
    )
    if args.protocol:
        study = study.with_protocols(base.resolve_protocols(args))
    if args.overrides:
        study = study.with_overrides(parse_assignments(args.overrides))
    data, benchmarks = study_data(args, study.info.benchmarks)
    manifest = run_study(
        study,
        args.preset,
        args.results,
        data,
        args.command_line,
        benchmarks=benchmarks,
        device=base.resolve_device(args.device),
        train_data=args.train_data,
        isolate=not args.no_isolate,
        progress=not args.quiet,
        force=args.force,
        execution=execution(args),
        yes=args.yes,
        announce=base.tell,
    )
    report = write_study_report(args.results, manifest)
    print(f"study {manifest.study} ({manifest.preset} preset): {len(manifest.records)} records")
    print(f"report: {report}")
    return 0


def study_data(args: argparse.Namespace, kinds: tuple[str, ...]) -> tuple[DataSpec, dict[str, DataSpec]]:
    """The study's own data (``--dataset`` or its first benchmark, ``--data``) and its other
    benchmarks' (``--benchmark KIND=ROOT``, else their embedded sets); ``--dataset`` runs one kind."""
    roots = {}
    for item in args.benchmark:
        kind, sep, root = item.partition("=")
        if not sep or kind not in DATASET_KINDS or not root:
            raise ConfigError(
                f"--benchmark {item!r}: expected KIND=ROOT with KIND one of {', '.join(DATASET_KINDS)}"
            )
        roots[kind] = root
    own = args.dataset or kinds[0]
    data = replace(base.data_spec(args), kind=own)
    others = () if args.dataset else tuple(k for k in kinds if k != own)
    unused = sorted(set(roots) - set(others))
    if unused:
        listed = ", ".join(others) or "none"
        raise ConfigError(f"--benchmark {unused[0]}=...: not one of this run's other benchmarks ({listed})")
    return data, {kind: DataSpec(kind=kind, root=roots.get(kind)) for kind in others}
