"""What put a stage's BatchNorm statistics where they ended: its last steps replayed, batch by batch.

    python benchmarks/replay_batchnorm.py --variant mast-scaled \
        --checkpoint RUN/stages/2-memory/checkpoint.pt --presets P.toml --preset cpu-seed-202 --stage 2 \
        --data footage/set --steps 10 --against pbn/2-memory.pt --out replay.json

Running statistics move by the momentum (0.1) at every encoder call, so a stage's final ones are
mostly its last two or three steps. This resets them and runs the encoder calls of the stage's last
``--steps`` steps again (the same batches, the same dropped channel: the stage's own streams) with the
checkpoint's weights, forward only. It writes, per step, the weight its calls carry in the final
statistics, its clips, its dropped channel and the stem's batch variance against ``--against`` (e.g.
the re-estimated statistics of benchmarks/precise_bn.py; default: the checkpoint's own), and, per
layer, how close the replayed statistics come to the checkpoint's. They match where the weights barely
moved over those steps, which is what makes the per-step account the checkpoint's own.

Another preset's stream (e.g. another seed's) replayed on these weights asks what other last batches
would have left: ``--weights-out`` writes the weights with the replayed statistics, to score them.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _parser() -> argparse.ArgumentParser:
    from mast_bench.commands.stage_checkpoint import add_stage_checkpoint_arguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_stage_checkpoint_arguments(parser, "1-based stage the checkpoint ends")
    parser.add_argument("--steps", type=int, default=10, help="the stage's last N steps (default 10)")
    parser.add_argument("--against", type=Path, help="statistics the stem's variance is compared with")
    parser.add_argument("--out", type=Path, help="JSON file (default: print only)")
    parser.add_argument(
        "--weights-out", type=Path, help="also write the weights with the replayed statistics, to score them"
    )
    return parser


def _median_ratio(variances, reference_variance) -> float:
    """Median over channels of ``variances`` (calls, channels), averaged over calls, against the
    reference's."""
    return float((variances.double().mean(dim=0) / reference_variance.double()).median())


def step_rows(steps, momentum: float, reference_variance) -> tuple[list[dict], float]:
    """One row per replayed step: its weight in the final statistics, batch and the stem's variance
    (mean over the step's calls) against ``reference_variance``, median over channels."""
    from mast_bench.harness.precise_bn import step_weights

    weights, left = step_weights([len(step.variances) for step in steps], momentum)
    rows = []
    for step, weight in zip(steps, weights, strict=True):
        rows.append(
            {
                "iteration": step.iteration,
                "weight": round(weight, 4),
                "dropped_channel": step.dropped_channel,
                "clips": list(step.clips),
                "stem_variance_ratio_median": round(_median_ratio(step.variances, reference_variance), 3),
            }
        )
    return rows, left


def clip_rows(steps, reference_variance) -> list[dict]:
    """Per clip over the replayed steps: how many samples it gave and the median over them of the
    stem's variance within each sample's frames against ``reference_variance`` (median over channels),
    lowest first."""
    ratios: dict[str, list[float]] = {}
    for step in steps:
        for k, clip in enumerate(step.clips):
            ratios.setdefault(clip, []).append(_median_ratio(step.sample_variances[:, k], reference_variance))
    rows = [
        {
            "clip": clip,
            "samples": len(values),
            "stem_variance_ratio_median": round(statistics.median(values), 3),
        }
        for clip, values in ratios.items()
    ]
    return sorted(rows, key=lambda row: (row["stem_variance_ratio_median"], row["clip"]))


def _open(args):
    """The checkpoint and its stage, the first BatchNorm layer and its name, the --against
    statistics; a UserError naming the flag or file at fault."""
    from mast_bench.commands.stage_checkpoint import open_stage_checkpoint
    from mast_bench.errors import ConfigError
    from mast_bench.harness.precise_bn import batchnorm_layers, check_replayable
    from mast_bench.model.checkpoint import read_state_dict

    opened = open_stage_checkpoint(args, REPO / ".cache" / "training-sets")
    if not 1 <= args.steps <= opened.stage.iterations:
        raise ConfigError(
            f"--steps {args.steps}: expected 1 to the stage's {opened.stage.iterations} iterations"
        )
    check_replayable(opened.model)
    layers = batchnorm_layers(opened.model)
    if not layers:
        raise ConfigError(f"variant {args.variant!r} has no BatchNorm layer to replay")
    stem = next(name for name, module in opened.model.named_modules() if module is layers[0])
    against = read_state_dict(args.against) if args.against else None
    if against is not None and f"{stem}.running_var" not in against:
        raise ConfigError(f"{args.against}: holds no {stem}.running_var (expected {args.variant} weights)")
    return opened, layers[0], stem, against


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    import torch

    from mast_bench.atomic import atomic_write, atomic_write_json
    from mast_bench.errors import UserError
    from mast_bench.harness.precise_bn import replay_batchnorm_statistics, statistics_shift
    from mast_bench.harness.training import stage_stream

    try:
        opened, first_layer, stem, against = _open(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model, stage, device = opened.model, opened.stage, opened.device
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    reference = (against or trained)[f"{stem}.running_var"]
    seed, offset = stage_stream(opened.preset, args.stage - 1)
    replayed_range = range(stage.iterations - args.steps, stage.iterations)
    steps = replay_batchnorm_statistics(
        model.to(device), opened.clips, stage, seed, replayed_range, device, offset
    )
    rows, left = step_rows(steps, first_layer.momentum, reference)
    replayed = {k: v.cpu() for k, v in model.state_dict().items()}
    result = {
        "checkpoint": str(args.checkpoint),
        "against": None if args.against is None else str(args.against),
        "stage": {"name": stage.name, "seed": seed, "iteration_offset": offset},
        "replayed_iterations": [replayed_range.start, replayed_range.stop],
        "momentum": first_layer.momentum,
        "stem": stem,
        "weight_before_the_replay": round(left, 6),
        "steps": rows,
        "clips": clip_rows(steps, reference),
        "checkpoint_vs_against": statistics_shift(trained, against) if against else None,
        "replayed_vs_checkpoint": statistics_shift(replayed, trained),
        "replayed_vs_against": statistics_shift(replayed, against) if against else None,
    }
    if args.weights_out is not None:
        atomic_write(args.weights_out, lambda path: torch.save({"state_dict": replayed}, path))
    if args.out is not None:
        result["command"] = shlex.join(["python", "benchmarks/replay_batchnorm.py", *(argv or sys.argv[1:])])
        atomic_write_json(args.out, result)
    _print(result)
    return 0


def _print(result: dict) -> None:
    for row in result["steps"]:
        print(
            f"iteration {row['iteration']:5d}  weight {row['weight']:.3f}  dropped {row['dropped_channel']}  "
            f"stem variance x{row['stem_variance_ratio_median']:.2f}  {', '.join(row['clips'])}"
        )
    clips = ", ".join(f"{r['clip']} x{r['stem_variance_ratio_median']:.2f}" for r in result["clips"])
    print(f"stem variance within a sample's frames, by clip: {clips}")
    ratios = [r["variance_ratio_median"] for r in result["replayed_vs_checkpoint"]]
    print(
        f"replayed / checkpoint variance, median per layer: {min(ratios):.3f} to {max(ratios):.3f} "
        f"(stem {ratios[0]:.3f}); weight left before the replay {result['weight_before_the_replay']:.2g}"
    )


if __name__ == "__main__":
    sys.exit(main())
