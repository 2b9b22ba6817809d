"""Training speed per stage: samples/s (a sample = one target and its references) at 256x256,
batch 12, for each stage of a preset, on this machine.

    python benchmarks/bench_train.py --data TRAINING_SET --out bench-results/train.json \
        [--preset cpu] [--iterations 3] [--device cpu|cuda]

Each stage keeps its own sampling (pairs, memory, schedule) and references; frame size and batch
are set to 256x256 and 12 so stages and machines compare. On CUDA the stages run with bf16
autocast, channels-last and frames cached on the device (what the gpu preset does); on CPU in
float32. One warm-up iteration, then --iterations timed ones (steps only: the frames are prepared
beforehand, so data loading is not in the figure).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def measure(variant_name: str, preset_name: str, data: Path, device_name: str, iterations: int) -> dict:
    import torch

    from mast_bench.harness.batches import open_clip_source
    from mast_bench.harness.presets import get_preset
    from mast_bench.harness.provenance import machine
    from mast_bench.harness.train_speed import speed_stage, stage_speed
    from mast_bench.variants import get_variant

    device = torch.device(device_name)
    variant, preset = get_variant(variant_name), get_preset(preset_name)
    clips = open_clip_source(data, data.parent / ".mast-bench-cache")
    stages = [stage_speed(variant, speed_stage(s, device), clips, device, iterations) for s in preset.stages]
    return {
        "variant": variant_name,
        "preset": preset_name,
        "data": str(data),
        "machine": machine(device_name),
        "stages": stages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a training set (or a folder of videos)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--variant", default="mast-scaled")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    result = measure(args.variant, args.preset, args.data, args.device, args.iterations)
    result["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for stage in result["stages"]:
        speed, step = stage["samples_per_s"], stage["seconds_per_step"]
        print(f"{stage['stage']:>9}: {speed:.2f} samples/s ({step:.2f} s/step, {stage['references']} refs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
