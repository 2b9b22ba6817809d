"""Propagation cost on davis-mini at 480p with the official reference schedule.

Runs the propagation in a fresh spawned worker process (so the peak RSS is the
propagation's own: VmHWM reset through /proc/self/clear_refs after the model is
built) and prints seconds per frame with the encoder's share, GFLOPs per frame
split encoder / memory read, peak memory and the achieved fraction of this
machine's dense matmul throughput. A 480p frame costs ~6 s of encoder on 2 CPU
cores, so by default only the first 24 frames of bmx-trees are used (two
long-term references from frame 21 on: the memory peak of the official schedule).

    python benchmarks/bench_propagate.py [--davis ../shared/data/davis-mini] [--sequences bmx-trees]
        [--frames 24] [--variant mast] [--checkpoint PATH | --random-init] [--max-side N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DAVIS = REPO.parent / "shared" / "data" / "davis-mini"
DEFAULT_WEIGHTS = REPO.parent / "shared" / "reference" / "mast-official-cpu" / "weights_seed0_scaled.pt"


def measure(args: dict) -> dict:
    """In the worker: build the model, propagate, return the profile block and per-sequence times."""
    import torch

    from mast_bench.data import DavisDataset
    from mast_bench.harness import profiling
    from mast_bench.harness.loading import build_model
    from mast_bench.harness.propagation import propagate_dataset
    from mast_bench.variants import get_variant

    config = get_variant(args["variant"])
    model = build_model(config, args["checkpoint"], args["random_init"], 0, args["device"])
    with tempfile.TemporaryDirectory() as out:
        stats = propagate_dataset(
            model,
            DavisDataset(args["davis"]),
            args["sequences"],
            out,
            args["device"],
            args["max_side"],
            progress=True,
            max_frames=args["frames"],
        )
    profile = profiling.build_profile(
        parameters=profiling.parameter_count(model),
        encoder=stats.encoder,
        frames=stats.frames,
        seconds=stats.seconds,
        memory=stats.memory,
        frame_size=stats.frame_size,
        machine_gflops=profiling.matmul_gflops(torch.device(args["device"])),
    )
    profile["per_sequence_seconds"] = stats.per_sequence_seconds
    profile["read_seconds_per_frame"] = stats.encoder.read_seconds / max(stats.frames, 1)
    profile["machine_matmul_gflops"] = profiling.matmul_gflops(torch.device(args["device"]))
    profile["torch_threads"] = torch.get_num_threads()
    return profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--davis", default=str(DEFAULT_DAVIS))
    parser.add_argument("--sequences", default="bmx-trees")
    parser.add_argument("--frames", type=int, default=24, help="first N frames of each sequence (0 = all)")
    parser.add_argument("--variant", default="mast")
    parser.add_argument("--checkpoint", default=str(DEFAULT_WEIGHTS) if DEFAULT_WEIGHTS.is_file() else None)
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--max-side", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", "--json", dest="json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    job = {
        "variant": args.variant,
        "checkpoint": None if args.random_init else args.checkpoint,
        "random_init": args.random_init or args.checkpoint is None,
        "davis": args.davis,
        "sequences": [s for s in args.sequences.split(",") if s],
        "frames": args.frames or None,
        "max_side": args.max_side,
        "device": args.device,
    }
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        profile = pool.submit(measure, job).result()
    gf = profile["gflops_per_frame"]
    print(json.dumps({"job": job, "profile": profile}, indent=1))
    print(
        f"\n{profile['frames']} frames at {profile['frame_size'][0]}x{profile['frame_size'][1]}: "
        f"{profile['seconds_per_frame']:.2f} s/frame (encoder {profile['encoder_seconds_per_frame']:.2f} s = "
        f"{100 * profile['encoder_seconds_per_frame'] / profile['seconds_per_frame']:.0f}%, memory read "
        f"{profile['read_seconds_per_frame']:.2f} s); {gf['total']:.1f} GFLOPs/frame "
        f"(encoder {gf['encoder']:.1f}, "
        f"read {gf['memory_read']:.1f}); peak RSS {profile['peak_memory_bytes'] / 2**30:.2f} GiB "
        f"({profile['peak_memory_kind']}); {100 * (profile['matmul_fraction'] or 0):.1f}% of "
        f"{profile['machine_matmul_gflops']:.0f} GFLOP/s dense matmul"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"job": job, "profile": profile}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
