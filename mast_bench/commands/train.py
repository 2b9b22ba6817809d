"""``mast-bench train --variant NAME [--data ROOT] [--preset smoke|paper] [--out DIR]``

Self-supervised reconstruction training; re-running the same command resumes from the last
checkpoint in --out (two trainers of one folder: the second waits for the first). Multi-GPU:
``python -m torch.distributed.run --nproc_per_node N -m mast_bench.train ...`` (DDP).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import ConfigError
from . import base

NAME = "train"


def build(parent=None) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_variants(parser, several=False)
    parser.add_argument(
        "--data",
        metavar="ROOT",
        help="training frames: a DAVIS root or a folder of frame folders (default: the embedded clips)",
    )
    parser.add_argument("--preset", default="smoke", help="training preset (smoke, paper)")
    parser.add_argument(
        "--presets", type=Path, help="TOML file with [preset.NAME] tables (default: built-in)"
    )
    parser.add_argument("--out", type=Path, help="run folder (default: runs/train/<variant>-<preset>)")
    base.add_device(parser)
    parser.add_argument(
        "--stop-after", type=base.positive_int, help="stop after this iteration (resume later)"
    )
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..harness.presets import get_preset
    from ..harness.training import make_pair_source, train
    from ..harness.weights import check_trainable

    configs = base.resolve_variants(args)
    if len(configs) != 1:
        raise ConfigError(f"train takes one variant, got {', '.join(c.name for c in configs)}")
    config = configs[0]
    check_trainable(config)
    preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
    data = Path(args.data) if args.data else _embedded_clips()
    out = args.out or Path("runs") / "train" / f"{config.name}-{preset.name}"
    device = args.device
    if "LOCAL_RANK" in os.environ and (device or "cuda") == "cuda":
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    device = base.resolve_device(device)
    result = train(
        config, preset, make_pair_source(data, preset), out, device, not args.quiet, args.stop_after
    )
    if int(os.environ.get("RANK", "0")) == 0:  # rank 0 reports (and alone writes the checkpoint)
        print(
            f"{config.name}: {result.iterations}/{preset.iterations} iterations, "
            f"final loss {result.final_loss:.4f}, {result.seconds:.1f} s; checkpoint {result.checkpoint}"
        )
    return 0


def _embedded_clips() -> Path:
    from ..data.embedded import ensure_default, train_clips_dir

    return train_clips_dir(ensure_default())


main = base.standalone(NAME, build)
