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
    from mast_bench.commands.base import seed_int
    from mast_bench.commands.stage_checkpoint import add_stage_checkpoint_arguments, open_stage_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_stage_checkpoint_arguments(parser, "1-based stage whose sampling is used")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=seed_int, help="seed of the batches drawn (default: the preset's)")
    args = parser.parse_args(argv)

    import torch

    from mast_bench.atomic import atomic_write
    from mast_bench.errors import ConfigError, UserError
    from mast_bench.harness.precise_bn import recompute_batchnorm_statistics

    try:
        if args.iterations < 1:
            raise ConfigError(f"--iterations {args.iterations}: expected at least 1")
        opened = open_stage_checkpoint(args, REPO / ".cache" / "training-sets")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model, stage, device = opened.model, opened.stage, opened.device
    seed = opened.preset.seed if args.seed is None else args.seed
    start = time.perf_counter()
    layers = recompute_batchnorm_statistics(
        model.to(device), opened.clips, stage, seed, args.iterations, device
    )
    seconds = time.perf_counter() - start
    weights = {name: value.cpu() for name, value in model.state_dict().items()}
    atomic_write(args.out, lambda p: torch.save({"state_dict": weights}, p))
    print(f"{layers} BatchNorm layers re-estimated over {args.iterations} steps of stage "
          f"{stage.name} (seed {seed}) on {device} in {seconds:.1f} s: {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
