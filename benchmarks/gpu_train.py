"""The GPU training recipe: a short real training that fits a 10-minute window on one large GPU.

    PYTHONPATH=. python3 benchmarks/gpu_train.py --footage DIR --davis DIR --out DIR \
        [--preset gpu] [--variant mast-scaled] [--budget 240] [--dry-run]

1. the footage (a folder of videos, decoded with OpenCV where PyAV is missing, or a training set)
   becomes a training set, cut into shots and weighted;
2. training speed per stage at 256x256, batch 12, bf16 autocast, channels-last, frames cached on
   the GPU: samples/s (a sample = a target and its references; pairs/s for the pairs stage);
3. the preset's stages (bf16, channels-last, cached frames), their iterations scaled down only if
   step 2 says they would not fit in --budget seconds;
4. the learning curve on --davis (davis-mini): every snapshot and stage end under the MAST and CRW
   protocols beside Lab pixels, paired intervals against random init and Lab pixels, the report.

Writes DIR/gpu_train.json (machine, speeds, the preset as run, J&F, verdicts) and DIR/report/.
Without CUDA it exits 2, unless --dry-run: then every step runs on CPU at toy sizes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from gpu_check import block_absent_packages, describe  # noqa: E402

PROTOCOLS = ("mast", "crw")
BASELINES = ("mast-lab-pixels",)


def fitted(preset, speeds: list[dict], budget: float):
    """``preset`` with every stage's iterations scaled by one factor so that its steps take about
    ``budget`` seconds at the measured speeds (never scaled up); the factor."""
    seconds = sum(
        s.iterations * s.batch_size / v["samples_per_s"] for s, v in zip(preset.stages, speeds, strict=True)
    )
    factor = min(1.0, budget / seconds) if seconds > 0 else 1.0
    stages = tuple(
        dataclasses.replace(
            s,
            iterations=max(2, round(s.iterations * factor)),
            checkpoint_every=max(1, round(s.checkpoint_every * factor)),
        )  # fmt: skip
        for s in preset.stages
    )
    return dataclasses.replace(preset, stages=stages), factor, seconds


def toy(preset):
    """The dry run's preset: the same stages at 64x64, batch 2, two iterations each, float32."""
    stages = tuple(
        dataclasses.replace(
            s,
            frame_size=(64, 64),
            batch_size=2,
            iterations=2,
            checkpoint_every=1,
            mixed_precision=False,
            target_range=(16, 20),
            long_term_range=(16, 20),
        )  # fmt: skip
        for s in preset.stages
    )
    return dataclasses.replace(preset, stages=stages, snapshots=(0.0, 1.0), max_side=96)


def speeds(variant, preset, clips, device, iterations: int) -> list[dict]:
    from mast_bench.harness.train_speed import speed_stage, stage_speed

    out = []
    for stage in preset.stages:
        timed = speed_stage(stage, device)
        if device.type != "cuda":
            timed = dataclasses.replace(timed, frame_size=stage.frame_size, batch_size=stage.batch_size)
        out.append(stage_speed(variant, timed, clips, device, iterations))
        print(f"[gpu_train] {stage.name}: {out[-1]['samples_per_s']:.1f} samples/s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footage", type=Path, required=True, help="a folder of videos, or a training set")
    parser.add_argument("--davis", type=Path, required=True, help="evaluation data (davis-mini)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--preset", default="gpu")
    parser.add_argument("--variant", default="mast-scaled")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training steps at most")
    parser.add_argument("--dry-run", action="store_true", help="no GPU: every step on CPU at toy sizes")
    args = parser.parse_args(argv)
    block_absent_packages()
    import torch

    if not torch.cuda.is_available() and not args.dry_run:
        print("gpu_train: no CUDA device here; use --dry-run to check the plumbing on CPU", file=sys.stderr)
        return 2
    return run(args, torch.device("cpu" if args.dry_run else "cuda"))


def run(args, device) -> int:
    from mast_bench.config import to_dict
    from mast_bench.data.training_set import TrainingSetClips
    from mast_bench.harness.batches import open_clip_source
    from mast_bench.harness.job import DataSpec
    from mast_bench.harness.learning_curve import CurveRequest, run_learning_curve
    from mast_bench.harness.presets import get_preset
    from mast_bench.harness.provenance import machine
    from mast_bench.protocols import get_protocol
    from mast_bench.report.training import comparisons, score_table, write_training_report
    from mast_bench.results import ResultStore, read_curve
    from mast_bench.variants import get_variant

    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    variant, preset = get_variant(args.variant), get_preset(args.preset)
    preset = toy(preset) if args.dry_run else preset
    clips = open_clip_source(args.footage, args.out / "cache", tell=print)
    # the set just made from the videos, not the videos again: decoding them twice costs GPU minutes
    train_data = clips.set.root if isinstance(clips, TrainingSetClips) else args.footage
    measured = speeds(variant, preset, clips, device, 1 if args.dry_run else 10)
    run_preset, factor, planned = fitted(preset, measured, args.budget)
    request = CurveRequest(
        variant=variant,
        preset=run_preset,
        train_data=str(train_data),
        train_out=str(args.out / "run"),
        data=DataSpec(root=str(args.davis)),
        protocols=tuple(get_protocol(p) for p in (PROTOCOLS[:1] if args.dry_run else PROTOCOLS)),
        baselines=tuple(get_variant(b) for b in BASELINES),
        results=str(args.out / "results"),
        max_side=run_preset.max_side,
        device=str(device),
        command=" ".join(sys.argv),
        progress=False,
        isolate=False,
    )
    manifest = read_curve(run_learning_curve(request, machine(str(device))))
    report = write_training_report(args.out / "results", manifest, args.out / "report")
    store = ResultStore(args.out / "results")
    verdicts = [
        {"protocol": c.protocol, "comparison": c.what, "mean": c.objects.mean_difference,
         "frame_blocks": [c.frames.low, c.frames.high]}
        for c in comparisons(manifest, store)
    ]  # fmt: skip
    result = {
        "machine": describe(device),
        "dry_run": args.dry_run,
        "command": [sys.executable, *sys.argv],
        "speeds_256_batch12": measured,
        "preset_as_run": to_dict(run_preset),
        "iteration_factor": factor,
        "planned_step_seconds_before_fitting": planned,
        "train": {k: v for k, v in manifest.train.items() if k != "loss_curve"},
        "scores": score_table(manifest, store).to_dict(orient="records"),
        "verdicts": verdicts,
        "report": str(report),
        "seconds": time.perf_counter() - started,
    }
    (args.out / "gpu_train.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"[gpu_train] wrote {args.out / 'gpu_train.json'} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
