"""What FLOP counting costs a propagation's timed figures, with the records' way and the old way.

    python benchmarks/bench_flop_counting.py --data ../shared/data/davis-mini --sequence car-shadow \
        --max-side 160 --protocol mast --protocol crw --out bench-results/flop-counting.json

(those are the defaults: ``nox -s bench -- flop_counting`` runs it so, into
bench-results/flop_counting.json).

Each protocol propagates one sequence three times with random ``mast-scaled`` weights: without
counting; with the records' counting (each distinct call counted once in an extra untimed call,
``harness.profiling.meter_model``); and with every read counted where it runs, as records made before
2026-12-06 did (emulated here by wrapping the protocol's read in ``FlopCounterMode``). The first two
seconds per frame should agree; the third shows what the old records' seconds held. The FLOPs of the
last two must be equal. One uncounted warm-up run per protocol goes first (the first run loads the
kernels).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def in_place_policies(make_policy, totals: list[int]):
    """``make_policy`` whose reads run inside a FLOP counter (the old records' counting), adding
    their FLOPs to ``totals[0]``."""
    from mast_bench.harness import profiling

    def make(config, model):
        policy = make_policy(config, model)
        read = policy.read

        def counted(*args, **kwargs):
            with profiling.flop_counter() as counter:
                out = read(*args, **kwargs)
            totals[0] += counter.get_total_flops()
            return out

        policy.read = counted
        return policy

    return make


def propagate(split, protocol: str, max_side: int, mode: str) -> dict:
    from mast_bench.harness import segmentation
    from mast_bench.model import create_model
    from mast_bench.protocols import get_protocol

    model = create_model("mast-scaled", seed=0)
    make_policy, in_place = segmentation.make_policy, [0]
    if mode == "every read in place":
        segmentation.make_policy = in_place_policies(make_policy, in_place)
    try:
        with tempfile.TemporaryDirectory() as out:
            stats = segmentation.segment_split(
                model,
                split,
                Path(out),
                get_protocol(protocol),
                max_side=max_side,
                progress=False,
                count_flops=mode == "each distinct call once",
            )
    finally:
        segmentation.make_policy = make_policy
    meter = stats.encoder
    return {
        "protocol": protocol,
        "counting": mode,
        "seconds_per_frame": stats.seconds / stats.frames,
        "read_ms": 1000 * meter.read_seconds / max(meter.read_calls, 1),
        "read_gflops_per_frame": (meter.read_flops + in_place[0]) / 1e9 / stats.frames,
        "counting_seconds_left_out": meter.counting_seconds,
        "counting_calls": meter.counting_calls,
        "read_calls": meter.read_calls,
        "frames": stats.frames,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("MAST_BENCH_SHARED", REPO.parent / "shared"))
    parser.add_argument("--data", default=str(shared / "data" / "davis-mini"), help="a DAVIS root")
    parser.add_argument("--sequence", default="car-shadow")
    parser.add_argument("--max-side", type=int, default=160)
    parser.add_argument("--protocol", action="append", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import torch

    from mast_bench.atomic import atomic_write_text
    from mast_bench.data.splits import DataSpec, open_split
    from mast_bench.errors import UserError
    from mast_bench.harness import provenance
    from mast_bench.protocols import get_protocol

    torch.set_num_threads(args.threads)
    try:
        split = open_split(DataSpec("davis", args.data, sequences=(args.sequence,)))
        split.check()
        for protocol in args.protocol or ["mast", "crw"]:
            get_protocol(protocol)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    modes = ("none", "each distinct call once", "every read in place")
    runs = []
    for protocol in args.protocol or ["mast", "crw"]:
        propagate(split, protocol, args.max_side, "none")  # warm-up: the first run loads kernels
        for mode in modes:
            run = propagate(split, protocol, args.max_side, mode)
            runs.append(run)
            print(
                f"{protocol}, counting {mode}: {run['seconds_per_frame']:.3f} s/frame, "
                f"read {run['read_ms']:.1f} ms",
                flush=True,
            )
    result = {
        "command": "python " + shlex.join(["benchmarks/bench_flop_counting.py", *(argv or sys.argv[1:])]),
        "machine": provenance.machine("cpu"),
        "sequence": args.sequence,
        "max_side": args.max_side,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
