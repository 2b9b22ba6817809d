"""python -m mast_bench.train --variant NAME [--data PATH] [--preset smoke|paper] [--out DIR]

Self-supervised reconstruction training; re-running the same command resumes
from the last checkpoint in --out. Multi-GPU: python -m torch.distributed.run
--nproc_per_node N -m mast_bench.train ... (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .harness.cli import check_device, default_device, guarded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mast_bench.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", required=True, help="variant name (python -m mast_bench variants)")
    parser.add_argument(
        "--data",
        help="training frames: a DAVIS root or a folder of frame folders "
        "(default: the embedded default dataset)",
    )
    parser.add_argument("--preset", default="smoke", help="training preset (smoke, paper)")
    parser.add_argument("--presets", help="TOML file with [preset.NAME] tables (default: the built-in ones)")
    parser.add_argument("--out", help="run folder (default: runs/train/<variant>-<preset>)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    parser.add_argument("--stop-after", type=int, help="stop after this iteration (resume later)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


@guarded
def main(argv: list[str] | None = None) -> int:
    from .harness.presets import get_preset
    from .harness.training import make_pair_source, train
    from .variants import get_variant

    args = build_parser().parse_args(argv)
    config = get_variant(args.variant)
    preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
    if args.data is None:
        from .data.embedded import ensure_default
        from .harness.jobs import default_train_root

        data = default_train_root(Path(ensure_default()))
    else:
        data = Path(args.data)
    out = Path(args.out or Path("runs") / "train" / f"{config.name}-{preset.name}")
    device = args.device or default_device()
    if "LOCAL_RANK" in os.environ and device == "cuda":
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    check_device(device)
    result = train(
        config, preset, make_pair_source(data, preset), out, device, not args.quiet, args.stop_after
    )
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # rank 0 reports (and alone writes the checkpoint)
    print(
        f"{config.name}: {result.iterations}/{preset.iterations} iterations, "
        f"final loss {result.final_loss:.4f}, "
        f"{result.seconds:.1f} s; checkpoint {result.checkpoint}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
