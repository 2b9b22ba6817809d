"""The J&F a perfect read would score at each network size: what the label grid alone costs.

    python benchmarks/label_grid_ceiling.py --data ../shared/data/davis-mini \
        --max-side 320 --max-side 480 --max-side 640 --max-side full \
        --out reports/training-480p/sizes/label-grid-ceiling.json

MAST's protocol carries labels on the feature grid (stride 4 of the network input) and writes masks
at the frame's size. Here every frame's *true* annotation takes that road instead of a prediction:
resized to the network size (nearest, as annotated frames are), sampled at the top-left pixel of each
cell as one-hot values, upsampled bilinearly to the frame's size and argmaxed, exactly as a read's
scores are (``model.labels``); frame 0 is the given annotation, as in a results folder. The masks
are scored by the DAVIS toolkit's rules (``metrics.evaluation``). No network runs: the figure is
the best any weights can reach at that size, and how far below 100 it is shows what the grid costs
before any tracking error.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STRIDE = 4  # MAST's feature stride


def parse_max_side(text: str) -> int | None:
    return None if text == "full" else int(text)


def feature_grid(size: tuple[int, int], stride: int) -> tuple[int, int]:
    """The label grid of a ``size`` network input: one cell per stride x stride block, edges kept."""
    return -(-size[0] // stride), -(-size[1] // stride)


def grid_labels(truth: np.ndarray, ids: tuple[int, ...], size: tuple[int, int], stride: int) -> np.ndarray:
    """``truth`` (H, W) through the label grid of a ``size`` network input and back to (H, W)."""
    import torch

    from mast_bench.model.labels import keep_objects, resize_labels, sample_labels, upsample_argmax

    at_size = resize_labels(keep_objects(truth, ids), size)
    channels = torch.from_numpy(at_size.astype(np.int64))  # ids are 1..K, so an id is its channel
    values = sample_labels(channels, len(ids) + 1, feature_grid(size, stride), stride, "top-left")
    return upsample_argmax(values, truth.shape).numpy().astype(np.uint8)


def write_masks(sequence, max_side: int | None, out: Path, stride: int) -> None:
    """Frame 0 as the propagation core takes it (void and other ids to 0), every later frame
    through the grid."""
    from mast_bench.data.masks import MaskWriter
    from mast_bench.max_side import network_size
    from mast_bench.model.labels import keep_objects

    writer, ids = MaskWriter(out), sequence.object_ids()
    size = network_size(sequence.size, max_side)
    for index, name in enumerate(sequence.frame_names):
        truth = sequence.labels(index)
        labels = keep_objects(truth, ids) if index == 0 else grid_labels(truth, ids, size, stride)
        writer.write(sequence.name, name, labels)


def ceiling(data: Path, split: str, max_side: int | None, stride: int) -> dict:
    from mast_bench.data.davis import DavisDataset
    from mast_bench.max_side import network_size
    from mast_bench.metrics.evaluation import evaluate_semisupervised

    sequences = DavisDataset(data).fully_annotated_sequences(split, "the label-grid ceiling")
    with tempfile.TemporaryDirectory(prefix="grid-ceiling-") as folder:
        for sequence in sequences:
            write_masks(sequence, max_side, Path(folder), stride)
        scores = evaluate_semisupervised(data, folder, split, [s.name for s in sequences], n_jobs=1)
    table = scores.global_metrics()
    size = network_size(sequences[0].size, max_side)
    return {
        "max_side": "full" if max_side is None else max_side,
        "network_size": list(size),
        "grid": list(feature_grid(size, stride)),
        "J&F": round(100 * table["J&F-Mean"], 2),
        "J": round(100 * table["J-Mean"], 2),
        "F": round(100 * table["F-Mean"], 2),
        "J_per_object": {
            row["Sequence"]: round(100 * row["J-Mean"], 2) for _, row in scores.per_sequence.iterrows()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a DAVIS-2017 root (all frames annotated)")
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--max-side",
        type=parse_max_side,
        action="append",
        required=True,
        help="network input side, or 'full' (repeatable)",
    )
    parser.add_argument("--stride", type=int, default=STRIDE, help=f"label grid stride (default {STRIDE})")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    from mast_bench.atomic import atomic_write_text
    from mast_bench.errors import UserError
    from mast_bench.harness.provenance import machine

    try:
        rows = [ceiling(args.data, args.split, side, args.stride) for side in args.max_side]
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {
        "command": shlex.join(["python", "benchmarks/label_grid_ceiling.py", *(argv or sys.argv[1:])]),
        "machine": machine("cpu"),
        "data": str(args.data),
        "stride": args.stride,
        "sizes": rows,
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    for row in rows:
        print(
            f"max side {row['max_side']}: grid {row['grid']}, ceiling J&F {row['J&F']} "
            f"(J {row['J']}, F {row['F']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
