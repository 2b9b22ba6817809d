"""How sharp each set of weights' read is on real frames, and how well one read moves the true mask.

    python benchmarks/read_sharpness.py --variant mast-scaled --data ../shared/data/davis-mini \
        --weights "random init=ITER0.pt" --weights "end=FINAL.pt" --baseline mast-lab-pixels \
        --out reports/training/read-sharpness.json

For every pair of consecutive frames (t-1, t) of every sequence, at the protocol's network size,
the read of frame t from frame t-1 alone, as the MAST protocol makes it (the variant's test radius
and affinity scale, values sampled at the top-left pixel of each cell):
- effective candidates: exp(entropy) of each query's softmax (625 in-image candidates at radius 12
  away from the border; 1 = a single match), the median over queries;
- effective share: effective candidates over the query's in-image candidates, the median
  (1 = a uniform read whatever the border cuts off);
- top-1 weight: the largest softmax weight of each query, the median;
- one-step J: the read of frame t-1's *true* labels, argmaxed at the grid, against frame t's true
  labels at the grid (Jaccard per object, mean over objects and pairs, x100). It separates the
  affinity from drift: propagation feeds back its own predictions, this never does.
Figures are of the grid (stride 4), not of the DAVIS toolkit: not comparable with J&F.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse_weights(text: str) -> tuple[str, str | None]:
    label, sep, path = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"--weights {text!r}: expected LABEL=FILE (or LABEL=random)")
    return label, (None if path == "random" else path)


def one_step_jaccard(predicted: np.ndarray, truth: np.ndarray, ids: tuple[int, ...]) -> list[float]:
    """Jaccard per object present in either map (an object absent from both is skipped)."""
    scores = []
    for object_id in ids:
        p, t = predicted == object_id, truth == object_id
        union = np.logical_or(p, t).sum()
        if union:
            scores.append(float(np.logical_and(p, t).sum() / union))
    return scores


def sequence_stats(model, sequence, max_side: int | None, pairs: int | None) -> dict:
    import torch

    from mast_bench.max_side import network_size
    from mast_bench.model.colour import prepare_frame
    from mast_bench.model.labels import resize_labels, sample_labels
    from mast_bench.model.read_stats import effective_candidates, in_image, read_weights
    from mast_bench.model.resizing import resize_frame

    size = network_size(sequence.size, max_side)
    stride, radius = model.stride, model.config.test_radius
    ids = sequence.object_ids()
    last = sequence.num_frames if pairs is None else min(sequence.num_frames, pairs + 1)
    effective, share, top1, jaccard = [], [], [], []
    previous = None
    for index in range(last):
        rgb = resize_frame(sequence.frame(index), size, "pil-bilinear")
        frame = prepare_frame(rgb, model.config.colour_space)[None]
        with torch.no_grad():
            feature = model.encode(frame)
        at_size = resize_labels(sequence.labels(index), size)
        labels = at_size[::stride, ::stride]  # the truth at the pixels the values are sampled at
        # one channel each for background and the objects, one more for void (255) and any id above
        channels = torch.from_numpy(at_size.astype(np.int64)).clamp_max(max(ids) + 1)
        values = sample_labels(channels, max(ids) + 2, tuple(feature.shape[-2:]), stride, "top-left")
        if previous is not None:
            key, key_values = previous
            with torch.no_grad():
                weights = read_weights(feature, key, radius, model.affinity_scale(key.shape[1]))
                scores = model.read(feature, [key], [key_values], [index - 1], index)
            spread = effective_candidates(weights)
            effective.append(spread.flatten())
            share.append((spread / in_image(key, radius).sum(dim=1)).flatten())
            top1.append(weights.max(dim=1).values.flatten())
            predicted = scores[0].argmax(dim=0).numpy()
            jaccard.extend(one_step_jaccard(predicted, labels, ids))
        previous = (feature, values)
    return {
        "pairs": last - 1,
        "effective": torch.cat(effective),
        "share": torch.cat(share),
        "top1": torch.cat(top1),
        "jaccard": jaccard,
    }


def measure(variant, label: str, weights: str | None, sequences, max_side, pairs, seed: int) -> dict:
    import torch

    from mast_bench.model.factory import create_model

    model = create_model(variant, weights, seed=seed)
    per_sequence = {s.name: sequence_stats(model, s, max_side, pairs) for s in sequences}
    effective = torch.cat([s["effective"] for s in per_sequence.values()])
    share = torch.cat([s["share"] for s in per_sequence.values()])
    top1 = torch.cat([s["top1"] for s in per_sequence.values()])
    jaccard = [j for s in per_sequence.values() for j in s["jaccard"]]
    return {
        "weights": label,
        "variant": variant.name,
        "file": weights,
        "pairs": sum(s["pairs"] for s in per_sequence.values()),
        "effective_candidates_median": round(float(effective.median()), 1),
        "effective_share_median": round(float(share.median()), 3),
        "top1_weight_median": round(float(top1.median()), 4),
        "one_step_j": round(100 * float(np.mean(jaccard)), 2),
        "one_step_j_by_sequence": {
            name: round(100 * float(np.mean(s["jaccard"])), 2) for name, s in per_sequence.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    from mast_bench.commands.base import seed_int

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", required=True, help="the trained variant (its test radius and scale)")
    parser.add_argument(
        "--weights",
        type=parse_weights,
        action="append",
        default=[],
        help="LABEL=FILE (repeatable; FILE 'random' = a fresh initialisation from --seed)",
    )
    parser.add_argument("--baseline", action="append", default=[], help="training-free variant(s)")
    parser.add_argument("--data", type=Path, required=True, help="a DAVIS-2017 root (all frames annotated)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--max-side", type=int, default=320, help="network input side (default 320)")
    parser.add_argument(
        "--pairs", type=int, default=None, help="first N pairs of each sequence (default all)"
    )
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    import torch

    from mast_bench.atomic import atomic_write_text
    from mast_bench.data.davis import DavisDataset
    from mast_bench.errors import UserError
    from mast_bench.harness.provenance import machine
    from mast_bench.variants import get_variant

    try:
        sequences = DavisDataset(args.data).fully_annotated_sequences(args.split, "one-step J")
        for weights in (w for _, w in args.weights if w is not None):
            if not Path(weights).is_file():
                raise UserError(f"{weights}: weights file not found")
        runs = [(get_variant(args.variant), label, path) for label, path in args.weights]
        runs += [(get_variant(name), name, None) for name in args.baseline]
        results = [
            measure(v, label, path, sequences, args.max_side, args.pairs, args.seed)
            for v, label, path in runs
        ]
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "data": str(args.data),
        "sequences": [s.name for s in sequences],
        "max_side": args.max_side,
        "machine": machine("cpu"),
        "torch_threads": torch.get_num_threads(),
        "results": results,
    }
    atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")
    print(f"{'weights':28s} {'pairs':>5s} {'effective':>9s} {'share':>6s} {'top-1':>6s} {'one-step J':>10s}")
    for r in results:
        print(
            f"{r['weights']:28s} {r['pairs']:5d} {r['effective_candidates_median']:9.1f} "
            f"{r['effective_share_median']:6.3f} {r['top1_weight_median']:6.3f} {r['one_step_j']:10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
