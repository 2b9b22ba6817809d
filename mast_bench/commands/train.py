"""``mast-bench train --variant NAME [--data PATH] [--preset smoke|cpu|official|paper|gpu] [--out DIR]``

Self-supervised reconstruction training: the preset's stages in order (pairs, then the memory
stages), each from the previous one's weights. Re-running the same command resumes where the last
checkpoint in --out left off and says so (two trainers of one folder: the second waits for the
first). --branch-from RUN copies the leading stages RUN already trained the same way (an ablation
of the later stages skips the first). --data: a training set (`mast-bench data training-set`), a
video file or a folder of videos (made into one first), or frame folders (DAVIS, YouTube-VOS JPEGImages).
TensorBoard: ``tensorboard --logdir OUT/tensorboard``. Several processes: ``python -m
torch.distributed.run --nproc_per_node N -m mast_bench.train ...`` (DDP: NCCL on CUDA, gloo on CPU;
rank 0 alone prints and writes, --branch-from included).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import ConfigError
from . import base

NAME = "train"


def build(parent) -> argparse.ArgumentParser:
    parser = base.new_parser(NAME, __doc__, parent)
    base.add_variants(parser, several=False)
    parser.add_argument(
        "--data",
        metavar="ROOT",
        help="training frames: a training set, a video file or a folder of videos, or frame folders "
        "(default: the embedded clips)",
    )
    parser.add_argument(
        "--preset", default="smoke", help="training preset (default: smoke; `mast-bench presets` lists them)"
    )
    parser.add_argument(
        "--presets", type=Path, help="TOML file with [preset.NAME] tables (default: built-in)"
    )
    parser.add_argument("--out", type=Path, help="run folder (default: runs/train/<variant>-<preset>)")
    parser.add_argument(
        "--branch-from",
        metavar="RUN",
        type=Path,
        help="a run folder of the same variant and --data whose leading stages match this preset's: "
        "they are copied, not retrained (e.g. a fine-tuning ablation off a finished cpu run)",
    )
    base.add_device(parser)
    parser.add_argument(
        "--stop-after",
        type=base.positive_int,
        help="stop after this iteration of the whole chain (resume later)",
    )
    base.add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..harness.batches import open_clip_source
    from ..harness.copied_stages import copied_stages
    from ..harness.presets import get_preset
    from ..harness.training import check_run_folder, check_stop_after, check_training, train
    from ..harness.weights import check_trainable

    configs = base.resolve_variants(args)
    if len(configs) != 1:
        raise ConfigError(f"train takes one variant, got {', '.join(c.name for c in configs)}")
    config = configs[0]
    check_trainable(config)
    preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
    check_stop_after(preset, args.stop_after)  # before the clips are opened (a folder of videos decodes)
    data = Path(args.data) if args.data else _embedded_clips()
    out = args.out or Path("runs") / "train" / f"{config.name}-{preset.name}"
    device = base.resolve_device(args.device or _distributed_default_device())
    leader = int(os.environ.get("RANK", "0")) == 0  # rank 0 alone reports (and writes checkpoints)
    check_run_folder(out, data, config, preset)
    clips = open_clip_source(data, _cache_dir(), tell=base.tell)
    if args.branch_from is not None:  # its refusals first: a refused branch had copied stages into --out
        check_training(config, preset, clips, out, args.stop_after)
        _branch(config, preset, args.branch_from, out, clips)
    result = train(config, preset, clips, out, device, leader and not args.quiet, args.stop_after, base.tell)
    if leader:
        copied = copied_stages(out)
        for stage in result.stages:
            speed = stage.summary()["samples_per_s"]
            where = f" (copied from {copied[stage.name]}, which trained it)" if stage.name in copied else ""
            print(
                f"{config.name} stage {stage.name}: {stage.iterations} iterations, final loss "
                f"{stage.final_loss:.4f}, {stage.seconds:.1f} s, {speed or 0:.2f} samples/s{where}"
            )
        done = f"{config.name}: {result.iterations}/{preset.iterations} iterations"
        if result.iterations < preset.iterations:  # --stop-after: the chain's checkpoint is not there yet
            print(f"{done}; stopped by --stop-after (the same command without it goes on)")
        else:
            print(f"{done}; checkpoint {result.checkpoint}")
    return 0


def _branch(config, preset, source: Path, out: Path, clips) -> None:
    from ..harness.branch import branch_run
    from ..harness.train_data import clips_summary

    branch_run(config, preset, source, out, clips_summary(clips), base.tell)


def _distributed_default_device() -> str | None:
    """Under torchrun: this rank's GPU where there is one, else the CPU (gloo); None otherwise."""
    import torch

    if "LOCAL_RANK" not in os.environ:
        return None
    return f"cuda:{os.environ['LOCAL_RANK']}" if torch.cuda.is_available() else "cpu"


def _cache_dir() -> Path:
    """Where a folder of videos given to --data is made into a training set (once)."""
    from ..data.embedded import default_root

    return default_root().parent


def _embedded_clips() -> Path:
    from ..data.embedded import ensure_default, train_clips_dir

    return train_clips_dir(ensure_default())
