"""How far two checkpoints' BatchNorm running statistics are apart, layer by layer.

    python benchmarks/compare_bn_statistics.py --checkpoint RUN/stages/2-memory/checkpoint.pt \
        --against pbn/RUN-stages-2-memory.pt --out shift.json

For weights whose score changes when their statistics are re-estimated (benchmarks/precise_bn.py),
this says where the statistics moved: per BatchNorm layer (in module order), over its channels, the
median and largest ratio of running variances (checkpoint / against) and of the shift of running
means in units of the ``against`` standard deviation. The learned weights are not compared.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--against", type=Path, required=True, help="the statistics to compare with")
    parser.add_argument("--out", type=Path, help="JSON file (default: print only)")
    args = parser.parse_args(argv)

    from mast_bench.atomic import atomic_write_json
    from mast_bench.errors import UserError
    from mast_bench.harness.precise_bn import statistics_shift
    from mast_bench.model.checkpoint import read_state_dict

    try:
        state, against = read_state_dict(args.checkpoint), read_state_dict(args.against)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = statistics_shift(state, against)
    if not rows:
        print(f"error: {args.checkpoint} and {args.against} share no BatchNorm layer", file=sys.stderr)
        return 2
    if args.out is not None:
        command = shlex.join(["python", "benchmarks/compare_bn_statistics.py", *(argv or sys.argv[1:])])
        atomic_write_json(args.out, {"command": command, "layers": rows})
    for r in rows:
        variance = f"variance x{r['variance_ratio_median']:.2f} (max {r['variance_ratio_max']:.2f})"
        shift = f"mean shift {r['mean_shift_sd_median']:.2f} sd (max {r['mean_shift_sd_max']:.2f})"
        print(f"{r['layer']:48s} {variance} {shift}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
