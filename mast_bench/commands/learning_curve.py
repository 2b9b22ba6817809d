"""``mast-bench learning-curve --variant NAME --preset P --train-data PATH --data ROOT [--out DIR]``

Does training make a tracker? Trains the preset's stages once on --train-data (a training set, a
video file, a folder of videos or frame folders), keeping the weights at the preset's snapshot
fractions and at each stage's end; scores every one of them on --data under each --protocol,
beside training-free baselines (Lab pixels) under the same protocols; writes the training report
(loss per stage, samples/s, J&F per checkpoint, paired intervals against random init and Lab
pixels) into --out.
Everything resumes: the training run from its checkpoints, the scores from their records.

reports/training/ is made by: scripts/get-real-footage footage, then
  mast-bench learning-curve --variant mast-scaled --preset cpu --train-data footage/set \\
      --data ../shared/data/davis-mini --protocol mast,crw --out reports/training
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, require_folder_or_absent
from . import base

NAME = "learning-curve"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_variants(parser, several=False)
    base.add_protocol(parser, several=True)
    base.add_data(parser, kinds=False)
    parser.add_argument("--preset", default="cpu", help="training preset with snapshots (default: cpu)")
    parser.add_argument(
        "--presets", type=Path, help="TOML file with [preset.NAME] tables (default: built-in)"
    )
    parser.add_argument(
        "--train-data",
        required=True,
        help="a training set, a video file, a folder of videos or frame folders",
    )
    parser.add_argument("--train-out", type=Path, help="the training run's folder (default: in --results)")
    parser.add_argument(
        "--baselines",
        type=base.comma_list,
        default=("mast-lab-pixels",),
        help="training-free variants to compare (default: mast-lab-pixels)",
    )
    parser.add_argument(
        "--max-side",
        type=base.max_side_or_preset,
        default="preset",
        help="network input side, or 'full' (default: preset's)",
    )
    parser.add_argument("--out", type=Path, help="report folder (default: <results>/reports/<curve name>)")
    base.add_results(parser)
    base.add_device(parser)
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..harness.learning_curve import CurveRequest, run_learning_curve
    from ..harness.presets import get_preset
    from ..harness.provenance import machine
    from ..harness.weights import check_trainable
    from ..report.staging import check_report_folder
    from ..report.training import TRAINING_REPORT_PARTS, write_training_report
    from ..results import ResultStore, read_curve

    variant = _one(base.resolve_variants(args))
    check_trainable(variant)
    if args.out is not None:  # before the hour of training and scoring
        require_folder_or_absent(args.out, "the report's folder")
        check_report_folder(args.out, TRAINING_REPORT_PARTS, args.results)
    preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
    if not preset.snapshots:
        raise ConfigError(
            f"preset {preset.name!r} keeps no snapshots: a learning curve needs `snapshots = [...]`"
        )
    variants = base.variant_registry(args.variants_file)
    device = base.resolve_device(args.device)
    checkpoints = ResultStore(args.results).layout.checkpoints_root
    train_out = args.train_out or checkpoints / f"curve-{variant.name}-{preset.name}"
    request = CurveRequest(
        variant=variant,
        preset=preset,
        train_data=str(args.train_data),
        train_out=str(train_out),
        data=base.data_spec(args),
        protocols=tuple(base.resolve_protocols(args)),
        baselines=tuple(variants.get(name) for name in args.baselines),
        results=str(args.results),
        max_side=preset.max_side if args.max_side == "preset" else args.max_side,
        device=device,
        command=args.command_line,
        progress=not args.quiet,
    )
    manifest = run_learning_curve(request, machine(device))
    report = write_training_report(args.results, read_curve(manifest), args.out)
    print(f"learning curve of {variant.name} ({preset.name}): {manifest}\nreport: {report}")
    return 0


def _one(configs: list):
    if len(configs) != 1:
        raise ConfigError(f"a learning curve takes one variant, got {', '.join(c.name for c in configs)}")
    return configs[0]
