"""Re-estimate a checkpoint's BatchNorm statistics over many training batches (precise BN).

    python benchmarks/precise_bn.py --variant mast-scaled \
        --checkpoint RUN/stages/2-memory/checkpoint.pt --presets P.toml --preset cpu-seed-202 --stage 2 \
        --data footage/set --iterations 200 --out RUN-precise-bn/2-memory.pt

The weights are kept; the running means and variances become the mean of the batch statistics of
``--iterations`` forward-only steps of the named stage (its sampling and frame size, another seed
stream; ``--seed`` draws other batches than the preset's seed, to see how much the estimate moves).
Score the written file with `mast-bench run --checkpoint` beside the original to see how much of an
end-of-stage score is the last few batches' statistics (mast_bench.harness.precise_bn).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", required=True)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--presets", type=Path, default=None, help="TOML presets (default: built-in)")
    parser.add_argument("--preset", required=True)
    parser.add_argument("--stage", type=int, required=True, help="1-based stage whose sampling is used")
    parser.add_argument("--data", type=Path, required=True, help="the training frames (as mast-bench train)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, help="seed of the batches drawn (default: the preset's)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    args = parser.parse_args(argv)

    import torch

    from mast_bench.atomic import atomic_write
    from mast_bench.commands.base import resolve_device
    from mast_bench.errors import ConfigError, UserError
    from mast_bench.harness.batches import open_clip_source
    from mast_bench.harness.precise_bn import recompute_batchnorm_statistics
    from mast_bench.harness.presets import get_preset
    from mast_bench.model import MAST
    from mast_bench.model.checkpoint import load_weights
    from mast_bench.variants import get_variant

    try:
        preset = get_preset(args.preset, args.presets) if args.presets else get_preset(args.preset)
        if not 1 <= args.stage <= len(preset.stages):
            raise ConfigError(f"--stage {args.stage}: preset {preset.name} has {len(preset.stages)} stage(s)")
        if args.iterations < 1:
            raise ConfigError(f"--iterations {args.iterations}: expected at least 1")
        stage = preset.stages[args.stage - 1]
        device = torch.device(resolve_device(args.device))
        model = MAST(get_variant(args.variant))
        load_weights(model, args.checkpoint)
        clips = open_clip_source(args.data, REPO / ".cache" / "training-sets")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seed = preset.seed if args.seed is None else args.seed
    start = time.perf_counter()
    layers = recompute_batchnorm_statistics(model.to(device), clips, stage, seed, args.iterations, device)
    seconds = time.perf_counter() - start
    weights = {name: value.cpu() for name, value in model.state_dict().items()}
    atomic_write(args.out, lambda p: torch.save({"state_dict": weights}, p))
    print(f"{layers} BatchNorm layers re-estimated over {args.iterations} steps of stage "
          f"{stage.name} (seed {seed}) on {device} in {seconds:.1f} s: {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
